package service

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/require"
)

var (
	mic    = publish{kind: webrtc.RTPCodecTypeAudio, streamID: "mic-1"}
	camera = publish{kind: webrtc.RTPCodecTypeVideo, streamID: "camera-1", frameBytes: 1200}
	screen = publish{kind: webrtc.RTPCodecTypeVideo, streamID: "screen-1", frameBytes: 2500}
)

// TestThreeParticipantsExchangeMedia: everyone sends each track once and receives every
// other participant's tracks, labelled with owner and source, with bytes flowing and no
// gap in the sequence numbers; a late joiner's first video picture comes within a second
// (the SFU forwards a PLI to the publishers); leaving renegotiates the others and cleans
// up (TestMain checks for leaked goroutines).
func TestThreeParticipantsExchangeMedia(t *testing.T) {
	h := startService(t, harnessOptions{})
	a, b, c := newID(), newID(), newID()
	team := h.teams.team(a, b, c)
	conf := h.createConference(t, team, a, false)

	ca := h.joinMedia(t, conf, a, mic, camera)
	cb := h.joinMedia(t, conf, b, mic, camera, screen)
	require.Eventually(t, func() bool {
		return ca.receivingFrom(b, 10) == 3 && cb.receivingFrom(a, 10) == 2
	}, 10*time.Second, 50*time.Millisecond, "a and b receive each other")

	cc := h.joinMedia(t, conf, c, mic, camera)
	require.Eventually(t, func() bool {
		return cc.receivingFrom(a, 10) == 2 && cc.receivingFrom(b, 10) == 3 &&
			ca.receivingFrom(c, 10) == 2 && cb.receivingFrom(c, 10) == 2
	}, 10*time.Second, 50*time.Millisecond, "everyone receives the late joiner, and the late joiner everyone: %d %d %d %d",
		cc.receivingFrom(a, 10), cc.receivingFrom(b, 10), ca.receivingFrom(c, 10), cb.receivingFrom(c, 10))

	// Let media flow, then check what each received.
	time.Sleep(time.Second)
	clients := map[string]*mediaClient{a: ca, b: cb, c: cc}
	published := map[string]int{a: 2, b: 3, c: 2}
	for user, cl := range clients {
		recv, labels, joinedAt := cl.snapshot()
		want := 0
		for other, n := range published {
			if other != user {
				want += n
			}
		}
		require.Len(t, labels, want, "tracks event of %s", user)
		for stream, l := range labels {
			r, ok := recv[stream]
			require.True(t, ok, "%s receives %s", user, stream)
			require.NotEqual(t, user, l.UserID, "nobody receives their own track")
			require.Equal(t, r.kind, l.Kind)
			require.Greater(t, r.bytes, 0)
			require.Zero(t, r.holes(), "%s: sequence numbers of %s/%s are continuous", user, l.UserID, l.Source)
			if l.Kind == "video" {
				require.False(t, r.firstKeyframe.IsZero(), "a key frame reached %s", user)
				require.Equal(t, r.firstPacket, r.firstKeyframe, "video starts on a key frame")
			}
			if user == c && l.Kind == "video" {
				// From the moment the late joiner's connection is up (the handshakes
				// take what they take, more so under the race detector), its first
				// picture comes within a second: the SFU asked the publisher for it.
				up := cl.connected()
				require.False(t, up.IsZero())
				require.Less(t, r.firstKeyframe.Sub(up), time.Second, "late joiner's first picture of %s", l.Source)
				t.Logf("late joiner: %s video %s: join → key frame %v, connected → key frame %v",
					l.UserID[len(l.UserID)-4:], l.Source, r.firstKeyframe.Sub(joinedAt), r.firstKeyframe.Sub(up))
			}
		}
		sources := map[string]int{}
		for _, l := range labels {
			sources[l.UserID+"/"+l.Source]++
		}
		if user != b {
			require.Equal(t, 1, sources[b+"/screen"], "b's screen share is labelled screen")
			require.Equal(t, 1, sources[b+"/camera"])
			require.Equal(t, 1, sources[b+"/mic"])
		}
	}

	// c leaves: the others are told, and stop receiving c's tracks.
	cc.sendJSON(map[string]string{"type": "leave"})
	cc.ws.waitClosed()
	for _, cl := range []*mediaClient{ca, cb} {
		require.Eventually(t, func() bool {
			_, labels, _ := cl.snapshot()
			for _, l := range labels {
				if l.UserID == c {
					return false
				}
			}
			return true
		}, 5*time.Second, 20*time.Millisecond)
	}
	require.Eventually(t, func() bool { return h.conference(t, conf, a).Conference.ParticipantCount == 2 },
		5*time.Second, 20*time.Millisecond)
}

// TestRemovedParticipantMediaStops: a host removes a participant; the others stop
// receiving their tracks at once.
func TestRemovedParticipantMediaStops(t *testing.T) {
	h := startService(t, harnessOptions{})
	host, guest := newID(), newID()
	team := h.teams.team(host, guest)
	conf := h.createConference(t, team, host, false)
	ch := h.joinMedia(t, conf, host, mic)
	cg := h.joinMedia(t, conf, guest, mic, camera)
	require.Eventually(t, func() bool { return ch.receivingFrom(guest, 5) == 2 }, 10*time.Second, 50*time.Millisecond)

	ch.sendJSON(map[string]any{"type": "remove", "user_id": guest})
	cg.ws.waitClosed()
	require.Eventually(t, func() bool {
		_, labels, _ := ch.snapshot()
		return len(labels) == 0
	}, 5*time.Second, 20*time.Millisecond)
	before, _, _ := ch.snapshot()
	time.Sleep(300 * time.Millisecond)
	after, _, _ := ch.snapshot()
	for stream, r := range after {
		require.LessOrEqual(t, r.packets-before[stream].packets, 5, "no more media from the removed participant")
	}
}

// TestMediaFailureRemovesParticipant: a participant whose media connection dies (here the
// client closes it; an ICE timeout ends the same way) is removed and the others are told.
func TestMediaFailureRemovesParticipant(t *testing.T) {
	h := startService(t, harnessOptions{})
	host, guest := newID(), newID()
	team := h.teams.team(host, guest)
	conf := h.createConference(t, team, host, false)
	ch := h.joinMedia(t, conf, host, mic)
	cg := h.joinMedia(t, conf, guest, mic)
	require.Eventually(t, func() bool { return ch.receivingFrom(guest, 5) == 1 && cg.receivingFrom(host, 5) == 1 },
		10*time.Second, 50*time.Millisecond)

	require.NoError(t, cg.pub.Close())
	require.NoError(t, cg.sub.Close())
	cg.ws.waitClosed()
	require.Eventually(t, func() bool { return h.conference(t, conf, host).Conference.ParticipantCount == 1 },
		5*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool {
		_, labels, _ := ch.snapshot()
		return len(labels) == 0
	}, 5*time.Second, 20*time.Millisecond, "the host no longer receives the guest's track")
}

// TestViewPausesAndResumesVideo: a client that hides a video stops receiving it; showing it
// again resumes from a key frame, and the sequence numbers it sees stay continuous.
func TestViewPausesAndResumesVideo(t *testing.T) {
	h := startService(t, harnessOptions{})
	host, guest := newID(), newID()
	team := h.teams.team(host, guest)
	conf := h.createConference(t, team, host, false)
	h.joinMedia(t, conf, host, camera)
	cg := h.joinMedia(t, conf, guest)
	require.Eventually(t, func() bool { return cg.receivingFrom(host, 10) == 1 }, 10*time.Second, 50*time.Millisecond)
	_, labels, _ := cg.snapshot()
	var stream, trackID string
	for s, l := range labels {
		stream, trackID = s, l.TrackID
	}
	packets := func() int {
		recv, _, _ := cg.snapshot()
		return recv[stream].packets
	}

	cg.sendJSON(map[string]any{"type": "view", "track_id": trackID, "width": 0, "height": 0})
	time.Sleep(200 * time.Millisecond)
	paused := packets()
	time.Sleep(500 * time.Millisecond)
	require.LessOrEqual(t, packets()-paused, 2, "a hidden video is not sent")

	cg.sendJSON(map[string]any{"type": "view", "track_id": trackID, "width": 640, "height": 360})
	require.Eventually(t, func() bool { return packets() > paused+10 }, 5*time.Second, 20*time.Millisecond)
	recv, _, _ := cg.snapshot()
	r := recv[stream]
	require.Zero(t, r.holes(), "sequence numbers stay continuous across the pause")
}

// TestActiveSpeaker: the participant whose microphone is loud is announced to everyone.
func TestActiveSpeaker(t *testing.T) {
	h := startService(t, harnessOptions{})
	talker, quiet, listener := newID(), newID(), newID()
	team := h.teams.team(talker, quiet, listener)
	conf := h.createConference(t, team, talker, false)
	ct := h.joinMedia(t, conf, talker, publish{kind: webrtc.RTPCodecTypeAudio, streamID: "mic-1", loud: true})
	cq := h.joinMedia(t, conf, quiet, mic)
	cl := h.joinMedia(t, conf, listener)
	for _, c := range []*mediaClient{ct, cq, cl} {
		require.Eventually(t, func() bool { return c.speaker() == talker }, 10*time.Second, 20*time.Millisecond)
	}
}

// TestMediaThroughAnotherInstance: a participant whose socket reached the instance that does
// not hold the room still exchanges media with the room (the owner's SFU carries it).
func TestMediaThroughAnotherInstance(t *testing.T) {
	first := startService(t, harnessOptions{})
	second := startService(t, harnessOptions{cluster: first})
	host, guest := newID(), newID()
	team := first.teams.team(host, guest)
	conf := first.createConference(t, team, host, false)
	ch := first.joinMedia(t, conf, host, mic, camera)
	cg := second.joinMedia(t, conf, guest, mic)
	require.Eventually(t, func() bool { return cg.receivingFrom(host, 10) == 2 && ch.receivingFrom(guest, 10) == 1 },
		10*time.Second, 50*time.Millisecond)
}
