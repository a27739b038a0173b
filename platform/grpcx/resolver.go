package grpcx

import (
	"context"

	"google.golang.org/grpc/resolver"

	"github.com/convene/convene/platform/discovery"
)

const scheme = "convene"

// resolverBuilder feeds gRPC's balancer with the gRPC addresses of a service's healthy
// instances, as discovery reports them.
type resolverBuilder struct{ resolver discovery.Resolver }

func (b *resolverBuilder) Scheme() string { return scheme }

func (b *resolverBuilder) Build(target resolver.Target, cc resolver.ClientConn, _ resolver.BuildOptions) (resolver.Resolver, error) {
	ctx, cancel := context.WithCancel(context.Background())
	service := target.Endpoint()
	b.resolver.Watch(ctx, service, func(in []discovery.Instance) {
		addrs := make([]resolver.Address, 0, len(in))
		for _, i := range in {
			if i.GRPCAddr != "" {
				addrs = append(addrs, resolver.Address{Addr: i.GRPCAddr})
			}
		}
		if len(addrs) == 0 {
			cc.ReportError(discovery.ErrNoInstance)
			return
		}
		_ = cc.UpdateState(resolver.State{Addresses: addrs})
	})
	return &watchResolver{cancel: cancel}, nil
}

type watchResolver struct{ cancel context.CancelFunc }

func (r *watchResolver) ResolveNow(resolver.ResolveNowOptions) {}
func (r *watchResolver) Close()                                { r.cancel() }
