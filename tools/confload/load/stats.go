package load

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Latencies are kept in fixed 10 µs buckets up to one second (and one overflow bucket): an
// atomic add per packet, no lock on the receive path, exact enough for a p99 against 20 ms.
const (
	bucketWidth = 10 * time.Microsecond
	buckets     = int(time.Second / bucketWidth)
)

// window collects what happens to the packets sent during one measurement window. Packets are
// attributed by their send time, so a packet sent just before the window closes and received
// after it still counts, and nothing sent before it opens does.
type window struct {
	start, end atomic.Int64 // send-time bounds, nanoseconds since base; end 0 = open

	sent      atomic.Uint64 // packets published in the window
	expected  atomic.Uint64 // sent × the subscribers each should reach
	received  atomic.Uint64 // forwarded packets received, sent in the window
	recvBytes atomic.Uint64
	// stale counts packets received while the window is open that were sent before it
	// opened: a server that queues (a pacer behind its estimate) shows here, not as loss.
	stale   atomic.Uint64
	latency [buckets + 1]atomic.Uint64

	mu    sync.Mutex
	joins []time.Duration
}

func (w *window) in(t int64) bool {
	s := w.start.Load()
	if s == 0 || t < s {
		return false
	}
	e := w.end.Load()
	return e == 0 || t < e
}

func (w *window) countSent(sentAt int64, subscribers int) {
	if w.in(sentAt) {
		w.sent.Add(1)
		w.expected.Add(uint64(subscribers))
	}
}

func (w *window) countReceived(sentAt int64, size int, at int64) {
	if !w.in(sentAt) {
		if s := w.start.Load(); s != 0 && sentAt < s && w.end.Load() == 0 {
			w.stale.Add(1)
		}
		return
	}
	w.received.Add(1)
	w.recvBytes.Add(uint64(size))
	b := min(int(time.Duration(at-sentAt)/bucketWidth), buckets)
	w.latency[max(b, 0)].Add(1)
}

func (w *window) addJoin(d time.Duration) {
	w.mu.Lock()
	w.joins = append(w.joins, d)
	w.mu.Unlock()
}

// quantile returns the latency below which q of the received packets arrived (upper bucket
// edge; a packet in the overflow bucket reports one second).
func (w *window) quantile(q float64) time.Duration {
	var total uint64
	counts := make([]uint64, len(w.latency))
	for i := range w.latency {
		counts[i] = w.latency[i].Load()
		total += counts[i]
	}
	if total == 0 {
		return 0
	}
	// Nearest rank: the smallest latency that at least q of the packets did not exceed.
	rank := max(uint64(math.Ceil(q*float64(total))), 1)
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= rank {
			return time.Duration(i+1) * bucketWidth
		}
	}
	return time.Second
}

// loss is the share of expected deliveries that did not arrive.
func (w *window) loss() float64 {
	exp := w.expected.Load()
	if exp == 0 {
		return 0
	}
	rx := w.received.Load()
	if rx >= exp {
		return 0
	}
	return float64(exp-rx) / float64(exp)
}
