// Package upstream sends requests to service instances: it keeps each service's instances
// current from discovery, balances across them, retries a request that could not connect
// on another instance, ejects instances that keep failing, and proxies HTTP and
// WebSocket traffic.
package upstream

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/convene/convene/platform/discovery"
)

// ErrNoInstance means the service has no instance to send to.
var ErrNoInstance = errors.New("upstream: no healthy instance")

// EjectionParams is the passive health check: an instance that fails Failures times in a
// row is left out of the rotation for Duration.
type EjectionParams struct {
	Failures int
	Duration time.Duration
}

// instance is one backend with its passive health state.
type instance struct {
	// id is the discovery instance ID (the Consul service ID) that a 421 answer may name.
	id   string
	addr string
	// failures counts consecutive failed attempts; ejectedUntil is a UnixNano time.
	failures     atomic.Int32
	ejectedUntil atomic.Int64
}

func (in *instance) available(now int64) bool { return in.ejectedUntil.Load() <= now }

// pool is the current instances of one service.
type pool struct {
	service string
	next    atomic.Uint32
	list    atomic.Pointer[[]*instance]
	ready   chan struct{}
	once    sync.Once
}

// Balancer picks an instance per request for every service it was told about.
type Balancer struct {
	resolver discovery.Resolver
	eject    EjectionParams
	now      func() time.Time
	pools    map[string]*pool
}

// NewBalancer watches every service of services through resolver until ctx ends.
func NewBalancer(ctx context.Context, resolver discovery.Resolver, services []string, eject EjectionParams) *Balancer {
	if eject.Failures <= 0 {
		eject.Failures = 3
	}
	if eject.Duration <= 0 {
		eject.Duration = 10 * time.Second
	}
	b := &Balancer{resolver: resolver, eject: eject, now: time.Now, pools: map[string]*pool{}}
	for _, s := range services {
		if _, ok := b.pools[s]; ok {
			continue
		}
		p := &pool{service: s, ready: make(chan struct{})}
		empty := []*instance{}
		p.list.Store(&empty)
		b.pools[s] = p
		resolver.Watch(ctx, s, p.update)
	}
	return b
}

// update replaces the instance list, keeping the health state of instances that stay.
func (p *pool) update(in []discovery.Instance) {
	old := map[string]*instance{}
	for _, i := range *p.list.Load() {
		old[i.addr] = i
	}
	list := make([]*instance, 0, len(in))
	for _, d := range in {
		if d.HTTPAddr == "" {
			continue
		}
		if i, ok := old[d.HTTPAddr]; ok && i.id == d.ID {
			list = append(list, i)
			continue
		}
		list = append(list, &instance{id: d.ID, addr: d.HTTPAddr})
	}
	p.list.Store(&list)
	p.once.Do(func() { close(p.ready) })
}

// pick returns an instance of service other than avoid: round robin over the instances
// that are not ejected, or over all of them when every one is ejected (better to try a
// suspect instance than to refuse outright).
func (b *Balancer) pick(ctx context.Context, service string, avoid *instance) (*instance, error) {
	p, ok := b.pools[service]
	if !ok {
		return nil, ErrNoInstance
	}
	select {
	case <-p.ready:
	default:
		// The first discovery answer has not arrived yet: wait for it, as long as the
		// request may.
		if _, err := b.resolver.Instances(ctx, service); err != nil {
			return nil, ErrNoInstance
		}
		select {
		case <-p.ready:
		case <-ctx.Done():
			return nil, ErrNoInstance
		}
	}
	list := *p.list.Load()
	n := len(list)
	if n == 0 {
		return nil, ErrNoInstance
	}
	now := b.now().UnixNano()
	start := int(p.next.Add(1))
	for pass := 0; pass < 2; pass++ {
		for k := 0; k < n; k++ {
			in := list[(start+k)%n]
			if in == avoid && n > 1 {
				continue
			}
			if pass == 1 || in.available(now) {
				return in, nil
			}
		}
	}
	return nil, ErrNoInstance
}

// byID returns the passing instance of service whose discovery ID is id, or nil. Ejection
// does not hide an instance here: the service itself named it as the one that holds the
// resource, so no other instance can answer instead.
func (b *Balancer) byID(service, id string) *instance {
	p, ok := b.pools[service]
	if !ok || id == "" {
		return nil
	}
	for _, in := range *p.list.Load() {
		if in.id == id {
			return in
		}
	}
	return nil
}

// succeeded resets the instance's failure count.
func (b *Balancer) succeeded(in *instance) {
	if in.failures.Load() != 0 {
		in.failures.Store(0)
	}
}

// failed counts a failed attempt and ejects the instance when it failed too often in a row.
func (b *Balancer) failed(service string, in *instance) {
	if in.failures.Add(1) >= int32(b.eject.Failures) {
		in.ejectedUntil.Store(b.now().Add(b.eject.Duration).UnixNano())
		in.failures.Store(0)
		ejections.WithLabelValues(service).Inc()
	}
}
