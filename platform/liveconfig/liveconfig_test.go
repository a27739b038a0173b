package liveconfig

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/testkit"
)

func TestWatchAppliesChangedValues(t *testing.T) {
	client, err := discovery.NewConsulClient(testkit.RequireConsul(t))
	require.NoError(t, err)
	prefix := "convene/livetest-" + testkit.RandomHex(4) + "/"
	t.Cleanup(func() { _, _ = client.KV().DeleteTree(prefix, nil) })

	var mu sync.Mutex
	var levels []string
	setters := map[string]Setter{
		"log_level": func(v string) error {
			mu.Lock()
			defer mu.Unlock()
			levels = append(levels, v)
			return nil
		},
		"rate": func(v string) error { return errors.New("refused") },
	}
	got := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), levels...)
	}

	put := func(k, v string) {
		_, err := client.KV().Put(&api.KVPair{Key: prefix + k, Value: []byte(v)}, nil)
		require.NoError(t, err)
	}
	put("log_level", "debug")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { Watch(ctx, client, prefix, setters, slog.New(slog.DiscardHandler)); close(done) }()

	require.Eventually(t, func() bool { return len(got()) == 1 }, 10*time.Second, 20*time.Millisecond)
	put("rate", "5")    // refused: must not stop the watch
	put("unknown", "x") // no setter: ignored
	put("log_level", "warn")
	require.Eventually(t, func() bool { return len(got()) == 2 }, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, []string{"debug", "warn"}, got(), "each value applied once, in order")

	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return after its context ended")
	}
}
