// Package rtc holds the rules of a conference room: who is in it, who waits in the lobby,
// who may admit, promote and remove whom, and who receives which tracks. It knows nothing of
// WebRTC or WebSockets: it drives each participant through the Session interface, which the
// service implements over a signaling socket and an SFU peer, and which tests fake.
package rtc

import (
	"cmp"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// Role is what a participant may do in the room.
type Role string

const (
	RoleHost        Role = "host"
	RoleParticipant Role = "participant"
)

// ParseRole accepts the roles of API.md.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleHost, RoleParticipant:
		return r, nil
	}
	return "", ErrInvalidRole
}

// Session is one participant's connection as the room drives it. Every method must return
// at once (queue, never block on the network): the room calls them under its lock.
type Session interface {
	// Send delivers a frame.
	Send(m Message)
	// StartMedia opens the participant's media connection once they are admitted.
	StartMedia()
	// Subscribe starts forwarding another participant's track to this one.
	Subscribe(t PublishedTrack)
	// Unsubscribe stops forwarding a track.
	Unsubscribe(trackID string)
	// Close ends the connection (removed, replaced by a newer one, or the room ended).
	Close()
}

// PublishedTrack is a track a participant sends into the room.
type PublishedTrack interface {
	Info() TrackInfo
}

// Loud is a published audio track whose loudness the media layer measures.
type Loud interface {
	// Loudness is the mean loudness since the previous call: 0 is silence, 127 the
	// loudest (RFC 6464 levels, inverted).
	Loudness() float64
}

// speakerThreshold is the mean loudness (about -57 dBov) above which someone counts as
// speaking rather than as background noise.
const speakerThreshold = 70

// Identity is who a session belongs to and the role they enter with.
type Identity struct {
	UserID   string
	Username string
	Role     Role
}

// Observer hears about the room's life, to record it. Calls are made under the room's
// lock and must not block.
type Observer interface {
	// Live reports the head count of a live room, on the first entry and every change.
	Live(conferenceID string, participants int)
	// Ended reports that the room ended.
	Ended(conferenceID string)
}

// RoomParams builds a Room.
type RoomParams struct {
	ConferenceID string
	// WaitingRoom sends everyone but hosts to the lobby until a host admits them.
	WaitingRoom bool
	// EmptyTimeout ends a live room that has had nobody in it for this long.
	EmptyTimeout time.Duration
	// ICEServers returns the STUN/TURN servers handed to a participant who joins (their
	// own TURN credentials among them); nil hands none.
	ICEServers func(userID string) []ICEServer
	// ReconnectGrace keeps the place of a participant whose connection dropped (not one
	// who left) for this long: the same user joining again within it resumes with the same
	// role, past the lobby, and the others see no one leave or arrive. 0 removes them at
	// once.
	ReconnectGrace time.Duration
	// SpeakerInterval is how often the loudest microphone is looked for (0: never).
	SpeakerInterval time.Duration
	Observer        Observer
	// OnClosed is called once, under the room's lock, when the room closes so that the
	// registry forgets it: ended is true when the conference ended, false when the room
	// emptied before it ever went live or the process is shutting down.
	OnClosed func(r *Room, ended bool)
	Log      *slog.Logger
}

type state int

const (
	stateWaiting state = iota + 1
	stateDenied
	stateJoined
	stateGone
)

// Participant is one user's presence in a room through one connection: waiting, denied,
// or joined. A connection that takes over a joined user's place gets a new Participant, so
// that whatever the old connection still does afterwards is ignored.
type Participant struct {
	session   Session
	id        Identity
	state     state
	waitOrder uint64
	tracks    map[string]PublishedTrack
	// grace runs while a joined participant's connection is gone and their place is kept;
	// nil while connected.
	grace *time.Timer
}

// UserID returns the participant's user id.
func (p *Participant) UserID() string { return p.id.UserID }

// Room is one live conference on this instance.
type Room struct {
	p RoomParams

	mu           sync.Mutex
	waitingRoom  bool
	participants map[string]*Participant
	// admitted remembers who got in, so that a dropped connection does not send them back
	// to the lobby; removed remembers whom a host removed, who must be admitted again.
	admitted  map[string]bool
	removed   map[string]bool
	waitSeq   uint64
	live      bool
	closed    bool
	emptyStop *time.Timer
	emptyGen  uint64
	speaker   string
	stop      chan struct{}
}

// NewRoom returns an open, empty room.
func NewRoom(p RoomParams) *Room {
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	r := &Room{
		p:            p,
		waitingRoom:  p.WaitingRoom,
		participants: map[string]*Participant{},
		admitted:     map[string]bool{},
		removed:      map[string]bool{},
		stop:         make(chan struct{}),
	}
	if p.SpeakerInterval > 0 {
		go r.watchSpeakers()
	}
	return r
}

// watchSpeakers announces the loudest microphone whenever it changes, until the room closes.
func (r *Room) watchSpeakers() {
	t := time.NewTicker(r.p.SpeakerInterval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.pickSpeaker()
		}
	}
}

// pickSpeaker finds the loudest microphone above the threshold. Silence keeps the last
// speaker: the highlight should not flicker in every pause.
func (r *Room) pickSpeaker() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	loudest, best := "", float64(speakerThreshold)
	joined := r.joinedLocked()
	for _, p := range joined {
		for _, t := range p.tracks {
			l, ok := t.(Loud)
			if !ok || t.Info().Source != "mic" {
				continue
			}
			if v := l.Loudness(); v >= best {
				loudest, best = p.id.UserID, v
			}
		}
	}
	if loudest == "" || loudest == r.speaker {
		return
	}
	r.speaker = loudest
	for _, q := range joined {
		q.session.Send(ActiveSpeaker{UserID: loudest})
	}
}

// closeLocked marks the room closed and stops its timers.
func (r *Room) closeLocked() {
	r.closed = true
	close(r.stop)
	if r.emptyStop != nil {
		r.emptyStop.Stop()
		r.emptyStop = nil
	}
	for _, p := range r.participants {
		p.stopGrace()
	}
}

// ConferenceID returns the conference the room belongs to.
func (r *Room) ConferenceID() string { return r.p.ConferenceID }

// Join handles a "join" from session: the user enters the room, or waits in the lobby.
// A second session of the same user replaces the first; if the user is in the room (its
// connection alive or within the reconnect grace), the new session resumes their place. A
// join from a user a host denied puts them back in the lobby.
func (r *Room) Join(s Session, id Identity) (*Participant, error) {
	if _, err := ParseRole(string(id.Role)); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrRoomClosed
	}
	if old := r.participants[id.UserID]; old != nil {
		if old.session == s {
			if old.state != stateDenied {
				return nil, ErrAlreadyJoined
			}
			r.waitLocked(old)
			return old, nil
		}
		if old.state == stateJoined {
			return r.resumeLocked(old, s, id), nil
		}
		// The same user again from a new connection while in the lobby: the new one waits
		// in their stead, and the old one is told it was removed.
		r.dropLocked(old)
		old.session.Send(Removed{})
		old.session.Close()
	}
	p := &Participant{session: s, id: id, tracks: map[string]PublishedTrack{}}
	r.participants[id.UserID] = p
	if r.mayEnterLocked(p) {
		r.enterLocked(p)
	} else {
		r.waitLocked(p)
	}
	return p, nil
}

func (r *Room) mayEnterLocked(p *Participant) bool {
	switch {
	case p.id.Role == RoleHost:
		return true
	case r.removed[p.id.UserID]:
		return false
	case !r.waitingRoom, r.admitted[p.id.UserID]:
		return true
	}
	return false
}

func (r *Room) waitLocked(p *Participant) {
	r.waitSeq++
	p.state = stateWaiting
	p.waitOrder = r.waitSeq
	p.session.Send(Waiting{})
	r.lobbyChangedLocked()
}

// enterLocked moves p into the room: they learn who is there and start receiving every
// track already published; everyone else learns they arrived.
func (r *Room) enterLocked(p *Participant) {
	wasWaiting := p.state == stateWaiting
	p.state = stateJoined
	r.admitted[p.id.UserID] = true
	delete(r.removed, p.id.UserID)
	if wasWaiting {
		p.session.Send(Admitted{})
	}
	p.session.Send(Joined{Role: p.id.Role, Participants: r.joinedInfosLocked(), ICEServers: r.iceServersFor(p)})
	for _, q := range r.joinedLocked() {
		if q != p {
			q.session.Send(ParticipantJoined{Participant: info(p)})
		}
	}
	r.startLocked(p)
	if wasWaiting {
		r.lobbyChangedLocked()
	}
	r.headCountChangedLocked()
}

// startLocked opens p's media and tells p what it receives: every track already published,
// who speaks, and (to a host) who waits.
func (r *Room) startLocked(p *Participant) {
	p.session.StartMedia()
	for _, q := range r.joinedLocked() {
		if q == p {
			continue
		}
		for _, t := range sortedTracks(q) {
			p.session.Subscribe(t)
		}
	}
	p.session.Send(Tracks{Tracks: r.tracksForLocked(p)})
	if r.speaker != "" {
		p.session.Send(ActiveSpeaker{UserID: r.speaker})
	}
	if p.id.Role == RoleHost {
		p.session.Send(r.lobbyLocked())
	}
}

// resumeLocked gives a joined user's place to their new connection s: same role (the
// room's, which a host may have changed since), no lobby, and no participant_left or
// participant_joined for the others. The old connection's media ends here (the others
// stop receiving its tracks); s negotiates anew and publishes again.
func (r *Room) resumeLocked(old *Participant, s Session, id Identity) *Participant {
	connected := old.grace == nil
	old.stopGrace()
	r.unpublishAllLocked(old)
	if connected {
		old.session.Send(Removed{})
		old.session.Close()
	}
	old.state = stateGone
	p := &Participant{
		session: s,
		id:      Identity{UserID: id.UserID, Username: id.Username, Role: old.id.Role},
		state:   stateJoined,
		tracks:  map[string]PublishedTrack{},
	}
	r.participants[id.UserID] = p
	s.Send(Joined{Role: p.id.Role, Participants: r.joinedInfosLocked(), ICEServers: r.iceServersFor(p)})
	r.startLocked(p)
	return p
}

// Disconnect handles a connection that dropped without a "leave". A joined participant
// keeps their place for ReconnectGrace: their tracks stop at once (the media connection is
// gone), but they stay in the room until the grace ends or they resume. Anyone else (in
// the lobby, or with no grace configured) leaves at once.
func (r *Room) Disconnect(p *Participant) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.participants[p.id.UserID] != p || p.state == stateGone || p.grace != nil {
		return
	}
	if p.state != stateJoined || r.p.ReconnectGrace <= 0 {
		r.dropLocked(p)
		r.closeIfAbandonedLocked()
		return
	}
	r.unpublishAllLocked(p)
	// Nothing can reach the user until they come back, and on return they get the whole
	// state afresh.
	p.session = detached{}
	p.grace = time.AfterFunc(r.p.ReconnectGrace, func() { r.graceExpired(p) })
}

// graceExpired removes a participant who did not come back in time, as if they had left.
func (r *Room) graceExpired(p *Participant) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.participants[p.id.UserID] != p || p.grace == nil {
		return
	}
	p.grace = nil
	r.dropLocked(p)
	r.closeIfAbandonedLocked()
}

// detached stands in for the connection of a participant whose place is kept: what the
// room tells them meanwhile is dropped.
type detached struct{}

func (detached) Send(Message)               {}
func (detached) StartMedia()                {}
func (detached) Subscribe(PublishedTrack)   {}
func (detached) Unsubscribe(trackID string) {}
func (detached) Close()                     {}

func (p *Participant) stopGrace() {
	if p.grace != nil {
		p.grace.Stop()
		p.grace = nil
	}
}

// unpublishAllLocked stops every track p publishes and tells the others what they now
// receive.
func (r *Room) unpublishAllLocked(p *Participant) {
	if len(p.tracks) == 0 {
		return
	}
	tracks := sortedTracks(p)
	clear(p.tracks)
	others := slices.DeleteFunc(r.joinedLocked(), func(q *Participant) bool { return q == p })
	for _, q := range others {
		for _, t := range tracks {
			q.session.Unsubscribe(t.Info().TrackID)
		}
		q.session.Send(Tracks{Tracks: r.tracksForLocked(q)})
	}
}

// Leave removes p: they closed the socket, sent "leave", or their media failed.
func (r *Room) Leave(p *Participant) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.participants[p.id.UserID] != p || p.state == stateGone {
		return
	}
	r.dropLocked(p)
	r.closeIfAbandonedLocked()
}

// dropLocked takes p out of the room and tells the others.
func (r *Room) dropLocked(p *Participant) {
	prev := p.state
	p.state = stateGone
	p.stopGrace()
	delete(r.participants, p.id.UserID)
	switch prev {
	case stateWaiting:
		r.lobbyChangedLocked()
	case stateJoined:
		if r.speaker == p.id.UserID {
			r.speaker = ""
		}
		others := r.joinedLocked()
		for _, t := range sortedTracks(p) {
			for _, q := range others {
				q.session.Unsubscribe(t.Info().TrackID)
			}
		}
		for _, q := range others {
			q.session.Send(ParticipantLeft{UserID: p.id.UserID})
			if len(p.tracks) > 0 {
				q.session.Send(Tracks{Tracks: r.tracksForLocked(q)})
			}
		}
		r.headCountChangedLocked()
	}
}

// Admit lets a waiting user in (hosts only).
func (r *Room) Admit(actor *Participant, userID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.requireHostLocked(actor); err != nil {
		return err
	}
	p := r.participants[userID]
	if p == nil || p.state != stateWaiting {
		return ErrNotWaiting
	}
	r.enterLocked(p)
	return nil
}

// AdmitAll lets everyone in the lobby in, in the order they arrived (hosts only).
func (r *Room) AdmitAll(actor *Participant) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.requireHostLocked(actor); err != nil {
		return err
	}
	for _, p := range r.waitingLocked() {
		r.enterLocked(p)
	}
	return nil
}

// Deny refuses a waiting user (hosts only); they stay connected and may ask again.
func (r *Room) Deny(actor *Participant, userID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.requireHostLocked(actor); err != nil {
		return err
	}
	p := r.participants[userID]
	if p == nil || p.state != stateWaiting {
		return ErrNotWaiting
	}
	p.state = stateDenied
	p.session.Send(Denied{})
	r.lobbyChangedLocked()
	return nil
}

// SetRole promotes a participant to host or demotes a host (hosts only). The room always
// keeps a host while it has one: the last host in it cannot be demoted.
func (r *Room) SetRole(actor *Participant, userID string, role Role) error {
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.requireHostLocked(actor); err != nil {
		return err
	}
	p := r.participants[userID]
	if p == nil || p.state != stateJoined {
		return ErrNotInRoom
	}
	if p.id.Role == role {
		return nil
	}
	if role == RoleParticipant && r.hostCountLocked() == 1 {
		return ErrLastHost
	}
	p.id.Role = role
	for _, q := range r.joinedLocked() {
		q.session.Send(RoleChanged{UserID: userID, Role: role})
	}
	if role == RoleHost {
		p.session.Send(r.lobbyLocked())
	}
	return nil
}

// Remove takes a user out of the room or the lobby (hosts only). Their connection and
// media stop at once; coming back takes a host's admission, even without a waiting room.
func (r *Room) Remove(actor *Participant, userID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.requireHostLocked(actor); err != nil {
		return err
	}
	if userID == actor.id.UserID {
		return ErrSelf
	}
	p := r.participants[userID]
	if p == nil {
		return ErrNotInRoom
	}
	r.removed[userID] = true
	delete(r.admitted, userID)
	r.dropLocked(p)
	p.session.Send(Removed{})
	p.session.Close()
	return nil
}

// End ends the conference for everyone (hosts only).
func (r *Room) End(actor *Participant) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.requireHostLocked(actor); err != nil {
		return err
	}
	r.endLocked()
	return nil
}

// Close ends the room because its conference was deleted.
func (r *Room) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.endLocked()
	}
}

// SetWaitingRoom applies a host's edit of the conference. Turning the waiting room off lets
// in everyone waiting, except those a host removed.
func (r *Room) SetWaitingRoom(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.waitingRoom = on
	if on {
		return
	}
	for _, p := range r.waitingLocked() {
		if !r.removed[p.id.UserID] {
			r.enterLocked(p)
		}
	}
}

// Publish adds a track p sends; every other participant starts receiving it.
func (r *Room) Publish(p *Participant, t PublishedTrack) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	// A track of a connection that dropped is late: that connection's media is closing.
	if p.state != stateJoined || r.participants[p.id.UserID] != p || p.grace != nil {
		return ErrNotJoined
	}
	id := t.Info().TrackID
	if _, dup := p.tracks[id]; dup {
		return ErrDuplicateTrack
	}
	p.tracks[id] = t
	for _, q := range r.joinedLocked() {
		if q != p {
			q.session.Subscribe(t)
			q.session.Send(Tracks{Tracks: r.tracksForLocked(q)})
		}
	}
	return nil
}

// Unpublish removes a track p stopped sending.
func (r *Room) Unpublish(p *Participant, trackID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := p.tracks[trackID]; !ok {
		return ErrUnknownTrack
	}
	delete(p.tracks, trackID)
	if p.state != stateJoined {
		return nil
	}
	for _, q := range r.joinedLocked() {
		if q != p {
			q.session.Unsubscribe(trackID)
			q.session.Send(Tracks{Tracks: r.tracksForLocked(q)})
		}
	}
	return nil
}

// Role returns p's current role.
func (r *Room) Role(p *Participant) Role {
	r.mu.Lock()
	defer r.mu.Unlock()
	return p.id.Role
}

// Joined reports whether p is in the room (not waiting, denied or gone).
func (r *Room) Joined(p *Participant) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return p.state == stateJoined
}

// Snapshot returns who is in the room and who waits, for tests and diagnostics.
func (r *Room) Snapshot() (joined []ParticipantInfo, waiting []LobbyEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.joinedInfosLocked(), r.lobbyLocked().Waiting
}

func (r *Room) requireHostLocked(actor *Participant) error {
	if r.closed {
		return ErrRoomClosed
	}
	if actor.state != stateJoined || r.participants[actor.id.UserID] != actor {
		return ErrNotJoined
	}
	if actor.id.Role != RoleHost {
		return ErrNotHost
	}
	return nil
}

// headCountChangedLocked reports the head count and runs the empty-room timer: a live room
// nobody is in ends after EmptyTimeout unless someone comes back.
func (r *Room) headCountChangedLocked() {
	n := len(r.joinedLocked())
	if n > 0 {
		r.live = true
		if r.emptyStop != nil {
			r.emptyStop.Stop()
			r.emptyStop = nil
		}
	}
	if !r.live {
		return
	}
	if r.p.Observer != nil {
		r.p.Observer.Live(r.p.ConferenceID, n)
	}
	if n == 0 && r.emptyStop == nil && r.p.EmptyTimeout > 0 {
		r.emptyGen++
		gen := r.emptyGen
		r.emptyStop = time.AfterFunc(r.p.EmptyTimeout, func() { r.emptyTimeout(gen) })
	}
}

// emptyTimeout ends the room unless the timer was stopped meanwhile: a stopped timer may
// already have fired, so the generation tells a current timer from a stale one.
func (r *Room) emptyTimeout(gen uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.emptyStop == nil || r.emptyGen != gen || len(r.joinedLocked()) > 0 {
		return
	}
	r.p.Log.Info("room ended: empty", "conference_id", r.p.ConferenceID)
	r.endLocked()
}

func (r *Room) endLocked() {
	r.closeLocked()
	for _, p := range r.allLocked() {
		p.state = stateGone
		p.session.Send(Ended{})
		p.session.Close()
	}
	clear(r.participants)
	if r.p.Observer != nil {
		r.p.Observer.Ended(r.p.ConferenceID)
	}
	if r.p.OnClosed != nil {
		r.p.OnClosed(r, true)
	}
}

// Shutdown closes every connection without ending the conference: the process is
// stopping, and the clients reconnect to another instance.
func (r *Room) Shutdown() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.closeLocked()
	for _, p := range r.allLocked() {
		p.state = stateGone
		p.session.Close()
	}
	clear(r.participants)
	if r.live && r.p.Observer != nil {
		r.p.Observer.Live(r.p.ConferenceID, 0)
	}
	if r.p.OnClosed != nil {
		r.p.OnClosed(r, false)
	}
}

// closeIfAbandonedLocked lets the registry forget a room that never went live once nobody
// is connected to it any more: the conference is still just scheduled.
func (r *Room) closeIfAbandonedLocked() {
	if r.live || r.closed || len(r.participants) > 0 {
		return
	}
	r.closeLocked()
	if r.p.OnClosed != nil {
		r.p.OnClosed(r, false)
	}
}

func (r *Room) lobbyChangedLocked() {
	lobby := r.lobbyLocked()
	for _, q := range r.joinedLocked() {
		if q.id.Role == RoleHost {
			q.session.Send(lobby)
		}
	}
}

func (r *Room) lobbyLocked() Lobby {
	waiting := r.waitingLocked()
	l := Lobby{Waiting: make([]LobbyEntry, len(waiting))}
	for i, p := range waiting {
		l.Waiting[i] = LobbyEntry{UserID: p.id.UserID, Username: p.id.Username}
	}
	return l
}

func (r *Room) hostCountLocked() int {
	n := 0
	for _, p := range r.joinedLocked() {
		if p.id.Role == RoleHost {
			n++
		}
	}
	return n
}

// allLocked returns every participant in a stable order (by user id).
func (r *Room) allLocked() []*Participant {
	out := make([]*Participant, 0, len(r.participants))
	for _, p := range r.participants {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Participant) int { return strings.Compare(a.id.UserID, b.id.UserID) })
	return out
}

func (r *Room) joinedLocked() []*Participant {
	all := r.allLocked()
	return slices.DeleteFunc(all, func(p *Participant) bool { return p.state != stateJoined })
}

// waitingLocked returns the lobby in arrival order.
func (r *Room) waitingLocked() []*Participant {
	all := r.allLocked()
	all = slices.DeleteFunc(all, func(p *Participant) bool { return p.state != stateWaiting })
	slices.SortFunc(all, func(a, b *Participant) int { return cmp.Compare(a.waitOrder, b.waitOrder) })
	return all
}

func (r *Room) joinedInfosLocked() []ParticipantInfo {
	joined := r.joinedLocked()
	out := make([]ParticipantInfo, len(joined))
	for i, p := range joined {
		out[i] = info(p)
	}
	return out
}

// tracksForLocked is every track p receives: all tracks of the others in the room.
func (r *Room) tracksForLocked(p *Participant) []TrackInfo {
	out := []TrackInfo{}
	for _, q := range r.joinedLocked() {
		if q == p {
			continue
		}
		for _, t := range sortedTracks(q) {
			out = append(out, t.Info())
		}
	}
	return out
}

func (r *Room) iceServersFor(p *Participant) []ICEServer {
	var out []ICEServer
	if r.p.ICEServers != nil {
		out = r.p.ICEServers(p.id.UserID)
	}
	if out == nil {
		return []ICEServer{}
	}
	return out
}

func info(p *Participant) ParticipantInfo {
	return ParticipantInfo{UserID: p.id.UserID, Username: p.id.Username, Role: p.id.Role}
}

func sortedTracks(p *Participant) []PublishedTrack {
	out := make([]PublishedTrack, 0, len(p.tracks))
	for _, t := range p.tracks {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b PublishedTrack) int { return strings.Compare(a.Info().TrackID, b.Info().TrackID) })
	return out
}
