package sfu

import (
	"strings"
	"sync"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// DownTrack is one published track as one subscriber receives it: a webrtc.TrackLocal that
// rewrites SSRC, payload type and sequence numbers for that subscriber's connection, starts
// video on a key frame, and answers the subscriber's RTCP (NACK from the cache, PLI/FIR to
// the publisher).
type DownTrack struct {
	id       string
	streamID string
	receiver *Receiver

	mu     sync.Mutex
	bound  bool
	ssrc   uint32
	pt     uint8
	writer webrtc.TrackLocalWriter
	paused bool
	// started: video is forwarded from a key frame on; until then packets are dropped.
	started bool
	// Outgoing sequence numbers are incoming ones minus offset, so that what the subscriber
	// sees stays continuous across pauses. offsetFrom is the first outgoing number sent with
	// the current offset: NACKs for older numbers cannot be mapped back.
	offset     uint16
	offsetFrom uint16
	lastOut    uint16
	sentAny    bool
}

// NewDownTrack prepares r's packets for one subscriber under the given ids.
func NewDownTrack(r *Receiver, trackID, streamID string) *DownTrack {
	return &DownTrack{id: trackID, streamID: streamID, receiver: r}
}

// ID implements webrtc.TrackLocal.
func (d *DownTrack) ID() string { return d.id }

// RID implements webrtc.TrackLocal: no simulcast.
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
		d.started = d.Kind() == webrtc.RTPCodecTypeAudio
		d.mu.Unlock()
		d.receiver.RequestKeyframe()
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

// SetPaused stops (or resumes) forwarding video the subscriber does not show; resuming
// waits for a key frame and asks for one.
func (d *DownTrack) SetPaused(paused bool) {
	if d.Kind() != webrtc.RTPCodecTypeVideo {
		return
	}
	d.mu.Lock()
	changed := d.paused != paused
	d.paused = paused
	if changed && !paused {
		d.started = false
	}
	d.mu.Unlock()
	if changed && !paused {
		d.receiver.RequestKeyframe()
	}
}

// writeRTP forwards one packet of the published track (called by the Receiver's loop).
func (d *DownTrack) writeRTP(p *rtp.Packet) {
	d.mu.Lock()
	if !d.bound || d.paused {
		d.mu.Unlock()
		return
	}
	starting := !d.started
	if starting && !isVP8KeyframeStart(p.Payload) {
		d.mu.Unlock()
		// Keep asking (rate-limited): an earlier key frame may have passed before this
		// subscriber was bound, or before its connection could carry it.
		d.receiver.RequestKeyframe()
		return
	}
	offset := d.offset
	if starting && d.sentAny {
		offset = p.SequenceNumber - (d.lastOut + 1)
	}
	out := p.SequenceNumber - offset
	sent := d.writeLocked(&p.Header, out, p.Payload)
	if sent {
		if starting {
			d.started, d.offset, d.offsetFrom = true, offset, out
		}
		if !d.sentAny || int16(out-d.lastOut) > 0 {
			d.lastOut = out
		}
		d.sentAny = true
	}
	d.mu.Unlock()
	if !sent {
		if starting {
			d.receiver.RequestKeyframe()
		}
		return
	}
	packetsForwarded.Inc()
	bytesForwarded.Add(float64(len(p.Payload)))
}

// writeLocked writes a copy of h, rewritten for this subscriber, with payload, and reports
// whether it left: pion drops packets (without an error) until the connection's SRTP is
// ready, and a key frame dropped so must not count as the start of the video. Header
// extensions are dropped: their ids were negotiated with the publisher, not the subscriber.
func (d *DownTrack) writeLocked(h *rtp.Header, seq uint16, payload []byte) bool {
	out := *h
	out.SSRC = d.ssrc
	out.PayloadType = d.pt
	out.SequenceNumber = seq
	out.Extension = false
	out.Extensions = nil
	out.ExtensionProfile = 0
	n, err := d.writer.WriteRTP(&out, payload)
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
				d.receiver.RequestKeyframe()
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

// retransmit resends the packet the subscriber knows as seq, from the publisher's cache.
func (d *DownTrack) retransmit(seq uint16, buf []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.bound || !d.sentAny || int16(seq-d.offsetFrom) < 0 || int16(d.lastOut-seq) < 0 {
		return
	}
	n, ok := d.receiver.cached(seq+d.offset, buf)
	if !ok {
		nackMisses.Inc()
		return
	}
	var p rtp.Packet
	if err := p.Unmarshal(buf[:n]); err != nil {
		return
	}
	if d.writeLocked(&p.Header, seq, p.Payload) {
		nackRetransmits.Inc()
	}
}
