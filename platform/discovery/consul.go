package discovery

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"
)

// metaGRPCPort is the service-entry metadata key holding the instance's gRPC port; the
// entry's own port is the HTTP port that the gateway proxies to.
const metaGRPCPort = "grpc_port"

// Consul resolves services from a Consul agent. Each service gets one background watcher
// (a blocking query loop) on first use; lookups read its last answer.
type Consul struct {
	client *api.Client
	log    *slog.Logger

	mu       sync.Mutex
	watchers map[string]*watcher
	ctx      context.Context
}

type watcher struct {
	ready     chan struct{}
	mu        sync.RWMutex
	instances []Instance
	subs      []chan struct{}
}

// NewConsul returns a Consul resolver. The watchers stop when ctx ends.
func NewConsul(ctx context.Context, client *api.Client, log *slog.Logger) *Consul {
	return &Consul{client: client, log: log, watchers: map[string]*watcher{}, ctx: ctx}
}

// NewConsulClient connects to the agent at addr ("127.0.0.1:8500" or a URL).
func NewConsulClient(addr string) (*api.Client, error) {
	cfg := api.DefaultConfig()
	cfg.Address = addr
	return api.NewClient(cfg)
}

// Instances implements Resolver. The first call for a service waits (bounded by ctx) for
// the watcher's first answer.
func (c *Consul) Instances(ctx context.Context, service string) ([]Instance, error) {
	w := c.watcher(service)
	select {
	case <-w.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if len(w.instances) == 0 {
		return nil, ErrNoInstance
	}
	return slices.Clone(w.instances), nil
}

// Watch implements Resolver.
func (c *Consul) Watch(ctx context.Context, service string, fn func([]Instance)) {
	w := c.watcher(service)
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	w.subs = append(w.subs, ch)
	w.mu.Unlock()
	go func() {
		defer func() {
			w.mu.Lock()
			w.subs = slices.DeleteFunc(w.subs, func(s chan struct{}) bool { return s == ch })
			w.mu.Unlock()
		}()
		select {
		case <-w.ready:
		case <-ctx.Done():
			return
		}
		for {
			w.mu.RLock()
			in := slices.Clone(w.instances)
			w.mu.RUnlock()
			fn(in)
			select {
			case <-ch:
			case <-ctx.Done():
				return
			}
		}
	}()
}

func (c *Consul) watcher(service string) *watcher {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w, ok := c.watchers[service]; ok {
		return w
	}
	w := &watcher{ready: make(chan struct{})}
	c.watchers[service] = w
	go c.run(service, w)
	return w
}

// run keeps w current with blocking queries; on errors it backs off and retries, keeping
// the last known instances (a Consul hiccup must not empty every pool).
func (c *Consul) run(service string, w *watcher) {
	var index uint64
	backoff := 100 * time.Millisecond
	first := true
	for c.ctx.Err() == nil {
		opts := (&api.QueryOptions{WaitIndex: index, WaitTime: 30 * time.Second}).WithContext(c.ctx)
		entries, meta, err := c.client.Health().Service(service, "", true, opts)
		if err != nil {
			if c.ctx.Err() != nil {
				return
			}
			c.log.Warn("consul watch failed", "service", service, "err", err)
			if first {
				// Let the first lookup fail fast rather than hang until Consul answers.
				first = false
				close(w.ready)
			}
			select {
			case <-time.After(backoff):
			case <-c.ctx.Done():
				return
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		if meta.LastIndex < index {
			index = 0 // the index went backwards (agent restart): start over
		} else {
			index = meta.LastIndex
		}
		w.mu.Lock()
		w.instances = toInstances(entries)
		for _, s := range w.subs {
			select {
			case s <- struct{}{}:
			default:
			}
		}
		w.mu.Unlock()
		if first {
			first = false
			close(w.ready)
		}
	}
}

func toInstances(entries []*api.ServiceEntry) []Instance {
	out := make([]Instance, 0, len(entries))
	for _, e := range entries {
		host := e.Service.Address
		if host == "" {
			host = e.Node.Address
		}
		in := Instance{ID: e.Service.ID, HTTPAddr: net.JoinHostPort(host, strconv.Itoa(e.Service.Port))}
		if gp := e.Service.Meta[metaGRPCPort]; gp != "" {
			in.GRPCAddr = net.JoinHostPort(host, gp)
		}
		out = append(out, in)
	}
	slices.SortFunc(out, func(a, b Instance) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out
}

// Registration describes the running instance to Consul.
type Registration struct {
	Service  string
	ID       string
	Host     string
	HTTPPort int
	GRPCPort int
	Tags     []string
	// CheckInterval is how often Consul probes the gRPC health service (default 2s).
	CheckInterval time.Duration
}

// Register adds the instance to Consul with a gRPC health check and returns a function
// that removes it. The check fails over to critical fast so that a killed instance leaves
// the pools within a couple of seconds.
func Register(client *api.Client, r Registration) (deregister func() error, err error) {
	interval := r.CheckInterval
	if interval == 0 {
		interval = 2 * time.Second
	}
	reg := &api.AgentServiceRegistration{
		ID:      r.ID,
		Name:    r.Service,
		Address: r.Host,
		Port:    r.HTTPPort,
		Tags:    r.Tags,
		Meta:    map[string]string{metaGRPCPort: strconv.Itoa(r.GRPCPort)},
		Check: &api.AgentServiceCheck{
			Name:                           r.Service + " gRPC health",
			GRPC:                           net.JoinHostPort(r.Host, strconv.Itoa(r.GRPCPort)),
			Interval:                       interval.String(),
			Timeout:                        (interval / 2).String(),
			DeregisterCriticalServiceAfter: "1m",
		},
	}
	if err := client.Agent().ServiceRegister(reg); err != nil {
		return nil, fmt.Errorf("consul register %s: %w", r.ID, err)
	}
	return func() error { return client.Agent().ServiceDeregister(r.ID) }, nil
}
