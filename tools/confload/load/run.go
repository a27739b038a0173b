// Package load puts an SFU under conference load: rooms of participants that each publish
// synthetic Opus and VP8 and subscribe to everyone else, measured the same way whatever the
// server. A server is reached through a driver (Server); the media, the measurement and the
// report are shared, so two servers driven by this package are compared like for like.
package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// Server is one SFU under test, as a driver connects to it.
type Server interface {
	// Name labels the server in reports.
	Name() string
	// Pid is the server process whose CPU time is measured.
	Pid() int
	// NewRoom prepares a room that size participants will join.
	NewRoom(ctx context.Context, size int) (Room, error)
}

// Room is a conference on one server.
type Room interface {
	// Name identifies the room in errors (a conference id, a room name).
	Name() string
	// Join connects p: the driver calls p.Publish with its local tracks, p.KeyframeRequested
	// on a PLI/FIR for the video, p.Receive for every remote track, and registers its
	// cleanup with p.OnClose. It returns once the participant is in the room.
	Join(ctx context.Context, p *Peer) error
}

// Params shape one run.
type Params struct {
	Rooms    int
	RoomSize int
	Media    MediaParams
	// Warmup runs between "every subscriber receives every track" and the measurement.
	Warmup time.Duration
	// Duration is the measurement window.
	Duration time.Duration
	// FlowTimeout bounds the wait for every track to reach every subscriber; a run that
	// times out is measured anyway and shows the missing tracks as loss.
	FlowTimeout time.Duration
	// JoinTimeout bounds one participant's join.
	JoinTimeout time.Duration
	// Progress receives a line per ProgressEvery while the run goes (nil: none).
	Progress      io.Writer
	ProgressEvery time.Duration
}

// Defaults fills the zero fields.
func (p Params) Defaults() Params {
	if p.Media == (MediaParams{}) {
		p.Media = DefaultMedia()
	}
	if p.Warmup == 0 {
		p.Warmup = 2 * time.Second
	}
	if p.Duration == 0 {
		p.Duration = 10 * time.Second
	}
	if p.FlowTimeout == 0 {
		p.FlowTimeout = 30 * time.Second
	}
	if p.JoinTimeout == 0 {
		p.JoinTimeout = 20 * time.Second
	}
	if p.ProgressEvery == 0 {
		p.ProgressEvery = 2 * time.Second
	}
	if p.Progress == nil {
		p.Progress = io.Discard
	}
	return p
}

func (p Params) validate() error {
	switch {
	case p.Rooms < 1:
		return fmt.Errorf("%w: rooms must be at least 1", ErrBadParams)
	case p.RoomSize < 2:
		return fmt.Errorf("%w: a room needs at least 2 participants", ErrBadParams)
	case p.Media.FPS < 1 || p.Media.VideoBitrate < 8*p.Media.FPS*100 || p.Media.MaxPayload < 100 || p.Media.KeyframeInterval <= 0:
		return fmt.Errorf("%w: media %+v", ErrBadParams, p.Media)
	}
	return nil
}

// Run joins p.Rooms rooms of p.RoomSize participants on srv, waits until every track flows,
// measures for p.Duration and leaves. The error is for a run that could not be set up (a
// join that failed); a run whose media did not all flow is reported with its loss.
func Run(ctx context.Context, srv Server, p Params) (Report, error) {
	p = p.Defaults()
	rep := Report{Server: srv.Name(), Rooms: p.Rooms, RoomSize: p.RoomSize}
	if err := p.validate(); err != nil {
		return rep, err
	}
	win := &window{}
	var peers []*Peer
	var peersMu sync.Mutex
	defer func() {
		var wg sync.WaitGroup
		for _, pe := range peers {
			wg.Go(pe.close)
		}
		wg.Wait()
	}()

	// Rooms join two at a time, the participants of one room one after the other, as people
	// arrive at a meeting.
	fmt.Fprintf(p.Progress, "%s: joining %d rooms × %d participants\n", srv.Name(), p.Rooms, p.RoomSize)
	errs := make(chan error, p.Rooms)
	sem := make(chan struct{}, 2)
	for r := range p.Rooms {
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			room, err := srv.NewRoom(ctx, p.RoomSize)
			if err != nil {
				errs <- fmt.Errorf("room %d: %w", r, err)
				return
			}
			for i := range p.RoomSize {
				pe := newPeer(i, p.RoomSize, p.Media, win)
				peersMu.Lock()
				peers = append(peers, pe)
				peersMu.Unlock()
				jctx, cancel := context.WithTimeout(ctx, p.JoinTimeout)
				err := room.Join(jctx, pe)
				cancel()
				if err != nil {
					errs <- fmt.Errorf("room %d (%s) participant %d: %w", r, room.Name(), i, err)
					return
				}
			}
			errs <- nil
		}()
	}
	var joinErr error
	for range p.Rooms {
		joinErr = errors.Join(joinErr, <-errs)
	}
	if joinErr != nil {
		return rep, joinErr
	}

	wantTracks := int32(2 * (p.RoomSize - 1))
	flowing := func() (ok, total int) {
		for _, pe := range peers {
			total++
			if pe.tracks.Load() >= wantTracks {
				ok++
			}
		}
		return ok, total
	}
	deadline := time.Now().Add(p.FlowTimeout)
	for {
		ok, total := flowing()
		if ok == total {
			break
		}
		if time.Now().After(deadline) {
			rep.Incomplete = fmt.Sprintf("%d of %d participants received every track after %v", ok, total, p.FlowTimeout)
			fmt.Fprintf(p.Progress, "%s: %s; measuring anyway\n", srv.Name(), rep.Incomplete)
			break
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return rep, err
		}
	}
	if err := sleep(ctx, p.Warmup); err != nil {
		return rep, err
	}

	cpu0, err := ProcessCPU(srv.Pid())
	if err != nil {
		return rep, err
	}
	self0, err := ProcessCPU(os.Getpid())
	if err != nil {
		return rep, err
	}
	start := time.Now()
	win.start.Store(max(now(), 1))
	lastRx, lastAt := uint64(0), start
	for end := start.Add(p.Duration); time.Now().Before(end); {
		if err := sleep(ctx, min(p.ProgressEvery, time.Until(end))); err != nil {
			return rep, err
		}
		rx, at := win.received.Load(), time.Now()
		// Loss is left for the end of the window: packets still in flight would count as lost.
		fmt.Fprintf(p.Progress, "%s: %3.0fs  %7.0f pkt/s forwarded  p50 %v  p99 %v  load %s\n", srv.Name(),
			at.Sub(start).Seconds(), float64(rx-lastRx)/at.Sub(lastAt).Seconds(), win.quantile(0.5), win.quantile(0.99), loadAvg())
		lastRx, lastAt = rx, at
	}
	win.end.Store(now())
	wall := time.Since(start)
	cpu1, err := ProcessCPU(srv.Pid())
	if err != nil {
		return rep, err
	}
	self1, err := ProcessCPU(os.Getpid())
	if err != nil {
		return rep, err
	}
	rep.LoadToolCores = (self1 - self0).Seconds() / wall.Seconds()
	// Packets sent at the end of the window are still on their way.
	if err := sleep(ctx, 500*time.Millisecond); err != nil {
		return rep, err
	}
	rep.fill(win, wall, cpu1-cpu0)
	return rep, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Report is what one run measured.
type Report struct {
	Server   string
	Rooms    int
	RoomSize int
	// Streams is the number of forwarded (publisher track, subscriber) pairs.
	Streams int
	Wall    time.Duration
	// SentPPS is what the publishers sent; ForwardedPPS and ForwardedMbps what the
	// subscribers received of it (RTP packets and bytes, headers included).
	SentPPS       float64
	ForwardedPPS  float64
	ForwardedMbps float64
	// ServerCores is the server's CPU time over the window per wall second; CPUPerPacket
	// the server CPU time per forwarded packet; PacketsPerCPUSecond its inverse.
	ServerCores         float64
	CPUPerPacket        time.Duration
	PacketsPerCPUSecond float64
	// LoadToolCores is this process's CPU (all the simulated clients) per wall second: on a
	// small machine the clients, not the server, may be the limit.
	LoadToolCores float64
	// P50 and P99 are send→receive latencies of the forwarded packets.
	P50, P99 time.Duration
	// Loss is the share of expected deliveries that never arrived (in the window plus a
	// 500 ms grace).
	Loss float64
	// StalePPS is what arrived during the window per second but had been sent before it
	// opened: next to ForwardedPPS it shows a server that queues rather than drops (a few
	// per second straddle the window's start anyway).
	StalePPS float64
	// JoinMedian and JoinP95: join → first media received, for everyone but each room's
	// first participant (who has no one to receive yet).
	JoinMedian, JoinP95 time.Duration
	Joins               int
	// LoadAvg is the machine's 1-minute load average at the end of the run.
	LoadAvg string
	// Incomplete says which tracks never flowed ("" when all did).
	Incomplete string
}

func (r *Report) fill(w *window, wall, cpu time.Duration) {
	sec := wall.Seconds()
	rx := w.received.Load()
	r.Streams = r.Rooms * r.RoomSize * (r.RoomSize - 1) * 2
	r.Wall = wall
	r.SentPPS = float64(w.sent.Load()) / sec
	r.ForwardedPPS = float64(rx) / sec
	r.ForwardedMbps = float64(w.recvBytes.Load()) * 8 / sec / 1e6
	r.ServerCores = cpu.Seconds() / sec
	if rx > 0 {
		r.CPUPerPacket = cpu / time.Duration(rx)
	}
	if cpu > 0 {
		r.PacketsPerCPUSecond = float64(rx) / cpu.Seconds()
	}
	r.P50, r.P99 = w.quantile(0.50), w.quantile(0.99)
	r.Loss = w.loss()
	r.StalePPS = float64(w.stale.Load()) / sec
	w.mu.Lock()
	joins := slices.Clone(w.joins)
	w.mu.Unlock()
	slices.Sort(joins)
	r.Joins = len(joins)
	if len(joins) > 0 {
		r.JoinMedian = joins[len(joins)/2]
		r.JoinP95 = joins[min(len(joins)*95/100, len(joins)-1)]
	}
	r.LoadAvg = loadAvg()
}

// Saturated reports whether the run hit a limit of the step mode: more than 1 % loss, a p99
// above 100 ms, or media that never flowed.
func (r Report) Saturated() bool {
	return r.Loss > 0.01 || r.P99 > 100*time.Millisecond || r.Incomplete != ""
}

func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
