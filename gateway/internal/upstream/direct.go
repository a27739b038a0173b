package upstream

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// directIdleTimeout is how long an idle upstream connection is kept; the services close
// theirs after 120 s, and a connection they closed is only found out when reused.
const directIdleTimeout = 90 * time.Second

// directConn is one keep-alive connection to an instance, used by one request at a time.
type directConn struct {
	net.Conn
	br       *bufio.Reader
	bw       *bufio.Writer
	idleFrom time.Time
}

// connPool keeps idle connections per instance address for the requests the proxy sends
// on its own (see sendDirect).
type connPool struct {
	mu      sync.Mutex
	idle    map[string][]*directConn
	maxIdle int
}

func (p *connPool) get(addr string, now time.Time) *directConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	for list := p.idle[addr]; len(list) > 0; list = p.idle[addr] {
		c := list[len(list)-1]
		list[len(list)-1] = nil
		p.idle[addr] = list[:len(list)-1]
		if now.Sub(c.idleFrom) < directIdleTimeout {
			return c
		}
		c.Close()
	}
	return nil
}

func (p *connPool) put(addr string, c *directConn, now time.Time) {
	c.idleFrom = now
	p.mu.Lock()
	if p.idle == nil {
		p.idle = map[string][]*directConn{}
	}
	if len(p.idle[addr]) < p.maxIdle {
		p.idle[addr] = append(p.idle[addr], c)
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

func (p *connPool) closeIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for addr, list := range p.idle {
		for _, c := range list {
			c.Close()
		}
		delete(p.idle, addr)
	}
}

// direct reports whether the proxy sends out itself rather than through net/http's
// Transport: bodyless GET and HEAD requests, the bulk of API traffic. The Transport runs a
// reader and a writer goroutine per connection and hands every request and response
// between them and the handler; here the handler's goroutine writes the request and reads
// the answer itself (with net/http's own Request.Write and ReadResponse). GET and HEAD
// may be repeated, which is what makes reusing a connection the service may have closed
// safe: such a failure is retried once on a new connection.
func direct(out *http.Request) bool {
	return out.Body == nil && (out.Method == http.MethodGet || out.Method == http.MethodHead)
}

// sendDirect makes one attempt at in on a pooled connection.
func (p *Proxy) sendDirect(out *http.Request, in *instance) (answer, error) {
	ctx := out.Context()
	for {
		now := time.Now()
		c := p.pool.get(in.addr, now)
		reused := c != nil
		if !reused {
			conn, err := p.dialer.DialContext(ctx, "tcp", in.addr)
			if err != nil {
				return answer{}, err
			}
			c = &directConn{Conn: conn, br: bufio.NewReaderSize(conn, 4<<10), bw: bufio.NewWriterSize(conn, 4<<10)}
		}
		_ = c.SetDeadline(now.Add(p.responseTimeout))
		stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(aLongTimeAgo) })
		resp, err := roundTripOn(c, out)
		if err != nil {
			stop()
			c.Close()
			if reused && ctx.Err() == nil && closedByPeer(err) {
				// The service closed the idle connection before it saw the request.
				continue
			}
			return answer{}, err
		}
		// Reading the body has no deadline, as with the Transport; the client going away
		// still ends it.
		_ = c.SetDeadline(time.Time{})
		resp.Body = &directBody{body: resp.Body, conn: c, addr: in.addr, pool: &p.pool, stop: stop, keep: !resp.Close}
		return answer{resp: resp, in: in}, nil
	}
}

func roundTripOn(c *directConn, out *http.Request) (*http.Response, error) {
	if err := out.Write(c.bw); err != nil {
		return nil, err
	}
	if err := c.bw.Flush(); err != nil {
		return nil, err
	}
	for {
		resp, err := http.ReadResponse(c.br, out)
		// Informational answers (103 Early Hints) precede the real one, as the Transport
		// treats them.
		if err != nil || resp.StatusCode >= http.StatusOK || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, err
		}
	}
}

// closedByPeer tells a connection the service had already closed from other failures.
func closedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// directBody returns its connection to the pool once the body was read to the end.
type directBody struct {
	body   io.ReadCloser
	conn   *directConn
	addr   string
	pool   *connPool
	stop   func() bool
	keep   bool
	atEOF  bool
	closed bool
}

func (b *directBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if err == io.EOF {
		b.atEOF = true
	}
	return n, err
}

func (b *directBody) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	err := b.body.Close()
	// stop reports false when the client already went away and the deadline was cut.
	if b.stop() && b.keep && b.atEOF && err == nil && b.conn.br.Buffered() == 0 {
		b.pool.put(b.addr, b.conn, time.Now())
		return nil
	}
	b.conn.Close()
	return err
}
