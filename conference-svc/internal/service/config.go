package service

import (
	"fmt"
	"net"
	"time"

	"github.com/convene/convene/platform/config"
	"github.com/convene/convene/platform/discovery"
)

// Name is the service's name in discovery and logs.
const Name = "conference-svc"

// Config is conference-svc's settings: the shared ones and its own.
type Config struct {
	config.Base
	// MediaUDPAddr is the one UDP port all media arrives at (MEDIA_UDP_ADDR).
	MediaUDPAddr string
	// NAT1To1IP is the public address of a server behind a 1:1 NAT (NAT_1TO1_IP).
	NAT1To1IP string
	// EmptyRoomTimeout ends a live conference that nobody is in (EMPTY_ROOM_TIMEOUT).
	EmptyRoomTimeout time.Duration
	// ICEServers are STUN/TURN URLs handed to clients (ICE_SERVERS, comma-separated), with
	// TURN_USERNAME / TURN_CREDENTIAL for the TURN ones.
	ICEServers     []string
	TURNUsername   string
	TURNCredential string
	// CreatePerMinute bounds the conferences one user may create per minute.
	CreatePerMinute int
	// FramesPerSecond and FrameBurst bound what one signaling socket may send.
	FramesPerSecond int
	FrameBurst      int
	// TURN configures the embedded TURN server.
	TURN TURNConfig
	// ReconnectGrace keeps the place of a participant whose socket dropped, for them to
	// resume (RECONNECT_GRACE; 0 removes them at once).
	ReconnectGrace time.Duration
	// ICEFailedTimeout is how long a silent media connection lasts before its participant
	// is removed (ICE_FAILED_TIMEOUT).
	ICEFailedTimeout time.Duration
	// DrainDelay is how long the instance keeps serving after it left Consul (DRAIN_DELAY).
	DrainDelay time.Duration
	// MediaTCPAddr is where ICE-TCP arrives, for clients whose UDP is blocked
	// (MEDIA_TCP_ADDR, also read as ICE_TCP_ADDR; empty: no ICE-TCP).
	MediaTCPAddr string
	// SubscriberMaxBitrate caps each subscriber's bandwidth estimate, in bits per second
	// (SUBSCRIBER_MAX_BITRATE; 0: the estimator's own ceiling).
	SubscriberMaxBitrate int
	// MediaPacing sends subscribers' packets through the estimator's leaky-bucket pacer
	// (MEDIA_PACING, off by default: see sfu.EngineParams.Pacing).
	MediaPacing bool
	// PlacementSweep is how often each instance looks for live conferences no instance
	// hosts (PLACEMENT_SWEEP_INTERVAL).
	PlacementSweep time.Duration
}

// TURNConfig is the embedded TURN server's settings.
type TURNConfig struct {
	// Enabled starts the server and hands its URLs, with per-user credentials, to clients
	// (TURN_ENABLED).
	Enabled bool
	// UDPAddr and TCPAddr are its listeners (TURN_UDP_ADDR, TURN_TCP_ADDR; empty: none).
	UDPAddr string
	TCPAddr string
	// Realm is the TURN realm (TURN_REALM).
	Realm string
	// Secret is the HMAC key of the credentials (TURN_SECRET, at least 16 characters).
	Secret string
	// PublicIP is the address clients reach the server and its relays at (TURN_PUBLIC_IP;
	// by default the host of TURN_UDP_ADDR, if that is a specific address).
	PublicIP string
	// CredentialTTL is how long a credential handed out in "joined" stays valid
	// (TURN_CREDENTIAL_TTL).
	CredentialTTL time.Duration
}

// LoadConfig reads the configuration from env; every default works on a bare machine.
func LoadConfig(env *config.Env) (Config, error) {
	c := Config{
		Base:             config.LoadBase(env, Name, discovery.DefaultHTTPAddr(Name), discovery.DefaultGRPCAddr(Name)),
		MediaUDPAddr:     env.String("MEDIA_UDP_ADDR", "127.0.0.1:7881"),
		NAT1To1IP:        env.String("NAT_1TO1_IP", ""),
		EmptyRoomTimeout: env.Duration("EMPTY_ROOM_TIMEOUT", 5*time.Minute),
		ICEServers:       env.List("ICE_SERVERS", nil),
		TURNUsername:     env.String("TURN_USERNAME", ""),
		TURNCredential:   env.String("TURN_CREDENTIAL", ""),
		CreatePerMinute:  env.Int("CONFERENCE_CREATE_PER_MINUTE", 30),
		FramesPerSecond:  env.Int("SIGNALING_FRAMES_PER_SECOND", 20),
		FrameBurst:       env.Int("SIGNALING_FRAME_BURST", 60),
		ICEFailedTimeout: env.Duration("ICE_FAILED_TIMEOUT", 10*time.Second),
		ReconnectGrace:   env.Duration("RECONNECT_GRACE", 15*time.Second),
		TURN: TURNConfig{
			Enabled: env.Bool("TURN_ENABLED", false),
			UDPAddr: env.String("TURN_UDP_ADDR", "127.0.0.1:3478"),
			TCPAddr: env.String("TURN_TCP_ADDR", "127.0.0.1:3478"),
			Realm:   env.String("TURN_REALM", "convene"),
			Secret:  env.String("TURN_SECRET", ""),
			// A credential must outlive the longest meeting: a TURN client refreshes its
			// allocation with the credential it started with, and an expired one ends
			// the relay. A client that reconnects gets a fresh one.
			CredentialTTL: env.Duration("TURN_CREDENTIAL_TTL", 12*time.Hour),
		},
		DrainDelay:           env.Duration("DRAIN_DELAY", time.Second),
		MediaTCPAddr:         env.String("MEDIA_TCP_ADDR", env.String("ICE_TCP_ADDR", "")),
		SubscriberMaxBitrate: env.Int("SUBSCRIBER_MAX_BITRATE", 0),
		MediaPacing:          env.Bool("MEDIA_PACING", false),
		PlacementSweep:       env.Duration("PLACEMENT_SWEEP_INTERVAL", 10*time.Second),
	}
	c.TURN.PublicIP = env.String("TURN_PUBLIC_IP", specificHost(c.TURN.UDPAddr))
	if err := env.Err(); err != nil {
		return c, err
	}
	if c.TURN.Enabled && c.TURN.PublicIP == "" {
		return c, fmt.Errorf("config: TURN_PUBLIC_IP is required when TURN_UDP_ADDR listens on every address")
	}
	return c, nil
}

// specificHost returns the IP of addr when it names one address, "" for an unspecified one
// (0.0.0.0) or a malformed one.
func specificHost(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsUnspecified() {
		return ""
	}
	return ip.String()
}
