// Package realtime delivers events to the sockets of this instance: a Hub follows the bus
// topics of the users connected here, and each Session queues frames for one socket, in seq
// order per chat, without ever blocking the Hub on a slow client.
package realtime

// chatCursor orders one chat's messages for one socket. Seqs are gap-free, and a message
// with seq s is only published after every seq below s is committed, so a frame ahead of
// next means some are still in flight between instances (or were lost by the at-most-once
// bus): it waits in pending until they come or are read from the database.
type chatCursor struct {
	// next is the seq to deliver next; 0 until the first frame or the socket's starting
	// position says where this chat is.
	next    int64
	pending map[int64][]byte
	// replaying is set while frames come from the database (resume or gap repair): live
	// frames wait in pending so that the two streams do not interleave out of order.
	replaying bool
	// repairScheduled is set while a gap repair is pending.
	repairScheduled bool
}

// offer takes a live frame and returns the frames now deliverable in order.
func (c *chatCursor) offer(seq int64, frame []byte) [][]byte {
	if c.next == 0 {
		// Nothing known about this chat on this socket (a chat joined after connecting):
		// start with the first frame seen.
		c.next = seq
	}
	if seq < c.next {
		return nil
	}
	if c.replaying || seq > c.next {
		if c.pending == nil {
			c.pending = map[int64][]byte{}
		}
		c.pending[seq] = frame
		return nil
	}
	return c.advance(frame)
}

// advance delivers frame (which has seq next) and whatever pending frames follow it.
func (c *chatCursor) advance(frame []byte) [][]byte {
	out := [][]byte{frame}
	c.next++
	for {
		f, ok := c.pending[c.next]
		if !ok {
			break
		}
		delete(c.pending, c.next)
		out = append(out, f)
		c.next++
	}
	return out
}

// flush drops pending frames already passed and returns those that now follow in order;
// it runs when a replay ends.
func (c *chatCursor) flush() [][]byte {
	for seq := range c.pending {
		if seq < c.next {
			delete(c.pending, seq)
		}
	}
	f, ok := c.pending[c.next]
	if !ok {
		return nil
	}
	delete(c.pending, c.next)
	return c.advance(f)
}

// hasGap reports whether frames wait for missing seqs.
func (c *chatCursor) hasGap() bool { return len(c.pending) > 0 }
