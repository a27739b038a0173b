package upstream

import (
	"bufio"
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
	balancer  *Balancer
	transport *http.Transport
	dialer    *net.Dialer
	// pool holds the connections of the requests sent without the transport (direct).
	pool connPool
	// responseTimeout bounds the wait for response headers of the requests that do not
	// go through the transport.
	responseTimeout time.Duration
	tracer          trace.Tracer
	propagator      propagation.TextMapPropagator
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
		balancer:        p.Balancer,
		dialer:          dialer,
		responseTimeout: p.ResponseTimeout,
		pool:            connPool{maxIdle: 1024},
		tracer:          tp.Tracer(tracerName),
		propagator:      propagator,
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
func (p *Proxy) Close() {
	p.transport.CloseIdleConnections()
	p.pool.closeIdle()
}

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

// InstanceHeader names, on a 421 Misdirected Request, the discovery ID of the instance
// that holds what the request asked for (a conference room lives on one instance). The
// gateway follows it once and never shows it to clients.
const InstanceHeader = "X-Convene-Instance"

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
	// A server request without a body has ContentLength 0 (chunked ones have -1), though
	// middleware may have wrapped its empty Body (BodyLimit's MaxBytesReader). Sending no
	// Body then matters: the transport would otherwise probe the wrapper with a goroutine
	// and a timer on every GET, and such a request could not be safely repeated.
	bodyless := r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody
	if bodyless {
		out.Body = nil
	}

	ans, err := p.exchange(out, o.Service, bodyless, upgrade, span)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		return err
	}
	resp := ans.resp
	// The instance header is for the gateway alone, whatever the status.
	delete(resp.Header, InstanceHeader)
	if recording {
		span.SetAttributes(attribute.String("server.address", ans.in.addr), attribute.Int("http.response.status_code", resp.StatusCode))
		if resp.StatusCode >= 500 {
			span.SetStatus(codes.Error, "")
		}
	}

	if o.BeforeResponse != nil {
		o.BeforeResponse(resp.StatusCode)
	}
	if resp.StatusCode == http.StatusSwitchingProtocols && ans.conn != nil {
		// The span covers the handshake; the socket's lifetime is not one operation.
		span.End()
		return p.switchProtocols(w, ans, o.Service)
	}
	defer ans.close()
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

// exchange sends out to an instance of service and returns its answer: on another
// instance once more when the first could not be reached (see retryable), and once more
// to the instance a 421 names, for requests without a body. It returns one of the
// package's failure kinds when no answer came.
func (p *Proxy) exchange(out *http.Request, service string, bodyless, upgrade bool, span trace.Span) (answer, error) {
	ctx := out.Context()
	var in *instance
	for attempt := 0; ; attempt++ {
		var err error
		if in, err = p.balancer.pick(ctx, service, in); err != nil {
			return answer{}, err
		}
		ans, err := p.send(out, in, upgrade)
		if err == nil {
			p.balancer.succeeded(in)
			if ans.resp.StatusCode == http.StatusMisdirectedRequest {
				return p.followMisdirected(out, service, bodyless, upgrade, ans, span)
			}
			return ans, nil
		}
		kind := p.attemptFailed(ctx, service, in, err, span)
		if kind == ErrClientGone || kind == ErrBodyTooLarge {
			return answer{}, kind
		}
		if attempt == 0 && bodyless && retryable(out.Method, kind) {
			upstreamErrors.WithLabelValues(service, "retried").Inc()
			continue
		}
		return answer{}, kind
	}
}

// followMisdirected re-sends a bodyless request once to the instance a 421 names, when
// that instance is among the service's passing ones; otherwise, or when the named
// instance answers 421 as well, the client gets the 421 without the internal header.
// A request with a body is never repeated: it may have been acted upon already.
func (p *Proxy) followMisdirected(out *http.Request, service string, bodyless, upgrade bool, ans answer, span trace.Span) (answer, error) {
	id := ans.resp.Header.Get(InstanceHeader)
	ans.resp.Header.Del(InstanceHeader)
	if !bodyless || id == "" {
		misdirected.WithLabelValues(service, "returned").Inc()
		return ans, nil
	}
	target := p.balancer.byID(service, id)
	if target == nil {
		misdirected.WithLabelValues(service, "unknown_instance").Inc()
		return ans, nil
	}
	if span.IsRecording() {
		span.AddEvent("misdirected", trace.WithAttributes(attribute.String("instance", id)))
	}
	ans.close()
	next, err := p.send(out, target, upgrade)
	if err != nil {
		kind := p.attemptFailed(out.Context(), service, target, err, span)
		misdirected.WithLabelValues(service, "failed").Inc()
		return answer{}, kind
	}
	p.balancer.succeeded(target)
	next.resp.Header.Del(InstanceHeader)
	if next.resp.StatusCode == http.StatusMisdirectedRequest {
		misdirected.WithLabelValues(service, "returned").Inc()
	} else {
		misdirected.WithLabelValues(service, "followed").Inc()
	}
	return next, nil
}

// attemptFailed classifies a failed attempt, records it and returns its kind.
func (p *Proxy) attemptFailed(ctx context.Context, service string, in *instance, err error, span trace.Span) error {
	kind := classify(err, ctx)
	if span.IsRecording() {
		span.AddEvent("attempt failed", trace.WithAttributes(attribute.String("server.address", in.addr), attribute.String("error", err.Error())))
	}
	if kind == ErrClientGone || kind == ErrBodyTooLarge {
		return kind
	}
	p.balancer.failed(service, in)
	upstreamErrors.WithLabelValues(service, kindLabel(kind)).Inc()
	return kind
}

// answer is an instance's response to one attempt. Upgrade requests travel on a
// connection of their own (conn, read through br), so that after a 101 the proxy holds
// the raw socket rather than the transport's buffered wrapper.
type answer struct {
	resp *http.Response
	in   *instance
	conn net.Conn
	br   *bufio.Reader
}

// close releases the answer's body and, for an upgrade attempt, its connection.
func (a answer) close() {
	// The connection of an upgrade attempt is closed first, so that closing its body
	// (which reads the rest) cannot wait on the service.
	if a.conn != nil {
		a.conn.Close()
	}
	if a.resp != nil && a.resp.Body != nil {
		a.resp.Body.Close()
	}
	if a.conn != nil {
		putReader(a.br)
	}
}

// send makes one attempt at in.
func (p *Proxy) send(out *http.Request, in *instance, upgrade bool) (answer, error) {
	out.URL.Host = in.addr
	switch {
	case upgrade:
		return p.sendUpgrade(out, in)
	case direct(out):
		return p.sendDirect(out, in)
	}
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		return answer{}, err
	}
	return answer{resp: resp, in: in}, nil
}

// sendUpgrade sends an upgrade request on a new connection and reads the response
// headers, within the response timeout and as long as the client waits.
func (p *Proxy) sendUpgrade(out *http.Request, in *instance) (answer, error) {
	ctx := out.Context()
	conn, err := p.dialer.DialContext(ctx, "tcp", in.addr)
	if err != nil {
		return answer{}, err
	}
	_ = conn.SetDeadline(time.Now().Add(p.responseTimeout))
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(aLongTimeAgo) })
	br := getReader(conn)
	ans := answer{in: in, conn: conn, br: br}
	if err = out.Write(conn); err == nil {
		ans.resp, err = http.ReadResponse(br, out)
	}
	if !stop() || err != nil {
		ans.close()
		if err == nil {
			err = ctx.Err()
		}
		return answer{}, err
	}
	if ans.resp.StatusCode == http.StatusSwitchingProtocols {
		_ = conn.SetDeadline(time.Time{})
	}
	return ans, nil
}

// aLongTimeAgo is a deadline in the past: setting it wakes a blocked read or write.
var aLongTimeAgo = time.Unix(1, 0)

// readerPool holds the small readers that upgrade responses are parsed with; a reader is
// only needed until the 101 has been read.
var readerPool sync.Pool

func getReader(r io.Reader) *bufio.Reader {
	if br, ok := readerPool.Get().(*bufio.Reader); ok {
		br.Reset(r)
		return br
	}
	return bufio.NewReaderSize(r, 4<<10)
}

func putReader(br *bufio.Reader) {
	br.Reset(nil)
	readerPool.Put(br)
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
	// The added values share one backing array: one allocation per request, not four.
	vals := make([]string, 0, 4)
	set := func(k, v string) {
		vals = append(vals, v)
		h[k] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	if o.Identity != "" {
		set(authn.Header, o.Identity)
	}
	set(httpx.RequestIDHeader, o.RequestID)
	if o.ForwardedFor != "" {
		set("X-Forwarded-For", o.ForwardedFor)
	}
	if o.ForwardedProto != "" {
		set("X-Forwarded-Proto", o.ForwardedProto)
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
