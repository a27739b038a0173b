package service

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestReconnectWithinGrace: in a waiting-room conference, an admitted participant whose
// socket drops and who comes back within the grace is joined at once, with the same role,
// and the host sees nobody leave or arrive. Dropping again and staying away past the grace
// removes them as before.
func TestReconnectWithinGrace(t *testing.T) {
	const grace = 1500 * time.Millisecond
	h := startService(t, harnessOptions{reconnectGrace: grace})
	host, guest, other := newID(), newID(), newID()
	team := h.teams.team(host, guest, other)
	conf := h.createConference(t, team, host, true)

	hostWS := h.dial(t, conf, host)
	hostWS.send(map[string]string{"type": "join"})
	hostWS.expect("joined")
	g := h.dial(t, conf, guest)
	g.send(map[string]string{"type": "join"})
	g.expect("waiting")
	hostWS.send(map[string]any{"type": "admit", "user_id": guest})
	g.expect("admitted")
	require.Equal(t, "participant", g.expect("joined").Role)
	require.Equal(t, guest, hostWS.expect("participant_joined", "tracks", "lobby").Participant.UserID)

	// The connection drops (no close frame, no "leave"), and the guest comes back.
	g.close()
	g = h.dial(t, conf, guest)
	g.send(map[string]string{"type": "join"})
	joined := g.expect("joined")
	require.Equal(t, "participant", joined.Role, "same role, no lobby")
	require.Len(t, joined.Participants, 2)
	g.expect("tracks")
	hostWS.quiet(grace+500*time.Millisecond, "tracks", "lobby")
	require.Equal(t, 2, h.conference(t, conf, host).Conference.ParticipantCount)

	// A promoted guest resumes as host, and gets the lobby.
	hostWS.send(map[string]any{"type": "set_role", "user_id": guest, "role": "host"})
	require.Equal(t, "host", g.expect("role_changed").Role)
	g.expect("lobby")
	hostWS.expect("role_changed")
	g.close()
	g = h.dial(t, conf, guest)
	g.send(map[string]string{"type": "join"})
	require.Equal(t, "host", g.expect("joined").Role)
	g.expect("tracks")
	g.expect("lobby")

	// Someone else who was never admitted still waits: the grace is no back door.
	o := h.dial(t, conf, other)
	o.send(map[string]string{"type": "join"})
	o.expect("waiting")

	// Away longer than the grace: the others are told the guest left.
	g.close()
	start := time.Now()
	require.Equal(t, guest, hostWS.expect("participant_left", "tracks", "lobby").UserID)
	require.GreaterOrEqual(t, time.Since(start), grace-200*time.Millisecond, "kept for the grace")
	require.Eventually(t, func() bool { return h.conference(t, conf, host).Conference.ParticipantCount == 1 },
		5*time.Second, 20*time.Millisecond)

	// A "leave" is immediate, grace or not.
	hostWS.send(map[string]any{"type": "admit", "user_id": other})
	o.expect("admitted")
	o.expect("joined")
	require.Equal(t, other, hostWS.expect("participant_joined", "tracks", "lobby").Participant.UserID)
	o.send(map[string]string{"type": "leave"})
	start = time.Now()
	require.Equal(t, other, hostWS.expect("participant_left", "tracks", "lobby").UserID)
	require.Less(t, time.Since(start), grace/2)
}

// TestReconnectRenegotiatesMedia: a participant whose connection drops comes back within
// the grace with new peer connections; media flows again both ways.
func TestReconnectRenegotiatesMedia(t *testing.T) {
	h := startService(t, harnessOptions{reconnectGrace: 10 * time.Second})
	host, guest := newID(), newID()
	team := h.teams.team(host, guest)
	conf := h.createConference(t, team, host, false)

	ch := h.joinMedia(t, conf, host, mic, camera)
	cg := h.joinMedia(t, conf, guest, mic, camera)
	require.Eventually(t, func() bool { return ch.receivingFrom(guest, 10) == 2 && cg.receivingFrom(host, 10) == 2 },
		10*time.Second, 50*time.Millisecond)

	// The guest's network goes: socket and peer connections gone without a word.
	cg.close()
	require.Eventually(t, func() bool {
		_, labels, _ := ch.snapshot()
		return len(labels) == 0
	}, 5*time.Second, 20*time.Millisecond, "the dropped connection's tracks are withdrawn")

	again := h.joinMediaWith(t, conf, guest, "", mic, camera)
	require.Eventually(t, func() bool { return ch.receivingFrom(guest, 10) == 2 && again.receivingFrom(host, 10) == 2 },
		10*time.Second, 50*time.Millisecond, "media flows again both ways")
	require.Equal(t, 2, h.conference(t, conf, host).Conference.ParticipantCount)
}
