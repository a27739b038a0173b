// Package logbatch gathers the gateway's log lines into few large writes. The gateway
// logs one access line per request; written one by one, those lines cost a write system
// call each on the request path, a fifth of the socket work of a proxied request.
package logbatch

import (
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Params configures a Writer.
type Params struct {
	// Out receives the batches (os.Stdout).
	Out io.Writer
	// FlushEvery bounds how long a line waits before it is written (default 100 ms).
	FlushEvery time.Duration
	// FlushAt starts a write early once this many bytes are pending (default 64 KiB).
	FlushAt int
	// MaxPending bounds the bytes held while Out is slow (default 8 MiB); lines beyond it
	// are dropped and counted rather than making requests wait for the log.
	MaxPending int
}

// Writer is an io.Writer whose Write only appends to memory: a goroutine of its own writes
// what gathered every FlushEvery, or sooner once FlushAt bytes are pending. Each Write
// must be whole lines (slog handlers write one record per call), so that a batch never
// splits a line. After Close, writes go straight to Out, so nothing logged during
// shutdown is lost.
type Writer struct {
	p       Params
	mu      sync.Mutex
	pending []byte
	spare   []byte
	closed  bool
	dropped atomic.Int64
	// lost counts the lines dropped since the last notice was written.
	lost  int64
	kick  chan struct{}
	done  chan struct{}
	outMu sync.Mutex
}

// New starts a Writer; Close flushes and stops it.
func New(p Params) *Writer {
	if p.FlushEvery <= 0 {
		p.FlushEvery = 100 * time.Millisecond
	}
	if p.FlushAt <= 0 {
		p.FlushAt = 64 << 10
	}
	if p.MaxPending <= 0 {
		p.MaxPending = 8 << 20
	}
	w := &Writer{p: p, kick: make(chan struct{}, 1), done: make(chan struct{})}
	go w.run()
	return w
}

// Write appends p to the pending batch; it never waits for Out.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		w.outMu.Lock()
		defer w.outMu.Unlock()
		return w.p.Out.Write(p)
	}
	if len(w.pending)+len(p) > w.p.MaxPending {
		w.lost++
		w.mu.Unlock()
		w.dropped.Add(1)
		return len(p), nil
	}
	w.pending = append(w.pending, p...)
	full := len(w.pending) >= w.p.FlushAt
	w.mu.Unlock()
	if full {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// Dropped returns how many lines were dropped because Out could not keep up.
func (w *Writer) Dropped() int64 { return w.dropped.Load() }

// Flush writes what is pending now.
func (w *Writer) Flush() error {
	w.outMu.Lock()
	defer w.outMu.Unlock()
	w.mu.Lock()
	batch := w.pending
	w.pending = w.spare[:0]
	lost := w.lost
	w.lost = 0
	w.mu.Unlock()
	var err error
	if len(batch) > 0 {
		_, err = w.p.Out.Write(batch)
	}
	if lost > 0 && err == nil {
		_, err = io.WriteString(w.p.Out, `{"level":"WARN","msg":"log lines dropped: output too slow","dropped":`+strconv.FormatInt(lost, 10)+"}\n")
	}
	w.mu.Lock()
	// Keep the larger buffer for reuse, unless a burst made it huge.
	if cap(batch) <= 4*w.p.FlushAt {
		w.spare = batch[:0]
	} else {
		w.spare = nil
	}
	w.mu.Unlock()
	return err
}

// Close writes what is pending and makes later writes go straight to Out.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	close(w.done)
	return w.Flush()
}

func (w *Writer) run() {
	t := time.NewTicker(w.p.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
		case <-w.kick:
		}
		_ = w.Flush()
	}
}
