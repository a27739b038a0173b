package service

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/require"
)

func TestSocketRefusedBeforeUpgrade(t *testing.T) {
	h := startService(t, harnessOptions{})
	host, outsider := newID(), newID()
	team := h.teams.team(host)
	conf := h.createConference(t, team, host, true)

	cases := []struct {
		name   string
		conf   string
		user   string
		status int
	}{
		{"no identity", conf, "", http.StatusUnauthorized},
		{"outsider", conf, outsider, http.StatusNotFound},
		{"malformed id", "nope", host, http.StatusNotFound},
		{"unknown conference", newID(), host, http.StatusNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, resp, err := h.tryDial(tc.conf, tc.user)
			require.ErrorIs(t, err, websocket.ErrBadHandshake)
			defer resp.Body.Close()
			require.Equal(t, tc.status, resp.StatusCode)
		})
	}
	r := h.do(t, http.MethodGet, "/api/v1/conferences/"+conf+"/ws", host, nil)
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Equal(t, "websocket_required", r.code(t))
}

func TestLobbyRules(t *testing.T) {
	h := startService(t, harnessOptions{})
	host, alice, bob, carol := newID(), newID(), newID(), newID()
	team := h.teams.team(host, alice, bob, carol)
	conf := h.createConference(t, team, host, true)

	hostWS := h.dial(t, conf, host)
	hostWS.send(map[string]string{"type": "join"})
	j := hostWS.expect("joined")
	require.Equal(t, "host", j.Role)
	hostWS.expect("tracks")
	require.Empty(t, hostWS.expect("lobby").Waiting)

	a := h.dial(t, conf, alice)
	a.send(map[string]string{"type": "join"})
	a.expect("waiting")
	require.Equal(t, alice, hostWS.expect("lobby").Waiting[0].UserID)

	// A waiting user has no media: an offer is refused and nothing is offered to them.
	a.send(map[string]string{"type": "offer", "sdp": "v=0"})
	a.expectError("not_admitted")
	a.send(map[string]any{"type": "admit", "user_id": alice})
	a.expectError("not_joined")

	b := h.dial(t, conf, bob)
	b.send(map[string]string{"type": "join"})
	b.expect("waiting")
	require.Len(t, hostWS.expect("lobby").Waiting, 2)

	// Deny: told so, and may ask again.
	hostWS.send(map[string]any{"type": "deny", "user_id": bob})
	b.expect("denied")
	require.Len(t, hostWS.expect("lobby").Waiting, 1)
	b.send(map[string]string{"type": "join"})
	b.expect("waiting")
	require.Len(t, hostWS.expect("lobby").Waiting, 2)

	// The host reconnects: the lobby is as it was.
	hostWS.close()
	hostWS = h.dial(t, conf, host)
	hostWS.send(map[string]string{"type": "join"})
	hostWS.expect("joined")
	hostWS.expect("tracks")
	require.Len(t, hostWS.expect("lobby").Waiting, 2)

	hostWS.send(map[string]any{"type": "admit", "user_id": alice})
	a.expect("admitted")
	joined := a.expect("joined")
	require.Equal(t, "participant", joined.Role)
	require.Len(t, joined.Participants, 2)
	a.expect("tracks")
	require.Equal(t, alice, hostWS.expect("participant_joined", "lobby").Participant.UserID)

	// A participant cannot admit, deny, promote, remove or end.
	for _, f := range []map[string]any{
		{"type": "admit", "user_id": bob}, {"type": "deny", "user_id": bob}, {"type": "admit_all"},
		{"type": "set_role", "user_id": alice, "role": "host"}, {"type": "remove", "user_id": host}, {"type": "end"},
	} {
		a.send(f)
		a.expectError("not_host")
	}

	hostWS.send(map[string]any{"type": "admit_all"})
	b.expect("admitted")
	b.expect("joined")
	require.Eventually(t, func() bool {
		c := h.conference(t, conf, host).Conference
		return c.Status == "live" && c.ParticipantCount == 3
	}, 5*time.Second, 20*time.Millisecond)

	// Promote alice: she may now moderate, and the role holds for the REST API.
	hostWS.send(map[string]any{"type": "set_role", "user_id": alice, "role": "host"})
	require.Equal(t, "host", a.expect("role_changed", "participant_joined", "tracks").Role)
	a.expect("lobby")
	require.Eventually(t, func() bool { return h.conference(t, conf, alice).Role == "host" }, 5*time.Second, 20*time.Millisecond)

	// Remove bob: he is told, his socket closes, the others learn he left.
	a.send(map[string]any{"type": "remove", "user_id": bob})
	b.expect("removed", "participant_joined", "tracks", "role_changed")
	b.waitClosed()
	require.Equal(t, bob, hostWS.expect("participant_left", "participant_joined", "tracks", "role_changed", "lobby").UserID)
	require.Eventually(t, func() bool { return h.conference(t, conf, host).Conference.ParticipantCount == 2 },
		5*time.Second, 20*time.Millisecond)

	// Coming back, bob waits for a host again.
	b = h.dial(t, conf, bob)
	b.send(map[string]string{"type": "join"})
	b.expect("waiting")

	// The host ends the conference: everyone is told, and it cannot be joined again.
	hostWS.send(map[string]string{"type": "end"})
	for _, c := range []*wsClient{hostWS, a, b} {
		c.expect("ended", "participant_joined", "participant_left", "tracks", "role_changed", "lobby")
		c.waitClosed()
	}
	require.Eventually(t, func() bool { return h.conference(t, conf, host).Conference.Status == "ended" },
		5*time.Second, 20*time.Millisecond)
	_, resp, err := h.tryDial(conf, carol)
	require.Error(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusConflict, resp.StatusCode)
}

func TestWaitingRoomOffAndEmptyRoomEnds(t *testing.T) {
	h := startService(t, harnessOptions{emptyTimeout: 300 * time.Millisecond})
	host, alice := newID(), newID()
	team := h.teams.team(host, alice)
	conf := h.createConference(t, team, host, false)

	a := h.dial(t, conf, alice)
	a.send(map[string]string{"type": "join"})
	a.expect("joined")
	require.Eventually(t, func() bool { return h.conference(t, conf, host).Conference.Status == "live" },
		5*time.Second, 20*time.Millisecond)
	a.send(map[string]string{"type": "leave"})
	a.waitClosed()
	require.Eventually(t, func() bool { return h.conference(t, conf, host).Conference.Status == "ended" },
		5*time.Second, 20*time.Millisecond)
	require.Zero(t, h.conference(t, conf, host).Conference.ParticipantCount)
}

func TestBadInputOnTheSocket(t *testing.T) {
	h := startService(t, harnessOptions{})
	host, alice := newID(), newID()
	team := h.teams.team(host, alice)
	conf := h.createConference(t, team, host, false)

	hostWS := h.dial(t, conf, host)
	a := h.dial(t, conf, alice)
	a.send(map[string]string{"type": "offer", "sdp": "v=0"})
	a.expectError("not_joined")
	hostWS.send(map[string]string{"type": "join"})
	hostWS.expect("joined")
	a.send(map[string]string{"type": "join"})
	a.expect("joined")
	a.expect("tracks")

	cases := []struct {
		name  string
		frame any
		code  string
	}{
		{"unknown type", map[string]string{"type": "dance"}, "unknown_type"},
		{"no type", map[string]string{"sdp": "x"}, "type_required"},
		{"malformed json", `{"type":`, "invalid_json"},
		{"wrong field type", `{"type":"admit","user_id":7}`, "invalid_field"},
		{"join twice", map[string]string{"type": "join"}, "already_joined"},
		{"malformed sdp", map[string]string{"type": "offer", "sdp": "this is not sdp"}, "invalid_sdp"},
		{"empty sdp", map[string]string{"type": "offer"}, "sdp_required"},
		{"answer without offer", map[string]string{"type": "answer", "sdp": minimalSDP}, "unexpected_answer"},
		{"candidate for nothing", map[string]any{"type": "candidate", "candidate": map[string]any{
			"candidate": "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host", "sdpMid": "0"}}, "unexpected_candidate"},
		{"malformed candidate", map[string]any{"type": "candidate", "candidate": "candidate:garbage"}, "invalid_candidate"},
		{"missing candidate", map[string]any{"type": "candidate"}, "candidate_required"},
		{"view of nothing", map[string]any{"type": "view", "track_id": "nope", "width": 10, "height": 10}, "unknown_track"},
		{"view without size", map[string]any{"type": "view", "track_id": "nope"}, "invalid_view"},
		{"admit nobody", map[string]any{"type": "admit"}, "user_id_required"},
		{"unknown role", map[string]any{"type": "set_role", "user_id": host, "role": "king"}, "invalid_role"},
		{"promote as participant", map[string]any{"type": "set_role", "user_id": alice, "role": "host"}, "not_host"},
	}
	// One socket answers every case in turn (the client's t, not a subtest's).
	for _, tc := range cases {
		a.send(tc.frame)
		f := a.expect("error")
		require.Equal(t, tc.code, f.Code, tc.name)
	}
	hostWS.send(map[string]any{"type": "remove", "user_id": host})
	hostWS.expectError("cannot_remove_self", "participant_joined", "tracks", "lobby")

	// The room is unaffected: both are still in it.
	require.Eventually(t, func() bool { return h.conference(t, conf, host).Conference.ParticipantCount == 2 },
		5*time.Second, 20*time.Millisecond)
	hostWS.quiet(200*time.Millisecond, "participant_joined")

	// Flooding the socket is refused frame by frame, and the room stays.
	for range 150 {
		a.send(map[string]string{"type": "dance"})
	}
	limited := 0
	for range 150 {
		f := a.expect("error")
		if f.Code == "rate_limited" {
			limited++
		}
	}
	require.Positive(t, limited)

	// An oversized frame closes that socket only; the others are told the user left.
	big := `{"type":"offer","sdp":"` + strings.Repeat("a", maxFrame) + `"}`
	_ = a.conn.WriteMessage(websocket.TextMessage, []byte(big))
	a.waitClosed()
	require.Equal(t, alice, hostWS.expect("participant_left").UserID)
}

// minimalSDP parses as SDP but describes nothing usable.
const minimalSDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"

func TestSourceOfStreamID(t *testing.T) {
	audio, video := webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo
	cases := []struct {
		stream string
		kind   webrtc.RTPCodecType
		want   string
	}{
		{"screen-3f2a", video, "screen"},
		{"screen:abc", audio, "screen"},
		{"SCREEN", video, "screen"},
		{"camera_1", video, "camera"},
		{"mic.x", audio, "mic"},
		{"camera-1", audio, "mic"},
		{"mic-1", video, "camera"},
		{"screenshot", video, "camera"},
		{"5e0c0f0a-uuid", video, "camera"},
		{"", audio, "mic"},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, sourceOf(tc.stream, tc.kind), tc.stream)
	}
}

// TestRoomStaysOnOneInstance: participants who reach different instances meet in one room;
// the instance that does not host it answers 421 naming the one that does, and the client
// goes there (as the gateway does).
func TestRoomStaysOnOneInstance(t *testing.T) {
	first := startService(t, harnessOptions{})
	second := startService(t, harnessOptions{cluster: first})
	host, guest := newID(), newID()
	team := first.teams.team(host, guest)
	conf := first.createConference(t, team, host, false)

	h := first.dial(t, conf, host)
	h.send(map[string]string{"type": "join"})
	h.expect("joined")
	g := second.dial(t, conf, guest)
	g.send(map[string]string{"type": "join"})
	joined := g.expect("joined")
	require.Len(t, joined.Participants, 2, "the guest is in the host's room")
	require.Equal(t, guest, h.expect("participant_joined", "tracks", "lobby").Participant.UserID)
}
