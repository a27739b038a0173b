package sfu

import (
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// keyframeInterval bounds how often a publisher is asked for a key frame: subscribers
// joining together, or one decoder in trouble, must not make it send nothing else.
const keyframeInterval = 200 * time.Millisecond

// cacheSizes are the packet cache sizes per kind: about a second of each.
var cacheSizes = map[webrtc.RTPCodecType]int{webrtc.RTPCodecTypeAudio: 64, webrtc.RTPCodecTypeVideo: 512}

// ReceiverParams builds a Receiver.
type ReceiverParams struct {
	Track    *webrtc.TrackRemote
	Receiver *webrtc.RTPReceiver
	// WriteRTCP sends feedback to the publisher (its peer connection's WriteRTCP).
	WriteRTCP func([]rtcp.Packet) error
	Log       *slog.Logger
}

// Receiver is one published track: it reads the publisher's packets once and writes each
// to every subscriber's DownTrack.
type Receiver struct {
	track     *webrtc.TrackRemote
	rtpRecv   *webrtc.RTPReceiver
	writeRTCP func([]rtcp.Packet) error
	cache     *PacketCache
	log       *slog.Logger

	// downs is replaced, never mutated, so that the read loop forwards without a lock.
	downMu sync.Mutex
	downs  atomic.Pointer[[]*DownTrack]

	pliMu   sync.Mutex
	lastPLI time.Time

	// levelExt is the negotiated id of the audio-level header extension (0: none);
	// levelSum and levelCount accumulate loudness between two Loudness calls.
	levelExt   uint8
	levelSum   atomic.Uint64
	levelCount atomic.Uint64

	done chan struct{}
}

// NewReceiver wraps a remote track; Start begins forwarding.
func NewReceiver(p ReceiverParams) *Receiver {
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	r := &Receiver{
		track:     p.Track,
		rtpRecv:   p.Receiver,
		writeRTCP: p.WriteRTCP,
		cache:     NewPacketCache(cacheSizes[p.Track.Kind()]),
		log:       p.Log,
		done:      make(chan struct{}),
	}
	r.downs.Store(&[]*DownTrack{})
	for _, ext := range p.Receiver.GetParameters().HeaderExtensions {
		if ext.URI == audioLevelURI {
			r.levelExt = uint8(ext.ID)
		}
	}
	return r
}

// Loudness returns the mean loudness of the track since the previous call, from the
// publisher's audio-level header extension (RFC 6464): 0 is silence (or no extension),
// 127 the loudest.
func (r *Receiver) Loudness() float64 {
	n := r.levelCount.Swap(0)
	sum := r.levelSum.Swap(0)
	if n == 0 {
		return 0
	}
	return float64(sum) / float64(n)
}

// TrackID is the publisher's track id (msid appdata).
func (r *Receiver) TrackID() string { return r.track.ID() }

// StreamID is the publisher's stream id (msid), which carries the track's source.
func (r *Receiver) StreamID() string { return r.track.StreamID() }

// Kind is audio or video.
func (r *Receiver) Kind() webrtc.RTPCodecType { return r.track.Kind() }

// Codec is the negotiated codec of the published track.
func (r *Receiver) Codec() webrtc.RTPCodecParameters { return r.track.Codec() }

// Done is closed when the publisher stopped sending the track (removed it, or left).
func (r *Receiver) Done() <-chan struct{} { return r.done }

// Start reads and forwards until the track ends.
func (r *Receiver) Start() {
	go r.drainRTCP()
	go r.forward()
}

func (r *Receiver) forward() {
	defer close(r.done)
	buf := make([]byte, maxPacketSize)
	var pkt rtp.Packet
	for {
		n, _, err := r.track.Read(buf)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				r.log.Debug("track read ended", "track_id", r.TrackID(), "err", err)
			}
			return
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			continue
		}
		packetsReceived.Inc()
		if r.levelExt != 0 {
			if ext := pkt.GetExtension(r.levelExt); len(ext) > 0 {
				// The low 7 bits are the level in -dBov: 0 loudest, 127 silence.
				r.levelSum.Add(uint64(127 - ext[0]&0x7f))
				r.levelCount.Add(1)
			}
		}
		r.cache.Push(pkt.SequenceNumber, buf[:n])
		for _, d := range *r.downs.Load() {
			d.writeRTP(&pkt)
		}
	}
}

// drainRTCP reads the publisher's RTCP (sender reports) so that the interceptors see it
// and the receive buffer never fills.
func (r *Receiver) drainRTCP() {
	buf := make([]byte, maxPacketSize)
	for {
		if _, _, err := r.rtpRecv.Read(buf); err != nil {
			return
		}
	}
}

// AddDownTrack starts forwarding to d.
func (r *Receiver) AddDownTrack(d *DownTrack) {
	r.downMu.Lock()
	defer r.downMu.Unlock()
	next := append(slices.Clone(*r.downs.Load()), d)
	r.downs.Store(&next)
}

// RemoveDownTrack stops forwarding to d.
func (r *Receiver) RemoveDownTrack(d *DownTrack) {
	r.downMu.Lock()
	defer r.downMu.Unlock()
	next := slices.DeleteFunc(slices.Clone(*r.downs.Load()), func(x *DownTrack) bool { return x == d })
	r.downs.Store(&next)
}

// RequestKeyframe asks the publisher for a key frame (PLI), at most once per
// keyframeInterval: a new subscriber or a subscriber's PLI/FIR lands here.
func (r *Receiver) RequestKeyframe() { r.requestKeyframe(false) }

// requestKeyframe with force skips the rate limit: a subscriber connection that just came
// up needs a key frame now, and the one asked for at bind time could not reach it.
func (r *Receiver) requestKeyframe(force bool) {
	if r.track.Kind() != webrtc.RTPCodecTypeVideo {
		return
	}
	r.pliMu.Lock()
	if !force && time.Since(r.lastPLI) < keyframeInterval {
		r.pliMu.Unlock()
		return
	}
	r.lastPLI = time.Now()
	r.pliMu.Unlock()
	keyframeRequests.Inc()
	if err := r.writeRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(r.track.SSRC())}}); err != nil {
		r.log.Debug("pli not sent", "track_id", r.TrackID(), "err", err)
	}
}

// cached copies a cached packet of the published track into dst.
func (r *Receiver) cached(seq uint16, dst []byte) (int, bool) { return r.cache.Get(seq, dst) }
