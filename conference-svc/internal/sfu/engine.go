// Package sfu forwards media and nothing else: it receives each participant's tracks once
// (Receiver), fans every packet out to the subscribers' down-tracks (DownTrack), answers
// their NACKs from a per-track packet cache, forwards their PLI/FIR to the publisher, and
// negotiates one peer connection per participant (Peer). It has no notion of rooms or
// roles: the rtc package decides who receives what.
package sfu

import (
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
)

// Payload types the SFU offers. One codec per kind that every browser supports means a
// packet is forwarded as it came, with no transcoding and no per-subscriber codec choice.
const (
	PayloadTypeOpus = 111
	PayloadTypeVP8  = 96
)

// relayAcceptanceMinWait is how long the SFU, when it nominates (it offers the subscriber
// connection), waits before it accepts a pair through a client's TURN relay. pion waits 2 s
// by default so that a direct pair can win; a direct pair on a working path succeeds within
// a round trip or two, while a client that can only be relayed (iceTransportPolicy relay, a
// blocked UDP port) would see its first picture 2 s late.
const relayAcceptanceMinWait = 250 * time.Millisecond

// audioLevelURI is the RTP header extension that carries the speaker's loudness.
const audioLevelURI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

// EngineParams configures the process-wide media engine.
type EngineParams struct {
	// UDPAddr is where every peer connection's ICE traffic arrives (one port for all).
	UDPAddr string
	// NAT1To1IP, when set, replaces the host candidate's address with this one: the
	// public address of a server behind a 1:1 NAT.
	NAT1To1IP string
	// DisconnectedTimeout and FailedTimeout bound how long a silent connection lasts
	// before it counts as disconnected, then failed (and its participant is removed).
	DisconnectedTimeout time.Duration
	FailedTimeout       time.Duration
	Log                 *slog.Logger
}

// Engine holds what every peer connection shares: the codecs, the interceptors and the UDP
// port.
type Engine struct {
	api  *webrtc.API
	conn net.PacketConn
	mux  interface{ Close() error }
	log  *slog.Logger
}

// NewEngine listens on p.UDPAddr and prepares the WebRTC API.
func NewEngine(p EngineParams) (*Engine, error) {
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.DisconnectedTimeout == 0 {
		p.DisconnectedTimeout = 5 * time.Second
	}
	if p.FailedTimeout == 0 {
		p.FailedTimeout = 10 * time.Second
	}
	me := &webrtc.MediaEngine{}
	videoFeedback := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType:        PayloadTypeOpus,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFeedback},
		PayloadType:        PayloadTypeVP8,
	}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: audioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}

	// Interceptors: NACKs towards publishers for packets lost on their uplink, and RTCP
	// sender/receiver reports both ways. NACKs from subscribers are answered by the
	// down-tracks from the receiver's shared packet cache (one cache per published track
	// instead of one per subscriber), so pion's NACK responder is not registered.
	ir := &interceptor.Registry{}
	gen, err := nack.NewGeneratorInterceptor()
	if err != nil {
		return nil, err
	}
	ir.Add(gen)
	rr, err := report.NewReceiverInterceptor()
	if err != nil {
		return nil, err
	}
	ir.Add(rr)
	sr, err := report.NewSenderInterceptor()
	if err != nil {
		return nil, err
	}
	ir.Add(sr)

	conn, err := net.ListenPacket("udp4", p.UDPAddr)
	if err != nil {
		return nil, fmt.Errorf("sfu: listen udp %s: %w", p.UDPAddr, err)
	}
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelError
	mux := webrtc.NewICEUDPMux(lf.NewLogger("udpmux"), conn)

	se := webrtc.SettingEngine{LoggerFactory: lf}
	se.SetICEUDPMux(mux)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	// Loopback candidates make the SFU reachable from the same machine (development, tests).
	se.SetIncludeLoopbackCandidate(true)
	se.SetICETimeouts(p.DisconnectedTimeout, p.FailedTimeout, time.Second)
	se.SetRelayAcceptanceMinWait(relayAcceptanceMinWait)
	if p.NAT1To1IP != "" {
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        []string{p.NAT1To1IP},
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		}); err != nil {
			_ = mux.Close()
			return nil, fmt.Errorf("sfu: NAT 1:1 IP %q: %w", p.NAT1To1IP, err)
		}
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	return &Engine{api: api, conn: conn, mux: mux, log: p.Log}, nil
}

// Close stops listening. Peers must be closed first.
func (e *Engine) Close() error { return e.mux.Close() }
