package load

import (
	"encoding/binary"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// Every synthetic packet ends with a trailer: a magic word and the send time. The trailer sits
// at the end of the payload because both SFUs may rewrite the start of a VP8 payload (picture
// ID munging) and LiveKit may wrap Opus in RED, which keeps the primary block last.
const (
	trailerLen   = 12
	trailerMagic = 0x43464c44 // "CFLD"
)

// base is the process-wide clock origin: sender and receiver run in this process, so a
// monotonic offset from one origin is a send→receive latency without any clock sync.
var base = time.Now()

func now() int64 { return int64(time.Since(base)) }

func putTrailer(payload []byte, sentAt int64) {
	t := payload[len(payload)-trailerLen:]
	binary.BigEndian.PutUint32(t, trailerMagic)
	binary.BigEndian.PutUint64(t[4:], uint64(sentAt))
}

// readTrailer returns the send time embedded in a raw RTP packet, honouring RTP padding;
// ok is false for packets that carry no synthetic payload (padding-only probes, foreign RTP).
func readTrailer(pkt []byte) (sentAt int64, ok bool) {
	if len(pkt) < 12+trailerLen {
		return 0, false
	}
	end := len(pkt)
	if pkt[0]&0x20 != 0 { // P bit: the last byte counts the padding
		end -= int(pkt[end-1])
	}
	if end < 12+trailerLen {
		return 0, false
	}
	t := pkt[end-trailerLen : end]
	if binary.BigEndian.Uint32(t) != trailerMagic {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(t[4:])), true
}

// MediaParams shape the synthetic media every participant publishes.
type MediaParams struct {
	// VideoBitrate is the mean VP8 bitrate in bit/s (key frames included).
	VideoBitrate int
	// FPS is the video frame rate.
	FPS int
	// KeyframeInterval is the period of unrequested key frames; a PLI or FIR brings the next
	// one forward.
	KeyframeInterval time.Duration
	// MaxPayload bounds an RTP payload, like a browser's packetizer (≈ 1200 bytes).
	MaxPayload int
}

// DefaultMedia is a ~1 Mbit/s 30 fps camera and 50 pps Opus, sized like a browser's.
func DefaultMedia() MediaParams {
	return MediaParams{VideoBitrate: 1_000_000, FPS: 30, KeyframeInterval: 3 * time.Second, MaxPayload: 1160}
}

// RTPWriter is a local track the generator writes finished RTP packets to.
type RTPWriter interface {
	WriteRTP(*rtp.Packet) error
}

// keyframeRatio is how much larger a key frame is than the mean frame: camera VP8 at this
// rate has key frames of roughly 20–30 kB against ~4 kB delta frames.
const keyframeRatio = 6

// sendVideo writes VP8 frames until stop closes. Frames vary ±25 % around the mean, are split
// into equal packets like libwebrtc's packetizer, and carry a real VP8 payload descriptor
// (15-bit picture ID) and, on key frames, a key-frame header with dimensions, so an SFU that
// parses VP8 sees what a browser would send.
func sendVideo(w RTPWriter, m MediaParams, key *atomic.Bool, count func(sentAt int64), stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	frameInterval := time.Second / time.Duration(m.FPS)
	meanFrame := m.VideoBitrate / 8 / m.FPS
	keyBytes := meanFrame * keyframeRatio
	keysPerSecond := float64(time.Second) / float64(m.KeyframeInterval)
	deltaFrame := int((float64(m.VideoBitrate)/8 - keysPerSecond*float64(keyBytes)) / float64(m.FPS))
	deltaFrame = max(deltaFrame, 200)
	tick := time.NewTicker(frameInterval)
	defer tick.Stop()
	seq := uint16(rng.Uint32())
	ts := rng.Uint32()
	pictureID := uint16(rng.Uint32()) & 0x7fff
	lastKey := time.Time{}
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		ts += 90000 / uint32(m.FPS)
		pictureID = (pictureID + 1) & 0x7fff
		isKey := key.Swap(false) || time.Since(lastKey) >= m.KeyframeInterval
		size := deltaFrame
		if isKey {
			size, lastKey = keyBytes, time.Now()
		}
		size = size*3/4 + rng.IntN(size/2+1)
		const descLen = 4
		per := m.MaxPayload - descLen
		packets := (size + per - 1) / per
		for i := range packets {
			n := size / packets
			if i < size%packets {
				n++
			}
			payload := make([]byte, descLen+max(n, 10+trailerLen))
			// X=1, S on the first packet, PID 0; I=1 with an M=1 15-bit picture ID.
			payload[0] = 0x80
			if i == 0 {
				payload[0] |= 0x10
			}
			payload[1] = 0x80
			payload[2] = 0x80 | byte(pictureID>>8)
			payload[3] = byte(pictureID)
			if i == 0 {
				hdr := payload[descLen:]
				// Frame tag: P (inverse key frame) in bit 0, show_frame set.
				hdr[0], hdr[1], hdr[2] = 0x10|0x01, 0x02, 0x00
				if isKey {
					hdr[0] = 0x10
					copy(hdr[3:], []byte{0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01}) // start code, 640×360
				}
			}
			seq++
			sentAt := now()
			putTrailer(payload, sentAt)
			if w.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Marker: i == packets-1}, Payload: payload}) == nil {
				count(sentAt)
			}
		}
	}
}

// sendAudio writes one Opus packet every 20 ms (40–48 kbit/s, like speech at a browser's
// default) until stop closes.
func sendAudio(w RTPWriter, count func(sentAt int64), stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	seq := uint16(rng.Uint32())
	ts := rng.Uint32()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		ts += 960
		payload := make([]byte, 100+rng.IntN(21))
		payload[0] = 0x78 // TOC: SILK+CELT hybrid FB 20 ms, one frame
		seq++
		sentAt := now()
		putTrailer(payload, sentAt)
		if w.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts}, Payload: payload}) == nil {
			count(sentAt)
		}
	}
}
