package sfu

import (
	"errors"
	"io"
	"log/slog"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

const (
	// keyframeInterval bounds how often a publisher is asked for a key frame of one layer:
	// subscribers joining together, or one decoder in trouble, must not make it send
	// nothing else.
	keyframeInterval = 200 * time.Millisecond
	// layerPauseDelay is how long a layer nobody needs keeps coming before the publisher
	// is asked to stop it: a subscriber that switches down and back up within it (a
	// window resized, an estimate dipping) finds the layer still running.
	layerPauseDelay = 2 * time.Second
	// rateWindow is how often each layer's bitrate is measured.
	rateWindow = time.Second
	// layerResumeGrace is how long a layer the publisher was asked to resume counts as
	// coming before its packets show: an encoder restarting a layer takes a moment.
	layerResumeGrace = 2 * rateWindow
)

// cacheSizes are the packet cache sizes per kind: about a second of each.
var cacheSizes = map[webrtc.RTPCodecType]int{webrtc.RTPCodecTypeAudio: 64, webrtc.RTPCodecTypeVideo: 512}

// ReceiverParams builds a Receiver.
type ReceiverParams struct {
	// TrackID and StreamID are the publisher's (msid); Mid is the media section it came in.
	TrackID  string
	StreamID string
	Mid      string
	Kind     webrtc.RTPCodecType
	Codec    webrtc.RTPCodecParameters
	// RIDs are the simulcast layers the publisher declared, lowest first; one "" without
	// simulcast.
	RIDs []string
	// LevelExt is the negotiated id of the audio-level header extension (0: none).
	LevelExt uint8
	// RTPReceiver is read for the publisher's RTCP (nil in benchmarks).
	RTPReceiver *webrtc.RTPReceiver
	// WriteRTCP sends feedback to the publisher (its peer connection's WriteRTCP).
	WriteRTCP func([]rtcp.Packet) error
	// OnLayers asks the publisher to send only these layers (by rid). It is called only
	// for simulcast tracks, and never blocks the caller for long.
	OnLayers func(active []string)
	Log      *slog.Logger
}

// Receiver is one published track: it reads each of its layers once (one without
// simulcast, up to three with it) and writes every packet to the subscribers' DownTracks,
// each of which forwards one layer.
type Receiver struct {
	p      ReceiverParams
	layers []*layer
	log    *slog.Logger

	// downs is replaced, never mutated, so that the read loops forward without a lock.
	downMu sync.Mutex
	downs  atomic.Pointer[[]*DownTrack]

	// levelSum and levelCount accumulate loudness between two Loudness calls.
	levelSum   atomic.Uint64
	levelCount atomic.Uint64

	// Layers asked of the publisher: a bit per layer index.
	needMu     sync.Mutex
	sentMask   uint32
	pauseTimer *time.Timer

	measureOnce sync.Once
	doneOnce    sync.Once
	done        chan struct{}
}

// layer is one simulcast layer (or the only stream) of a published track.
type layer struct {
	idx   int
	rid   string
	cache *PacketCache
	ssrc  atomic.Uint32
	// attached is set once the layer's first packet arrived and its read loop runs; live
	// while packets keep coming (checked every rateWindow).
	attached atomic.Bool
	live     atomic.Bool
	// resumedAt is when the publisher was last asked to send the layer again (unix ns).
	resumedAt atomic.Int64

	bytes   atomic.Uint64
	bitrate atomic.Int64
	width   atomic.Int32
	height  atomic.Int32

	pliMu   sync.Mutex
	lastPLI time.Time
}

// NewReceiver prepares a published track; AttachLayer starts forwarding each layer.
func NewReceiver(p ReceiverParams) *Receiver {
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if len(p.RIDs) == 0 {
		p.RIDs = []string{""}
	}
	r := &Receiver{p: p, log: p.Log, done: make(chan struct{})}
	for i, rid := range p.RIDs {
		r.layers = append(r.layers, &layer{idx: i, rid: rid, cache: NewPacketCache(cacheSizes[p.Kind])})
	}
	r.sentMask = 1<<len(r.layers) - 1
	r.downs.Store(&[]*DownTrack{})
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
func (r *Receiver) TrackID() string { return r.p.TrackID }

// StreamID is the publisher's stream id (msid), which carries the track's source.
func (r *Receiver) StreamID() string { return r.p.StreamID }

// Mid is the publisher connection's media section that carries the track.
func (r *Receiver) Mid() string { return r.p.Mid }

// Kind is audio or video.
func (r *Receiver) Kind() webrtc.RTPCodecType { return r.p.Kind }

// Codec is the negotiated codec of the published track.
func (r *Receiver) Codec() webrtc.RTPCodecParameters { return r.p.Codec }

// Simulcast reports whether the publisher sends several layers.
func (r *Receiver) Simulcast() bool { return len(r.layers) > 1 }

// Done is closed when the publisher stopped sending the track (removed it, or left).
func (r *Receiver) Done() <-chan struct{} { return r.done }

// Layers describes the track's layers, lowest first, for the layer choice. A layer the
// publisher was asked to pause counts as available (asking resumes it) if it was ever sent.
func (r *Receiver) Layers() []Layer {
	r.needMu.Lock()
	asked := r.sentMask
	r.needMu.Unlock()
	out := make([]Layer, len(r.layers))
	for i, l := range r.layers {
		resuming := time.Since(time.Unix(0, l.resumedAt.Load())) < layerResumeGrace
		available := l.attached.Load() && (l.live.Load() || asked&(1<<i) == 0 || resuming)
		out[i] = Layer{RID: l.rid, Width: int(l.width.Load()), Height: int(l.height.Load()), Bitrate: int(l.bitrate.Load()),
			Unavailable: !available}
	}
	return out
}

// layerIndex returns the index of the layer with this rid, or -1.
func (r *Receiver) layerIndex(rid string) int {
	for _, l := range r.layers {
		if l.rid == rid {
			return l.idx
		}
	}
	return -1
}

// AttachLayer starts forwarding one layer the publisher sends (pion's OnTrack fires once
// per layer). The first one also starts the bitrate measurement.
func (r *Receiver) AttachLayer(t *webrtc.TrackRemote) {
	i := r.layerIndex(t.RID())
	if i < 0 || r.layers[i].attached.Swap(true) {
		return
	}
	l := r.layers[i]
	l.live.Store(true)
	l.ssrc.Store(uint32(t.SSRC()))
	r.measureOnce.Do(func() { go r.measure() })
	if r.p.RTPReceiver != nil {
		go r.drainRTCP(l.rid)
	}
	go r.forward(l, t)
}

func (r *Receiver) forward(l *layer, t *webrtc.TrackRemote) {
	defer r.doneOnce.Do(func() { close(r.done) })
	buf := make([]byte, maxPacketSize)
	var pkt rtp.Packet
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				r.log.Debug("track read ended", "track_id", r.TrackID(), "rid", l.rid, "err", err)
			}
			return
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			continue
		}
		r.handlePacket(l, &pkt, buf[:n])
	}
}

// handlePacket caches one packet of layer l and writes it to every down-track. It is the
// per-packet path: no allocation, one VP8 descriptor parse, and no lock but each
// down-track's own.
func (r *Receiver) handlePacket(l *layer, pkt *rtp.Packet, raw []byte) {
	packetsReceived.Inc()
	l.bytes.Add(uint64(len(raw)))
	if r.p.LevelExt != 0 {
		if ext := pkt.GetExtension(r.p.LevelExt); len(ext) > 0 {
			// The low 7 bits are the level in -dBov: 0 loudest, 127 silence.
			r.levelSum.Add(uint64(127 - ext[0]&0x7f))
			r.levelCount.Add(1)
		}
	}
	key := true
	if r.p.Kind == webrtc.RTPCodecTypeVideo {
		var w, h int
		if key, w, h = vp8Keyframe(pkt.Payload); key && w > 0 && h > 0 {
			l.width.Store(int32(w))
			l.height.Store(int32(h))
		}
	}
	l.cache.Push(pkt.SequenceNumber, raw)
	for _, d := range *r.downs.Load() {
		d.writeRTP(l.idx, pkt, key)
	}
}

// measure samples each layer's bitrate until the track ends. A layer that stopped (the
// publisher paused it) keeps its last figure: the layer choice needs to know what
// resuming it would cost.
func (r *Receiver) measure() {
	tick := time.NewTicker(rateWindow)
	defer tick.Stop()
	last := make([]uint64, len(r.layers))
	for {
		select {
		case <-r.done:
			r.stopPauseTimer()
			return
		case <-tick.C:
		}
		for i, l := range r.layers {
			b := l.bytes.Load()
			if d := b - last[i]; d > 0 {
				l.bitrate.Store(int64(d * 8 * uint64(time.Second) / uint64(rateWindow)))
			}
			l.live.Store(b != last[i])
			last[i] = b
		}
	}
}

// drainRTCP reads the publisher's RTCP for one layer (sender reports) so that the
// interceptors see it and the receive buffer never fills.
func (r *Receiver) drainRTCP(rid string) {
	buf := make([]byte, maxPacketSize)
	for {
		var err error
		if rid == "" {
			_, _, err = r.p.RTPReceiver.Read(buf)
		} else {
			_, _, err = r.p.RTPReceiver.ReadSimulcast(buf, rid)
		}
		if err != nil {
			return
		}
	}
}

// AddDownTrack starts forwarding to d.
func (r *Receiver) AddDownTrack(d *DownTrack) {
	r.downMu.Lock()
	next := append(slices.Clone(*r.downs.Load()), d)
	r.downs.Store(&next)
	r.downMu.Unlock()
	r.layersChanged()
}

// RemoveDownTrack stops forwarding to d.
func (r *Receiver) RemoveDownTrack(d *DownTrack) {
	r.downMu.Lock()
	next := slices.DeleteFunc(slices.Clone(*r.downs.Load()), func(x *DownTrack) bool { return x == d })
	r.downs.Store(&next)
	r.downMu.Unlock()
	r.layersChanged()
}

// layersChanged tells the publisher which layers the down-tracks need: a layer someone
// needs at once, a layer nobody needs any more after layerPauseDelay. The lowest layer is
// always kept: a new subscriber starts on it without waiting for the publisher, and it is
// the fallback of every subscriber whose bandwidth drops.
func (r *Receiver) layersChanged() {
	if !r.Simulcast() || r.p.OnLayers == nil {
		return
	}
	need := r.neededMask()
	r.needMu.Lock()
	defer r.needMu.Unlock()
	switch {
	case need == r.sentMask:
		if r.pauseTimer != nil {
			r.pauseTimer.Stop()
			r.pauseTimer = nil
		}
	case need&^r.sentMask != 0:
		if r.pauseTimer != nil {
			r.pauseTimer.Stop()
			r.pauseTimer = nil
		}
		r.sendLayersLocked(need)
	case r.pauseTimer == nil:
		r.pauseTimer = time.AfterFunc(layerPauseDelay, r.pauseUnneeded)
	}
}

func (r *Receiver) pauseUnneeded() {
	need := r.neededMask()
	r.needMu.Lock()
	defer r.needMu.Unlock()
	r.pauseTimer = nil
	select {
	case <-r.done:
		return
	default:
	}
	if need != r.sentMask {
		r.sendLayersLocked(need)
	}
}

func (r *Receiver) stopPauseTimer() {
	r.needMu.Lock()
	defer r.needMu.Unlock()
	if r.pauseTimer != nil {
		r.pauseTimer.Stop()
		r.pauseTimer = nil
	}
}

func (r *Receiver) sendLayersLocked(mask uint32) {
	now := time.Now().UnixNano()
	for _, l := range r.layers {
		if mask&^r.sentMask&(1<<l.idx) != 0 {
			l.resumedAt.Store(now)
		}
	}
	r.sentMask = mask
	active := make([]string, 0, bits.OnesCount32(mask))
	for _, l := range r.layers {
		if mask&(1<<l.idx) != 0 {
			active = append(active, l.rid)
		}
	}
	if r.p.OnLayers != nil {
		r.p.OnLayers(active)
	}
}

// neededMask is the lowest layer plus every layer a down-track forwards or switches to.
func (r *Receiver) neededMask() uint32 {
	mask := uint32(1)
	for _, d := range *r.downs.Load() {
		cur, target := d.layers()
		if cur >= 0 {
			mask |= 1 << cur
		}
		if target >= 0 {
			mask |= 1 << target
		}
	}
	return mask
}

// requestKeyframe asks the publisher for a key frame of one layer (PLI), at most once per
// keyframeInterval: subscribers joining, switching layers or reporting a loss land here.
// force skips the rate limit: a subscriber connection that just came up needs a key frame
// now, and the one asked for at bind time could not reach it.
func (r *Receiver) requestKeyframe(layer int, force bool) {
	if r.p.Kind != webrtc.RTPCodecTypeVideo || layer < 0 || layer >= len(r.layers) {
		return
	}
	l := r.layers[layer]
	ssrc := l.ssrc.Load()
	if ssrc == 0 {
		return // not arrived yet: its first frame is a key frame anyway
	}
	l.pliMu.Lock()
	if !force && time.Since(l.lastPLI) < keyframeInterval {
		l.pliMu.Unlock()
		return
	}
	l.lastPLI = time.Now()
	l.pliMu.Unlock()
	keyframeRequests.Inc()
	if err := r.p.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil {
		r.log.Debug("pli not sent", "track_id", r.TrackID(), "rid", l.rid, "err", err)
	}
}

// cached copies a cached packet of one layer into dst.
func (r *Receiver) cached(layer int, seq uint16, dst []byte) (int, bool) {
	return r.layers[layer].cache.Get(seq, dst)
}
