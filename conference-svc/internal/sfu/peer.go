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
	// serverMidPrefix marks the media sections the SFU adds (one per forwarded track). The
	// client numbers its own sections; distinct names mean that an offer of the client that
	// crossed one of ours can never be mistaken for a section we added.
	serverMidPrefix = "s"
)

// PeerParams builds a Peer. Callbacks run on the peer's own goroutines and must not block.
type PeerParams struct {
	Engine *Engine
	// OnOffer sends an offer the SFU made (new or removed forwarded tracks).
	OnOffer func(sdp string)
	// OnAnswer sends the answer to the client's offer.
	OnAnswer func(sdp string)
	// OnCandidate trickles one of the SFU's ICE candidates to the client.
	OnCandidate func(c webrtc.ICECandidateInit)
	// OnTrack hands over a track the client publishes, already forwarding.
	OnTrack func(r *Receiver)
	// OnError reports a client request that failed (bad SDP, unexpected answer...).
	OnError func(err error)
	// OnFailed reports that the connection failed or the client closed it.
	OnFailed func()
	Log      *slog.Logger
}

// Peer is one participant's peer connection: it receives the tracks the participant
// publishes and sends the tracks they subscribe to. Every operation runs on one goroutine
// in the order it was asked for, so negotiation never interleaves.
//
// Negotiation follows the "perfect negotiation" pattern with the SFU as the polite peer:
// an offer from the client that crosses one of the SFU's rolls the SFU's back; the SFU
// answers, then offers again. The client ignores an SFU offer that arrives while its own
// is pending.
type Peer struct {
	params  PeerParams
	pc      *webrtc.PeerConnection
	ops     chan func()
	closed  chan struct{}
	stopped chan struct{}
	once    sync.Once
	closing sync.Once

	// Owned by the run goroutine.
	subs      map[string]*subscription
	needOffer bool
	mids      int
}

type subscription struct {
	down   *DownTrack
	sender *webrtc.RTPSender
}

// NewPeer creates the peer connection; nothing is negotiated until the client offers or a
// track is subscribed.
func NewPeer(p PeerParams) (*Peer, error) {
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	pc, err := p.Engine.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	peer := &Peer{
		params:  p,
		pc:      pc,
		ops:     make(chan func(), opQueue),
		closed:  make(chan struct{}),
		stopped: make(chan struct{}),
		subs:    map[string]*subscription{},
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			p.OnCandidate(c.ToJSON())
		}
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		recv := NewReceiver(ReceiverParams{Track: t, Receiver: r, WriteRTCP: pc.WriteRTCP, Log: p.Log})
		recv.Start()
		p.OnTrack(recv)
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			select {
			case <-peer.closed: // we closed it ourselves
			default:
				peer.closing.Do(p.OnFailed)
			}
		}
	})
	go peer.run()
	return peer, nil
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
		go p.closing.Do(p.params.OnFailed)
	}
}

// Offer handles the client's offer: it publishes tracks, or changes what it publishes.
func (p *Peer) Offer(sdpText string) error {
	if err := checkSDP(sdpText); err != nil {
		return err
	}
	p.do(func() { p.handleOffer(sdpText) })
	return nil
}

// Answer handles the client's answer to the SFU's last offer.
func (p *Peer) Answer(sdpText string) error {
	if err := checkSDP(sdpText); err != nil {
		return err
	}
	p.do(func() { p.handleAnswer(sdpText) })
	return nil
}

// Candidate adds one of the client's ICE candidates (an empty candidate ends the list).
func (p *Peer) Candidate(c webrtc.ICECandidateInit) error {
	if raw := strings.TrimPrefix(c.Candidate, "candidate:"); raw != "" {
		if _, err := ice.UnmarshalCandidate(raw); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidCandidate, err)
		}
	}
	p.do(func() {
		// The socket keeps frames in order and a client trickles candidates only after
		// the description they belong to, so a candidate with no remote description is
		// for nothing.
		if p.pc.RemoteDescription() == nil {
			p.params.OnError(ErrUnexpectedCandidate)
			return
		}
		if err := p.pc.AddICECandidate(c); err != nil {
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
		down := NewDownTrack(r, trackID, streamID, p.params.Log)
		tr, err := p.pc.AddTransceiverFromTrack(down, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			p.params.Log.Warn("subscribe failed", "track_id", trackID, "err", err)
			return
		}
		p.mids++
		if err := tr.SetMid(fmt.Sprintf("%s%d", serverMidPrefix, p.mids)); err != nil {
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
		if err := p.pc.RemoveTrack(s.sender); err != nil {
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

// Close ends the connection and stops forwarding to it. It waits for queued work to stop.
func (p *Peer) Close() {
	p.once.Do(func() {
		close(p.closed)
		<-p.stopped
		for _, s := range p.subs {
			s.down.receiver.RemoveDownTrack(s.down)
		}
		if err := p.pc.Close(); err != nil {
			p.params.Log.Debug("peer close", "err", err)
		}
	})
}

func (p *Peer) handleOffer(sdpText string) {
	p.params.Log.Debug("client offer", "state", p.pc.SignalingState().String())
	if p.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		// Glare: the client's offer wins; ours is made again once this one is answered.
		if err := p.pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback}); err != nil {
			p.params.OnError(fmt.Errorf("%w: %v", ErrInvalidSDP, err))
			return
		}
		p.needOffer = true
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdpText}); err != nil {
		p.params.OnError(fmt.Errorf("%w: %v", ErrInvalidSDP, err))
		return
	}
	answer, err := p.pc.CreateAnswer(nil)
	if err == nil {
		err = p.pc.SetLocalDescription(answer)
	}
	if err != nil {
		p.params.OnError(fmt.Errorf("%w: %v", ErrInvalidSDP, err))
		_ = p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
		return
	}
	p.params.OnAnswer(answer.SDP)
}

func (p *Peer) handleAnswer(sdpText string) {
	p.params.Log.Debug("client answer", "state", p.pc.SignalingState().String())
	if p.pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
		p.params.OnError(ErrUnexpectedAnswer)
		return
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdpText}); err != nil {
		p.params.OnError(fmt.Errorf("%w: %v", ErrInvalidSDP, err))
		// Take the offer back and make it again, so that the connection is never stuck
		// waiting for an answer that will not come.
		_ = p.pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
		p.needOffer = true
	}
}

func (p *Peer) offerIfNeeded() {
	if !p.needOffer || p.pc.SignalingState() != webrtc.SignalingStateStable {
		return
	}
	offer, err := p.pc.CreateOffer(nil)
	if err == nil {
		err = p.pc.SetLocalDescription(offer)
	}
	if err != nil {
		p.params.Log.Warn("offer failed", "err", err)
		return
	}
	p.needOffer = false
	p.params.Log.Debug("sfu offer", "transceivers", len(p.pc.GetTransceivers()))
	p.params.OnOffer(offer.SDP)
}

// checkSDP rejects text that is not a session description before it reaches the peer
// connection, so that garbage never changes its state.
func checkSDP(text string) error {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(text); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidSDP, err)
	}
	return nil
}
