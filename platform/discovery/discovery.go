// Package discovery finds the instances of a service: healthy ones from Consul, kept current
// by blocking queries (never a Consul call per request), or fixed local addresses when Consul
// is not configured. It also registers the running instance in Consul.
package discovery

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
)

// Instance is one running process of a service.
type Instance struct {
	ID       string
	HTTPAddr string
	GRPCAddr string
}

// ErrNoInstance means no healthy instance of the service is known.
var ErrNoInstance = errors.New("discovery: no healthy instance")

// Resolver gives the current healthy instances of a service and tells when they change.
type Resolver interface {
	// Instances returns the healthy instances of service; it never blocks on the network
	// after the first call for that service.
	Instances(ctx context.Context, service string) ([]Instance, error)
	// Watch calls fn with the instances now and after every change until ctx ends.
	Watch(ctx context.Context, service string, fn func([]Instance))
}

// DefaultPorts are the fixed local addresses of the embedded setup (`make run`): HTTP and
// gRPC port per service.
var DefaultPorts = map[string][2]string{
	"users-svc":      {"8101", "9101"},
	"teams-svc":      {"8102", "9102"},
	"chats-svc":      {"8103", "9103"},
	"messages-svc":   {"8104", "9104"},
	"conference-svc": {"8105", "9105"},
}

// DefaultHTTPAddr is the embedded-mode HTTP listen address of service.
func DefaultHTTPAddr(service string) string { return "127.0.0.1:" + DefaultPorts[service][0] }

// DefaultGRPCAddr is the embedded-mode gRPC listen address of service.
func DefaultGRPCAddr(service string) string { return "127.0.0.1:" + DefaultPorts[service][1] }

// Static serves fixed instance lists. Lookup reads "<NAME>_HTTP_ADDRS" and
// "<NAME>_GRPC_ADDRS" (comma-separated, NAME = service upper-cased with '-' as '_') and
// falls back to DefaultPorts on 127.0.0.1.
type Static struct {
	mu        sync.RWMutex
	instances map[string][]Instance
	lookup    func(string) string
}

// NewStatic returns a Static resolver reading overrides through lookup (os.Getenv).
func NewStatic(lookup func(string) string) *Static {
	return &Static{instances: map[string][]Instance{}, lookup: lookup}
}

// Instances implements Resolver.
func (s *Static) Instances(_ context.Context, service string) ([]Instance, error) {
	s.mu.RLock()
	in, ok := s.instances[service]
	s.mu.RUnlock()
	if !ok {
		in = s.load(service)
		s.mu.Lock()
		s.instances[service] = in
		s.mu.Unlock()
	}
	if len(in) == 0 {
		return nil, ErrNoInstance
	}
	return slices.Clone(in), nil
}

// Watch implements Resolver: static lists never change.
func (s *Static) Watch(ctx context.Context, service string, fn func([]Instance)) {
	in, _ := s.Instances(ctx, service)
	fn(in)
}

func (s *Static) load(service string) []Instance {
	env := strings.ToUpper(strings.ReplaceAll(service, "-", "_"))
	httpAddrs := splitList(s.lookup(env + "_HTTP_ADDRS"))
	grpcAddrs := splitList(s.lookup(env + "_GRPC_ADDRS"))
	if len(httpAddrs) == 0 && len(grpcAddrs) == 0 {
		if _, ok := DefaultPorts[service]; !ok {
			return nil
		}
		httpAddrs, grpcAddrs = []string{DefaultHTTPAddr(service)}, []string{DefaultGRPCAddr(service)}
	}
	n := max(len(httpAddrs), len(grpcAddrs))
	out := make([]Instance, n)
	for i := range n {
		out[i].ID = service + "-" + string(rune('a'+i))
		if i < len(httpAddrs) {
			out[i].HTTPAddr = httpAddrs[i]
		}
		if i < len(grpcAddrs) {
			out[i].GRPCAddr = grpcAddrs[i]
		}
	}
	return out
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
