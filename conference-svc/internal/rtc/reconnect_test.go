package rtc

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// reconnectRoom is a waiting-room conference with a host and an admitted guest, each
// publishing one track.
type reconnectRoom struct {
	r     *Room
	obs   *observer
	host  member
	guest member
}

func newReconnectRoom(t *testing.T, grace time.Duration) *reconnectRoom {
	t.Helper()
	obs := &observer{}
	r := NewRoom(RoomParams{ConferenceID: "c", WaitingRoom: true, ReconnectGrace: grace, Observer: obs,
		ICEServers: func(user string) []ICEServer {
			return []ICEServer{{URLs: []string{"turn:relay"}, Username: "exp:" + user, Credential: "secret-of-" + user}}
		}})
	t.Cleanup(r.Close)
	host := join(t, r, "host", RoleHost)
	guest := join(t, r, "guest", RoleParticipant)
	require.NoError(t, r.Admit(host.p, "guest"))
	require.NoError(t, r.Publish(host.p, track{TrackInfo{TrackID: "host-mic", UserID: "host", Kind: "audio", Source: "mic"}}))
	require.NoError(t, r.Publish(guest.p, track{TrackInfo{TrackID: "guest-cam", UserID: "guest", Kind: "video", Source: "camera"}}))
	host.s.types()
	guest.s.types()
	return &reconnectRoom{r: r, obs: obs, host: host, guest: guest}
}

// rejoin is the guest's new connection sending "join"; the identity carries the role the
// database knows, which the room's may have overtaken.
func (rr *reconnectRoom) rejoin(t *testing.T) member {
	t.Helper()
	return join(t, rr.r, "guest", RoleParticipant)
}

func TestReconnectWithinGrace(t *testing.T) {
	cases := []struct {
		name string
		// drop ends the guest's first connection.
		drop func(rr *reconnectRoom)
		// promote makes the guest a host before the drop.
		promote bool
	}{
		{"socket dropped", func(rr *reconnectRoom) { rr.r.Disconnect(rr.guest.p) }, false},
		{"socket dropped, promoted guest stays host", func(rr *reconnectRoom) { rr.r.Disconnect(rr.guest.p) }, true},
		{"new socket while the old one still looks alive", func(*reconnectRoom) {}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rr := newReconnectRoom(t, time.Hour)
			wantRole := RoleParticipant
			if tc.promote {
				require.NoError(t, rr.r.SetRole(rr.host.p, "guest", RoleHost))
				wantRole = RoleHost
				rr.host.s.types()
			}
			tc.drop(rr)
			again := rr.rejoin(t)

			// The guest is back at once: no lobby, same role, everything afresh.
			joined := again.s.last("joined").(Joined)
			types := again.s.types()
			require.Equal(t, "joined", types[0], "no waiting, no admitted: %v", types)
			require.NotContains(t, types, "waiting")
			require.Equal(t, wantRole, joined.Role)
			require.Len(t, joined.Participants, 2)
			require.Equal(t, []ICEServer{{URLs: []string{"turn:relay"}, Username: "exp:guest", Credential: "secret-of-guest"}},
				joined.ICEServers, "fresh TURN credentials of their own")
			require.True(t, again.s.media)
			require.Equal(t, []string{"host-mic"}, again.s.subscribed())
			require.Equal(t, wantRole == RoleHost, slices.Contains(types, "lobby"), "a host gets the lobby")
			require.Equal(t, wantRole, rr.r.Role(again.p))

			// The host saw no one leave or arrive; only the guest's old track went away.
			require.Empty(t, rr.host.s.last("tracks").(Tracks).Tracks)
			require.Empty(t, rr.host.s.subscribed(), "the old connection's media ended")
			hostSaw := rr.host.s.types()
			require.NotContains(t, hostSaw, "participant_left")
			require.NotContains(t, hostSaw, "participant_joined")
			counts, _ := rr.obs.snapshot()
			require.Equal(t, []int{1, 2}, counts, "the head count never changed after the guest came in")

			// The new connection publishes anew and the host receives it; the old
			// connection's late calls change nothing.
			require.NoError(t, rr.r.Publish(again.p, track{TrackInfo{TrackID: "guest-cam-2", UserID: "guest", Kind: "video"}}))
			require.Equal(t, []string{"guest-cam-2"}, rr.host.s.subscribed())
			rr.r.Leave(rr.guest.p)
			rr.r.Disconnect(rr.guest.p)
			require.ErrorIs(t, rr.r.Publish(rr.guest.p, track{TrackInfo{TrackID: "late"}}), ErrNotJoined)
			require.ErrorIs(t, rr.r.Unpublish(rr.guest.p, "guest-cam"), ErrUnknownTrack)
			joinedNow, _ := rr.r.Snapshot()
			require.Len(t, joinedNow, 2)
		})
	}
}

func TestDisconnectWithoutResume(t *testing.T) {
	cases := []struct {
		name  string
		grace time.Duration
		// end ends the guest's connection.
		end func(rr *reconnectRoom)
		// immediate: the host learns at once that the guest left.
		immediate bool
	}{
		{"explicit leave", time.Hour, func(rr *reconnectRoom) { rr.r.Leave(rr.guest.p) }, true},
		{"no grace configured", 0, func(rr *reconnectRoom) { rr.r.Disconnect(rr.guest.p) }, true},
		{"grace runs out", 30 * time.Millisecond, func(rr *reconnectRoom) { rr.r.Disconnect(rr.guest.p) }, false},
		{"a host removes the absent guest", time.Hour, func(rr *reconnectRoom) {
			rr.r.Disconnect(rr.guest.p)
			_ = rr.r.Remove(rr.host.p, "guest")
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rr := newReconnectRoom(t, tc.grace)
			tc.end(rr)
			if tc.immediate {
				require.NotNil(t, rr.host.s.last("participant_left"))
			} else {
				require.Nil(t, rr.host.s.last("participant_left"), "kept during the grace")
				require.Eventually(t, func() bool { return rr.host.s.last("participant_left") != nil },
					5*time.Second, 5*time.Millisecond)
			}
			require.Equal(t, "guest", rr.host.s.last("participant_left").(ParticipantLeft).UserID)
			joined, _ := rr.r.Snapshot()
			require.Len(t, joined, 1)
		})
	}
}

func TestWaitingUserWhoDropsLeavesTheLobby(t *testing.T) {
	r := NewRoom(RoomParams{ConferenceID: "c", WaitingRoom: true, ReconnectGrace: time.Hour})
	defer r.Close()
	host := join(t, r, "host", RoleHost)
	w := join(t, r, "w", RoleParticipant)
	require.Len(t, host.s.last("lobby").(Lobby).Waiting, 1)
	r.Disconnect(w.p)
	require.Empty(t, host.s.last("lobby").(Lobby).Waiting, "nobody to admit: the lobby is live")
	again := join(t, r, "w", RoleParticipant)
	require.Equal(t, []string{"waiting"}, again.s.types(), "still needs a host")
}

func TestEveryoneAwayKeepsTheRoomUntilGraceEnds(t *testing.T) {
	closed := make(chan bool, 1)
	r := NewRoom(RoomParams{ConferenceID: "c", ReconnectGrace: 30 * time.Millisecond, EmptyTimeout: time.Millisecond,
		OnClosed: func(_ *Room, ended bool) { closed <- ended }})
	a := join(t, r, "a", RoleHost)
	r.Disconnect(a.p)
	select {
	case <-closed:
		t.Fatal("the room ended while its participant could still come back")
	case <-time.After(10 * time.Millisecond):
	}
	select {
	case ended := <-closed:
		require.True(t, ended, "empty after the grace, then the empty-room timeout ends it")
	case <-time.After(5 * time.Second):
		t.Fatal("the room never ended")
	}
}
