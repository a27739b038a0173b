package convene

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/gorilla/websocket"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/convene/convene/tools/confload/load"
)

// participant is one client: a signaling socket through the gateway, a publishing peer
// connection (Opus + VP8) and a subscribing one that the SFU offers.
type participant struct {
	ws       *websocket.Conn
	wmu      sync.Mutex
	pub, sub *webrtc.PeerConnection
	peer     *load.Peer

	mu       sync.Mutex
	pubReady bool
	subReady bool
	held     []webrtc.ICECandidateInit
}

type frame struct {
	Type      string          `json:"type"`
	SDP       string          `json:"sdp"`
	Candidate json.RawMessage `json:"candidate"`
	Code      string          `json:"code"`
	Message   string          `json:"message"`
}

// join connects to the conference's socket, sends "join", and once "joined" came back
// publishes the peer's tracks; it returns when the publisher's offer is sent.
func join(ctx context.Context, api *webrtc.API, gateway, conf, token string, pe *load.Peer) error {
	u, err := url.Parse(gateway + "/api/v1/conferences/" + conf + "/ws")
	if err != nil {
		return err
	}
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	u.RawQuery = url.Values{"access_token": {token}}.Encode()
	ws, resp, err := websocket.DefaultDialer.DialContext(ctx, u.String(), nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return fmt.Errorf("%w: socket: %v", ErrSignaling, err)
	}
	p := &participant{ws: ws, peer: pe}
	pe.OnClose(func() { _ = ws.Close() })
	if p.pub, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		return err
	}
	pe.OnClose(func() { _ = p.pub.Close() })
	if p.sub, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		return err
	}
	pe.OnClose(func() { _ = p.sub.Close() })
	for _, pc := range []*webrtc.PeerConnection{p.pub, p.sub} {
		isSub := pc == p.sub
		pc.OnICECandidate(func(c *webrtc.ICECandidate) {
			if c != nil {
				p.candidate(c.ToJSON(), isSub)
			}
		})
	}
	p.sub.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { pe.Receive(t) })
	published := make(chan error, 1)
	go p.signal(published)
	if err := p.send(map[string]any{"type": "join"}); err != nil {
		return err
	}
	select {
	case err := <-published:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w: no \"joined\": %v", ErrSignaling, ctx.Err())
	}
}

func (p *participant) send(v any) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	return p.ws.WriteJSON(v)
}

// candidate sends a candidate once its connection's description was sent.
func (p *participant) candidate(c webrtc.ICECandidateInit, isSub bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if (isSub && !p.subReady) || (!isSub && !p.pubReady) {
		p.held = append(p.held, c)
		return
	}
	_ = p.send(map[string]any{"type": "candidate", "candidate": c})
}

// ready marks a description as sent and releases the candidates held for it; the SFU names
// the subscriber connection's sections "sfu…".
func (p *participant) ready(isSub bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if isSub {
		p.subReady = true
	} else {
		p.pubReady = true
	}
	keep := p.held[:0]
	for _, c := range p.held {
		sub := c.SDPMid != nil && strings.HasPrefix(*c.SDPMid, "sfu")
		if (sub && p.subReady) || (!sub && p.pubReady) {
			_ = p.send(map[string]any{"type": "candidate", "candidate": c})
			continue
		}
		keep = append(keep, c)
	}
	p.held = keep
}

// signal reads the socket until it closes; published gets the outcome of the join.
func (p *participant) signal(published chan<- error) {
	report := func(err error) {
		select {
		case published <- err:
		default:
		}
	}
	defer report(fmt.Errorf("%w: socket closed", ErrSignaling))
	for {
		var f frame
		if err := p.ws.ReadJSON(&f); err != nil {
			return
		}
		switch f.Type {
		case "joined":
			report(p.publish())
		case "error":
			report(fmt.Errorf("%w: %s: %s", ErrSignaling, f.Code, f.Message))
		case "offer":
			if p.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: f.SDP}) != nil {
				continue
			}
			answer, err := p.sub.CreateAnswer(nil)
			if err != nil || p.sub.SetLocalDescription(answer) != nil {
				continue
			}
			_ = p.send(map[string]any{"type": "answer", "sdp": answer.SDP})
			p.ready(true)
		case "answer":
			_ = p.pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: f.SDP})
		case "candidate":
			var c webrtc.ICECandidateInit
			if json.Unmarshal(f.Candidate, &c) != nil {
				continue
			}
			pc := p.pub
			if c.SDPMid != nil && strings.HasPrefix(*c.SDPMid, "sfu") {
				pc = p.sub
			}
			_ = pc.AddICECandidate(c)
		}
	}
}

// publish adds the microphone and camera tracks (their stream ids name the source, see
// API.md) and offers them.
func (p *participant) publish() error {
	audio, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "mic-load")
	if err != nil {
		return err
	}
	video, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "camera-load")
	if err != nil {
		return err
	}
	for _, t := range []*webrtc.TrackLocalStaticRTP{audio, video} {
		tr, err := p.pub.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return err
		}
		isVideo := t == video
		// Reading RTCP drives the interceptors (NACK responder, reports) and brings PLIs.
		go func() {
			for {
				pkts, _, err := tr.Sender().ReadRTCP()
				if err != nil {
					return
				}
				for _, pkt := range pkts {
					switch pkt.(type) {
					case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
						if isVideo {
							p.peer.KeyframeRequested()
						}
					}
				}
			}
		}()
	}
	p.peer.Publish(audio, video)
	offer, err := p.pub.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err := p.pub.SetLocalDescription(offer); err != nil {
		return err
	}
	if err := p.send(map[string]any{"type": "offer", "sdp": offer.SDP}); err != nil {
		return err
	}
	p.ready(false)
	return nil
}
