package sfu

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

const (
	// opQueue bounds the work queued for one peer; the signaling socket is rate-limited
	// and the room queues one operation per track, so a full queue means a runaway client.
	opQueue = 256
	// SubscriberMidPrefix names the media sections of the subscriber connection (one per
	// forwarded track). Browsers number their own sections, so a candidate's sdpMid tells
	// which of the participant's two connections it belongs to.
	SubscriberMidPrefix = "sfu"
	// allocateEvery is how often the layer choice of every subscribed video is re-run
	// against the subscriber's latest bandwidth estimate.
	allocateEvery = 500 * time.Millisecond
	// audioReserve is the share of the estimate set aside per subscribed audio track
	// before the rest is split between the visible videos.
	audioReserve = 64_000
	// disconnectedGrace is how long the subscriber connection may stay disconnected before
	// the SFU restarts its ICE.
	disconnectedGrace = 2 * time.Second
	// defaultView is the size assumed for a video the client has not sent a view for: as
	// large as allowed, so that a client that never sends one gets the best layer its
	// bandwidth allows.
	defaultView = 16384
)

// PeerParams builds a Peer. Callbacks run on the peer's own goroutines and must not block.
type PeerParams struct {
	Engine *Engine
	// OnOffer sends an offer of the subscriber connection (tracks added or removed).
	OnOffer func(sdp string)
	// OnAnswer sends the answer to the client's offer on the publisher connection.
	OnAnswer func(sdp string)
	// OnCandidate trickles one of the SFU's ICE candidates; its sdpMid tells the client
	// which connection it is for.
	OnCandidate func(c webrtc.ICECandidateInit)
	// OnTrack hands over a track the client publishes, already forwarding.
	OnTrack func(r *Receiver)
	// OnError reports a client request that failed (bad SDP, unexpected answer...).
	OnError func(err error)
	// OnFailed reports that a connection failed or the client closed it.
	OnFailed func()
	// OnLayers asks the client to send only the active layers (by rid) of one of its
	// simulcast tracks, known to the client by its own track id and media section.
	OnLayers func(trackID, mid string, active []string)
	Log      *slog.Logger
}

// Peer is one participant's media: two peer connections, as livekit does. On the
// publisher connection the client offers and the SFU answers: it carries what the
// participant sends. On the subscriber connection the SFU offers and the client answers:
// it carries what the participant receives. Each connection has one offerer, so offers
// never cross (no glare, no rollback). Every operation runs on one goroutine in the order
// it was asked for.
type Peer struct {
	params  PeerParams
	pub     *webrtc.PeerConnection
	sub     *webrtc.PeerConnection
	pubGate *candidateGate
	subGate *candidateGate
	ops     chan func()
	closed  chan struct{}
	stopped chan struct{}
	once    sync.Once
	failed  sync.Once

	// estimator is the subscriber connection's bandwidth estimator (nil: none).
	estimator cc.BandwidthEstimator
	// subReady is set once the subscriber connection first connected.
	subReady atomic.Bool

	// receivers groups the layers of each published track: pion reports each simulcast
	// layer as a track of its own, of the same RTPReceiver.
	recvMu    sync.Mutex
	receivers map[*webrtc.RTPReceiver]*Receiver

	// Owned by the run goroutine.
	subs      map[string]*subscription
	needOffer bool
	needICE   bool
	// restarting: an ICE-restart offer awaits its answer; asking again changes nothing.
	restarting bool
	mids       int
	subRestart int
}

type subscription struct {
	down   *DownTrack
	sender *webrtc.RTPSender
	// viewWidth and viewHeight are the size the client shows the video at (0: hidden).
	viewWidth, viewHeight int
}

// NewPeer creates both connections; nothing is negotiated until the client offers or a
// track is subscribed.
func NewPeer(p PeerParams) (*Peer, error) {
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	pub, err := p.Engine.pubAPI.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	sub, est, err := p.Engine.newSubscriberPC()
	if err != nil {
		_ = pub.Close()
		return nil, err
	}
	peer := &Peer{
		params:    p,
		pub:       pub,
		sub:       sub,
		estimator: est,
		ops:       make(chan func(), opQueue),
		closed:    make(chan struct{}),
		stopped:   make(chan struct{}),
		subs:      map[string]*subscription{},
		receivers: map[*webrtc.RTPReceiver]*Receiver{},
		pubGate:   &candidateGate{send: p.OnCandidate},
		subGate:   &candidateGate{send: p.OnCandidate},
	}
	for pc, gate := range map[*webrtc.PeerConnection]*candidateGate{pub: peer.pubGate, sub: peer.subGate} {
		pc.OnICECandidate(func(c *webrtc.ICECandidate) {
			if c != nil {
				gate.candidate(c.ToJSON())
			}
		})
	}
	pub.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateClosed {
			peer.fail()
		}
	})
	sub.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			peer.subReady.Store(true)
			peer.do(func() {
				peer.subRestart = 0
				peer.keyframesNow()
			})
		case webrtc.PeerConnectionStateClosed:
			peer.fail()
		}
	})
	// The SFU offers the subscriber connection, so it is the one to restart its ICE when
	// the path breaks (the client's network changed) while the socket still works.
	sub.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		switch s {
		case webrtc.ICEConnectionStateFailed:
			peer.do(func() { peer.restartSubscriber(true) })
		case webrtc.ICEConnectionStateDisconnected:
			// A short outage heals by itself; one that lasts means the path is gone.
			time.AfterFunc(disconnectedGrace, func() {
				peer.do(func() {
					if peer.sub.ICEConnectionState() == webrtc.ICEConnectionStateDisconnected {
						peer.restartSubscriber(false)
					}
				})
			})
		}
	})
	pub.OnTrack(peer.published)
	go peer.run()
	return peer, nil
}

// fail reports a connection that failed or that the client closed, once, unless we are
// closing it ourselves.
func (p *Peer) fail() {
	select {
	case <-p.closed:
	default:
		p.failed.Do(p.params.OnFailed)
	}
}

func (p *Peer) run() {
	defer close(p.stopped)
	tick := time.NewTicker(allocateEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if len(p.subs) > 0 {
				p.allocate()
			}
		case op := <-p.ops:
			op()
			// Run everything already queued before offering, so that several tracks
			// subscribed together are negotiated in one offer.
			for more := true; more; {
				select {
				case op := <-p.ops:
					op()
				default:
					more = false
				}
			}
			p.offerIfNeeded()
		case <-p.closed:
			return
		}
	}
}

// do queues op; a peer whose queue is full is failed rather than blocking the room.
func (p *Peer) do(op func()) {
	select {
	case <-p.closed:
		return
	default:
	}
	select {
	case p.ops <- op:
	default:
		p.params.Log.Warn("peer queue full; closing it")
		p.params.OnError(ErrPeerBusy)
		go p.fail()
	}
}

// Offer handles the client's offer on the publisher connection: it publishes tracks, or
// changes what it publishes.
func (p *Peer) Offer(sdpText string) error {
	if err := checkSDP(sdpText); err != nil {
		return err
	}
	p.do(func() { p.handleOffer(sdpText) })
	return nil
}

// Answer handles the client's answer to the SFU's last offer on the subscriber connection.
func (p *Peer) Answer(sdpText string) error {
	if err := checkSDP(sdpText); err != nil {
		return err
	}
	p.do(func() { p.handleAnswer(sdpText) })
	return nil
}

// Candidate adds one of the client's ICE candidates (an empty candidate ends the list).
// Its sdpMid selects the connection: the SFU's section names for the subscriber one, the
// client's for the publisher one.
func (p *Peer) Candidate(c webrtc.ICECandidateInit) error {
	if raw := strings.TrimPrefix(c.Candidate, "candidate:"); raw != "" {
		if _, err := ice.UnmarshalCandidate(raw); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidCandidate, err)
		}
	}
	pc := p.pub
	if c.SDPMid != nil && strings.HasPrefix(*c.SDPMid, SubscriberMidPrefix) {
		pc = p.sub
	}
	p.do(func() {
		// The socket keeps frames in order and a client trickles candidates only after
		// the description they belong to, so a candidate of a connection with no
		// remote description is for nothing.
		if pc.RemoteDescription() == nil {
			p.params.OnError(ErrUnexpectedCandidate)
			return
		}
		if err := pc.AddICECandidate(c); err != nil {
			p.params.OnError(fmt.Errorf("%w: %v", ErrInvalidCandidate, err))
		}
	})
	return nil
}

// Subscribe starts sending r's packets to the client as trackID in stream streamID.
func (p *Peer) Subscribe(r *Receiver, trackID, streamID string) {
	p.do(func() {
		if _, dup := p.subs[trackID]; dup {
			return
		}
		down := NewDownTrack(r, trackID, streamID)
		down.ready = &p.subReady
		tr, err := p.sub.AddTransceiverFromTrack(down, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			p.params.Log.Warn("subscribe failed", "track_id", trackID, "err", err)
			return
		}
		p.mids++
		if err := tr.SetMid(fmt.Sprintf("%s%d", SubscriberMidPrefix, p.mids)); err != nil {
			p.params.Log.Warn("set mid failed", "track_id", trackID, "err", err)
		}
		go down.handleRTCP(tr.Sender())
		p.subs[trackID] = &subscription{down: down, sender: tr.Sender(), viewWidth: defaultView, viewHeight: defaultView}
		p.allocate()
		r.AddDownTrack(down)
		p.needOffer = true
	})
}

// Unsubscribe stops sending a track.
func (p *Peer) Unsubscribe(trackID string) {
	p.do(func() {
		s, ok := p.subs[trackID]
		if !ok {
			return
		}
		delete(p.subs, trackID)
		s.down.receiver.RemoveDownTrack(s.down)
		if err := p.sub.RemoveTrack(s.sender); err != nil {
			p.params.Log.Debug("remove track", "track_id", trackID, "err", err)
		}
		p.needOffer = true
	})
}

// SetView records the size at which the client shows a forwarded video (0: hidden, which
// pauses it) and chooses its layer again.
func (p *Peer) SetView(trackID string, width, height int) {
	p.do(func() {
		s, ok := p.subs[trackID]
		if !ok {
			p.params.OnError(ErrUnknownTrack)
			return
		}
		s.viewWidth, s.viewHeight = width, height
		p.allocate()
	})
}

// RestartICE re-offers the subscriber connection with new ICE credentials: the client
// asks for it when its network changed.
func (p *Peer) RestartICE() {
	p.do(func() { p.restartSubscriber(false) })
}

// restartSubscriber queues an ICE restart of the subscriber connection. A connection that
// failed again after a restart that never connected is given up on.
func (p *Peer) restartSubscriber(failed bool) {
	if p.needICE || (p.restarting && !failed) {
		return
	}
	if failed && p.subRestart > 0 {
		go p.fail()
		return
	}
	p.subRestart++
	p.needICE, p.needOffer = true, true
}

// Estimate returns the subscriber connection's bandwidth estimate in bits per second (0:
// no estimator).
func (p *Peer) Estimate() int {
	if p.estimator == nil {
		return 0
	}
	return p.estimator.GetTargetBitrate()
}

// allocate chooses the layer of every subscribed video from its view and an equal share of
// the bandwidth estimate left after the audio tracks.
func (p *Peer) allocate() {
	var videos, audios int
	for _, s := range p.subs {
		switch {
		case s.down.Kind() == webrtc.RTPCodecTypeAudio:
			audios++
		case s.viewWidth > 0 && s.viewHeight > 0:
			videos++
		}
	}
	budget := 0
	est := p.Estimate()
	if est > 0 {
		subscriberEstimate.Observe(float64(est))
	}
	if est > 0 && videos > 0 {
		budget = max(1, (est-audios*audioReserve)/videos)
	}
	for _, s := range p.subs {
		if s.down.Kind() != webrtc.RTPCodecTypeVideo {
			continue
		}
		current, _ := s.down.layers()
		s.down.SetTarget(ChooseLayer(LayerChoice{
			Layers: s.down.receiver.Layers(), ViewWidth: s.viewWidth, ViewHeight: s.viewHeight,
			Budget: budget, Current: current,
		}))
	}
}

// keyframesNow asks every subscribed video's publisher for a key frame: the subscriber
// connection just came up, and packets sent before (the key frame asked for when the track
// was bound) never left.
func (p *Peer) keyframesNow() {
	for _, s := range p.subs {
		s.down.requestKeyframe(true)
	}
}

// published groups the layers pion reports one by one into one Receiver per published
// track, and hands each new one over.
func (p *Peer) published(t *webrtc.TrackRemote, rr *webrtc.RTPReceiver) {
	p.recvMu.Lock()
	recv, known := p.receivers[rr]
	if !known {
		recv = p.newReceiver(t, rr)
		p.receivers[rr] = recv
	}
	p.recvMu.Unlock()
	recv.AttachLayer(t)
	if known {
		return
	}
	go func() {
		select {
		case <-recv.Done():
		case <-p.closed:
		}
		p.recvMu.Lock()
		if p.receivers[rr] == recv {
			delete(p.receivers, rr)
		}
		p.recvMu.Unlock()
	}()
	p.params.OnTrack(recv)
}

func (p *Peer) newReceiver(t *webrtc.TrackRemote, rr *webrtc.RTPReceiver) *Receiver {
	var levelExt uint8
	for _, ext := range rr.GetParameters().HeaderExtensions {
		if ext.URI == audioLevelURI {
			levelExt = uint8(ext.ID)
		}
	}
	var mid string
	if tr := rr.RTPTransceiver(); tr != nil {
		mid = tr.Mid()
	}
	var rids []string
	for _, lt := range rr.Tracks() {
		rids = append(rids, lt.RID())
	}
	rids = orderRIDs(rids)
	return NewReceiver(ReceiverParams{
		TrackID: t.ID(), StreamID: t.StreamID(), Mid: mid, Kind: t.Kind(), Codec: t.Codec(),
		RIDs: rids, LevelExt: levelExt, RTPReceiver: rr, WriteRTCP: p.pub.WriteRTCP, Log: p.params.Log,
		OnLayers: func(active []string) {
			if p.params.OnLayers != nil {
				p.params.OnLayers(t.ID(), mid, active)
			}
		},
	})
}

// simulcastRanks orders the rids browsers are usually given (quarter, half, full).
var simulcastRanks = map[string]int{"q": 0, "h": 1, "f": 2}

// orderRIDs puts the layers lowest first: by the usual q, h, f names when the publisher
// uses them, else in the order it declared them (which browsers keep as given, and web
// clients give lowest first).
func orderRIDs(rids []string) []string {
	for _, r := range rids {
		if _, ok := simulcastRanks[r]; !ok {
			return rids
		}
	}
	slices.SortStableFunc(rids, func(a, b string) int { return simulcastRanks[a] - simulcastRanks[b] })
	return rids
}

// Close ends both connections and stops forwarding to them. It waits for queued work to
// stop, so it must not be called from a PeerParams callback.
func (p *Peer) Close() {
	p.once.Do(func() {
		close(p.closed)
		<-p.stopped
		for _, s := range p.subs {
			s.down.receiver.RemoveDownTrack(s.down)
		}
		for _, pc := range []*webrtc.PeerConnection{p.pub, p.sub} {
			if err := pc.Close(); err != nil {
				p.params.Log.Debug("peer close", "err", err)
			}
		}
	})
}

func (p *Peer) handleOffer(sdpText string) {
	// A re-offer may restart ICE (new credentials): the candidates gathered for it must
	// not reach the client before the answer they belong to.
	p.pubGate.close()
	defer p.pubGate.open()
	if err := p.pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdpText}); err != nil {
		p.params.OnError(fmt.Errorf("%w: %v", ErrInvalidSDP, err))
		return
	}
	answer, err := p.pub.CreateAnswer(nil)
	if err == nil {
		err = p.pub.SetLocalDescription(answer)
	}
	if err != nil {
		p.params.OnError(fmt.Errorf("%w: %v", ErrInvalidSDP, err))
		return
	}
	p.params.OnAnswer(answer.SDP)
}

func (p *Peer) handleAnswer(sdpText string) {
	if p.sub.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
		p.params.OnError(ErrUnexpectedAnswer)
		return
	}
	p.restarting = false
	if err := p.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdpText}); err != nil {
		p.params.OnError(fmt.Errorf("%w: %v", ErrInvalidSDP, err))
	}
}

// offerIfNeeded offers the subscriber connection's changes once the previous offer was
// answered.
func (p *Peer) offerIfNeeded() {
	if !p.needOffer || p.sub.SignalingState() != webrtc.SignalingStateStable {
		return
	}
	var opts *webrtc.OfferOptions
	if p.needICE {
		opts = &webrtc.OfferOptions{ICERestart: true}
		// The new generation's candidates follow the offer that carries its credentials.
		p.subGate.close()
	}
	defer p.subGate.open()
	offer, err := p.sub.CreateOffer(opts)
	if err == nil {
		err = p.sub.SetLocalDescription(offer)
	}
	if err != nil {
		p.params.Log.Warn("offer failed", "err", err)
		return
	}
	p.restarting = p.needICE
	p.needOffer, p.needICE = false, false
	p.params.OnOffer(offer.SDP)
}

// candidateGate holds a connection's first candidates until its first description was
// sent: pion starts gathering inside SetLocalDescription, and a candidate that reached the
// client before the description it belongs to could not be used.
type candidateGate struct {
	send    func(webrtc.ICECandidateInit)
	mu      sync.Mutex
	opened  bool
	pending []webrtc.ICECandidateInit
}

func (g *candidateGate) candidate(c webrtc.ICECandidateInit) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.opened {
		g.pending = append(g.pending, c)
		return
	}
	g.send(c)
}

// close holds the candidates that follow until the next open.
func (g *candidateGate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.opened = false
}

func (g *candidateGate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.opened {
		return
	}
	g.opened = true
	for _, c := range g.pending {
		g.send(c)
	}
	g.pending = nil
}

// checkSDP rejects text that is not a session description before it reaches a peer
// connection, so that garbage never changes its state.
func checkSDP(text string) error {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(text); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidSDP, err)
	}
	return nil
}
