package sfu

import (
	"encoding/binary"

	"github.com/pion/rtp/codecs"
)

// vp8Keyframe reports whether an RTP payload begins a VP8 key frame: the first packet of
// partition 0 whose frame header has the inverse key-frame bit P cleared (RFC 7741 §4.3).
// A subscriber fed from here on can decode at once. When the packet holds the key frame's
// start code, width and height are its picture size (RFC 6386 §9.1), else 0.
func vp8Keyframe(payload []byte) (key bool, width, height int) {
	var vp8 codecs.VP8Packet
	frame, err := vp8.Unmarshal(payload)
	if err != nil || vp8.S != 1 || vp8.PID != 0 || len(frame) == 0 || frame[0]&0x01 != 0 {
		return false, 0, 0
	}
	// 3 bytes of frame tag, the start code 9d 01 2a, then 14-bit width and height.
	if len(frame) >= 10 && frame[3] == 0x9d && frame[4] == 0x01 && frame[5] == 0x2a {
		width = int(binary.LittleEndian.Uint16(frame[6:]) & 0x3fff)
		height = int(binary.LittleEndian.Uint16(frame[8:]) & 0x3fff)
	}
	return true, width, height
}

// isVP8KeyframeStart reports whether an RTP payload begins a VP8 key frame.
func isVP8KeyframeStart(payload []byte) bool {
	key, _, _ := vp8Keyframe(payload)
	return key
}
