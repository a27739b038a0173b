package realtime

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/convene/convene/messages-svc/internal/wire"
)

// Close codes the server ends a socket with, besides the standard ones.
const (
	// CloseSlowConsumer: the client did not read fast enough; it reconnects and resumes.
	CloseSlowConsumer = 4008
)

// ErrClosed is returned by operations on a session that has ended.
var ErrClosed = errors.New("realtime: session closed")

// ReplayPage is how many messages a replay reads from the database at a time.
const ReplayPage = 200

// SeqFrame is a message frame with its seq, as a replay reads it from the database.
type SeqFrame struct {
	Seq   int64
	Frame []byte
}

// Fetcher reads a page of a chat's messages after a seq, ascending, as frames; more says
// another page follows. It checks that the user is still a member.
type Fetcher func(ctx context.Context, userID, chatID string, afterSeq int64, limit int) (frames []SeqFrame, more bool, err error)

// SessionParams configures one socket's delivery.
type SessionParams struct {
	UserID string
	// MaxQueue is how many frames may wait for the socket; beyond it the client is too slow
	// and is disconnected with CloseSlowConsumer.
	MaxQueue int
	// GapTimeout is how long a frame ahead of a missing seq waits before the missing ones
	// are read from the database.
	GapTimeout time.Duration
	Fetch      Fetcher
	// OnRepairError reports a failed gap repair (the socket goes on; a later frame or a
	// resume retries).
	OnRepairError func(chatID string, err error)
	// Notify is called when frames are queued, for the socket's writer to Take them. It
	// runs with the session locked: it must not call the session, only start the writer.
	Notify func()
	// OnClose is called once, when the session ends, under the same rule as Notify; the
	// socket then sends CloseStatus and closes.
	OnClose func()
}

// Session is the delivery side of one client socket: a bounded queue of frames, per-chat
// ordering, and replays from the database. Deliver and Send never block.
type Session struct {
	p SessionParams
	// ctx ends with the session; replays and repairs run in it.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	queue   [][]byte
	cursors map[string]*chatCursor
	// early holds frames that arrived before the socket's starting positions were known.
	early       []wire.Envelope
	ready       bool
	closed      bool
	closeCode   int
	closeReason string

	// room tells a waiting replay that the writer took some frames; done is closed when
	// the session ends. There is no channel for the writer: an idle socket has no writer
	// goroutine waiting, Notify starts one when there is something to write.
	room chan struct{}
	done chan struct{}

	// replayMu runs one replay at a time per socket.
	replayMu sync.Mutex
}

// NewSession returns a session that buffers live frames until Start gives it the chats'
// starting positions. ctx (carrying the user's identity) bounds its replays.
func NewSession(ctx context.Context, p SessionParams) *Session {
	ctx, cancel := context.WithCancel(ctx)
	return &Session{
		p:      p,
		ctx:    ctx,
		cancel: cancel,
		room:   make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
}

// UserID is the socket's user.
func (s *Session) UserID() string { return s.p.UserID }

// Done is closed when the session ends.
func (s *Session) Done() <-chan struct{} { return s.done }

// CloseStatus returns the close code and reason the session ended with.
func (s *Session) CloseStatus() (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeCode, s.closeReason
}

// Start sets where each chat starts on this socket: messages after lastSeq[chat] are
// delivered live; older ones only by resume. Chats not listed start at their first live
// frame. Frames that arrived before Start are then delivered.
func (s *Session) Start(lastSeq map[string]int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.ready {
		return
	}
	s.cursors = make(map[string]*chatCursor, len(lastSeq))
	for chat, seq := range lastSeq {
		s.cursors[chat] = &chatCursor{next: seq + 1}
	}
	s.ready = true
	for _, env := range s.early {
		s.offerLocked(env)
	}
	s.early = nil
}

// Deliver takes a frame from the bus.
func (s *Session) Deliver(env wire.Envelope) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if !s.ready {
		if len(s.early) >= s.p.MaxQueue {
			s.closeLocked(CloseSlowConsumer, "slow consumer: resume to catch up")
			return
		}
		s.early = append(s.early, env)
		return
	}
	s.offerLocked(env)
}

// Send queues a frame for this socket only (ack, error).
func (s *Session) Send(frame []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.pushLocked(frame)
	}
}

// Close ends the session with a close code; the writer sends it and stops.
func (s *Session) Close(code int, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeLocked(code, reason)
}

func (s *Session) closeLocked(code int, reason string) {
	if s.closed {
		return
	}
	s.closed = true
	s.closeCode, s.closeReason = code, reason
	s.queue = nil
	s.cancel()
	close(s.done)
	if s.p.OnClose != nil {
		s.p.OnClose()
	}
}

func (s *Session) offerLocked(env wire.Envelope) {
	if env.Seq == 0 {
		s.pushLocked(env.Frame)
		return
	}
	c := s.cursor(env.ChatID)
	for _, f := range c.offer(env.Seq, env.Frame) {
		s.pushLocked(f)
	}
	s.checkGapLocked(env.ChatID, c)
}

// checkGapLocked schedules a repair when frames wait for missing seqs, and gives up on a
// socket whose chat fell too far behind to hold.
func (s *Session) checkGapLocked(chatID string, c *chatCursor) {
	if !c.hasGap() || c.replaying || c.repairScheduled || s.closed {
		return
	}
	if len(c.pending) > s.p.MaxQueue {
		s.closeLocked(CloseSlowConsumer, "slow consumer: resume to catch up")
		return
	}
	c.repairScheduled = true
	time.AfterFunc(s.p.GapTimeout, func() { s.repair(chatID) })
}

func (s *Session) cursor(chatID string) *chatCursor {
	if s.cursors == nil {
		s.cursors = map[string]*chatCursor{}
	}
	c, ok := s.cursors[chatID]
	if !ok {
		c = &chatCursor{}
		s.cursors[chatID] = c
	}
	return c
}

func (s *Session) pushLocked(frame []byte) {
	if len(s.queue) >= s.p.MaxQueue {
		s.closeLocked(CloseSlowConsumer, "slow consumer: resume to catch up")
		return
	}
	s.queue = append(s.queue, frame)
	if s.p.Notify != nil {
		s.p.Notify()
	}
}

// Pending reports whether frames wait for Take.
func (s *Session) Pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue) > 0
}

// Take hands the queued frames to the socket's writer.
func (s *Session) Take() [][]byte {
	s.mu.Lock()
	frames := s.queue
	s.queue = nil
	s.mu.Unlock()
	select {
	case s.room <- struct{}{}:
	default:
	}
	return frames
}

// Resume replays a chat's messages after afterSeq from the database, in order, then goes
// on with live ones; what the socket already delivered after afterSeq comes again.
func (s *Session) Resume(chatID string, afterSeq int64) error {
	s.replayMu.Lock()
	defer s.replayMu.Unlock()
	return s.replay(chatID, afterSeq, true)
}

// repair fills a gap that outlived GapTimeout from the database.
func (s *Session) repair(chatID string) {
	s.replayMu.Lock()
	defer s.replayMu.Unlock()
	s.mu.Lock()
	c := s.cursor(chatID)
	c.repairScheduled = false
	gap, after := c.hasGap() && !s.closed, c.next-1
	s.mu.Unlock()
	if !gap {
		return
	}
	if err := s.replay(chatID, after, false); err != nil && !errors.Is(err, ErrClosed) && s.p.OnRepairError != nil {
		s.p.OnRepairError(chatID, err)
	}
}

// replay streams a chat from the database after afterSeq. Live frames of the chat wait in
// pending meanwhile and follow once the replay caught up. A client's resume rewinds the
// chat to afterSeq; a repair only fills in.
func (s *Session) replay(chatID string, afterSeq int64, rewind bool) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	c := s.cursor(chatID)
	c.replaying = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		c.replaying = false
		for _, f := range c.flush() {
			s.pushLocked(f)
		}
		s.checkGapLocked(chatID, c)
		s.mu.Unlock()
	}()
	after := afterSeq
	for first := true; ; first = false {
		frames, more, err := s.p.Fetch(s.ctx, s.p.UserID, chatID, after, ReplayPage)
		if err != nil {
			return err
		}
		if first && rewind {
			s.mu.Lock()
			c.next = afterSeq + 1
			s.mu.Unlock()
		}
		for _, f := range frames {
			if err := s.pushReplayed(c, f); err != nil {
				return err
			}
			after = f.Seq
		}
		if !more || len(frames) == 0 {
			return nil
		}
	}
}

// pushReplayed queues a replayed frame, waiting while the queue is half full so that a long
// replay follows the client's reading pace and leaves room for live frames of other chats.
func (s *Session) pushReplayed(c *chatCursor, f SeqFrame) error {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return ErrClosed
		}
		if f.Seq < c.next {
			s.mu.Unlock()
			return nil
		}
		if len(s.queue) < s.p.MaxQueue/2 {
			c.next = f.Seq + 1
			s.pushLocked(f.Frame)
			s.mu.Unlock()
			return nil
		}
		s.mu.Unlock()
		select {
		case <-s.room:
		case <-s.done:
			return ErrClosed
		}
	}
}
