package sfu

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPacketCache(t *testing.T) {
	c := NewPacketCache(4)
	buf := make([]byte, maxPacketSize)
	for seq := uint16(65533); seq != 3; seq++ { // across the wrap
		c.Push(seq, []byte{byte(seq)})
	}
	cases := []struct {
		seq uint16
		ok  bool
	}{
		{65533, false}, // overwritten
		{65534, false},
		{65535, true},
		{0, true},
		{2, true},
		{3, false}, // never pushed
	}
	for _, tc := range cases {
		n, ok := c.Get(tc.seq, buf)
		require.Equal(t, tc.ok, ok, "seq %d", tc.seq)
		if ok {
			require.Equal(t, []byte{byte(tc.seq)}, buf[:n])
		}
	}
	c.Push(9, make([]byte, maxPacketSize+1))
	_, ok := c.Get(9, buf)
	require.False(t, ok, "oversized packets are not cached")
}

func TestVP8KeyframeStart(t *testing.T) {
	cases := []struct {
		name    string
		payload []byte
		want    bool
	}{
		{"key frame start", []byte{0x10, 0x10, 0x00}, true},
		{"inter frame", []byte{0x10, 0x11, 0x00}, false},
		{"continuation", []byte{0x00, 0x10, 0x00}, false},
		{"second partition", []byte{0x11, 0x10, 0x00}, false},
		{"extended descriptor with picture id", []byte{0x90, 0x80, 0x05, 0x10}, true},
		{"empty", nil, false},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, isVP8KeyframeStart(tc.payload), tc.name)
	}
}
