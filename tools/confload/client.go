package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// participant is one simulated conference client: a signaling socket through the gateway, a
// publisher connection carrying one synthetic VP8 track, and a subscriber connection that
// counts what it receives.
type participant struct {
	ws       *websocket.Conn
	wmu      sync.Mutex
	pub, sub *webrtc.PeerConnection
	stop     chan struct{}
	wg       sync.WaitGroup

	frameBytes int

	joinSent   time.Time
	firstVideo atomic.Int64 // unix nanos of the first RTP packet received, 0 before
	packets    atomic.Uint64
	bytes      atomic.Uint64

	mu       sync.Mutex
	pubReady bool
	subReady bool
	held     []webrtc.ICECandidateInit
}

func newAPI() (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	// Load runs on one machine: only loopback candidates, so that no other interface is tried.
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// join connects to the conference's socket through the gateway and sends "join".
func join(api *webrtc.API, gateway, conf, token string, frameBytes int) (*participant, error) {
	u, err := url.Parse(gateway + "/api/v1/conferences/" + conf + "/ws")
	if err != nil {
		return nil, err
	}
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	u.RawQuery = url.Values{"access_token": {token}}.Encode()
	ws, resp, err := websocket.DefaultDialer.Dial(u.String(), nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("signaling socket: %w", err)
	}
	p := &participant{ws: ws, stop: make(chan struct{}), frameBytes: frameBytes}
	if p.pub, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		ws.Close()
		return nil, err
	}
	if p.sub, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		p.pub.Close()
		ws.Close()
		return nil, err
	}
	for _, pc := range []*webrtc.PeerConnection{p.pub, p.sub} {
		isSub := pc == p.sub
		pc.OnICECandidate(func(c *webrtc.ICECandidate) {
			if c != nil {
				p.candidate(c.ToJSON(), isSub)
			}
		})
	}
	p.sub.OnTrack(p.receive)
	p.wg.Add(1)
	go p.signal()
	p.joinSent = time.Now()
	if err := p.send(map[string]any{"type": "join"}); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
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

type frame struct {
	Type      string          `json:"type"`
	SDP       string          `json:"sdp"`
	Candidate json.RawMessage `json:"candidate"`
	Code      string          `json:"code"`
}

func (p *participant) signal() {
	defer p.wg.Done()
	for {
		var f frame
		if err := p.ws.ReadJSON(&f); err != nil {
			return
		}
		switch f.Type {
		case "joined":
			if err := p.publish(); err != nil {
				return
			}
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

// publish adds one synthetic VP8 track (stream "camera-…") and offers it.
func (p *participant) publish() error {
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "camera-load")
	if err != nil {
		return err
	}
	tr, err := p.pub.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return err
	}
	key := &atomic.Bool{}
	key.Store(true)
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		for {
			pkts, _, err := tr.Sender().ReadRTCP()
			if err != nil {
				return
			}
			for _, pkt := range pkts {
				switch pkt.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					key.Store(true)
				}
			}
		}
	}()
	go func() {
		defer p.wg.Done()
		p.sendVideo(track, key)
	}()
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

// sendVideo writes 30 frames a second of frameBytes each, split into packets of at most
// 1100 bytes; a frame is a key frame when the SFU asked for one.
func (p *participant) sendVideo(track *webrtc.TrackLocalStaticRTP, key *atomic.Bool) {
	const mtuPayload = 1100
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	var seq uint16
	var ts uint32
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		ts += 3000
		isKey := key.Swap(false)
		for remaining, first := max(p.frameBytes, 2), true; remaining > 0; first = false {
			n := min(remaining, mtuPayload)
			remaining -= n
			payload := make([]byte, n+1)
			if first {
				payload[0], payload[1] = 0x10, 0x11 // VP8 descriptor S=1 PID=0; inter frame
				if isKey {
					payload[1] = 0x10
				}
			}
			seq++
			_ = track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Marker: remaining == 0}, Payload: payload})
		}
	}
}

func (p *participant) receive(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	buf := make([]byte, 1500)
	for {
		n, _, err := track.Read(buf)
		if err != nil {
			return
		}
		p.firstVideo.CompareAndSwap(0, time.Now().UnixNano())
		p.packets.Add(1)
		p.bytes.Add(uint64(n))
	}
}

// joinToFirstVideo is the time from "join" to the first RTP packet received, or 0.
func (p *participant) joinToFirstVideo() time.Duration {
	first := p.firstVideo.Load()
	if first == 0 {
		return 0
	}
	return time.Unix(0, first).Sub(p.joinSent)
}

func (p *participant) close() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	_ = p.pub.Close()
	_ = p.sub.Close()
	_ = p.ws.Close()
	p.wg.Wait()
}
