package rtc

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeSession records what the room asks of a participant's connection.
type fakeSession struct {
	mu     sync.Mutex
	msgs   []Message
	media  bool
	subs   map[string]bool
	closed bool
}

func newFake() *fakeSession { return &fakeSession{subs: map[string]bool{}} }

func (f *fakeSession) Send(m Message) { f.mu.Lock(); f.msgs = append(f.msgs, m); f.mu.Unlock() }
func (f *fakeSession) StartMedia()    { f.mu.Lock(); f.media = true; f.mu.Unlock() }
func (f *fakeSession) Subscribe(t PublishedTrack) {
	f.mu.Lock()
	f.subs[t.Info().TrackID] = true
	f.mu.Unlock()
}
func (f *fakeSession) Unsubscribe(id string) { f.mu.Lock(); delete(f.subs, id); f.mu.Unlock() }
func (f *fakeSession) Close()                { f.mu.Lock(); f.closed = true; f.mu.Unlock() }

// types returns the frame types received so far and forgets them.
func (f *fakeSession) types() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.msgs))
	for i, m := range f.msgs {
		out[i] = Type(m)
	}
	f.msgs = nil
	return out
}

// last returns the last frame of type typ received so far.
func (f *fakeSession) last(typ string) Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.msgs) - 1; i >= 0; i-- {
		if Type(f.msgs[i]) == typ {
			return f.msgs[i]
		}
	}
	return nil
}

func (f *fakeSession) subscribed() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for id := range f.subs {
		out = append(out, id)
	}
	return out
}

type track struct{ info TrackInfo }

func (t track) Info() TrackInfo { return t.info }

type observer struct {
	mu     sync.Mutex
	counts []int
	ended  int
}

func (o *observer) Live(_ string, n int) { o.mu.Lock(); o.counts = append(o.counts, n); o.mu.Unlock() }
func (o *observer) Ended(string)         { o.mu.Lock(); o.ended++; o.mu.Unlock() }
func (o *observer) snapshot() ([]int, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]int(nil), o.counts...), o.ended
}

type member struct {
	s *fakeSession
	p *Participant
}

func join(t *testing.T, r *Room, user string, role Role) member {
	t.Helper()
	s := newFake()
	p, err := r.Join(s, Identity{UserID: user, Username: "name-" + user, Role: role})
	require.NoError(t, err)
	return member{s: s, p: p}
}

func TestJoinWithAndWithoutWaitingRoom(t *testing.T) {
	cases := []struct {
		name        string
		waitingRoom bool
		role        Role
		want        []string
		media       bool
	}{
		{"waiting room off: participant goes straight in", false, RoleParticipant, []string{"joined", "tracks"}, true},
		{"waiting room on: participant waits", true, RoleParticipant, []string{"waiting"}, false},
		{"waiting room on: host goes straight in", true, RoleHost, []string{"joined", "tracks", "lobby"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRoom(RoomParams{ConferenceID: "c", WaitingRoom: tc.waitingRoom})
			m := join(t, r, "u1", tc.role)
			require.Equal(t, tc.want, m.s.types())
			require.Equal(t, tc.media, m.s.media)
		})
	}
}

func TestWaitingUserGetsNoMediaUntilAdmitted(t *testing.T) {
	r := NewRoom(RoomParams{ConferenceID: "c", WaitingRoom: true})
	host := join(t, r, "host", RoleHost)
	require.NoError(t, r.Publish(host.p, track{TrackInfo{TrackID: "h-mic", UserID: "host", Kind: "audio", Source: "mic"}}))
	guest := join(t, r, "guest", RoleParticipant)

	require.Equal(t, []string{"waiting"}, guest.s.types())
	require.False(t, guest.s.media)
	require.Empty(t, guest.s.subscribed())
	lobby := host.s.last("lobby").(Lobby)
	require.Equal(t, []LobbyEntry{{UserID: "guest", Username: "name-guest"}}, lobby.Waiting)

	// A waiting user's track cannot reach anyone.
	require.ErrorIs(t, r.Publish(guest.p, track{TrackInfo{TrackID: "g-cam"}}), ErrNotJoined)

	require.NoError(t, r.Admit(host.p, "guest"))
	tracks := guest.s.last("tracks").(Tracks)
	require.Equal(t, []TrackInfo{{TrackID: "h-mic", UserID: "host", Kind: "audio", Source: "mic"}}, tracks.Tracks)
	require.Equal(t, []string{"admitted", "joined", "tracks"}, guest.s.types())
	require.True(t, guest.s.media)
	require.Equal(t, []string{"h-mic"}, guest.s.subscribed())
	require.Empty(t, host.s.last("lobby").(Lobby).Waiting)
}

func TestHostOnlyActions(t *testing.T) {
	actions := map[string]func(r *Room, actor *Participant) error{
		"admit":     func(r *Room, a *Participant) error { return r.Admit(a, "waiter") },
		"deny":      func(r *Room, a *Participant) error { return r.Deny(a, "waiter") },
		"admit_all": func(r *Room, a *Participant) error { return r.AdmitAll(a) },
		"set_role":  func(r *Room, a *Participant) error { return r.SetRole(a, "host", RoleParticipant) },
		"remove":    func(r *Room, a *Participant) error { return r.Remove(a, "host") },
		"end":       func(r *Room, a *Participant) error { return r.End(a) },
	}
	for name, act := range actions {
		t.Run(name, func(t *testing.T) {
			r := NewRoom(RoomParams{ConferenceID: "c", WaitingRoom: true})
			host := join(t, r, "host", RoleHost)
			participant := join(t, r, "part", RoleParticipant)
			require.NoError(t, r.Admit(host.p, "part"))
			waiter := join(t, r, "waiter", RoleParticipant)

			require.ErrorIs(t, act(r, participant.p), ErrNotHost, "a participant")
			require.ErrorIs(t, act(r, waiter.p), ErrNotJoined, "someone in the lobby")
			_, waiting := r.Snapshot()
			require.Len(t, waiting, 1, "the lobby is unchanged")
			joined, _ := r.Snapshot()
			require.Len(t, joined, 2, "the room is unchanged")
		})
	}
}

func TestDenyAndAskAgain(t *testing.T) {
	r := NewRoom(RoomParams{ConferenceID: "c", WaitingRoom: true})
	host := join(t, r, "host", RoleHost)
	guest := join(t, r, "guest", RoleParticipant)
	guest.s.types()

	require.NoError(t, r.Deny(host.p, "guest"))
	require.Equal(t, []string{"denied"}, guest.s.types())
	require.Empty(t, host.s.last("lobby").(Lobby).Waiting)
	require.ErrorIs(t, r.Admit(host.p, "guest"), ErrNotWaiting, "a denied user is not waiting")

	// Asking again on the same connection puts them back in the lobby.
	p, err := r.Join(guest.s, Identity{UserID: "guest", Username: "name-guest", Role: RoleParticipant})
	require.NoError(t, err)
	require.Same(t, guest.p, p)
	require.Equal(t, []string{"waiting"}, guest.s.types())
	require.Len(t, host.s.last("lobby").(Lobby).Waiting, 1)

	// A second join while waiting is refused.
	_, err = r.Join(guest.s, Identity{UserID: "guest", Role: RoleParticipant})
	require.ErrorIs(t, err, ErrAlreadyJoined)
}

func TestAdmitAllKeepsArrivalOrder(t *testing.T) {
	r := NewRoom(RoomParams{ConferenceID: "c", WaitingRoom: true})
	host := join(t, r, "host", RoleHost)
	for _, u := range []string{"zed", "amy", "kim"} {
		join(t, r, u, RoleParticipant)
	}
	_, waiting := r.Snapshot()
	require.Equal(t, []string{"zed", "amy", "kim"}, []string{waiting[0].UserID, waiting[1].UserID, waiting[2].UserID})

	require.NoError(t, r.AdmitAll(host.p))
	joined, waiting := r.Snapshot()
	require.Empty(t, waiting)
	require.Len(t, joined, 4)
}

func TestLobbyWithoutHostAndHostReconnect(t *testing.T) {
	r := NewRoom(RoomParams{ConferenceID: "c", WaitingRoom: true})
	a := join(t, r, "a", RoleParticipant)
	join(t, r, "b", RoleParticipant)
	require.Equal(t, []string{"waiting"}, a.s.types(), "with no host present, people keep waiting")

	host := join(t, r, "host", RoleHost)
	require.Equal(t, []LobbyEntry{{"a", "name-a"}, {"b", "name-b"}}, host.s.last("lobby").(Lobby).Waiting,
		"a host who arrives sees who waits")

	r.Leave(host.p)
	again := join(t, r, "host", RoleHost)
	require.Equal(t, []LobbyEntry{{"a", "name-a"}, {"b", "name-b"}}, again.s.last("lobby").(Lobby).Waiting,
		"a host who reconnects finds the lobby as it was")
}

func TestSetRole(t *testing.T) {
	r := NewRoom(RoomParams{ConferenceID: "c", WaitingRoom: true})
	host := join(t, r, "host", RoleHost)
	part := join(t, r, "part", RoleParticipant)
	require.NoError(t, r.Admit(host.p, "part"))
	join(t, r, "waiter", RoleParticipant)
	part.s.types()

	cases := []struct {
		name   string
		actor  *Participant
		target string
		role   Role
		err    error
	}{
		{"invalid role", host.p, "part", Role("admin"), ErrInvalidRole},
		{"target not in the room", host.p, "nobody", RoleHost, ErrNotInRoom},
		{"target waiting", host.p, "waiter", RoleHost, ErrNotInRoom},
		{"last host cannot step down", host.p, "host", RoleParticipant, ErrLastHost},
		{"promote", host.p, "part", RoleHost, nil},
		{"promote again is a no-op", host.p, "part", RoleHost, nil},
		{"the new host demotes the first", part.p, "host", RoleParticipant, nil},
		{"the demoted host cannot act", host.p, "part", RoleParticipant, ErrNotHost},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, r.SetRole(tc.actor, tc.target, tc.role), tc.err)
		})
	}
	require.Equal(t, RoleHost, r.Role(part.p))
	require.Equal(t, RoleParticipant, r.Role(host.p))
	types := part.s.types()
	require.Contains(t, types, "role_changed")
	require.Contains(t, types, "lobby", "a promoted participant receives the lobby")
}

func TestRemove(t *testing.T) {
	r := NewRoom(RoomParams{ConferenceID: "c", WaitingRoom: false})
	host := join(t, r, "host", RoleHost)
	part := join(t, r, "part", RoleParticipant)
	require.NoError(t, r.Publish(part.p, track{TrackInfo{TrackID: "p-cam", UserID: "part", Kind: "video", Source: "camera"}}))
	require.Equal(t, []string{"p-cam"}, host.s.subscribed())

	require.ErrorIs(t, r.Remove(host.p, "host"), ErrSelf)
	require.ErrorIs(t, r.Remove(host.p, "nobody"), ErrNotInRoom)
	require.NoError(t, r.Remove(host.p, "part"))

	require.Equal(t, "removed", lastType(t, part.s))
	require.True(t, part.s.closed)
	require.Empty(t, host.s.subscribed(), "the removed participant's media stops at once")
	require.Equal(t, "part", host.s.last("participant_left").(ParticipantLeft).UserID)

	// Coming back takes a host's admission, even without a waiting room.
	back := join(t, r, "part", RoleParticipant)
	require.Equal(t, []string{"waiting"}, back.s.types())
	require.NoError(t, r.Admit(host.p, "part"))
	require.True(t, back.s.media)
}

func lastType(t *testing.T, f *fakeSession) string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	require.NotEmpty(t, f.msgs)
	return Type(f.msgs[len(f.msgs)-1])
}

func TestSecondConnectionReplacesFirst(t *testing.T) {
	r := NewRoom(RoomParams{ConferenceID: "c"})
	host := join(t, r, "host", RoleHost)
	first := join(t, r, "u", RoleParticipant)
	second := join(t, r, "u", RoleParticipant)

	require.True(t, first.s.closed)
	require.Equal(t, "removed", lastType(t, first.s))
	require.Equal(t, []string{"joined", "tracks"}, second.s.types())
	joined, _ := r.Snapshot()
	require.Len(t, joined, 2)
	r.Leave(first.p) // the old socket's late close must not take the new one out
	joined, _ = r.Snapshot()
	require.Len(t, joined, 2)
	require.Equal(t, "u", host.s.last("participant_joined").(ParticipantJoined).Participant.UserID)
}

func TestTracksFollowPublishAndLeave(t *testing.T) {
	r := NewRoom(RoomParams{ConferenceID: "c"})
	a := join(t, r, "a", RoleHost)
	b := join(t, r, "b", RoleParticipant)
	screen := TrackInfo{TrackID: "a-screen", StreamID: "screen-1", UserID: "a", Kind: "video", Source: "screen"}
	require.NoError(t, r.Publish(a.p, track{screen}))
	require.ErrorIs(t, r.Publish(a.p, track{screen}), ErrDuplicateTrack)

	require.Equal(t, []string{"a-screen"}, b.s.subscribed())
	require.Equal(t, []TrackInfo{screen}, b.s.last("tracks").(Tracks).Tracks)
	require.Empty(t, a.s.subscribed(), "nobody receives their own track")

	c := join(t, r, "c", RoleParticipant)
	require.Equal(t, []string{"a-screen"}, c.s.subscribed(), "a late joiner receives what is already published")

	require.NoError(t, r.Unpublish(a.p, "a-screen"))
	require.ErrorIs(t, r.Unpublish(a.p, "a-screen"), ErrUnknownTrack)
	require.Empty(t, b.s.subscribed())
	require.Empty(t, b.s.last("tracks").(Tracks).Tracks)

	require.NoError(t, r.Publish(a.p, track{screen}))
	r.Leave(a.p)
	require.Empty(t, c.s.subscribed())
	require.Equal(t, "a", c.s.last("participant_left").(ParticipantLeft).UserID)
}

func TestEmptyRoomEnds(t *testing.T) {
	obs := &observer{}
	closed := make(chan struct{})
	r := NewRoom(RoomParams{ConferenceID: "c", EmptyTimeout: 50 * time.Millisecond, Observer: obs,
		OnClosed: func(_ *Room, ended bool) {
			require.True(t, ended)
			close(closed)
		}})
	a := join(t, r, "a", RoleHost)
	r.Leave(a.p)
	// Coming back before the timeout keeps the room.
	a = join(t, r, "a", RoleHost)
	b := join(t, r, "b", RoleParticipant)
	r.Leave(a.p)
	r.Leave(b.p)

	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("an empty live room did not end")
	}
	counts, ended := obs.snapshot()
	require.Equal(t, []int{1, 0, 1, 2, 1, 0}, counts)
	require.Equal(t, 1, ended)
	_, err := r.Join(newFake(), Identity{UserID: "a", Role: RoleHost})
	require.ErrorIs(t, err, ErrRoomClosed)
}

func TestRoomThatNeverWentLiveIsForgotten(t *testing.T) {
	obs := &observer{}
	var closed int
	r := NewRoom(RoomParams{ConferenceID: "c", WaitingRoom: true, Observer: obs, OnClosed: func(_ *Room, ended bool) {
		require.False(t, ended)
		closed++
	}})
	w := join(t, r, "w", RoleParticipant)
	r.Leave(w.p)
	require.Equal(t, 1, closed)
	counts, ended := obs.snapshot()
	require.Empty(t, counts, "a room nobody entered never went live")
	require.Zero(t, ended)
}

func TestEndAndClose(t *testing.T) {
	for _, how := range []string{"host ends", "conference deleted"} {
		t.Run(how, func(t *testing.T) {
			obs := &observer{}
			r := NewRoom(RoomParams{ConferenceID: "c", WaitingRoom: true, Observer: obs})
			host := join(t, r, "host", RoleHost)
			waiter := join(t, r, "w", RoleParticipant)
			if how == "host ends" {
				require.NoError(t, r.End(host.p))
			} else {
				r.Close()
			}
			for _, s := range []*fakeSession{host.s, waiter.s} {
				require.Equal(t, "ended", lastType(t, s))
				require.True(t, s.closed)
			}
			_, ended := obs.snapshot()
			require.Equal(t, 1, ended)
		})
	}
}

func TestTurningWaitingRoomOffAdmitsTheLobby(t *testing.T) {
	r := NewRoom(RoomParams{ConferenceID: "c", WaitingRoom: true})
	host := join(t, r, "host", RoleHost)
	join(t, r, "a", RoleParticipant)
	removed := join(t, r, "r", RoleParticipant)
	require.NoError(t, r.Remove(host.p, "r"))
	join(t, r, "r", RoleParticipant)
	_ = removed

	r.SetWaitingRoom(false)
	joined, waiting := r.Snapshot()
	require.Len(t, joined, 2)
	require.Equal(t, []LobbyEntry{{"r", "name-r"}}, waiting, "a removed user still needs a host")

	late := join(t, r, "late", RoleParticipant)
	require.Equal(t, []string{"joined", "tracks"}, late.s.types())
}

func TestEncode(t *testing.T) {
	cases := []struct {
		m    Message
		want string
	}{
		{Waiting{}, `{"type":"waiting"}`},
		{ParticipantLeft{UserID: "u"}, `{"type":"participant_left","user_id":"u"}`},
		{Joined{Role: RoleHost, Participants: []ParticipantInfo{}, ICEServers: []ICEServer{{URLs: []string{"stun:x"}}}},
			`{"type":"joined","role":"host","participants":[],"ice_servers":[{"urls":["stun:x"]}]}`},
	}
	for _, tc := range cases {
		b, err := Encode(tc.m)
		require.NoError(t, err)
		require.JSONEq(t, tc.want, string(b))
		require.Equal(t, tc.want, string(b))
	}
}

type loudTrack struct {
	info TrackInfo
	mu   sync.Mutex
	loud float64
}

func (t *loudTrack) Info() TrackInfo { return t.info }
func (t *loudTrack) Loudness() float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.loud
}
func (t *loudTrack) set(v float64) { t.mu.Lock(); t.loud = v; t.mu.Unlock() }

func TestActiveSpeaker(t *testing.T) {
	r := NewRoom(RoomParams{ConferenceID: "c", SpeakerInterval: time.Hour})
	defer r.Close()
	a := join(t, r, "a", RoleHost)
	b := join(t, r, "b", RoleParticipant)
	am := &loudTrack{info: TrackInfo{TrackID: "am", Kind: "audio", Source: "mic"}}
	bm := &loudTrack{info: TrackInfo{TrackID: "bm", Kind: "audio", Source: "mic"}}
	bs := &loudTrack{info: TrackInfo{TrackID: "bs", Kind: "audio", Source: "screen"}, loud: 127}
	require.NoError(t, r.Publish(a.p, am))
	require.NoError(t, r.Publish(b.p, bm))
	require.NoError(t, r.Publish(b.p, bs))

	steps := []struct {
		name string
		a, b float64
		want string // "" = no new announcement
	}{
		{"silence announces nobody (a loud screen share does not count)", 0, 0, ""},
		{"background noise is not speech", 50, 60, ""},
		{"b speaks", 40, 100, "b"},
		{"b keeps speaking: no repeat", 40, 100, ""},
		{"a pause keeps the last speaker", 0, 0, ""},
		{"a speaks louder", 110, 90, "a"},
	}
	for _, st := range steps {
		a.s.types()
		am.set(st.a)
		bm.set(st.b)
		r.pickSpeaker()
		got := a.s.last("active_speaker")
		if st.want == "" {
			require.Nil(t, got, st.name)
		} else {
			require.Equal(t, ActiveSpeaker{UserID: st.want}, got, st.name)
		}
	}
	late := join(t, r, "c", RoleParticipant)
	require.Equal(t, ActiveSpeaker{UserID: "a"}, late.s.last("active_speaker"), "a newcomer learns who speaks")
}
