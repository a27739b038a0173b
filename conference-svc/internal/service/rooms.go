package service

import (
	"errors"
	"sync"
	"time"

	"github.com/convene/convene/conference-svc/internal/domain"
	"github.com/convene/convene/conference-svc/internal/rtc"
)

// endedMemory is how long the registry remembers a conference that ended, so that a join
// racing with the recording of "ended" cannot open it again.
const endedMemory = 10 * time.Minute

var errRoomEnded = errors.New("conference ended")

// Rooms is the registry of this instance's live rooms, one per conference.
type Rooms struct {
	params func(domain.Conference) rtc.RoomParams

	mu    sync.Mutex
	rooms map[string]*rtc.Room
	ended map[string]time.Time
	// closedSince are the rooms closed since the last placementsDue, whose claims can go.
	closedSince map[string]bool
	// dormant are live conferences whose instance died and that this instance adopted
	// (claimed) with nobody in them, until the given time: the empty-room timeout they
	// would have had on their own instance. A join opens them as rooms here.
	dormant map[string]time.Time
}

// NewRooms returns an empty registry; params gives the settings of a new room.
func NewRooms(params func(domain.Conference) rtc.RoomParams) *Rooms {
	return &Rooms{
		params: params, rooms: map[string]*rtc.Room{}, ended: map[string]time.Time{},
		closedSince: map[string]bool{}, dormant: map[string]time.Time{},
	}
}

// Get returns the conference's room, opening it with the conference's settings.
func (r *Rooms) Get(c domain.Conference) (*rtc.Room, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.ended[c.ID]; ok {
		return nil, errRoomEnded
	}
	if room := r.rooms[c.ID]; room != nil {
		return room, nil
	}
	delete(r.dormant, c.ID)
	p := r.params(c)
	p.OnClosed = r.closed
	room := rtc.NewRoom(p)
	r.rooms[c.ID] = room
	return room, nil
}

// closed forgets a room that closed (called by the room, under its lock).
func (r *Rooms) closed(room *rtc.Room, ended bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := room.ConferenceID()
	if r.rooms[id] == room {
		delete(r.rooms, id)
		r.closedSince[id] = true
	}
	if !ended {
		return
	}
	now := time.Now()
	for k, at := range r.ended {
		if now.Sub(at) > endedMemory {
			delete(r.ended, k)
		}
	}
	r.ended[id] = now
}

// placementsDue returns the rooms open or dormant now (their claims to renew) and those
// closed since the last call and not reopened (their claims to release).
func (r *Rooms) placementsDue() (open, closed []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id := range r.rooms {
		open = append(open, id)
	}
	for id := range r.dormant {
		open = append(open, id)
	}
	for id := range r.closedSince {
		if r.rooms[id] == nil && r.dormant[id].IsZero() {
			closed = append(closed, id)
		}
	}
	clear(r.closedSince)
	return open, closed
}

func (r *Rooms) lookup(id string) *rtc.Room {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rooms[id]
}

// SettingsChanged implements app.LiveRooms.
func (r *Rooms) SettingsChanged(c domain.Conference) {
	if room := r.lookup(c.ID); room != nil {
		room.SetWaitingRoom(c.WaitingRoom)
	}
}

// Closed implements app.LiveRooms: the conferences were deleted.
func (r *Rooms) Closed(ids ...string) {
	for _, id := range ids {
		if room := r.lookup(id); room != nil {
			room.Close()
		}
	}
}

// Shutdown disconnects everyone without ending their conferences, and lets the dormant
// ones go for another instance to adopt.
func (r *Rooms) Shutdown() {
	r.mu.Lock()
	all := make([]*rtc.Room, 0, len(r.rooms))
	for _, room := range r.rooms {
		all = append(all, room)
	}
	for id := range r.dormant {
		r.closedSince[id] = true
	}
	clear(r.dormant)
	r.mu.Unlock()
	for _, room := range all {
		room.Shutdown()
	}
}

// Lost closes, without ending them, the rooms whose placement another instance holds now:
// their clients reconnect and reach the owner.
func (r *Rooms) Lost(ids ...string) {
	for _, id := range ids {
		r.mu.Lock()
		delete(r.dormant, id)
		room := r.rooms[id]
		r.mu.Unlock()
		if room != nil {
			room.Shutdown()
		}
	}
}

// Load is what this instance hosts: open rooms and the participants in them. Dormant rooms
// cost nothing until someone joins.
func (r *Rooms) Load() Load {
	r.mu.Lock()
	all := make([]*rtc.Room, 0, len(r.rooms))
	for _, room := range r.rooms {
		all = append(all, room)
	}
	r.mu.Unlock()
	l := Load{Rooms: len(all)}
	for _, room := range all {
		joined, _ := room.Snapshot()
		l.Participants += len(joined)
	}
	return l
}

// hosts reports whether the conference's room is open or dormant here.
func (r *Rooms) hosts(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rooms[id] != nil || !r.dormant[id].IsZero()
}

// adopt keeps a conference whose instance died as dormant until until, unless its room is
// open here or it ended. recorded runs under the registry's lock, so that its report comes
// before any report of a room a join opens next.
func (r *Rooms) adopt(id string, until time.Time, recorded func()) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ended := r.ended[id]; ended || r.rooms[id] != nil || !r.dormant[id].IsZero() {
		return false
	}
	r.dormant[id] = until
	recorded()
	return true
}

// expireDormant ends the dormant conferences nobody joined by now; ended runs for each
// under the registry's lock, so that a join racing with it finds the conference ended.
func (r *Rooms) expireDormant(now time.Time, ended func(id string)) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for id, until := range r.dormant {
		if now.Before(until) {
			continue
		}
		delete(r.dormant, id)
		r.ended[id] = now
		ended(id)
		out = append(out, id)
	}
	return out
}
