package sfu

import "github.com/pion/rtp/codecs"

// isVP8KeyframeStart reports whether an RTP payload begins a VP8 key frame: the first
// packet of partition 0 whose frame header has the inverse key-frame bit P cleared
// (RFC 7741 §4.3). A subscriber fed from here on can decode at once.
func isVP8KeyframeStart(payload []byte) bool {
	var vp8 codecs.VP8Packet
	frame, err := vp8.Unmarshal(payload)
	if err != nil || vp8.S != 1 || vp8.PID != 0 || len(frame) == 0 {
		return false
	}
	return frame[0]&0x01 == 0
}
