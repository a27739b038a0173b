package sfu

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// DownTrack is one published track as one subscriber receives it: a webrtc.TrackLocal that
// forwards one layer of the track at a time, rewritten onto a single stream of its own
// (SSRC, payload type, sequence numbers and timestamps), so that switching layers, or
// pausing and resuming, looks to the subscriber like one continuous stream. Video starts,
// and switches layers, on a key frame of the layer it goes to; until that key frame
// arrives the previous layer keeps flowing. It answers the subscriber's RTCP (NACK from
// the cache, PLI/FIR to the publisher).
type DownTrack struct {
	id       string
	streamID string
	receiver *Receiver
	// ready, when set, says whether the subscriber's connection carries media yet: until
	// then a packet written is lost (a pacer in the way reports it written all the same),
	// so video must not count as started.
	ready *atomic.Bool

	mu     sync.Mutex
	bound  bool
	ssrc   uint32
	pt     uint8
	writer webrtc.TrackLocalWriter
	// current is the layer forwarded now, target the one wanted (-1: none, paused).
	current, target int
	// Outgoing sequence numbers and timestamps are incoming ones minus the offsets of the
	// current layer. offsetFrom is the first outgoing number sent with the current offset:
	// NACKs for older numbers cannot be mapped back, and packets of the layer older than
	// the switch are not forwarded.
	seqOffset  uint16
	tsOffset   uint32
	offsetFrom uint16
	lastOut    uint16
	lastTS     uint32
	lastAt     time.Time
	lastLayer  int
	sentAny    bool
	clockRate  uint32
	// hdr is the rewritten header of the packet being written: a field, not a local, so
	// that passing it to the writer (an interface) does not allocate per packet. Writers
	// do not keep it past the call (the pacer copies it).
	hdr rtp.Header
}

// NewDownTrack prepares r's packets for one subscriber under the given ids. Audio (and
// single-layer video) forwards its only layer; simulcast video waits for SetTarget.
func NewDownTrack(r *Receiver, trackID, streamID string) *DownTrack {
	d := &DownTrack{id: trackID, streamID: streamID, receiver: r, current: -1, target: 0, lastLayer: -1,
		clockRate: r.Codec().ClockRate}
	if d.clockRate == 0 {
		d.clockRate = 90000
	}
	return d
}

// ID implements webrtc.TrackLocal.
func (d *DownTrack) ID() string { return d.id }

// RID implements webrtc.TrackLocal: the subscriber receives one stream, whatever layer it
// carries.
func (d *DownTrack) RID() string { return "" }

// StreamID implements webrtc.TrackLocal.
func (d *DownTrack) StreamID() string { return d.streamID }

// Kind implements webrtc.TrackLocal.
func (d *DownTrack) Kind() webrtc.RTPCodecType { return d.receiver.Kind() }

// Bind implements webrtc.TrackLocal: the subscriber's connection negotiated the track. The
// publisher's codec must be among the subscriber's; a video subscriber then asks for a key
// frame so that its first picture comes at once.
func (d *DownTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec := d.receiver.Codec()
	for _, c := range ctx.CodecParameters() {
		if !strings.EqualFold(c.MimeType, codec.MimeType) {
			continue
		}
		d.mu.Lock()
		d.bound, d.ssrc, d.pt, d.writer = true, uint32(ctx.SSRC()), uint8(c.PayloadType), ctx.WriteStream()
		d.mu.Unlock()
		d.requestKeyframe(false)
		return c, nil
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

// Unbind implements webrtc.TrackLocal.
func (d *DownTrack) Unbind(webrtc.TrackLocalContext) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.bound = false
	return nil
}

// SetTarget chooses the layer to forward (-1 pauses the track). A switch happens on the
// next key frame of the target layer, which is asked for now; until then the current
// layer keeps flowing. It reports whether the target changed.
func (d *DownTrack) SetTarget(layer int) bool {
	if d.Kind() != webrtc.RTPCodecTypeVideo {
		return false
	}
	d.mu.Lock()
	changed := d.target != layer
	d.target = layer
	if layer < 0 {
		d.current = -1
	}
	switching := layer >= 0 && layer != d.current
	d.mu.Unlock()
	if changed {
		d.receiver.layersChanged()
	}
	if switching {
		d.receiver.requestKeyframe(layer, false)
	}
	return changed
}

// SetPaused stops (or resumes, on the lowest layer) forwarding video the subscriber does
// not show.
func (d *DownTrack) SetPaused(paused bool) {
	if paused {
		d.SetTarget(-1)
	} else {
		d.SetTarget(0)
	}
}

// layers returns the layer forwarded and the one wanted.
func (d *DownTrack) layers() (current, target int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.current, d.target
}

// requestKeyframe asks the publisher for a key frame of the layer this subscriber waits for
// or, when it waits for none, of the one it receives.
func (d *DownTrack) requestKeyframe(force bool) {
	d.mu.Lock()
	layer := d.target
	if layer < 0 {
		layer = d.current
	}
	d.mu.Unlock()
	d.receiver.requestKeyframe(layer, force)
}

// writeRTP forwards one packet of one layer of the published track (called by the
// Receiver's read loops); key says whether the stream can start at it (a key frame's first
// packet; any audio packet).
func (d *DownTrack) writeRTP(layer int, p *rtp.Packet, key bool) {
	d.mu.Lock()
	if !d.bound || d.target < 0 || (d.ready != nil && !d.ready.Load()) {
		d.mu.Unlock()
		return
	}
	switching := layer != d.current
	if switching && (layer != d.target || !key) {
		waiting := layer == d.target
		d.mu.Unlock()
		if waiting {
			// Keep asking (rate-limited): an earlier key frame may have passed before this
			// subscriber was bound, or before its connection could carry it.
			d.receiver.requestKeyframe(layer, false)
		}
		return
	}
	seqOffset, tsOffset := d.seqOffset, d.tsOffset
	if switching {
		if d.sentAny {
			seqOffset = p.SequenceNumber - (d.lastOut + 1)
			if layer != d.lastLayer {
				// Another layer has its own timestamp origin: continue from the last
				// timestamp sent, advanced by the time that passed.
				step := uint32(max(1, time.Since(d.lastAt)*time.Duration(d.clockRate)/time.Second))
				tsOffset = p.Timestamp - (d.lastTS + step)
			}
		} else {
			seqOffset, tsOffset = 0, 0
		}
	} else if int16(p.SequenceNumber-seqOffset-d.offsetFrom) < 0 {
		d.mu.Unlock()
		return // a late packet from before the switch: the subscriber's stream moved on
	}
	out := p.SequenceNumber - seqOffset
	ts := p.Timestamp - tsOffset
	sent := d.writeLocked(&p.Header, out, ts, p.Payload)
	if sent {
		if switching {
			d.current, d.lastLayer = layer, layer
			d.seqOffset, d.tsOffset, d.offsetFrom = seqOffset, tsOffset, out
		}
		if !d.sentAny || int16(out-d.lastOut) > 0 {
			d.lastOut, d.lastTS, d.lastAt = out, ts, time.Now()
		}
		d.sentAny = true
	}
	d.mu.Unlock()
	if !sent {
		if switching {
			d.receiver.requestKeyframe(layer, false)
		}
		return
	}
	if switching {
		// The layer the down-track left may no longer be needed.
		d.receiver.layersChanged()
	}
	packetsForwarded.Inc()
	bytesForwarded.Add(float64(len(p.Payload)))
}

// writeLocked writes a copy of h, rewritten for this subscriber, with payload, and reports
// whether it left: pion drops packets (without an error) until the connection's SRTP is
// ready, and a key frame dropped so must not count as the start of the video. Header
// extensions are dropped: their ids were negotiated with the publisher, not the subscriber.
func (d *DownTrack) writeLocked(h *rtp.Header, seq uint16, ts uint32, payload []byte) bool {
	d.hdr = *h
	d.hdr.SSRC = d.ssrc
	d.hdr.PayloadType = d.pt
	d.hdr.SequenceNumber = seq
	d.hdr.Timestamp = ts
	d.hdr.Extension = false
	d.hdr.Extensions = nil
	d.hdr.ExtensionProfile = 0
	n, err := d.writer.WriteRTP(&d.hdr, payload)
	return err == nil && n > 0
}

// handleRTCP reads the subscriber's feedback for this track until the sender stops.
func (d *DownTrack) handleRTCP(sender *webrtc.RTPSender) {
	buf := make([]byte, maxPacketSize)
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch p := pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				d.requestKeyframe(false)
			case *rtcp.TransportLayerNack:
				for _, pair := range p.Nacks {
					for _, seq := range pair.PacketList() {
						d.retransmit(seq, buf)
					}
				}
			case *rtcp.ReceiverReport:
				for _, rep := range p.Reports {
					if rep.SSRC == d.ssrc {
						subscriberLoss.Observe(float64(rep.FractionLost) / 256)
					}
				}
			}
		}
	}
}

// retransmit resends the packet the subscriber knows as seq, from the cache of the layer
// it was sent from.
func (d *DownTrack) retransmit(seq uint16, buf []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.bound || !d.sentAny || d.current < 0 || int16(seq-d.offsetFrom) < 0 || int16(d.lastOut-seq) < 0 {
		return
	}
	n, ok := d.receiver.cached(d.current, seq+d.seqOffset, buf)
	if !ok {
		nackMisses.Inc()
		return
	}
	var p rtp.Packet
	if err := p.Unmarshal(buf[:n]); err != nil {
		return
	}
	if d.writeLocked(&p.Header, seq, p.Timestamp-d.tsOffset, p.Payload) {
		nackRetransmits.Inc()
	}
}
