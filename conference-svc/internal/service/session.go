package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"
	"golang.org/x/time/rate"

	"github.com/convene/convene/conference-svc/internal/domain"
	"github.com/convene/convene/conference-svc/internal/rtc"
	"github.com/convene/convene/conference-svc/internal/sfu"
)

// inFrame is every field a client frame may carry; Type says which ones count.
type inFrame struct {
	Type      string          `json:"type"`
	UserID    string          `json:"user_id"`
	Role      string          `json:"role"`
	SDP       string          `json:"sdp"`
	Candidate json.RawMessage `json:"candidate"`
	TrackID   string          `json:"track_id"`
	Width     *int            `json:"width"`
	Height    *int            `json:"height"`
}

type sessionParams struct {
	sig      *Signaling
	conn     *websocket.Conn
	room     *rtc.Room
	confID   string
	identity rtc.Identity
	log      *slog.Logger
}

// session is one signaling socket: the rtc.Session of its participant, and the owner of
// the participant's sfu.Peer. The reader (the HTTP handler's goroutine) handles frames in
// order; the writer goroutine alone writes to the socket.
type session struct {
	sessionParams
	out     chan []byte
	closed  chan struct{}
	once    sync.Once
	limiter *rate.Limiter

	mu          sync.Mutex
	participant *rtc.Participant
	peer        *sfu.Peer
}

func newSession(p sessionParams) *session {
	return &session{
		sessionParams: p,
		out:           make(chan []byte, sendQueue),
		closed:        make(chan struct{}),
		limiter:       rate.NewLimiter(rate.Limit(p.sig.framesPerSecond), p.sig.frameBurst),
	}
}

// run serves the socket until it closes, then closes the participant's media and takes
// them out of the room: at once when they left (or the server closed the socket), after
// the reconnect grace when the connection dropped.
func (s *session) run() {
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		s.write()
	}()
	dropped := s.read()
	s.Close()
	<-writerDone
	if p := s.getParticipant(); p != nil {
		if dropped {
			s.room.Disconnect(p)
		} else {
			s.room.Leave(p)
		}
	}
	if peer := s.getPeer(); peer != nil {
		peer.Close()
	}
}

// read handles frames until the socket ends. It reports whether the connection dropped
// (the network, or the client going away without "leave"), as opposed to the client
// leaving, breaking the protocol (an oversized frame) or the server closing it.
func (s *session) read() (dropped bool) {
	s.conn.SetReadLimit(maxFrame)
	_ = s.conn.SetReadDeadline(time.Now().Add(pongWait))
	s.conn.SetPongHandler(func(string) error { return s.conn.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		typ, data, err := s.conn.ReadMessage()
		if err != nil {
			return !errors.Is(err, websocket.ErrReadLimit) && !s.isClosed()
		}
		_ = s.conn.SetReadDeadline(time.Now().Add(pongWait))
		if typ != websocket.TextMessage {
			s.sendError("invalid_frame", "frames are JSON text")
			continue
		}
		if !s.limiter.Allow() {
			s.sendError("rate_limited", "too many frames; slow down")
			continue
		}
		var f inFrame
		if err := json.Unmarshal(data, &f); err != nil {
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) {
				s.sendError("invalid_field", "field "+typeErr.Field+" has the wrong type")
			} else {
				s.sendError("invalid_json", "a frame must be a JSON object")
			}
			continue
		}
		if !s.handle(f) {
			return false
		}
	}
}

// handle runs one frame; false means the session is over.
func (s *session) handle(f inFrame) bool {
	switch f.Type {
	case "join":
		p, err := s.room.Join(s, s.identity)
		if err != nil {
			s.fail(err)
			return !errors.Is(err, rtc.ErrRoomClosed)
		}
		s.mu.Lock()
		s.participant = p
		s.mu.Unlock()
	case "leave":
		if p := s.getParticipant(); p != nil {
			s.room.Leave(p)
		}
		return false
	case "admit", "deny", "remove", "set_role":
		s.moderate(f)
	case "admit_all":
		s.withParticipant(func(p *rtc.Participant) error { return s.room.AdmitAll(p) })
	case "end":
		s.withParticipant(func(p *rtc.Participant) error { return s.room.End(p) })
	case "offer", "answer", "candidate", "view", "ice_restart":
		s.media(f)
	case "":
		s.sendError("type_required", "a frame needs a type")
	default:
		s.sendError("unknown_type", "unknown frame type")
	}
	return true
}

// moderate runs a host's action on another user.
func (s *session) moderate(f inFrame) {
	if f.UserID == "" {
		s.sendError("user_id_required", "user_id is required")
		return
	}
	s.withParticipant(func(p *rtc.Participant) error {
		switch f.Type {
		case "admit":
			return s.room.Admit(p, f.UserID)
		case "deny":
			return s.room.Deny(p, f.UserID)
		case "remove":
			return s.room.Remove(p, f.UserID)
		}
		role, err := rtc.ParseRole(f.Role)
		if err != nil {
			return err
		}
		if err := s.room.SetRole(p, f.UserID, role); err != nil {
			return err
		}
		// The room applied it; record it so that it holds for the REST API and the
		// user's next visit.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return s.sig.app.SetRole(ctx, s.confID, s.identity.UserID, f.UserID, domain.Role(role))
	})
}

func (s *session) withParticipant(fn func(*rtc.Participant) error) {
	p := s.getParticipant()
	if p == nil {
		s.sendError("not_joined", "send join first")
		return
	}
	if err := fn(p); err != nil {
		s.fail(err)
	}
}

// media relays the client's negotiation to its peer. Only admitted participants have one.
func (s *session) media(f inFrame) {
	p := s.getParticipant()
	if p == nil {
		s.sendError("not_joined", "send join first")
		return
	}
	peer := s.getPeer()
	if peer == nil || !s.room.Joined(p) {
		s.sendError("not_admitted", "media starts once you are admitted")
		return
	}
	var err error
	switch f.Type {
	case "offer", "answer":
		if f.SDP == "" {
			s.sendError("sdp_required", "sdp is required")
			return
		}
		if f.Type == "offer" {
			err = peer.Offer(f.SDP)
		} else {
			err = peer.Answer(f.SDP)
		}
	case "candidate":
		var c webrtc.ICECandidateInit
		if c, err = parseCandidate(f.Candidate); err == nil {
			err = peer.Candidate(c)
		}
	case "view":
		if f.TrackID == "" || f.Width == nil || f.Height == nil ||
			*f.Width < 0 || *f.Height < 0 || *f.Width > maxViewSize || *f.Height > maxViewSize {
			s.sendError("invalid_view", "view needs track_id, and width and height between 0 and 16384")
			return
		}
		peer.SetView(f.TrackID, *f.Width, *f.Height)
	case "ice_restart":
		peer.RestartICE()
	}
	if err != nil {
		s.fail(err)
	}
}

var errCandidateRequired = errors.New("candidate is required")

// parseCandidate accepts the browser's RTCIceCandidateInit object ({candidate, sdpMid,
// sdpMLineIndex, usernameFragment}) or the bare candidate string.
func parseCandidate(raw json.RawMessage) (webrtc.ICECandidateInit, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return webrtc.ICECandidateInit{}, errCandidateRequired
	}
	var c webrtc.ICECandidateInit
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &c.Candidate); err != nil {
			return c, sfu.ErrInvalidCandidate
		}
		return c, nil
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, sfu.ErrInvalidCandidate
	}
	return c, nil
}

// Send implements rtc.Session.
func (s *session) Send(m rtc.Message) {
	b, err := rtc.Encode(m)
	if err != nil {
		s.log.Error("encode frame", "type", rtc.Type(m), "err", err)
		return
	}
	s.enqueue(b)
}

// StartMedia implements rtc.Session: the participant was admitted.
func (s *session) StartMedia() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.peer != nil {
		return
	}
	peer, err := sfu.NewPeer(sfu.PeerParams{
		Engine:      s.sig.engine,
		OnOffer:     func(sdp string) { s.sendJSON(sdpFrame{Type: "offer", SDP: sdp}) },
		OnAnswer:    func(sdp string) { s.sendJSON(sdpFrame{Type: "answer", SDP: sdp}) },
		OnCandidate: func(c webrtc.ICECandidateInit) { s.sendJSON(candidateFrame{Type: "candidate", Candidate: c}) },
		OnTrack:     s.published,
		OnLayers:    s.layers,
		OnError:     s.fail,
		OnFailed: func() {
			s.sendError("media_failed", "the media connection failed")
			s.Close()
		},
		Log: s.log,
	})
	if err != nil {
		s.log.Error("peer connection", "err", err)
		s.sendError("media_unavailable", "media could not start")
		s.Close()
		return
	}
	s.peer = peer
}

// Subscribe implements rtc.Session.
func (s *session) Subscribe(t rtc.PublishedTrack) {
	pt, ok := t.(*publishedTrack)
	peer := s.getPeer()
	if !ok || peer == nil {
		return
	}
	info := pt.Info()
	peer.Subscribe(pt.recv, info.TrackID, info.StreamID)
}

// Unsubscribe implements rtc.Session.
func (s *session) Unsubscribe(trackID string) {
	if peer := s.getPeer(); peer != nil {
		peer.Unsubscribe(trackID)
	}
}

// isClosed reports whether the server closed the session.
func (s *session) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// Close implements rtc.Session: the writer flushes what is queued (a "removed" or
// "ended" frame), closes the socket, and the reader then cleans up.
func (s *session) Close() { s.once.Do(func() { close(s.closed) }) }

// publishedTrack is a track the participant sends, as the room sees it.
type publishedTrack struct {
	info rtc.TrackInfo
	recv *sfu.Receiver
}

func (t *publishedTrack) Info() rtc.TrackInfo { return t.info }

// Loudness implements rtc.Loud.
func (t *publishedTrack) Loudness() float64 { return t.recv.Loudness() }

// published adds a track the client started sending to the room, labelled with the
// source its stream id declares, and takes it out when the client stops sending it.
func (s *session) published(recv *sfu.Receiver) {
	p := s.getParticipant()
	if p == nil {
		return
	}
	source := sourceOf(recv.StreamID(), recv.Kind())
	id := uuid.NewString()
	t := &publishedTrack{recv: recv, info: rtc.TrackInfo{
		TrackID:  id,
		StreamID: source + "-" + id,
		UserID:   s.identity.UserID,
		Kind:     recv.Kind().String(),
		Source:   source,
	}}
	if err := s.room.Publish(p, t); err != nil {
		return
	}
	<-recv.Done()
	_ = s.room.Unpublish(p, id)
}

// layersFrame asks the publisher to send only the active layers of one of its simulcast
// tracks: {"type":"layers","track_id","mid","active":["q","h"]}. track_id is the client's
// own id of the track (its MediaStreamTrack id, the msid of its offer) and mid the media
// section it is sent in. An addition to API.md's server → client frames; a client that
// ignores it keeps working, at the cost of uplink for layers nobody receives.
type layersFrame struct {
	Type    string   `json:"type"`
	TrackID string   `json:"track_id"`
	Mid     string   `json:"mid"`
	Active  []string `json:"active"`
}

func (s *session) layers(trackID, mid string, active []string) {
	s.sendJSON(layersFrame{Type: "layers", TrackID: trackID, Mid: mid, Active: active})
}

type sdpFrame struct {
	Type string `json:"type"`
	SDP  string `json:"sdp"`
}

type candidateFrame struct {
	Type      string                  `json:"type"`
	Candidate webrtc.ICECandidateInit `json:"candidate"`
}

type errorFrame struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (s *session) fail(err error) {
	s.log.Debug("signaling error", "err", err)
	code := errorCode(err)
	msg := err.Error()
	if errors.Is(err, errCandidateRequired) {
		code = "candidate_required"
	}
	if code == "internal" {
		s.log.Error("signaling", "err", err)
		msg = "internal error"
	}
	s.sendError(code, msg)
}

func (s *session) sendError(code, message string) {
	s.sendJSON(errorFrame{Type: "error", Code: code, Message: message})
}

func (s *session) sendJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("encode frame", "err", err)
		return
	}
	s.enqueue(b)
}

// enqueue never blocks: a client that does not read its frames is disconnected rather
// than stalling the room.
func (s *session) enqueue(b []byte) {
	select {
	case <-s.closed:
		return
	default:
	}
	select {
	case s.out <- b:
	default:
		s.log.Warn("signaling client too slow; disconnecting")
		s.Close()
	}
}

func (s *session) write() {
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	defer s.conn.Close()
	for {
		select {
		case b := <-s.out:
			if !s.writeFrame(b) {
				s.Close()
				return
			}
		case <-ping.C:
			if err := s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				s.Close()
				return
			}
		case <-s.closed:
			// Deliver what was queued before the close (removed, ended, an error).
			for {
				select {
				case b := <-s.out:
					if !s.writeFrame(b) {
						return
					}
				default:
					_ = s.conn.WriteControl(websocket.CloseMessage,
						websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(writeWait))
					return
				}
			}
		}
	}
}

func (s *session) writeFrame(b []byte) bool {
	_ = s.conn.SetWriteDeadline(time.Now().Add(writeWait))
	return s.conn.WriteMessage(websocket.TextMessage, b) == nil
}

func (s *session) getParticipant() *rtc.Participant {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.participant
}

func (s *session) getPeer() *sfu.Peer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peer
}
