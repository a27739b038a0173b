package service

import (
	"encoding/binary"
	"encoding/json"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/require"
)

// publish describes a synthetic track a test client sends: Opus-sized audio packets every
// 20 ms, or VP8 frames at 30 fps of frameBytes each (key frames on PLI only).
type publish struct {
	kind       webrtc.RTPCodecType
	streamID   string
	frameBytes int
	// loud audio carries an audio level of -20 dBov; otherwise silence (-127 dBov).
	loud bool
	// simulcast video is sent as three layers, rid q, h and f, of frameBytes/4, /2 and
	// frameBytes each, with a key frame every second and on PLI; a layer the SFU asks to
	// pause ("layers") is not sent until it is active again, and then starts on a key frame.
	simulcast bool
	// slowKeyframes ignores PLIs: a simulcast layer gets a key frame every two seconds
	// only (and when it resumes), as from an encoder slow to respond.
	slowKeyframes bool
}

// simulcastRIDs are the layers a simulcast publisher sends, lowest first.
var simulcastRIDs = []string{"q", "h", "f"}

// recvPacket is one packet a test client received on a forwarded video.
type recvPacket struct {
	seq   uint16
	layer byte
	key   bool
	at    time.Time
}

// received is what a test client got on one forwarded track.
type received struct {
	kind          string
	firstPacket   time.Time
	firstKeyframe time.Time
	packets       int
	bytes         int
	seqs          map[uint16]bool
	firstSeq      uint16
	lastSeq       uint16
	// log is every video packet in arrival order.
	log []recvPacket
}

// holes counts sequence numbers missing between the first and the last packet received.
func (r *received) holes() int {
	n := 0
	for s := r.firstSeq; s != r.lastSeq; s++ {
		if !r.seqs[s] {
			n++
		}
	}
	return n
}

// mediaClient is a participant with real pion peer connections, as a browser client does
// it: a publisher connection it offers (its synthetic tracks) and a subscriber connection
// the SFU offers (everyone else's tracks), which it records.
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
	if !g.opened {
		g.opened = true
		for _, c := range g.pending {
			g.send(c)
		}
		g.pending = nil
	}
}

type mediaClient struct {
	t    testing.TB
	ws   *wsClient
	pub  *webrtc.PeerConnection
	sub  *webrtc.PeerConnection
	pubs []publish

	mu       sync.Mutex
	joinSent time.Time
	joinedAt time.Time
	// connectedAt is when the subscriber connection was up (ICE and DTLS done).
	connectedAt time.Time
	// gates hold each connection's candidates until its description was sent, as a
	// browser's event order does.
	gates []*candidateGate

	activeSpeaker string
	recv          map[string]*received // by stream id
	labels        map[string]trackInfo // by stream id, from the latest tracks frame
	// layers is every "layers" frame received, in order; active the layers to send now.
	layers []frame
	active map[string]bool

	stop chan struct{}
	wg   sync.WaitGroup
}

// clientOptions shape a test client's connections.
type clientOptions struct {
	// relay ("udp" or "tcp") uses only relayed candidates, through the TURN URLs of that
	// transport that "joined" hands out (a browser with iceTransportPolicy "relay").
	relay string
	// tcpOnly gathers and accepts TCP candidates only: a network that blocks UDP.
	tcpOnly bool
}

func newClientAPI(t testing.TB, o clientOptions) *webrtc.API {
	t.Helper()
	me := &webrtc.MediaEngine{}
	require.NoError(t, me.RegisterDefaultCodecs())
	require.NoError(t, me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{
		URI: "urn:ietf:params:rtp-hdrext:ssrc-audio-level"}, webrtc.RTPCodecTypeAudio))
	require.NoError(t, webrtc.ConfigureSimulcastExtensionHeaders(me))
	ir := &interceptor.Registry{}
	require.NoError(t, webrtc.RegisterDefaultInterceptors(me, ir))
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if o.tcpOnly {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	}
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

// joinMedia connects user to the conference and sends join; publishing starts once joined.
func (h *harness) joinMedia(t testing.TB, confID, user string, pubs ...publish) *mediaClient {
	return h.joinMediaWith(t, confID, user, "", pubs...)
}

// joinMediaWith is joinMedia; with relay set ("udp" or "tcp") the client uses only relayed
// candidates, through the TURN URLs of that transport that "joined" hands out (a browser
// with iceTransportPolicy "relay"), so its peer connections are made after "joined".
func (h *harness) joinMediaWith(t testing.TB, confID, user, relay string, pubs ...publish) *mediaClient {
	return h.joinMediaOpts(t, confID, user, clientOptions{relay: relay}, pubs...)
}

// joinMediaOpts is joinMedia with the client's connections shaped by o.
func (h *harness) joinMediaOpts(t testing.TB, confID, user string, o clientOptions, pubs ...publish) *mediaClient {
	relay := o.relay
	ws := h.dial(t, confID, user)
	joinSent := time.Now()
	cfg := webrtc.Configuration{}
	if relay != "" {
		ws.send(map[string]string{"type": "join"})
		cfg = relayConfig(t, ws.expect("joined"), relay)
	}
	api := newClientAPI(t, o)
	pub, err := api.NewPeerConnection(cfg)
	require.NoError(t, err)
	sub, err := api.NewPeerConnection(cfg)
	require.NoError(t, err)
	c := &mediaClient{
		t: t, ws: ws, pub: pub, sub: sub, pubs: pubs,
		recv: map[string]*received{}, labels: map[string]trackInfo{}, stop: make(chan struct{}),
		active: map[string]bool{"q": true, "h": true, "f": true},
	}
	for _, pc := range []*webrtc.PeerConnection{pub, sub} {
		gate := &candidateGate{send: func(ci webrtc.ICECandidateInit) {
			c.sendJSON(map[string]any{"type": "candidate", "candidate": ci})
		}}
		c.gates = append(c.gates, gate)
		pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
			if cand != nil {
				gate.candidate(cand.ToJSON())
			}
		})
	}
	sub.OnTrack(c.onTrack)
	sub.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			c.mu.Lock()
			c.connectedAt = time.Now()
			c.mu.Unlock()
		}
	})
	c.mu.Lock()
	c.joinSent = joinSent
	c.mu.Unlock()
	t.Cleanup(c.close)
	c.wg.Add(1)
	go c.signal()
	if relay != "" {
		c.onJoined()
	} else {
		ws.send(map[string]string{"type": "join"})
	}
	return c
}

// relayConfig keeps the TURN URLs of one transport from a "joined" frame and allows
// relayed candidates only.
func relayConfig(t testing.TB, joined frame, transport string) webrtc.Configuration {
	t.Helper()
	cfg := webrtc.Configuration{ICETransportPolicy: webrtc.ICETransportPolicyRelay}
	for _, s := range joined.ICEServers {
		for _, u := range s.URLs {
			if strings.HasPrefix(u, "turn:") && strings.HasSuffix(u, "?transport="+transport) {
				cfg.ICEServers = append(cfg.ICEServers, webrtc.ICEServer{URLs: []string{u}, Username: s.Username, Credential: s.Credential})
			}
		}
	}
	require.NotEmpty(t, cfg.ICEServers, "joined hands out a TURN URL over %s: %+v", transport, joined.ICEServers)
	return cfg
}

// onJoined starts publishing once the client is in the room.
func (c *mediaClient) onJoined() {
	c.mu.Lock()
	c.joinedAt = time.Now()
	c.mu.Unlock()
	if len(c.pubs) > 0 {
		c.startPublishing()
		c.offer()
	}
}

// selectedTypes returns the local candidate types of the pairs each connection uses
// ("" while none is selected).
func (c *mediaClient) selectedTypes() (pub, sub string) {
	typeOf := func(pc *webrtc.PeerConnection) string {
		// Every section of a connection shares one DTLS and one ICE transport.
		pair, err := pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
		if err != nil || pair == nil {
			return ""
		}
		return pair.Local.Typ.String()
	}
	return typeOf(c.pub), typeOf(c.sub)
}

func (c *mediaClient) sendJSON(v any) {
	c.ws.wmu.Lock()
	defer c.ws.wmu.Unlock()
	_ = c.ws.conn.WriteJSON(v)
}

// signal runs the client side of negotiation, in frame order.
func (c *mediaClient) signal() {
	defer c.wg.Done()
	for f := range c.ws.frames {
		switch f.Type {
		case "joined":
			c.onJoined()
		case "offer": // for the subscriber connection
			if c.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: f.SDP}) != nil {
				continue
			}
			answer, err := c.sub.CreateAnswer(nil)
			if err != nil || c.sub.SetLocalDescription(answer) != nil {
				continue
			}
			c.sendJSON(map[string]string{"type": "answer", "sdp": answer.SDP})
			c.gates[1].open()
		case "answer": // for the publisher connection
			_ = c.pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: f.SDP})
		case "candidate":
			var cand webrtc.ICECandidateInit
			if json.Unmarshal(f.Candidate, &cand) != nil {
				continue
			}
			pc := c.pub
			if cand.SDPMid != nil && strings.HasPrefix(*cand.SDPMid, "sfu") {
				pc = c.sub
			}
			_ = pc.AddICECandidate(cand)
		case "layers":
			c.mu.Lock()
			c.layers = append(c.layers, f)
			c.active = map[string]bool{}
			for _, rid := range f.Active {
				c.active[rid] = true
			}
			c.mu.Unlock()
		case "active_speaker":
			c.mu.Lock()
			c.activeSpeaker = f.UserID
			c.mu.Unlock()
		case "tracks":
			c.mu.Lock()
			c.labels = map[string]trackInfo{}
			for _, ti := range f.Tracks {
				c.labels[ti.StreamID] = ti
			}
			c.mu.Unlock()
		}
	}
}

func (c *mediaClient) offer() { c.offerWith(nil) }

// offerWith offers the publisher connection again (with ICERestart: new ICE credentials).
func (c *mediaClient) offerWith(opts *webrtc.OfferOptions) {
	offer, err := c.pub.CreateOffer(opts)
	require.NoError(c.t, err)
	require.NoError(c.t, c.pub.SetLocalDescription(offer))
	c.sendJSON(map[string]string{"type": "offer", "sdp": offer.SDP})
	c.gates[0].open()
}

func (c *mediaClient) startPublishing() {
	for i, p := range c.pubs {
		if p.simulcast {
			c.startSimulcast("track-"+string(rune('a'+i)), p)
			continue
		}
		codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
		if p.kind == webrtc.RTPCodecTypeVideo {
			codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
		}
		track, err := webrtc.NewTrackLocalStaticRTP(codec, "track-"+string(rune('a'+i)), p.streamID)
		require.NoError(c.t, err)
		tr, err := c.pub.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		require.NoError(c.t, err)
		keyframe := &atomic.Bool{}
		keyframe.Store(true)
		c.wg.Add(2)
		go func() {
			defer c.wg.Done()
			for {
				pkts, _, err := tr.Sender().ReadRTCP()
				if err != nil {
					return
				}
				for _, pkt := range pkts {
					switch pkt.(type) {
					case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
						keyframe.Store(true)
					}
				}
			}
		}()
		go func() {
			defer c.wg.Done()
			sendSynthetic(track, tr.Sender(), p, keyframe, c.stop)
		}()
	}
}

// sendSynthetic writes RTP until stop: Opus-like audio, or VP8 frames whose first packet
// carries the VP8 payload descriptor with S=1 and a frame header that says whether it is a
// key frame.
func sendSynthetic(track *webrtc.TrackLocalStaticRTP, sender *webrtc.RTPSender, p publish, keyframe *atomic.Bool, stop <-chan struct{}) {
	const mtuPayload = 1100
	interval, tsStep := 20*time.Millisecond, uint32(960)
	if p.kind == webrtc.RTPCodecTypeVideo {
		interval, tsStep = time.Second/30, 3000
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var seq uint16
	var ts uint32
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		ts += tsStep
		if p.kind == webrtc.RTPCodecTypeAudio {
			seq++
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Marker: true},
				Payload: make([]byte, 80)}
			level := byte(127)
			if p.loud {
				level = 20
			}
			for _, ext := range sender.GetParameters().HeaderExtensions {
				if ext.URI == "urn:ietf:params:rtp-hdrext:ssrc-audio-level" {
					_ = pkt.Header.SetExtension(uint8(ext.ID), []byte{0x80 | level})
				}
			}
			_ = track.WriteRTP(pkt)
			continue
		}
		key := keyframe.Swap(false)
		remaining := max(p.frameBytes, 2)
		for first := true; remaining > 0; first = false {
			n := min(remaining, mtuPayload)
			remaining -= n
			payload := make([]byte, n+1)
			if first {
				payload[0] = 0x10 // S=1, PID=0
				payload[1] = 0x11 // P=1: interframe
				if key {
					payload[1] = 0x10
				}
			}
			seq++
			_ = track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Marker: remaining == 0},
				Payload: payload})
		}
	}
}

// startSimulcast publishes one video as three layers of one transceiver, as a browser
// with three sendEncodings does: each layer its own SSRC, its packets tagged with the mid
// and the rid header extensions.
func (c *mediaClient) startSimulcast(id string, p publish) {
	codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	tracks := make([]*webrtc.TrackLocalStaticRTP, len(simulcastRIDs))
	for i, rid := range simulcastRIDs {
		var err error
		tracks[i], err = webrtc.NewTrackLocalStaticRTP(codec, id, p.streamID, webrtc.WithRTPStreamID(rid))
		require.NoError(c.t, err)
	}
	tr, err := c.pub.AddTransceiverFromTrack(tracks[0], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	require.NoError(c.t, err)
	for _, t := range tracks[1:] {
		require.NoError(c.t, tr.Sender().AddEncoding(t))
	}
	keyframes := make([]atomic.Bool, len(simulcastRIDs))
	for i, rid := range simulcastRIDs {
		keyframes[i].Store(true)
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			for {
				pkts, _, err := tr.Sender().ReadSimulcastRTCP(rid)
				if err != nil {
					return
				}
				for _, pkt := range pkts {
					switch pkt.(type) {
					case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
						keyframes[i].Store(true)
					}
				}
			}
		}()
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.sendSimulcast(tr, tracks, keyframes, p)
	}()
}

// sendSimulcast writes the three layers at 30 fps until stop; the last payload byte of
// every packet names its layer, and key frames carry their picture size.
func (c *mediaClient) sendSimulcast(tr *webrtc.RTPTransceiver, tracks []*webrtc.TrackLocalStaticRTP, keyframes []atomic.Bool, p publish) {
	frameBytes, keyEvery := p.frameBytes, 30
	if p.slowKeyframes {
		keyEvery = 60
	}
	const mtuPayload = 1100
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	seqs := make([]uint16, len(tracks))
	ts := make([]uint32, len(tracks))
	wasActive := make([]bool, len(tracks))
	for i := range tracks {
		seqs[i] = uint16(i * 20000)
		ts[i] = uint32(i) * 1_000_000
		wasActive[i] = true
	}
	var midID, ridID uint8
	for frameNo := 0; ; frameNo++ {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		if midID == 0 {
			for _, ext := range tr.Sender().GetParameters().HeaderExtensions {
				switch ext.URI {
				case sdp.SDESMidURI:
					midID = uint8(ext.ID)
				case sdp.SDESRTPStreamIDURI:
					ridID = uint8(ext.ID)
				}
			}
			if midID == 0 || ridID == 0 {
				continue // not negotiated yet
			}
		}
		c.mu.Lock()
		active := maps.Clone(c.active)
		c.mu.Unlock()
		for i, track := range tracks {
			ts[i] += 3000
			if !active[simulcastRIDs[i]] {
				wasActive[i] = false
				continue
			}
			// An encoder that resumes a layer starts it with a key frame; and one comes
			// every second anyway.
			asked := keyframes[i].Swap(false) && !p.slowKeyframes
			key := asked || !wasActive[i] || frameNo%keyEvery == 0
			wasActive[i] = true
			remaining := max(frameBytes>>(len(tracks)-1-i), 16)
			for first := true; remaining > 0; first = false {
				n := min(remaining, mtuPayload)
				remaining -= n
				payload := make([]byte, n+1)
				if first {
					payload[0] = 0x10 // S=1, PID=0
					payload[1] = 0x01 // P=1: interframe
					if key {
						payload[1] = 0x00
						copy(payload[4:], []byte{0x9d, 0x01, 0x2a})
						binary.LittleEndian.PutUint16(payload[7:], uint16(320<<i))
						binary.LittleEndian.PutUint16(payload[9:], uint16(180<<i))
					}
				}
				payload[n] = byte(i)
				seqs[i]++
				pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seqs[i], Timestamp: ts[i], Marker: remaining == 0},
					Payload: payload}
				_ = pkt.Header.SetExtension(midID, []byte(tr.Mid()))
				_ = pkt.Header.SetExtension(ridID, []byte(simulcastRIDs[i]))
				_ = track.WriteRTP(pkt)
			}
		}
	}
}

func isKeyframe(payload []byte) bool {
	return len(payload) > 1 && payload[0]&0x10 != 0 && payload[0]&0x07 == 0 && payload[1]&0x01 == 0
}

// onTrack records a forwarded track until the peer connection closes.
func (c *mediaClient) onTrack(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	id := track.StreamID()
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		now := time.Now()
		c.mu.Lock()
		r := c.recv[id]
		if r == nil {
			r = &received{kind: track.Kind().String(), firstPacket: now, seqs: map[uint16]bool{}, firstSeq: pkt.SequenceNumber, lastSeq: pkt.SequenceNumber}
			c.recv[id] = r
		}
		r.packets++
		r.bytes += len(pkt.Payload)
		r.seqs[pkt.SequenceNumber] = true
		if int16(pkt.SequenceNumber-r.lastSeq) > 0 {
			r.lastSeq = pkt.SequenceNumber
		}
		if track.Kind() == webrtc.RTPCodecTypeVideo {
			key := isKeyframe(pkt.Payload)
			if r.firstKeyframe.IsZero() && key {
				r.firstKeyframe = now
			}
			r.log = append(r.log, recvPacket{seq: pkt.SequenceNumber, layer: pkt.Payload[len(pkt.Payload)-1], key: key, at: now})
		}
		c.mu.Unlock()
	}
}

// speaker returns the last active speaker announced.
func (c *mediaClient) speaker() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.activeSpeaker
}

// connected returns when the subscriber connection came up.
func (c *mediaClient) connected() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connectedAt
}

// snapshot returns copies of what was received, with each track's label.
func (c *mediaClient) snapshot() (map[string]received, map[string]trackInfo, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	recv := map[string]received{}
	for k, v := range c.recv {
		cp := *v
		cp.log = slices.Clone(v.log)
		cp.seqs = map[uint16]bool{}
		for s := range v.seqs {
			cp.seqs[s] = true
		}
		recv[k] = cp
	}
	labels := map[string]trackInfo{}
	for k, v := range c.labels {
		labels[k] = v
	}
	return recv, labels, c.joinedAt
}

// receivingFrom reports how many of the labelled tracks of user are flowing to c.
func (c *mediaClient) receivingFrom(user string, minPackets int) int {
	recv, labels, _ := c.snapshot()
	n := 0
	for stream, l := range labels {
		if r, ok := recv[stream]; ok && l.UserID == user && r.packets >= minPackets {
			n++
		}
	}
	return n
}

func (c *mediaClient) close() {
	select {
	case <-c.stop:
		return
	default:
	}
	close(c.stop)
	_ = c.pub.Close()
	_ = c.sub.Close()
	c.ws.close()
	c.wg.Wait()
}
