package upstream

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// rawUpgrader is a service that answers an upgrade with a 101 and a greeting in the same
// write, then echoes what it reads; it hands each upgraded socket to conns.
func rawUpgrader(t *testing.T, conns chan<- net.Conn) string {
	t.Helper()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\nhello from the service;")
		_ = brw.Flush()
		conns <- &bufferedConn{Conn: conn, r: brw.Reader}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// bufferedConn reads through the reader that may hold bytes read past the request.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// TestTunnel checks the raw relay after a 101: bytes either side sent along with the
// handshake arrive first, bytes flow both ways, and either side closing closes the other.
func TestTunnel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, closer := range []string{"client", "service"} {
		t.Run(closer+" closes", func(t *testing.T) {
			conns := make(chan net.Conn, 1)
			addr := rawUpgrader(t, conns)
			p := NewProxy(ProxyParams{Balancer: NewBalancer(ctx, staticResolver(map[string]string{"SVC_HTTP_ADDRS": addr}), []string{"svc"}, EjectionParams{})})
			gw := front(t, p, "svc")

			client, err := net.Dial("tcp", strings.TrimPrefix(gw.URL, "http://"))
			require.NoError(t, err)
			defer client.Close()
			require.NoError(t, client.SetDeadline(time.Now().Add(10*time.Second)))
			// The first bytes of the new protocol travel in the same write as the request.
			_, err = io.WriteString(client, "GET /x HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\nearly from the client;")
			require.NoError(t, err)

			br := bufio.NewReader(client)
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
			require.Equal(t, "test", resp.Header.Get("Upgrade"))
			readExactly(t, br, "hello from the service;")

			var back net.Conn
			select {
			case back = <-conns:
			case <-time.After(10 * time.Second):
				t.Fatal("the service never got the upgrade")
			}
			defer back.Close()
			require.NoError(t, back.SetDeadline(time.Now().Add(10*time.Second)))
			readExactly(t, back, "early from the client;")

			_, err = io.WriteString(client, "ping")
			require.NoError(t, err)
			readExactly(t, back, "ping")
			_, err = io.WriteString(back, "pong")
			require.NoError(t, err)
			readExactly(t, br, "pong")

			if closer == "client" {
				require.NoError(t, client.Close())
				_, err = back.Read(make([]byte, 1))
			} else {
				require.NoError(t, back.Close())
				_, err = br.ReadByte()
			}
			require.ErrorIs(t, err, io.EOF, "the other side is closed too")
		})
	}
}

func readExactly(t *testing.T, r io.Reader, want string) {
	t.Helper()
	got := make([]byte, len(want))
	_, err := io.ReadFull(r, got)
	require.NoError(t, err)
	require.Equal(t, want, string(got))
}
