package sfu

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/pion/ice/v4"
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

	// Owned by the run goroutine.
	subs      map[string]*subscription
	needOffer bool
	mids      int
}

type subscription struct {
	down   *DownTrack
	sender *webrtc.RTPSender
}

// NewPeer creates both connections; nothing is negotiated until the client offers or a
// track is subscribed.
func NewPeer(p PeerParams) (*Peer, error) {
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	pub, err := p.Engine.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	sub, err := p.Engine.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		_ = pub.Close()
		return nil, err
	}
	peer := &Peer{
		params:  p,
		pub:     pub,
		sub:     sub,
		ops:     make(chan func(), opQueue),
		closed:  make(chan struct{}),
		stopped: make(chan struct{}),
		subs:    map[string]*subscription{},
		pubGate: &candidateGate{send: p.OnCandidate},
		subGate: &candidateGate{send: p.OnCandidate},
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
			peer.do(peer.keyframesNow)
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			peer.fail()
		}
	})
	pub.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		recv := NewReceiver(ReceiverParams{Track: t, Receiver: r, WriteRTCP: pub.WriteRTCP, Log: p.Log})
		recv.Start()
		p.OnTrack(recv)
	})
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
	for {
		select {
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
		r.AddDownTrack(down)
		p.subs[trackID] = &subscription{down: down, sender: tr.Sender()}
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

// SetVisible pauses a forwarded video track the client does not show, or resumes it.
func (p *Peer) SetVisible(trackID string, visible bool) {
	p.do(func() {
		s, ok := p.subs[trackID]
		if !ok {
			p.params.OnError(ErrUnknownTrack)
			return
		}
		s.down.SetPaused(!visible)
	})
}

// keyframesNow asks every subscribed video's publisher for a key frame: the subscriber
// connection just came up, and packets sent before (the key frame asked for when the track
// was bound) never left.
func (p *Peer) keyframesNow() {
	for _, s := range p.subs {
		s.down.receiver.requestKeyframe(true)
	}
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
	p.pubGate.open()
}

func (p *Peer) handleAnswer(sdpText string) {
	if p.sub.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
		p.params.OnError(ErrUnexpectedAnswer)
		return
	}
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
	offer, err := p.sub.CreateOffer(nil)
	if err == nil {
		err = p.sub.SetLocalDescription(offer)
	}
	if err != nil {
		p.params.Log.Warn("offer failed", "err", err)
		return
	}
	p.needOffer = false
	p.params.OnOffer(offer.SDP)
	p.subGate.open()
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
