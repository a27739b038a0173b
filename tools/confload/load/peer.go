package load

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// Peer is one simulated participant's media, shared by every server driver: it generates the
// synthetic audio and video the driver publishes and measures the tracks the driver receives.
// A driver only connects it: it calls Publish with its two local tracks, KeyframeRequested
// on a PLI or FIR for the video, and Receive (blocking) for every remote track.
type Peer struct {
	// Index is the participant's position in its room.
	Index int

	media       MediaParams
	subscribers int
	win         *window
	joinStart   time.Time
	key         atomic.Bool
	tracks      atomic.Int32 // remote tracks that delivered synthetic media
	joined      atomic.Bool

	stop      chan struct{}
	stopOnce  sync.Once
	wg        sync.WaitGroup
	closersMu sync.Mutex
	closers   []func()
}

func newPeer(index, roomSize int, media MediaParams, win *window) *Peer {
	return &Peer{Index: index, media: media, subscribers: roomSize - 1, win: win, stop: make(chan struct{}), joinStart: time.Now()}
}

// Publish starts writing synthetic Opus to audio and VP8 to video.
func (p *Peer) Publish(audio, video RTPWriter) {
	count := func(sentAt int64) { p.win.countSent(sentAt, p.subscribers) }
	p.key.Store(true)
	p.wg.Add(2)
	go func() { defer p.wg.Done(); sendAudio(audio, count, p.stop) }()
	go func() { defer p.wg.Done(); sendVideo(video, p.media, &p.key, count, p.stop) }()
}

// KeyframeRequested makes the next video frame a key frame.
func (p *Peer) KeyframeRequested() { p.key.Store(true) }

// Receive reads a remote track until it ends, measuring every synthetic packet.
func (p *Peer) Receive(track *webrtc.TrackRemote) {
	buf := make([]byte, 1600)
	first := true
	for {
		n, _, err := track.Read(buf)
		if err != nil {
			return
		}
		sentAt, ok := readTrailer(buf[:n])
		if !ok {
			continue
		}
		at := now()
		if first {
			first = false
			p.tracks.Add(1)
			if p.joined.CompareAndSwap(false, true) && p.Index > 0 {
				p.win.addJoin(time.Since(p.joinStart))
			}
		}
		p.win.countReceived(sentAt, n, at)
	}
}

// OnClose registers what the driver must release when the participant leaves.
func (p *Peer) OnClose(f func()) {
	p.closersMu.Lock()
	p.closers = append(p.closers, f)
	p.closersMu.Unlock()
}

// Done is closed when the participant leaves; driver goroutines stop on it.
func (p *Peer) Done() <-chan struct{} { return p.stop }

func (p *Peer) close() {
	p.stopOnce.Do(func() {
		close(p.stop)
		p.closersMu.Lock()
		cs := p.closers
		p.closersMu.Unlock()
		for i := len(cs) - 1; i >= 0; i-- {
			cs[i]()
		}
		p.wg.Wait()
	})
}
