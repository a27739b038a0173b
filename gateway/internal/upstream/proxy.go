package upstream

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/platform/tracing"
)

// ProxyParams configures a Proxy.
type ProxyParams struct {
	Balancer *Balancer
	// DialTimeout bounds connecting to an instance (default 2 s): a dead host must not
	// hold a request long when another instance could take it.
	DialTimeout time.Duration
	// ResponseTimeout bounds the wait for an instance's response headers (default 30 s).
	ResponseTimeout time.Duration
	// Tracing receives a client span per proxied request; nil means the process-wide
	// provider.
	Tracing *tracing.Provider
}

// Proxy forwards requests to service instances.
type Proxy struct {
	balancer   *Balancer
	transport  *http.Transport
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

// NewProxy returns a Proxy with a transport tuned for many short requests to few hosts:
// many idle keep-alive connections per instance, no compression (the services' bodies are
// passed through as they are), HTTP/1.1 only.
func NewProxy(p ProxyParams) *Proxy {
	if p.DialTimeout <= 0 {
		p.DialTimeout = 2 * time.Second
	}
	if p.ResponseTimeout <= 0 {
		p.ResponseTimeout = 30 * time.Second
	}
	dialer := &net.Dialer{Timeout: p.DialTimeout, KeepAlive: 30 * time.Second}
	var tp trace.TracerProvider = otel.GetTracerProvider()
	propagator := otel.GetTextMapPropagator()
	if p.Tracing != nil {
		tp, propagator = p.Tracing.TracerProvider, p.Tracing.Propagator
	}
	return &Proxy{
		balancer:   p.Balancer,
		tracer:     tp.Tracer(tracerName),
		propagator: propagator,
		transport: &http.Transport{
			DialContext:           dialer.DialContext,
			MaxIdleConns:          0,
			MaxIdleConnsPerHost:   1024,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: p.ResponseTimeout,
			DisableCompression:    true,
			ForceAttemptHTTP2:     false,
			WriteBufferSize:       16 << 10,
			ReadBufferSize:        16 << 10,
		},
	}
}

// Close drops idle upstream connections.
func (p *Proxy) Close() { p.transport.CloseIdleConnections() }

// Outbound is what the gateway adds to a request on its way to a service.
type Outbound struct {
	Service string
	// Identity is the signed internal identity, or "" for an anonymous request.
	Identity  string
	RequestID string
	// ForwardedFor is the X-Forwarded-For value to send.
	ForwardedFor string
	// ForwardedProto is "http" or "https" as the client spoke it.
	ForwardedProto string
	// DropQueryToken removes ?access_token= so that services never see (or log) it.
	DropQueryToken bool
	// BeforeResponse, when set, sees the service's status before the client does.
	BeforeResponse func(status int)
}

// hopHeaders are meaningful for one connection only and never forwarded (RFC 9110 7.6.1).
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// internalHeaderPrefix marks headers only the gateway may set; whatever a client sends
// under it is dropped, so nobody can pass an identity of their own.
const internalHeaderPrefix = "X-Convene-"

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// tracerName is the instrumentation scope of the proxy's spans.
const tracerName = "github.com/convene/convene/gateway/internal/upstream"

// clientSpan is the start option of every proxy span, allocated once.
var clientSpan = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}

// traceHeaders are the client's trace-context headers: the gateway is where Convene's
// traces start, so that a client can neither pick trace IDs nor force sampling.
var traceHeaders = []string{"Traceparent", "Tracestate"}

// Serve forwards r to an instance of o.Service and writes the answer to w. It returns an
// error only when nothing was written yet, for the caller to render; a failure after the
// response started aborts the client connection, which is the only honest signal left.
func (p *Proxy) Serve(w http.ResponseWriter, r *http.Request, o Outbound) error {
	upgrade := isUpgrade(r.Header)
	prepareHeaders(r.Header, o, upgrade)
	// One client span per proxied request, child of the request's span (the gateway's
	// server span when there is one); its traceparent makes the service's span its child.
	// The span name is the bare method, as OpenTelemetry names client spans without a
	// route template; attributes are only built when the span is recorded.
	ctx, span := p.tracer.Start(r.Context(), r.Method, clientSpan...)
	defer span.End()
	p.propagator.Inject(ctx, propagation.HeaderCarrier(r.Header))
	recording := span.IsRecording()
	if recording {
		span.SetAttributes(attribute.String("peer.service", o.Service), attribute.String("http.request.method", r.Method))
	}
	out := new(http.Request)
	*out = *r
	out.RequestURI = ""
	out.Close = false
	u := &url.URL{Scheme: "http", Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	if o.DropQueryToken && u.RawQuery != "" {
		q := u.Query()
		q.Del("access_token")
		u.RawQuery = q.Encode()
	}
	out.URL = u
	bodyless := r.Body == nil || r.Body == http.NoBody

	var resp *http.Response
	var in *instance
	for attempt := 0; ; attempt++ {
		var err error
		if in, err = p.balancer.pick(r.Context(), o.Service, in); err != nil {
			return err
		}
		u.Host = in.addr
		resp, err = p.transport.RoundTrip(out)
		if err == nil {
			p.balancer.succeeded(in)
			break
		}
		kind := classify(err, r.Context())
		if recording {
			span.AddEvent("attempt failed", trace.WithAttributes(attribute.String("server.address", in.addr), attribute.String("error", err.Error())))
		}
		if kind == ErrClientGone || kind == ErrBodyTooLarge {
			span.SetStatus(codes.Error, kind.Error())
			return kind
		}
		p.balancer.failed(o.Service, in)
		upstreamErrors.WithLabelValues(o.Service, kindLabel(kind)).Inc()
		if attempt == 0 && bodyless && retryable(r.Method, kind) {
			upstreamErrors.WithLabelValues(o.Service, "retried").Inc()
			continue
		}
		span.SetStatus(codes.Error, kind.Error())
		return kind
	}
	if recording {
		span.SetAttributes(attribute.String("server.address", in.addr), attribute.Int("http.response.status_code", resp.StatusCode))
		if resp.StatusCode >= 500 {
			span.SetStatus(codes.Error, "")
		}
	}

	if o.BeforeResponse != nil {
		o.BeforeResponse(resp.StatusCode)
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// The span covers the handshake; the socket's lifetime is not one operation.
		span.End()
		return p.switchProtocols(w, resp, o.Service)
	}
	defer resp.Body.Close()
	removeHopHeaders(resp.Header)
	dst := w.Header()
	for k, vv := range resp.Header {
		dst[k] = vv
	}
	w.WriteHeader(resp.StatusCode)
	if err := copyBody(w, resp.Body, resp.ContentLength == -1); err != nil {
		if r.Context().Err() == nil {
			// The service broke off mid-body: close the client connection so that it
			// cannot take a truncated body for a whole one.
			panic(http.ErrAbortHandler)
		}
	}
	return nil
}

// prepareHeaders rewrites the client's headers in place for the service: hop-by-hop and
// internal headers out, the bearer token out (services trust the identity, never the JWT),
// the gateway's identity, request ID and forwarding headers in.
func prepareHeaders(h http.Header, o Outbound, upgrade bool) {
	var upgradeTo []string
	if upgrade {
		upgradeTo = h["Upgrade"]
	}
	removeHopHeaders(h)
	for k := range h {
		if strings.HasPrefix(k, internalHeaderPrefix) {
			delete(h, k)
		}
	}
	delete(h, "Authorization")
	delete(h, "X-Forwarded-For")
	for _, k := range traceHeaders {
		delete(h, k)
	}
	if upgrade {
		h["Connection"] = []string{"Upgrade"}
		h["Upgrade"] = upgradeTo
	}
	if o.Identity != "" {
		h[authn.Header] = []string{o.Identity}
	}
	h[httpx.RequestIDHeader] = []string{o.RequestID}
	if o.ForwardedFor != "" {
		h["X-Forwarded-For"] = []string{o.ForwardedFor}
	}
	if o.ForwardedProto != "" {
		h["X-Forwarded-Proto"] = []string{o.ForwardedProto}
	}
}

// removeHopHeaders deletes the hop-by-hop headers and those the Connection header names.
func removeHopHeaders(h http.Header) {
	for _, v := range h["Connection"] {
		for _, name := range strings.Split(v, ",") {
			if name = textproto.TrimString(name); name != "" {
				delete(h, textproto.CanonicalMIMEHeaderKey(name))
			}
		}
	}
	for _, k := range hopHeaders {
		delete(h, k)
	}
}

func isUpgrade(h http.Header) bool {
	if len(h["Upgrade"]) == 0 {
		return false
	}
	for _, v := range h["Connection"] {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(textproto.TrimString(t), "upgrade") {
				return true
			}
		}
	}
	return false
}

// classify sorts a transport error into one of the package's failure kinds.
func classify(err error, ctx context.Context) error {
	var tooLarge *http.MaxBytesError
	var opErr *net.OpError
	var netErr net.Error
	switch {
	case ctx.Err() != nil:
		return ErrClientGone
	case errors.As(err, &tooLarge):
		return ErrBodyTooLarge
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return ErrConnect
	case errors.As(err, &netErr) && netErr.Timeout():
		return ErrTimeout
	default:
		return ErrBroken
	}
}

func kindLabel(kind error) string {
	switch kind {
	case ErrConnect:
		return "connect"
	case ErrTimeout:
		return "timeout"
	default:
		return "broken"
	}
}

// retryable says whether a failed attempt may go to another instance. A request that
// never connected reached no service, so it is safe whatever its method; one that broke
// after connecting is retried only when repeating it is harmless. Timeouts are not
// retried: the service may still be working on it, and a retry would double the load
// on a slow system.
func retryable(method string, kind error) bool {
	switch kind {
	case ErrConnect:
		return true
	case ErrBroken:
		switch method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
			return true
		}
	}
	return false
}

// copyBody streams the service's body to the client through a pooled buffer, flushing
// after every read when the body has no declared length (streams, server-sent events).
func copyBody(w http.ResponseWriter, body io.Reader, flush bool) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	var flusher http.Flusher
	if flush {
		flusher, _ = w.(http.Flusher)
	}
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// switchProtocols finishes a WebSocket upgrade: it hands the service's 101 to the client,
// then copies bytes both ways until either side closes.
func (p *Proxy) switchProtocols(w http.ResponseWriter, resp *http.Response, service string) error {
	backConn, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		resp.Body.Close()
		return ErrBroken
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		backConn.Close()
		return ErrBroken
	}
	clientConn, brw, err := hj.Hijack()
	if err != nil {
		backConn.Close()
		return ErrBroken
	}
	defer clientConn.Close()
	defer backConn.Close()
	upgradeTo := resp.Header["Upgrade"]
	removeHopHeaders(resp.Header)
	resp.Header["Connection"] = []string{"Upgrade"}
	resp.Header["Upgrade"] = upgradeTo
	for k, vv := range w.Header() {
		if _, set := resp.Header[k]; !set {
			resp.Header[k] = vv
		}
	}
	resp.Body = nil
	if err := resp.Write(brw); err != nil {
		return nil
	}
	if err := brw.Flush(); err != nil {
		return nil
	}
	openWebSockets.WithLabelValues(service).Inc()
	defer openWebSockets.WithLabelValues(service).Dec()
	done := make(chan struct{}, 2)
	go func() {
		// Bytes the client sent right after its upgrade request may sit in brw's buffer.
		_, _ = io.Copy(backConn, brw.Reader)
		done <- struct{}{}
	}()
	go func() {
		_, _ = io.Copy(clientConn, backConn)
		done <- struct{}{}
	}()
	<-done
	return nil
}
