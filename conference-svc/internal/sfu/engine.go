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
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/logging"
	"github.com/pion/transport/v4/udp"
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
	// TCPAddr, when set, is where ICE-TCP arrives (one port for all): clients whose UDP is
	// blocked reach the SFU over TCP candidates offered alongside the UDP ones.
	TCPAddr string
	// NAT1To1IP, when set, replaces the host candidate's address with this one: the
	// public address of a server behind a 1:1 NAT.
	NAT1To1IP string
	// DisconnectedTimeout and FailedTimeout bound how long a silent connection lasts
	// before it counts as disconnected, then failed (and its participant is removed).
	DisconnectedTimeout time.Duration
	FailedTimeout       time.Duration
	// InitialBitrate is each subscriber's bandwidth estimate before feedback refines it,
	// and MaxBitrate its ceiling, in bits per second.
	InitialBitrate int
	MaxBitrate     int
	// Pacing sends each subscriber's packets through the estimator's leaky-bucket pacer
	// instead of as they come. Off by default, like LiveKit's pass-through pacer: pion's
	// pacer queues without bound, so a subscriber whose estimate falls below a stream that
	// has no lower layer (no simulcast) queues for seconds and loses most packets
	// (docs/benchmarks-conference.md). The estimate drives the layer choice either way.
	Pacing bool
	Log    *slog.Logger
}

// Default estimates: a subscriber starts as if the path were good (the estimator lowers a
// wrong guess within a second or two of feedback, while starting low would hold every
// subscriber at the lowest layer, and the pacer queue them, for many seconds), and is never
// estimated below what a few audio tracks and one low layer need.
const (
	defaultInitialBitrate = 10_000_000
	defaultMaxBitrate     = 50_000_000
	minEstimate           = 200_000
)

// Engine holds what every peer connection shares: the codecs, the interceptors and the UDP
// (and TCP) port. Publisher and subscriber connections use two APIs: publishers get
// simulcast and send transport-wide feedback, subscribers get a bandwidth estimator each.
type Engine struct {
	pubAPI *webrtc.API
	subAPI *webrtc.API
	conn   net.PacketConn
	mux    interface{ Close() error }
	tcpMux interface{ Close() error }
	log    *slog.Logger

	// newEstimator hands the estimator pion builds inside NewPeerConnection to the caller
	// that holds estimatorMu.
	estimatorMu  sync.Mutex
	newEstimator cc.BandwidthEstimator
}

// NewEngine listens on p.UDPAddr (and p.TCPAddr) and prepares the WebRTC APIs.
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
	if p.MaxBitrate <= 0 {
		p.MaxBitrate = defaultMaxBitrate
	}
	if p.InitialBitrate <= 0 {
		p.InitialBitrate = defaultInitialBitrate
	}
	p.InitialBitrate = min(p.InitialBitrate, p.MaxBitrate)
	e := &Engine{log: p.Log}

	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelError
	se, err := e.listen(p, lf)
	if err != nil {
		return nil, err
	}

	// Publishers: simulcast by rid, NACKs towards them for packets lost on their uplink,
	// transport-wide feedback so that their own estimator (which decides how many layers
	// they can send) sees the uplink, and RTCP reports both ways.
	pubME, err := newMediaEngine(true)
	if err == nil {
		err = webrtc.ConfigureSimulcastExtensionHeaders(pubME)
	}
	pubIR := &interceptor.Registry{}
	if err == nil {
		err = addInterceptors(pubIR, nack.NewGeneratorInterceptor)
	}
	if err == nil {
		err = webrtc.ConfigureTWCCSender(pubME, pubIR)
	}
	if err != nil {
		e.Close()
		return nil, err
	}

	// Subscribers: a send-side estimator (GCC) per connection, fed by the subscriber's
	// transport-wide feedback on the sequence numbers the TWCC interceptor stamps; it also
	// paces. NACKs from subscribers are answered by the down-tracks from the receiver's
	// shared packet cache (one cache per published layer instead of one per subscriber), so
	// pion's NACK responder is not registered.
	quiet := logging.NewDefaultLoggerFactory()
	quiet.DefaultLogLevel = logging.LogLevelDisabled
	subME, err := newMediaEngine(false)
	subIR := &interceptor.Registry{}
	var ccf *cc.InterceptorFactory
	if err == nil {
		ccf, err = cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
			opts := []gcc.Option{
				gcc.SendSideBWEInitialBitrate(p.InitialBitrate),
				gcc.SendSideBWEMinBitrate(min(minEstimate, p.MaxBitrate)),
				gcc.SendSideBWEMaxBitrate(p.MaxBitrate),
				// The pacer logs every packet it could not write to a connection
				// that closed; that is the normal end of a subscriber.
				gcc.WithLoggerFactory(quiet),
			}
			if !p.Pacing {
				opts = append(opts, gcc.SendSideBWEPacer(gcc.NewNoOpPacer()))
			}
			return gcc.NewSendSideBWE(opts...)
		})
	}
	if err == nil {
		ccf.OnNewPeerConnection(func(_ string, est cc.BandwidthEstimator) { e.newEstimator = est })
		subIR.Add(ccf)
		err = webrtc.ConfigureTWCCHeaderExtensionSender(subME, subIR)
	}
	if err == nil {
		err = addInterceptors(subIR, nil)
	}
	if err != nil {
		e.Close()
		return nil, err
	}
	e.pubAPI = webrtc.NewAPI(webrtc.WithMediaEngine(pubME), webrtc.WithInterceptorRegistry(pubIR), webrtc.WithSettingEngine(*se))
	e.subAPI = webrtc.NewAPI(webrtc.WithMediaEngine(subME), webrtc.WithInterceptorRegistry(subIR), webrtc.WithSettingEngine(*se))
	return e, nil
}

// UDP write batching (see listen).
const (
	udpWriteBatch      = 64
	udpWriteBatchDelay = 2 * time.Millisecond
)

// listen opens the UDP (and TCP) ports and returns the settings every connection shares.
func (e *Engine) listen(p EngineParams, lf *logging.DefaultLoggerFactory) (*webrtc.SettingEngine, error) {
	conn, err := net.ListenPacket("udp4", p.UDPAddr)
	if err != nil {
		return nil, fmt.Errorf("sfu: listen udp %s: %w", p.UDPAddr, err)
	}
	e.conn = conn
	// Writes go out in batches (sendmmsg) of up to 64 datagrams, at most 2 ms late: the
	// forwarding path's largest cost was one sendto per packet (docs/benchmarks-conference.md).
	mux := webrtc.NewICEUDPMux(lf.NewLogger("udpmux"), udp.NewBatchConn(conn, udpWriteBatch, udpWriteBatchDelay))
	e.mux = mux

	se := &webrtc.SettingEngine{LoggerFactory: lf}
	se.SetICEUDPMux(mux)
	networks := []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	if p.TCPAddr != "" {
		ln, err := net.Listen("tcp4", p.TCPAddr)
		if err != nil {
			_ = mux.Close()
			return nil, fmt.Errorf("sfu: listen tcp %s: %w", p.TCPAddr, err)
		}
		tcpMux := webrtc.NewICETCPMux(lf.NewLogger("tcpmux"), ln, tcpReadBuffer)
		e.tcpMux = tcpMux
		se.SetICETCPMux(tcpMux)
		networks = append(networks, webrtc.NetworkTypeTCP4)
	}
	se.SetNetworkTypes(networks)
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
			e.Close()
			return nil, fmt.Errorf("sfu: NAT 1:1 IP %q: %w", p.NAT1To1IP, err)
		}
	}
	return se, nil
}

// tcpReadBuffer is how many packets an ICE-TCP connection buffers before its reader.
const tcpReadBuffer = 64

// newMediaEngine registers the one codec per kind the SFU forwards, and the audio level
// header extension on the publisher side (the active speaker comes from it).
func newMediaEngine(publisher bool) (*webrtc.MediaEngine, error) {
	me := &webrtc.MediaEngine{}
	videoFeedback := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}}
	audioFeedback := []webrtc.RTCPFeedback(nil)
	if !publisher {
		// Subscribers send transport-wide feedback for every packet the SFU stamps.
		videoFeedback = append(videoFeedback, webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC})
		audioFeedback = append(audioFeedback, webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC})
	}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1", RTCPFeedback: audioFeedback},
		PayloadType: PayloadTypeOpus,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFeedback},
		PayloadType:        PayloadTypeVP8,
	}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	if publisher {
		if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: audioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, err
		}
	}
	return me, nil
}

// addInterceptors adds RTCP sender and receiver reports, after extra (when set).
func addInterceptors(ir *interceptor.Registry, extra func(...nack.GeneratorOption) (*nack.GeneratorInterceptorFactory, error)) error {
	if extra != nil {
		f, err := extra()
		if err != nil {
			return err
		}
		ir.Add(f)
	}
	rr, err := report.NewReceiverInterceptor()
	if err != nil {
		return err
	}
	ir.Add(rr)
	sr, err := report.NewSenderInterceptor()
	if err != nil {
		return err
	}
	ir.Add(sr)
	return nil
}

// newSubscriberPC creates a subscriber connection and returns its bandwidth estimator.
func (e *Engine) newSubscriberPC() (*webrtc.PeerConnection, cc.BandwidthEstimator, error) {
	e.estimatorMu.Lock()
	defer e.estimatorMu.Unlock()
	e.newEstimator = nil
	pc, err := e.subAPI.NewPeerConnection(webrtc.Configuration{})
	est := e.newEstimator
	e.newEstimator = nil
	return pc, est, err
}

// Close stops listening. Peers must be closed first.
func (e *Engine) Close() error {
	var err error
	if e.tcpMux != nil {
		err = e.tcpMux.Close()
	}
	if e.mux != nil {
		if cerr := e.mux.Close(); cerr != nil {
			err = cerr
		}
	}
	return err
}
