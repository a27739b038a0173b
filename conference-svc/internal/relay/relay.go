// Package relay is the embedded TURN server (pion/turn) that carries media for clients
// whose network blocks a direct path to the SFU, and the short-lived credentials it accepts.
//
// Credentials follow the TURN REST API scheme (draft-uberti-behave-turn-rest): the username
// is "<expiry-unix>:<user_id>" and the credential is base64(HMAC-SHA1(secret, username)).
// The server shares only the secret with the service that hands credentials out, keeps no
// per-user state, and refuses a credential whose expiry has passed or whose HMAC does not
// match.
package relay

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v4"
)

// MinSecretLength is the shortest shared secret accepted: the HMAC key must not be guessable.
const MinSecretLength = 16

// ErrConfig reports settings the server cannot start with.
var ErrConfig = errors.New("relay: invalid configuration")

// ServerParams configures the TURN server. At least one of UDPAddr and TCPAddr is needed.
type ServerParams struct {
	// UDPAddr and TCPAddr are where clients reach the server ("" = no listener of that
	// transport; port 0 picks a free one, which URLs then report).
	UDPAddr string
	TCPAddr string
	// Realm is the TURN realm, part of the long-term credential key.
	Realm string
	// Secret is the HMAC key shared with whoever issues credentials.
	Secret string
	// PublicIP is the address announced for relayed transports and in the URLs handed to
	// clients: the server's public address when it runs behind a 1:1 NAT.
	PublicIP string
	// CredentialTTL is how long an issued credential stays valid.
	CredentialTTL time.Duration
	Log           *slog.Logger
}

// Server is a running TURN server.
type Server struct {
	p    ServerParams
	turn *turn.Server
	// udpPort and tcpPort are the ports listened on (0: no listener of that transport).
	udpPort int
	tcpPort int
}

// NewServer validates p, listens and starts serving.
func NewServer(p ServerParams) (*Server, error) {
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	publicIP := net.ParseIP(p.PublicIP)
	switch {
	case p.UDPAddr == "" && p.TCPAddr == "":
		return nil, fmt.Errorf("%w: a UDP or TCP address is needed", ErrConfig)
	case len(p.Secret) < MinSecretLength:
		return nil, fmt.Errorf("%w: the secret needs at least %d characters", ErrConfig, MinSecretLength)
	case publicIP == nil || publicIP.To4() == nil:
		return nil, fmt.Errorf("%w: public IP %q is not an IPv4 address", ErrConfig, p.PublicIP)
	case p.Realm == "":
		return nil, fmt.Errorf("%w: a realm is needed", ErrConfig)
	case p.CredentialTTL <= 0:
		return nil, fmt.Errorf("%w: the credential lifetime must be positive", ErrConfig)
	}

	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelError
	cfg := turn.ServerConfig{
		Realm:         p.Realm,
		AuthHandler:   turn.LongTermTURNRESTAuthHandler(p.Secret, lf.NewLogger("turn-auth")),
		LoggerFactory: lf,
	}
	s := &Server{p: p}
	closeAll := func() {
		for _, c := range cfg.PacketConnConfigs {
			_ = c.PacketConn.Close()
		}
		for _, c := range cfg.ListenerConfigs {
			_ = c.Listener.Close()
		}
	}
	if p.UDPAddr != "" {
		conn, err := net.ListenPacket("udp4", p.UDPAddr)
		if err != nil {
			return nil, fmt.Errorf("relay: listen udp %s: %w", p.UDPAddr, err)
		}
		local := conn.LocalAddr().(*net.UDPAddr)
		s.udpPort = local.Port
		cfg.PacketConnConfigs = []turn.PacketConnConfig{{
			PacketConn:            conn,
			RelayAddressGenerator: relayAddresses(publicIP, local.IP),
		}}
	}
	if p.TCPAddr != "" {
		ln, err := net.Listen("tcp4", p.TCPAddr)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("relay: listen tcp %s: %w", p.TCPAddr, err)
		}
		local := ln.Addr().(*net.TCPAddr)
		s.tcpPort = local.Port
		cfg.ListenerConfigs = []turn.ListenerConfig{{
			Listener:              ln,
			RelayAddressGenerator: relayAddresses(publicIP, local.IP),
		}}
	}
	srv, err := turn.NewServer(cfg)
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("relay: %w", err)
	}
	s.turn = srv
	p.Log.Info("TURN server listening", "udp_port", s.udpPort, "tcp_port", s.tcpPort, "public_ip", p.PublicIP)
	return s, nil
}

// relayAddresses opens relayed UDP ports on the interface the listener is bound to (all of
// them for an unspecified address) and announces them at the public IP. The relay legs are
// UDP whatever the client's transport: the SFU takes media over UDP only.
func relayAddresses(publicIP, bind net.IP) turn.RelayAddressGenerator {
	return &turn.RelayAddressGeneratorStatic{RelayAddress: publicIP, Address: bind.String()}
}

// URLs returns the server's TURN URLs, as clients should be told them.
func (s *Server) URLs() []string {
	var out []string
	if s.udpPort != 0 {
		out = append(out, "turn:"+net.JoinHostPort(s.p.PublicIP, strconv.Itoa(s.udpPort))+"?transport=udp")
	}
	if s.tcpPort != 0 {
		out = append(out, "turn:"+net.JoinHostPort(s.p.PublicIP, strconv.Itoa(s.tcpPort))+"?transport=tcp")
	}
	return out
}

// Credentials issues a credential for userID, valid for the configured lifetime from now.
func (s *Server) Credentials(userID string) (username, credential string, err error) {
	return Credentials(s.p.Secret, userID, s.p.CredentialTTL)
}

// Allocations returns how many relayed transports are open.
func (s *Server) Allocations() int { return s.turn.AllocationCount() }

// Close stops the server and every relayed transport.
func (s *Server) Close() error { return s.turn.Close() }

// Credentials issues a TURN REST API credential for userID that expires after ttl.
func Credentials(secret, userID string, ttl time.Duration) (username, credential string, err error) {
	return turn.GenerateLongTermTURNRESTCredentials(secret, userID, ttl)
}
