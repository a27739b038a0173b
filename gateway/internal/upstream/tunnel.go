package upstream

import (
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// switchProtocols finishes a WebSocket upgrade: it hands the service's 101 to the client,
// then relays raw bytes both ways until either side closes. The relay runs on two
// goroutines of its own and the handler returns at once, so an open socket costs two
// small goroutine stacks and no buffer while it is idle (see relay).
func (p *Proxy) switchProtocols(w http.ResponseWriter, ans answer, service string) error {
	resp, backConn := ans.resp, ans.conn
	hj, ok := w.(http.Hijacker)
	if !ok {
		ans.close()
		return ErrBroken
	}
	// Bytes the service sent right behind its 101 (a first frame) sit in the reader the
	// response was parsed with; they are the first bytes the client must get.
	var fromBack []byte
	if n := ans.br.Buffered(); n > 0 {
		b, _ := ans.br.Peek(n)
		fromBack = append([]byte(nil), b...)
	}
	putReader(ans.br)
	clientConn, brw, err := hj.Hijack()
	if err != nil {
		backConn.Close()
		return ErrBroken
	}
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
	// Bytes the client sent right after its upgrade request sit in the server's reader.
	var fromClient []byte
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		fromClient = b
	}
	// The server may have set deadlines for reading the request; a socket lives as long
	// as its ends want (messages-svc pings idle ones), so none applies from here on.
	_ = clientConn.SetDeadline(time.Time{})
	err = resp.Write(brw.Writer)
	if err == nil && len(fromBack) > 0 {
		_, err = brw.Writer.Write(fromBack)
	}
	if err == nil {
		err = brw.Writer.Flush()
	}
	if err == nil && len(fromClient) > 0 {
		_, err = backConn.Write(fromClient)
	}
	if err != nil {
		clientConn.Close()
		backConn.Close()
		return nil
	}
	t := &tunnel{client: clientConn, back: backConn, open: openWebSockets.WithLabelValues(service)}
	t.open.Inc()
	go t.relay(backConn, clientConn)
	go t.relay(clientConn, backConn)
	return nil
}

// tunnel is one upgraded connection: the client's socket and the service's.
type tunnel struct {
	client, back net.Conn
	open         prometheus.Gauge
	ended        atomic.Int32
}

// relay copies src to dst until either fails; then it closes both sockets, which ends
// the other direction's relay too.
func (t *tunnel) relay(dst, src net.Conn) {
	copyWhenReadable(dst, src)
	t.client.Close()
	t.back.Close()
	if t.ended.Add(1) == 2 {
		t.open.Dec()
	}
}

// copyWhenReadable copies src to dst, taking a pooled buffer only while src has bytes to
// read: an idle socket then holds no buffer at all, which is what makes ten thousand idle
// WebSockets cheap. (io.Copy between the TCP sockets would splice on Linux, but every
// blocked splice holds a kernel pipe — two more descriptors per direction per socket.)
func copyWhenReadable(dst, src net.Conn) {
	wait := readableWaiter(src)
	if wait == nil {
		bp := bufPool.Get().(*[]byte)
		defer bufPool.Put(bp)
		_, _ = io.CopyBuffer(dst, onlyReader{src}, *bp)
		return
	}
	for {
		if err := wait(); err != nil {
			return
		}
		bp := bufPool.Get().(*[]byte)
		n, rerr := src.Read(*bp)
		var werr error
		if n > 0 {
			_, werr = dst.Write((*bp)[:n])
		}
		bufPool.Put(bp)
		if rerr != nil || werr != nil {
			return
		}
	}
}

// onlyReader hides everything but Read, so that io.CopyBuffer uses the given buffer.
type onlyReader struct{ io.Reader }

// readableWaiter returns a function that blocks until conn has bytes (or EOF, or an
// error) to read, without reading them; nil when conn offers no raw descriptor.
func readableWaiter(conn net.Conn) func() error {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return waitReadable(raw)
}
