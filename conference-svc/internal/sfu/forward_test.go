package sfu

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/require"
)

// vp8Frame is the first RTP payload of a VP8 frame: the payload descriptor (S=1, PID=0),
// then the frame tag and, for a key frame, the start code and the picture size.
func vp8Frame(key bool, width, height, size int) []byte {
	p := make([]byte, max(size, 11))
	p[0] = 0x10
	if !key {
		p[1] = 0x01
		return p
	}
	copy(p[4:], []byte{0x9d, 0x01, 0x2a})
	binary.LittleEndian.PutUint16(p[7:], uint16(width))
	binary.LittleEndian.PutUint16(p[9:], uint16(height))
	return p
}

// sentPacket is what a down-track wrote to its subscriber.
type sentPacket struct {
	ssrc  uint32
	seq   uint16
	ts    uint32
	layer byte
	key   bool
}

// recordingWriter stands for the subscriber's connection.
type recordingWriter struct {
	mu   sync.Mutex
	sent []sentPacket
}

func (w *recordingWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sent = append(w.sent, sentPacket{ssrc: h.SSRC, seq: h.SequenceNumber, ts: h.Timestamp,
		layer: payload[len(payload)-1], key: isVP8KeyframeStart(payload)})
	return len(payload) + 12, nil
}

func (w *recordingWriter) Write(b []byte) (int, error) { return len(b), nil }

func (w *recordingWriter) packets() []sentPacket {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.sent)
}

// discardWriter is a subscriber connection that costs nothing, for the benchmark.
type discardWriter struct{}

func (discardWriter) WriteRTP(_ *rtp.Header, payload []byte) (int, error) { return len(payload), nil }
func (discardWriter) Write(b []byte) (int, error)                         { return len(b), nil }

// simulcastSource feeds a Receiver as a publisher's three layers would: each layer its own
// SSRC, sequence numbers and timestamp origin; the last payload byte names the layer.
type simulcastSource struct {
	r    *Receiver
	seq  [3]uint16
	ts   [3]uint32
	plis *[]uint32
}

func newSimulcastSource(t testing.TB, onLayers func([]string)) *simulcastSource {
	var mu sync.Mutex
	plis := []uint32{}
	r := NewReceiver(ReceiverParams{
		TrackID: "cam", StreamID: "camera-1", Kind: webrtc.RTPCodecTypeVideo,
		Codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}},
		RIDs:  []string{"q", "h", "f"},
		WriteRTCP: func(pkts []rtcp.Packet) error {
			mu.Lock()
			defer mu.Unlock()
			for _, p := range pkts {
				plis = append(plis, p.(*rtcp.PictureLossIndication).MediaSSRC)
			}
			return nil
		},
		OnLayers: onLayers,
	})
	s := &simulcastSource{r: r, plis: &plis}
	for i, l := range r.layers {
		l.ssrc.Store(uint32(1000 + i))
		s.seq[i] = uint16(10000 * (i + 1))
		s.ts[i] = uint32(1_000_000 * (i + 1))
	}
	t.Cleanup(func() { r.doneOnce.Do(func() { close(r.done) }); r.stopPauseTimer() })
	return s
}

// frame sends one frame of one layer in packets of 100 bytes.
func (s *simulcastSource) frame(layer int, key bool, packets int) {
	l := s.r.layers[layer]
	s.ts[layer] += 3000
	for i := range packets {
		var payload []byte
		if i == 0 {
			payload = vp8Frame(key, 320<<layer, 180<<layer, 100)
		} else {
			payload = make([]byte, 100)
		}
		payload[len(payload)-1] = byte(layer)
		s.seq[layer]++
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: l.ssrc.Load(), SequenceNumber: s.seq[layer],
			Timestamp: s.ts[layer], Marker: i == packets-1, PayloadType: 96}, Payload: payload}
		raw, _ := pkt.Marshal()
		s.r.handlePacket(l, &pkt, raw)
	}
}

// frames sends one frame of every layer.
func (s *simulcastSource) frames(key bool) {
	for i := range s.r.layers {
		s.frame(i, key, 2)
	}
}

func boundDownTrack(r *Receiver, w webrtc.TrackLocalWriter) *DownTrack {
	d := NewDownTrack(r, "t", "s")
	d.bound, d.ssrc, d.pt, d.writer = true, 4242, 96, w
	return d
}

// TestDownTrackSwitchesLayersOnKeyframes: the subscriber sees one stream (one SSRC,
// contiguous sequence numbers, rising timestamps) while the forwarded layer changes; a
// switch waits for a key frame of the new layer (asked for at once) and the old layer
// flows until then.
func TestDownTrackSwitchesLayersOnKeyframes(t *testing.T) {
	t.Parallel()
	src := newSimulcastSource(t, nil)
	w := &recordingWriter{}
	d := boundDownTrack(src.r, w)
	src.r.AddDownTrack(d)
	d.SetTarget(0)

	src.frames(false) // no key frame yet: nothing starts
	require.Empty(t, w.packets())
	src.frames(true)
	src.frames(false)
	require.Len(t, w.packets(), 4, "the low layer flows from its key frame")

	d.SetTarget(2)
	require.Contains(t, *src.plis, uint32(1002), "a key frame of the top layer is asked for")
	src.frames(false)
	src.frames(false)
	cur, target := d.layers()
	require.Equal(t, []int{0, 2}, []int{cur, target}, "no key frame yet: the low layer keeps flowing")
	src.frame(0, false, 2)
	src.frame(1, false, 2)
	src.frame(2, true, 3)
	src.frames(false)
	src.frame(0, true, 2) // a key frame of a layer not wanted changes nothing

	d.SetTarget(1)
	src.frames(false)
	src.frame(1, true, 2)
	src.frames(false)

	got := w.packets()
	var layers []byte
	for i, p := range got {
		require.Equal(t, uint32(4242), p.ssrc)
		if i > 0 {
			require.Equal(t, got[i-1].seq+1, p.seq, "contiguous sequence numbers at packet %d", i)
			require.Less(t, p.ts-got[i-1].ts, uint32(1<<31), "timestamps never go back at packet %d", i)
			if p.layer != got[i-1].layer {
				require.True(t, p.key, "a switch to layer %d starts on a key frame", p.layer)
				require.NotEqual(t, got[i-1].ts, p.ts, "a new layer's frame gets a new timestamp")
			}
		}
		if len(layers) == 0 || layers[len(layers)-1] != p.layer {
			layers = append(layers, p.layer)
		}
	}
	require.Equal(t, []byte{0, 2, 1}, layers)
}

// TestDownTrackPauseAndNack: a paused track sends nothing and resumes on a key frame with
// contiguous numbers; a NACK is answered from the cache of the layer that was sent.
func TestDownTrackPauseAndNack(t *testing.T) {
	t.Parallel()
	src := newSimulcastSource(t, nil)
	w := &recordingWriter{}
	d := boundDownTrack(src.r, w)
	src.r.AddDownTrack(d)
	d.SetTarget(1)
	src.frame(1, true, 2)
	d.SetTarget(-1)
	src.frames(true)
	require.Len(t, w.packets(), 2)
	d.SetTarget(1)
	src.frame(1, false, 2)
	src.frame(1, true, 2)
	got := w.packets()
	require.Len(t, got, 4)
	require.Equal(t, got[1].seq+1, got[2].seq)

	d.retransmit(got[3].seq, make([]byte, maxPacketSize))
	again := w.packets()
	require.Len(t, again, 5)
	require.Equal(t, got[3].seq, again[4].seq)
	require.Equal(t, got[3].ts, again[4].ts)
	require.Equal(t, byte(1), again[4].layer)
}

// TestReceiverAsksForNeededLayers: the publisher is asked at once for a layer a subscriber
// switches to, and to stop a layer nobody needs after a delay; the lowest is always kept.
func TestReceiverAsksForNeededLayers(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var asked [][]string
	src := newSimulcastSource(t, func(active []string) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, active)
	})
	last := func() []string {
		mu.Lock()
		defer mu.Unlock()
		if len(asked) == 0 {
			return nil
		}
		return asked[len(asked)-1]
	}
	a, b := boundDownTrack(src.r, discardWriter{}), boundDownTrack(src.r, discardWriter{})
	src.r.AddDownTrack(a)
	src.r.AddDownTrack(b)
	a.SetTarget(0)
	b.SetTarget(0)
	require.Eventually(t, func() bool { return slices.Equal(last(), []string{"q"}) }, 5*time.Second, 10*time.Millisecond,
		"nobody needs h and f")
	b.SetTarget(2)
	require.Equal(t, []string{"q", "f"}, last(), "f is asked for at once")
	src.RemoveAndWait(t, b, last)
}

// RemoveAndWait takes b away and waits for the publisher to be told f is unneeded.
func (s *simulcastSource) RemoveAndWait(t *testing.T, b *DownTrack, last func() []string) {
	s.r.RemoveDownTrack(b)
	require.Equal(t, []string{"q", "f"}, last(), "a layer is not paused at once")
	require.Eventually(t, func() bool { return slices.Equal(last(), []string{"q"}) }, 5*time.Second, 10*time.Millisecond)
}

// BenchmarkForward is the per-packet forwarding path: one packet of a published video
// through the Receiver (cache, key-frame parse) to N down-tracks, each rewriting it for its
// subscriber. The subscriber connection is a writer that discards.
func BenchmarkForward(b *testing.B) {
	for _, n := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("downtracks=%d", n), func(b *testing.B) {
			src := newSimulcastSource(b, nil)
			for range n {
				d := boundDownTrack(src.r, discardWriter{})
				src.r.AddDownTrack(d)
				d.SetTarget(0)
			}
			src.frame(0, true, 1)
			l := src.r.layers[0]
			payload := make([]byte, 1100)
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1000, PayloadType: 96, Timestamp: 1}, Payload: payload}
			raw, _ := pkt.Marshal()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				pkt.SequenceNumber = src.seq[0] + uint16(i) + 1
				binary.BigEndian.PutUint16(raw[2:], pkt.SequenceNumber)
				src.r.handlePacket(l, &pkt, raw)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/forward")
		})
	}
}
