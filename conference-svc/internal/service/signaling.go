package service

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/convene/convene/conference-svc/internal/app"
	"github.com/convene/convene/conference-svc/internal/domain"
	"github.com/convene/convene/conference-svc/internal/ports"
	"github.com/convene/convene/conference-svc/internal/rtc"
	"github.com/convene/convene/conference-svc/internal/sfu"
	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/httpx"
)

const (
	// maxFrame bounds one signaling frame; an SDP offer with a dozen media sections is
	// about 15 KiB.
	maxFrame = 64 << 10
	// sendQueue bounds the frames waiting for a slow client before it is disconnected.
	sendQueue = 256
	writeWait = 10 * time.Second
	pongWait  = 60 * time.Second
	pingEvery = 25 * time.Second
	// maxViewSize bounds the width and height a client may declare for a video.
	maxViewSize = 16384
)

// Signaling serves the conference WebSocket of API.md: it authorizes the user before the
// upgrade, then relays frames between the client, its room (rtc) and its peer (sfu).
type Signaling struct {
	app             *app.App
	rooms           *Rooms
	placement       *Placement
	engine          *sfu.Engine
	log             *slog.Logger
	framesPerSecond int
	frameBurst      int
	upgrader        websocket.Upgrader
	// sessions lets shutdown wait for every socket to finish.
	sessions sync.WaitGroup
}

// SignalingParams builds the signaling endpoint.
type SignalingParams struct {
	App             *app.App
	Rooms           *Rooms
	Placement       *Placement
	Engine          *sfu.Engine
	Log             *slog.Logger
	FramesPerSecond int
	FrameBurst      int
}

// NewSignaling returns the WebSocket endpoint.
func NewSignaling(p SignalingParams) *Signaling {
	return &Signaling{
		app: p.App, rooms: p.Rooms, placement: p.Placement, engine: p.Engine, log: p.Log,
		framesPerSecond: p.FramesPerSecond, frameBurst: p.FrameBurst,
		upgrader: websocket.Upgrader{
			ReadBufferSize:  4096,
			WriteBufferSize: 4096,
			// The gateway is the only public entry and authenticates with a bearer token
			// in the query, never a cookie, so a cross-site page cannot ride a user's
			// session: the origin check adds nothing here.
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}
}

// Register adds the WebSocket route to an authenticated group.
func (s *Signaling) Register(r gin.IRoutes) {
	r.GET("/api/v1/conferences/:conf_id/ws", s.serve)
}

// Wait blocks until every socket has finished.
func (s *Signaling) Wait() { s.sessions.Wait() }

func (s *Signaling) serve(c *gin.Context) {
	ctx := c.Request.Context()
	id, _ := authn.FromContext(ctx)
	// Everything that can refuse the user is checked before the upgrade, so that the
	// refusal is a plain HTTP status.
	v, err := s.app.JoinConference(ctx, c.Param("conf_id"), id.UserID)
	if err != nil {
		httpx.Abort(c, ports.HTTPError(err))
		return
	}
	if !websocket.IsWebSocketUpgrade(c.Request) {
		httpx.Abort(c, httpx.BadRequest("websocket_required", "this endpoint takes a WebSocket upgrade"))
		return
	}
	// The owner check is the truth even for a request the gateway re-sent here after a 421:
	// if the room moved meanwhile, this answers 421 again rather than open a second room.
	owner, local, err := s.placement.Owner(ctx, v.Conference.ID)
	switch {
	case err != nil:
		// Without Redis no instance can know where the room is; serving here keeps
		// the conference usable, at the risk of a second room elsewhere.
		s.log.Warn("room placement unavailable; serving locally", "conference_id", v.Conference.ID, "err", err)
	case !local:
		s.placement.Redirect(c, owner)
		return
	}
	room, err := s.rooms.Get(v.Conference)
	if err != nil {
		httpx.Abort(c, ports.HTTPError(domain.ErrEnded))
		return
	}
	conn, err := s.upgrader.Upgrade(c.Writer, c.Request, nil)
	if err != nil {
		return // the upgrader has answered
	}
	s.sessions.Add(1)
	defer s.sessions.Done()
	role := rtc.RoleParticipant
	if v.Role == domain.RoleHost {
		role = rtc.RoleHost
	}
	sess := newSession(sessionParams{
		sig:      s,
		conn:     conn,
		room:     room,
		confID:   v.Conference.ID,
		identity: rtc.Identity{UserID: id.UserID, Username: id.Username, Role: role},
		log:      s.log.With("conference_id", v.Conference.ID, "user_id", id.UserID),
	})
	sess.run()
}

// errorCodes maps the room's and the media layer's sentinels to error frame codes.
var errorCodes = []struct {
	err  error
	code string
}{
	{rtc.ErrRoomClosed, "conference_ended"},
	{rtc.ErrAlreadyJoined, "already_joined"},
	{rtc.ErrNotJoined, "not_joined"},
	{rtc.ErrNotHost, "not_host"},
	{rtc.ErrNotWaiting, "not_waiting"},
	{rtc.ErrNotInRoom, "not_in_room"},
	{rtc.ErrInvalidRole, "invalid_role"},
	{rtc.ErrLastHost, "last_host"},
	{rtc.ErrSelf, "cannot_remove_self"},
	{sfu.ErrInvalidSDP, "invalid_sdp"},
	{sfu.ErrUnexpectedAnswer, "unexpected_answer"},
	{sfu.ErrInvalidCandidate, "invalid_candidate"},
	{sfu.ErrUnexpectedCandidate, "unexpected_candidate"},
	{sfu.ErrUnknownTrack, "unknown_track"},
	{sfu.ErrPeerBusy, "overloaded"},
	{domain.ErrNotHost, "not_host"},
	{domain.ErrNotFound, "not_found"},
	{domain.ErrNotMember, "not_found"},
	{domain.ErrUnavailable, "unavailable"},
}

func errorCode(err error) string {
	for _, e := range errorCodes {
		if errors.Is(err, e.err) {
			return e.code
		}
	}
	return "internal"
}

// Track sources a client declares through the stream id of what it publishes.
const (
	SourceMic    = "mic"
	SourceCamera = "camera"
	SourceScreen = "screen"
)

// sourceOf reads a published track's source from its stream id: "screen", "camera" or
// "mic", alone or followed by one of ':', '-', '_', '.' and anything (e.g. "screen-3f2a").
// A stream id that names no source, or a source that does not fit the kind, falls back to
// the kind's default: mic for audio, camera for video. Screen may carry either kind (a
// shared tab's sound).
func sourceOf(streamID string, kind webrtc.RTPCodecType) string {
	s := strings.ToLower(streamID)
	for _, src := range []string{SourceScreen, SourceCamera, SourceMic} {
		rest, ok := strings.CutPrefix(s, src)
		if !ok || (rest != "" && !strings.ContainsRune(":-_.", rune(rest[0]))) {
			continue
		}
		switch {
		case src == SourceScreen,
			src == SourceCamera && kind == webrtc.RTPCodecTypeVideo,
			src == SourceMic && kind == webrtc.RTPCodecTypeAudio:
			return src
		}
	}
	if kind == webrtc.RTPCodecTypeAudio {
		return SourceMic
	}
	return SourceCamera
}
