package e2e

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/convene/convene/platform/testkit"
	"github.com/convene/convene/tools/devstack/stack"
)

// confStack starts the gateway with users-svc, teams-svc and conference-svc.
func confStack(t *testing.T) *client {
	st := startStack(t, stack.Options{
		Services: []string{"users-svc", "teams-svc", "conference-svc"},
		ServiceEnv: map[string]map[string]string{
			"gateway":        {"AUTH_RATE_LIMIT": "100000", "AUTH_RATE_BURST": "100000"},
			"teams-svc":      {"TEAMS_WRITES_PER_MINUTE": "100000"},
			"conference-svc": {"CONFERENCE_CREATE_PER_MINUTE": "100000"},
		},
	})
	return newClient(st)
}

// confTeam makes a team owned by admin with the given members and returns its id.
func confTeam(t *testing.T, c *client, admin *user, members ...*user) string {
	t.Helper()
	var created struct {
		Team struct {
			ID string `json:"id"`
		} `json:"team"`
	}
	c.do(t, http.MethodPost, "/api/v1/teams", admin.Access, map[string]any{"name": "conf team"}).expect(t, http.StatusCreated).json(t, &created)
	for _, m := range members {
		c.do(t, http.MethodPost, "/api/v1/teams/"+created.Team.ID+"/members", admin.Access, map[string]any{"email": m.Email}).expect(t, http.StatusCreated)
	}
	return created.Team.ID
}

func confCreate(t *testing.T, c *client, team string, host *user, waitingRoom bool) string {
	t.Helper()
	var v struct {
		Conference struct {
			ID string `json:"id"`
		} `json:"conference"`
		Role string `json:"role"`
	}
	c.do(t, http.MethodPost, "/api/v1/teams/"+team+"/conferences", host.Access, map[string]any{
		"title": "Sync", "starts_at": "2030-01-02T09:00:00Z", "waiting_room": waitingRoom,
	}).expect(t, http.StatusCreated).json(t, &v)
	require.Equal(t, "host", v.Role)
	return v.Conference.ID
}

// confSocket is a signaling socket whose frames a goroutine reads into a channel.
type confSocket struct {
	t      *testing.T
	name   string
	conn   *websocket.Conn
	frames chan map[string]any
	done   chan struct{}
	wmu    sync.Mutex
}

func confDial(t *testing.T, c *client, conf string, u *user) *confSocket {
	t.Helper()
	s, status, err := confTryDial(t, c, conf, u)
	require.NoError(t, err, "upgrade answered %d", status)
	return s
}

// confTryDial opens the signaling socket; on a refused upgrade it returns the status.
func confTryDial(t *testing.T, c *client, conf string, u *user) (*confSocket, int, error) {
	t.Helper()
	conn, resp, err := c.dialWS("/api/v1/conferences/"+conf+"/ws", u.Access)
	status := 0
	if resp != nil {
		status = resp.StatusCode
		if resp.Body != nil {
			resp.Body.Close()
		}
	}
	if err != nil {
		return nil, status, err
	}
	s := &confSocket{t: t, name: u.Username, conn: conn, frames: make(chan map[string]any, 512), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer close(s.frames)
		for {
			var f map[string]any
			if err := conn.ReadJSON(&f); err != nil {
				return
			}
			s.frames <- f
		}
	}()
	t.Cleanup(s.close)
	return s, status, nil
}

func (s *confSocket) send(f map[string]any) {
	require.NoError(s.t, s.trySend(f))
}

// trySend is for negotiation frames, which may race with the server closing the socket
// (a participant that just left still answers an offer in flight).
func (s *confSocket) trySend(f map[string]any) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.conn.WriteJSON(f)
}

// expect waits for a frame of type typ; frames of the ignored types are skipped, any other
// fails the test.
func (s *confSocket) expect(typ string, ignore ...string) map[string]any {
	s.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-s.frames:
			require.True(s.t, ok, "%s: socket closed while waiting for %q", s.name, typ)
			if f["type"] == typ {
				return f
			}
			require.Contains(s.t, ignore, f["type"], "%s: got %v while waiting for %q", s.name, f, typ)
		case <-deadline:
			s.t.Fatalf("%s: no %q frame", s.name, typ)
		}
	}
}

func (s *confSocket) expectError(code string, ignore ...string) {
	s.t.Helper()
	require.Equal(s.t, code, s.expect("error", ignore...)["code"])
}

func (s *confSocket) waitClosed() {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.t.Fatalf("%s: socket still open", s.name)
	}
}

func (s *confSocket) close() {
	_ = s.conn.Close()
	<-s.done
}

func waitingIDs(f map[string]any) []string {
	var ids []string
	for _, w := range f["waiting"].([]any) {
		ids = append(ids, w.(map[string]any)["user_id"].(string))
	}
	return ids
}

// TestConferenceLobby plays the waiting-room rules through the gateway with real sockets.
func TestConferenceLobby(t *testing.T) {
	c := confStack(t)
	host, alice, bob, outsider := newUser(t, c), newUser(t, c), newUser(t, c), newUser(t, c)
	team := confTeam(t, c, host, alice, bob)
	conf := confCreate(t, c, team, host, true)

	// An outsider is refused before any upgrade.
	_, resp, err := c.dialWS("/api/v1/conferences/"+conf+"/ws", outsider.Access)
	require.ErrorIs(t, err, websocket.ErrBadHandshake)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	h := confDial(t, c, conf, host)
	h.send(map[string]any{"type": "join"})
	require.Equal(t, "host", h.expect("joined")["role"])
	require.Empty(t, waitingIDs(h.expect("lobby", "tracks")))

	a := confDial(t, c, conf, alice)
	a.send(map[string]any{"type": "join"})
	a.expect("waiting")
	require.Equal(t, []string{alice.ID}, waitingIDs(h.expect("lobby")))
	// Waiting: no media, no moderation.
	a.send(map[string]any{"type": "offer", "sdp": "v=0"})
	a.expectError("not_admitted")
	a.send(map[string]any{"type": "admit", "user_id": alice.ID})
	a.expectError("not_joined")

	b := confDial(t, c, conf, bob)
	b.send(map[string]any{"type": "join"})
	b.expect("waiting")
	require.Len(t, waitingIDs(h.expect("lobby")), 2)

	h.send(map[string]any{"type": "deny", "user_id": bob.ID})
	b.expect("denied")
	require.Equal(t, []string{alice.ID}, waitingIDs(h.expect("lobby")))
	b.send(map[string]any{"type": "join"})
	b.expect("waiting")
	h.expect("lobby")

	// The host reconnects and finds the lobby as it was.
	h.close()
	h = confDial(t, c, conf, host)
	h.send(map[string]any{"type": "join"})
	h.expect("joined")
	require.ElementsMatch(t, []string{alice.ID, bob.ID}, waitingIDs(h.expect("lobby", "tracks")))

	h.send(map[string]any{"type": "admit", "user_id": alice.ID})
	a.expect("admitted")
	require.Equal(t, "participant", a.expect("joined")["role"])
	// A participant cannot admit.
	a.send(map[string]any{"type": "admit", "user_id": bob.ID})
	a.expectError("not_host", "tracks")

	h.send(map[string]any{"type": "admit_all"})
	b.expect("admitted")
	b.expect("joined")

	// A removed participant is gone: told, disconnected, and the others learn it.
	h.send(map[string]any{"type": "remove", "user_id": bob.ID})
	b.expect("removed", "tracks", "participant_joined")
	b.waitClosed()
	left := a.expect("participant_left", "participant_joined", "tracks")
	require.Equal(t, bob.ID, left["user_id"])

	confRequireLive(t, c, conf, alice, 2)

	// Deleting the team removes its conferences (teams-svc tells conference-svc).
	c.do(t, http.MethodDelete, "/api/v1/teams/"+team, host.Access, nil).expect(t, http.StatusNoContent)
	a.expect("ended", "participant_joined", "participant_left", "tracks", "lobby")
	require.Eventually(t, func() bool {
		return c.do(t, http.MethodGet, "/api/v1/conferences/"+conf, host.Access, nil).Status == http.StatusNotFound
	}, 15*time.Second, 100*time.Millisecond)
}

// confTrack is a synthetic track a media participant publishes.
type confTrack struct {
	kind     webrtc.RTPCodecType
	streamID string
}

// confRecv is what a participant received on one forwarded track.
type confRecv struct {
	kind          string
	firstKeyframe time.Time
	packets       int
	seqs          map[uint16]bool
	first, last   uint16
}

// confMedia is a participant with real pion peer connections, negotiated through the
// gateway's signaling socket: a publisher connection it offers, a subscriber connection the
// SFU offers.
type confMedia struct {
	s        *confSocket
	pub, sub *webrtc.PeerConnection
	tracks   []confTrack
	stop     chan struct{}
	wg       sync.WaitGroup

	mu          sync.Mutex
	connectedAt time.Time
	recv        map[string]*confRecv
	labels      map[string]map[string]any
	pubReady    bool
	subReady    bool
	held        []map[string]any
}

// confRequireLive waits until the conference reads as live with participants in it.
func confRequireLive(t *testing.T, c *client, conf string, u *user, participants int) {
	t.Helper()
	var v struct {
		Conference struct {
			Status           string `json:"status"`
			ParticipantCount int    `json:"participant_count"`
		} `json:"conference"`
	}
	require.Eventually(t, func() bool {
		c.do(t, http.MethodGet, "/api/v1/conferences/"+conf, u.Access, nil).expect(t, http.StatusOK).json(t, &v)
		return v.Conference.Status == "live" && v.Conference.ParticipantCount == participants
	}, 10*time.Second, 50*time.Millisecond, "conference %s live with %d participants (last read: %+v)", conf, participants, v.Conference)
}

func confJoinMedia(t *testing.T, c *client, conf string, u *user, tracks ...confTrack) *confMedia {
	t.Helper()
	s := confDial(t, c, conf, u)
	return confStartMedia(t, s, tracks...)
}

// confStartMedia makes s, an open signaling socket, a media participant: it joins and
// publishes tracks.
func confStartMedia(t *testing.T, s *confSocket, tracks ...confTrack) *confMedia {
	t.Helper()
	me := &webrtc.MediaEngine{}
	require.NoError(t, me.RegisterDefaultCodecs())
	ir := &interceptor.Registry{}
	require.NoError(t, webrtc.RegisterDefaultInterceptors(me, ir))
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	pub, err := api.NewPeerConnection(webrtc.Configuration{})
	require.NoError(t, err)
	sub, err := api.NewPeerConnection(webrtc.Configuration{})
	require.NoError(t, err)
	m := &confMedia{
		s: s, pub: pub, sub: sub, tracks: tracks, stop: make(chan struct{}),
		recv: map[string]*confRecv{}, labels: map[string]map[string]any{},
	}
	// A connection's candidates wait until its description was sent.
	for _, pc := range []*webrtc.PeerConnection{pub, sub} {
		isPub := pc == pub
		pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
			if cand == nil {
				return
			}
			f := map[string]any{"type": "candidate", "candidate": cand.ToJSON()}
			m.mu.Lock()
			defer m.mu.Unlock()
			if (isPub && !m.pubReady) || (!isPub && !m.subReady) {
				m.held = append(m.held, f)
				return
			}
			_ = m.s.trySend(f)
		})
	}
	sub.OnTrack(m.onTrack)
	sub.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			m.mu.Lock()
			m.connectedAt = time.Now()
			m.mu.Unlock()
		}
	})
	m.wg.Add(1)
	go m.signal(t)
	m.s.send(map[string]any{"type": "join"})
	t.Cleanup(m.close)
	return m
}

// ready marks a connection's description as sent and releases its held candidates.
func (m *confMedia) ready(isPub bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if isPub {
		m.pubReady = true
	} else {
		m.subReady = true
	}
	keep := m.held[:0]
	for _, f := range m.held {
		if sub := m.isSubCandidate(f); (sub && m.subReady) || (!sub && m.pubReady) {
			_ = m.s.trySend(f)
			continue
		}
		keep = append(keep, f)
	}
	m.held = keep
}

// isSubCandidate tells a held candidate of the subscriber connection: its sdpMid is one of
// the SFU's section names.
func (m *confMedia) isSubCandidate(f map[string]any) bool {
	ci := f["candidate"].(webrtc.ICECandidateInit)
	return ci.SDPMid != nil && strings.HasPrefix(*ci.SDPMid, "sfu")
}

func (m *confMedia) signal(t *testing.T) {
	defer m.wg.Done()
	for f := range m.s.frames {
		switch f["type"] {
		case "joined":
			if len(m.tracks) > 0 {
				m.publish(t)
			}
		case "offer":
			if m.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: f["sdp"].(string)}) != nil {
				continue
			}
			answer, err := m.sub.CreateAnswer(nil)
			if err != nil || m.sub.SetLocalDescription(answer) != nil {
				continue
			}
			_ = m.s.trySend(map[string]any{"type": "answer", "sdp": answer.SDP})
			m.ready(false)
		case "answer":
			_ = m.pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: f["sdp"].(string)})
		case "candidate":
			raw, _ := json.Marshal(f["candidate"])
			var ci webrtc.ICECandidateInit
			if json.Unmarshal(raw, &ci) != nil {
				continue
			}
			pc := m.pub
			if ci.SDPMid != nil && strings.HasPrefix(*ci.SDPMid, "sfu") {
				pc = m.sub
			}
			_ = pc.AddICECandidate(ci)
		case "tracks":
			m.mu.Lock()
			m.labels = map[string]map[string]any{}
			for _, ti := range f["tracks"].([]any) {
				info := ti.(map[string]any)
				m.labels[info["stream_id"].(string)] = info
			}
			m.mu.Unlock()
		}
	}
}

func (m *confMedia) publish(t *testing.T) {
	for i, tr := range m.tracks {
		codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
		if tr.kind == webrtc.RTPCodecTypeVideo {
			codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
		}
		local, err := webrtc.NewTrackLocalStaticRTP(codec, "t"+string(rune('a'+i)), tr.streamID)
		require.NoError(t, err)
		tx, err := m.pub.AddTransceiverFromTrack(local, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		require.NoError(t, err)
		key := &atomic.Bool{}
		key.Store(true)
		m.wg.Add(2)
		go func() {
			defer m.wg.Done()
			for {
				pkts, _, err := tx.Sender().ReadRTCP()
				if err != nil {
					return
				}
				for _, p := range pkts {
					if _, ok := p.(*rtcp.PictureLossIndication); ok {
						key.Store(true)
					}
				}
			}
		}()
		go func() {
			defer m.wg.Done()
			confSend(local, tr.kind, key, m.stop)
		}()
	}
	offer, err := m.pub.CreateOffer(nil)
	require.NoError(t, err)
	require.NoError(t, m.pub.SetLocalDescription(offer))
	_ = m.s.trySend(map[string]any{"type": "offer", "sdp": offer.SDP})
	m.ready(true)
}

// confSend writes synthetic Opus (20 ms) or VP8 (30 fps, key frames on PLI) RTP until stop.
func confSend(track *webrtc.TrackLocalStaticRTP, kind webrtc.RTPCodecType, key *atomic.Bool, stop <-chan struct{}) {
	interval, step := 20*time.Millisecond, uint32(960)
	if kind == webrtc.RTPCodecTypeVideo {
		interval, step = time.Second/30, 3000
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
		seq++
		ts += step
		payload := make([]byte, 200)
		if kind == webrtc.RTPCodecTypeVideo {
			payload[0], payload[1] = 0x10, 0x11 // VP8: S=1, PID=0; inter frame
			if key.Swap(false) {
				payload[1] = 0x10 // key frame
			}
		}
		_ = track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Marker: true}, Payload: payload})
	}
}

func (m *confMedia) onTrack(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	id := track.StreamID()
	for {
		p, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		m.mu.Lock()
		r := m.recv[id]
		if r == nil {
			r = &confRecv{kind: track.Kind().String(), seqs: map[uint16]bool{}, first: p.SequenceNumber, last: p.SequenceNumber}
			m.recv[id] = r
		}
		r.packets++
		r.seqs[p.SequenceNumber] = true
		if int16(p.SequenceNumber-r.last) > 0 {
			r.last = p.SequenceNumber
		}
		if r.firstKeyframe.IsZero() && len(p.Payload) > 1 && p.Payload[0] == 0x10 && p.Payload[1] == 0x10 {
			r.firstKeyframe = time.Now()
		}
		m.mu.Unlock()
	}
}

// flowing counts the labelled tracks of userID that delivered at least n packets.
func (m *confMedia) flowing(userID string, n int) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	count := 0
	for stream, l := range m.labels {
		if r := m.recv[stream]; r != nil && l["user_id"] == userID && r.packets >= n {
			count++
		}
	}
	return count
}

func (m *confMedia) close() {
	select {
	case <-m.stop:
		return
	default:
	}
	close(m.stop)
	_ = m.pub.Close()
	_ = m.sub.Close()
	m.s.close()
	m.wg.Wait()
}

// TestConferenceMedia: three participants through the gateway's signaling publish audio and
// video (one also a screen); each receives the other two's tracks, labelled, with bytes
// flowing and continuous sequence numbers; the late joiner's first picture comes within a
// second of its connection; leaving renegotiates the others; nothing leaks.
func TestConferenceMedia(t *testing.T) {
	c := confStack(t)
	a, b, l := newUser(t, c), newUser(t, c), newUser(t, c)
	team := confTeam(t, c, a, b, l)
	conf := confCreate(t, c, team, a, false)
	leaks := goleak.IgnoreCurrent()

	mic := confTrack{webrtc.RTPCodecTypeAudio, "mic-x"}
	cam := confTrack{webrtc.RTPCodecTypeVideo, "camera-x"}
	scr := confTrack{webrtc.RTPCodecTypeVideo, "screen-x"}
	ma := confJoinMedia(t, c, conf, a, mic, cam)
	mb := confJoinMedia(t, c, conf, b, mic, cam, scr)
	require.Eventually(t, func() bool { return ma.flowing(b.ID, 5) == 3 && mb.flowing(a.ID, 5) == 2 },
		20*time.Second, 50*time.Millisecond)
	ml := confJoinMedia(t, c, conf, l, mic, cam)
	require.Eventually(t, func() bool {
		return ml.flowing(a.ID, 5) == 2 && ml.flowing(b.ID, 5) == 3 && ma.flowing(l.ID, 5) == 2 && mb.flowing(l.ID, 5) == 2
	}, 20*time.Second, 50*time.Millisecond)
	time.Sleep(time.Second)

	for name, m := range map[string]*confMedia{"a": ma, "b": mb, "late": ml} {
		m.mu.Lock()
		for stream, label := range m.labels {
			r := m.recv[stream]
			require.NotNil(t, r, "%s receives %s", name, stream)
			require.Equal(t, label["kind"], r.kind)
			holes := 0
			for s := r.first; s != r.last; s++ {
				if !r.seqs[s] {
					holes++
				}
			}
			require.Zero(t, holes, "%s: continuous sequence numbers on %s", name, stream)
			if name == "late" && r.kind == "video" {
				require.False(t, r.firstKeyframe.IsZero())
				require.Less(t, r.firstKeyframe.Sub(m.connectedAt), time.Second, "late joiner's first picture")
			}
			if label["user_id"] == b.ID && strings.HasPrefix(stream, "screen-") {
				require.Equal(t, "screen", label["source"])
			}
		}
		m.mu.Unlock()
	}
	screens := 0
	ma.mu.Lock()
	for _, label := range ma.labels {
		if label["source"] == "screen" && label["user_id"] == b.ID {
			screens++
		}
	}
	ma.mu.Unlock()
	require.Equal(t, 1, screens, "b's screen share is labelled screen")

	ml.s.send(map[string]any{"type": "leave"})
	ml.s.waitClosed()
	require.Eventually(t, func() bool { return ma.flowing(l.ID, 0) == 0 && mb.flowing(l.ID, 0) == 0 },
		10*time.Second, 50*time.Millisecond)
	for _, m := range []*confMedia{ml, ma, mb} {
		m.close()
	}
	goleak.VerifyNone(t, leaks,
		// The HTTP client's kept-alive connections to the gateway.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"))
}

// TestConferenceTwoInstances: with two conference-svc instances behind the gateway, everyone
// who joins a conference ends up in the same room, whichever instance their socket reached.
func TestConferenceTwoInstances(t *testing.T) {
	st := startStack(t, stack.Options{
		Services:  []string{"users-svc", "teams-svc", "conference-svc"},
		Instances: map[string]int{"conference-svc": 2},
		ServiceEnv: map[string]map[string]string{
			"gateway":   {"AUTH_RATE_LIMIT": "100000", "AUTH_RATE_BURST": "100000"},
			"teams-svc": {"TEAMS_WRITES_PER_MINUTE": "100000"},
		},
	})
	c := newClient(st)
	host := newUser(t, c)
	others := []*user{newUser(t, c), newUser(t, c), newUser(t, c)}
	team := confTeam(t, c, host, others...)
	conf := confCreate(t, c, team, host, false)

	h := confDial(t, c, conf, host)
	h.send(map[string]any{"type": "join"})
	h.expect("joined")
	for i, u := range others {
		s := confDial(t, c, conf, u)
		s.send(map[string]any{"type": "join"})
		joined := s.expect("joined")
		require.Len(t, joined["participants"], i+2, "%s is in the host's room", u.Username)
		require.Equal(t, u.ID, h.expect("participant_joined", "tracks", "lobby")["participant"].(map[string]any)["user_id"])
	}
}

// TestConferenceReconnectAndTURN: with the embedded TURN server on, "joined" hands each
// user a TURN REST API credential of their own; an admitted participant whose socket drops
// and who reconnects within RECONNECT_GRACE is joined at once with the same role, and the
// host sees nobody leave or arrive.
func TestConferenceReconnectAndTURN(t *testing.T) {
	const turnSecret = "e2e-turn-secret-0123456789"
	udpAddr, tcpAddr := freeUDPAddr(t), testkit.FreeAddr(t)
	st := startStack(t, stack.Options{
		Services: []string{"users-svc", "teams-svc", "conference-svc"},
		ServiceEnv: map[string]map[string]string{
			"gateway":   {"AUTH_RATE_LIMIT": "100000", "AUTH_RATE_BURST": "100000"},
			"teams-svc": {"TEAMS_WRITES_PER_MINUTE": "100000"},
			"conference-svc": {
				"TURN_ENABLED": "true", "TURN_UDP_ADDR": udpAddr, "TURN_TCP_ADDR": tcpAddr,
				"TURN_SECRET": turnSecret, "TURN_CREDENTIAL_TTL": "1h", "RECONNECT_GRACE": "20s",
			},
		},
	})
	c := newClient(st)
	host, guest := newUser(t, c), newUser(t, c)
	team := confTeam(t, c, host, guest)
	conf := confCreate(t, c, team, host, true)

	h := confDial(t, c, conf, host)
	h.send(map[string]any{"type": "join"})
	h.expect("joined")
	g := confDial(t, c, conf, guest)
	g.send(map[string]any{"type": "join"})
	g.expect("waiting")
	h.send(map[string]any{"type": "admit", "user_id": guest.ID})
	g.expect("admitted")
	joined := g.expect("joined")
	require.Equal(t, "participant", joined["role"])
	requireTURNCredential(t, joined, guest.ID, turnSecret, "turn:"+udpAddr+"?transport=udp", "turn:"+tcpAddr+"?transport=tcp")
	require.Equal(t, guest.ID, h.expect("participant_joined", "tracks", "lobby")["participant"].(map[string]any)["user_id"])

	// The guest's connection drops (no close frame, no "leave") and comes back.
	g.close()
	g = confDial(t, c, conf, guest)
	g.send(map[string]any{"type": "join"})
	again := g.expect("joined")
	require.Equal(t, "participant", again["role"], "same role, no second lobby pass")
	require.Len(t, again["participants"], 2)
	requireTURNCredential(t, again, guest.ID, turnSecret, "turn:"+udpAddr+"?transport=udp", "turn:"+tcpAddr+"?transport=tcp")

	// The host saw no one leave or arrive: the next thing it hears of the guest (apart
	// from its tracks) is the host's own promotion of them.
	h.send(map[string]any{"type": "set_role", "user_id": guest.ID, "role": "host"})
	require.Equal(t, guest.ID, h.expect("role_changed", "tracks", "lobby")["user_id"])
	g.expect("role_changed", "tracks")
	g.send(map[string]any{"type": "leave"})
	g.waitClosed()
	require.Equal(t, guest.ID, h.expect("participant_left", "tracks", "lobby")["user_id"])
}

// requireTURNCredential checks the embedded TURN server's entry of a "joined" frame: its
// URLs, and a credential by the TURN REST API scheme for user.
func requireTURNCredential(t *testing.T, joined map[string]any, user, secret string, urls ...string) {
	t.Helper()
	servers := joined["ice_servers"].([]any)
	require.Len(t, servers, 1)
	srv := servers[0].(map[string]any)
	require.ElementsMatch(t, urls, srv["urls"])
	username, credential := srv["username"].(string), srv["credential"].(string)
	expiry, owner, ok := strings.Cut(username, ":")
	require.True(t, ok, "username is <expiry>:<user_id>: %q", username)
	require.Equal(t, user, owner)
	at, err := strconv.ParseInt(expiry, 10, 64)
	require.NoError(t, err)
	require.InDelta(t, time.Now().Add(time.Hour).Unix(), at, 60, "expires after TURN_CREDENTIAL_TTL")
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	require.Equal(t, base64.StdEncoding.EncodeToString(mac.Sum(nil)), credential)
}

// freeUDPAddr returns a loopback UDP address nothing listens on now.
func freeUDPAddr(t *testing.T) string {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer conn.Close()
	return conn.LocalAddr().String()
}
