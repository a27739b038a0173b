// Package liveconfig applies settings from Consul KV (under convene/<service>/) while the
// process runs, for the settings that are safe to change live: log level, rate limits.
package liveconfig

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"
)

// Setter applies one setting's new value; an error leaves the old value in place.
type Setter func(value string) error

// Watch follows the keys under prefix with blocking queries and calls the setter of each
// key whose value changed. It returns when ctx ends.
func Watch(ctx context.Context, client *api.Client, prefix string, setters map[string]Setter, log *slog.Logger) {
	var index uint64
	applied := map[string]string{}
	for ctx.Err() == nil {
		opts := (&api.QueryOptions{WaitIndex: index, WaitTime: 30 * time.Second}).WithContext(ctx)
		pairs, meta, err := client.KV().List(prefix, opts)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("live config watch failed", "prefix", prefix, "err", err)
			select {
			case <-time.After(2 * time.Second):
			case <-ctx.Done():
			}
			continue
		}
		index = meta.LastIndex
		for _, p := range pairs {
			key := strings.TrimPrefix(p.Key, prefix)
			value := strings.TrimSpace(string(p.Value))
			set, ok := setters[key]
			if !ok || applied[key] == value {
				continue
			}
			if err := set(value); err != nil {
				log.Warn("live config value refused", "key", p.Key, "err", err)
				continue
			}
			applied[key] = value
			log.Info("live config applied", "key", p.Key, "value", value)
		}
	}
}
