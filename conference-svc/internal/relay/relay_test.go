package relay

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v4"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const secret = "0123456789abcdef-relay-test"

func startServer(t *testing.T) *Server {
	t.Helper()
	s, err := NewServer(ServerParams{
		UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0", Realm: "convene", Secret: secret,
		PublicIP: "127.0.0.1", CredentialTTL: time.Hour,
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// turnAddr returns the host:port of the server's URL for a transport.
func turnAddr(t *testing.T, s *Server, transport string) string {
	t.Helper()
	for _, u := range s.URLs() {
		if strings.HasSuffix(u, "?transport="+transport) {
			return strings.TrimSuffix(strings.TrimPrefix(u, "turn:"), "?transport="+transport)
		}
	}
	t.Fatalf("no %s URL in %v", transport, s.URLs())
	return ""
}

// allocate asks the server for a relayed transport with the given credential, over UDP or
// TCP, and returns the relayed address.
func allocate(t *testing.T, s *Server, transport, username, credential string) (net.Addr, error) {
	t.Helper()
	addr := turnAddr(t, s, transport)
	var conn net.PacketConn
	if transport == "udp" {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		require.NoError(t, err)
		conn = c
	} else {
		c, err := net.Dial("tcp4", addr)
		require.NoError(t, err)
		conn = turn.NewSTUNConn(c)
	}
	defer conn.Close()
	client, err := turn.NewClient(&turn.ClientConfig{
		TURNServerAddr: addr, Username: username, Password: credential, Realm: "convene",
		Conn: conn, RTO: 100 * time.Millisecond,
	})
	require.NoError(t, err)
	defer client.Close()
	require.NoError(t, client.Listen())
	relayed, err := client.Allocate()
	if err != nil {
		return nil, err
	}
	defer relayed.Close()
	return relayed.LocalAddr(), nil
}

func TestCredentials(t *testing.T) {
	s := startServer(t)
	valid := func() (string, string) {
		u, c, err := s.Credentials("user-1")
		require.NoError(t, err)
		return u, c
	}
	cases := []struct {
		name  string
		creds func() (string, string)
		ok    bool
	}{
		{"issued by the service", valid, true},
		{"expired", func() (string, string) {
			u, c, err := Credentials(secret, "user-1", -time.Minute)
			require.NoError(t, err)
			return u, c
		}, false},
		{"signed with another secret", func() (string, string) {
			u, c, err := Credentials("another-secret-of-16+chars", "user-1", time.Hour)
			require.NoError(t, err)
			return u, c
		}, false},
		{"username changed after signing", func() (string, string) {
			u, c := valid()
			return u + "x", c
		}, false},
		{"expiry pushed back after signing", func() (string, string) {
			u, c := valid()
			return "9" + u, c
		}, false},
		{"no expiry", func() (string, string) {
			_, c := valid()
			return "user-1", c
		}, false},
	}
	for _, transport := range []string{"udp", "tcp"} {
		for _, tc := range cases {
			t.Run(transport+"/"+tc.name, func(t *testing.T) {
				u, c := tc.creds()
				relayed, err := allocate(t, s, transport, u, c)
				if !tc.ok {
					require.Error(t, err)
					return
				}
				require.NoError(t, err)
				require.Equal(t, "127.0.0.1", relayed.(*net.UDPAddr).IP.String(), "relayed at the public IP")
			})
		}
	}
}

func TestCredentialScheme(t *testing.T) {
	before := time.Now().Add(time.Hour).Unix()
	u, c, err := Credentials(secret, "0192f3a4-user", time.Hour)
	require.NoError(t, err)
	expiry, user, ok := strings.Cut(u, ":")
	require.True(t, ok, "username is <expiry>:<user_id>")
	require.Equal(t, "0192f3a4-user", user)
	at, err := strconv.ParseInt(expiry, 10, 64)
	require.NoError(t, err)
	require.GreaterOrEqual(t, at, before)
	// base64(HMAC-SHA1(secret, username)), computed independently of pion.
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(u))
	require.Equal(t, base64.StdEncoding.EncodeToString(m.Sum(nil)), c)
}

func TestServerParams(t *testing.T) {
	good := ServerParams{UDPAddr: "127.0.0.1:0", Realm: "convene", Secret: secret, PublicIP: "127.0.0.1", CredentialTTL: time.Hour}
	cases := []struct {
		name   string
		change func(*ServerParams)
	}{
		{"no listener", func(p *ServerParams) { p.UDPAddr = "" }},
		{"short secret", func(p *ServerParams) { p.Secret = "short" }},
		{"public IP not an IP", func(p *ServerParams) { p.PublicIP = "turn.example.com" }},
		{"public IP IPv6", func(p *ServerParams) { p.PublicIP = "::1" }},
		{"no realm", func(p *ServerParams) { p.Realm = "" }},
		{"no credential lifetime", func(p *ServerParams) { p.CredentialTTL = 0 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := good
			tc.change(&p)
			_, err := NewServer(p)
			require.ErrorIs(t, err, ErrConfig)
		})
	}
	s, err := NewServer(good)
	require.NoError(t, err)
	require.Len(t, s.URLs(), 1, "UDP only")
	require.NoError(t, s.Close())
}
