package service

import (
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
	// ICEFailedTimeout is how long a silent media connection lasts before its participant
	// is removed (ICE_FAILED_TIMEOUT).
	ICEFailedTimeout time.Duration
	// DrainDelay is how long the instance keeps serving after it left Consul (DRAIN_DELAY).
	DrainDelay time.Duration
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
		DrainDelay:       env.Duration("DRAIN_DELAY", time.Second),
	}
	return c, env.Err()
}
