package sfu

import "sync"

// maxPacketSize bounds an RTP packet over UDP on a typical path (MTU 1500).
const maxPacketSize = 1500

// PacketCache keeps the last packets of one published track by sequence number, so that a
// subscriber's NACK is answered from the SFU instead of asking the publisher again.
type PacketCache struct {
	mu    sync.Mutex
	slots []cacheSlot
}

type cacheSlot struct {
	seq   uint16
	valid bool
	n     int
	buf   [maxPacketSize]byte
}

// NewPacketCache keeps up to size packets (about 1.5 s of 1 Mbps video for 128).
func NewPacketCache(size int) *PacketCache {
	return &PacketCache{slots: make([]cacheSlot, size)}
}

// Push stores a copy of the raw packet with sequence number seq; oversized packets are
// not cached (they could not have been sent whole either).
func (c *PacketCache) Push(seq uint16, raw []byte) {
	if len(raw) > maxPacketSize {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.slots[int(seq)%len(c.slots)]
	s.seq, s.valid, s.n = seq, true, copy(s.buf[:], raw)
}

// Get copies the packet with sequence number seq into dst and returns its length, or false
// when it is no longer (or never was) in the cache.
func (c *PacketCache) Get(seq uint16, dst []byte) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.slots[int(seq)%len(c.slots)]
	if !s.valid || s.seq != seq {
		return 0, false
	}
	return copy(dst, s.buf[:s.n]), true
}
