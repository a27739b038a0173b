package sfu

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestChooseLayer(t *testing.T) {
	t.Parallel()
	measured := []Layer{
		{RID: "q", Width: 320, Height: 180, Bitrate: 150_000},
		{RID: "h", Width: 640, Height: 360, Bitrate: 500_000},
		{RID: "f", Width: 1280, Height: 720, Bitrate: 1_500_000},
	}
	unmeasured := []Layer{{RID: "q"}, {RID: "h"}, {RID: "f"}}
	single := []Layer{{}}
	tests := []struct {
		name    string
		layers  []Layer
		w, h    int
		budget  int
		current int
		want    int
	}{
		{"hidden pauses", measured, 0, 0, 10_000_000, 2, -1},
		{"no layers", nil, 640, 360, 0, -1, -1},
		{"thumbnail takes the low layer", measured, 160, 90, 10_000_000, -1, 0},
		{"view of the low layer's size", measured, 320, 180, 10_000_000, -1, 0},
		{"slightly larger view is still covered", measured, 360, 200, 10_000_000, -1, 0},
		{"medium view takes the middle layer", measured, 600, 340, 10_000_000, -1, 1},
		{"large view takes the top layer", measured, 1280, 720, 10_000_000, -1, 2},
		{"view larger than every layer takes the top", measured, 1920, 1080, 10_000_000, -1, 2},
		{"no estimate: the view decides", measured, 1280, 720, 0, -1, 2},
		{"low estimate takes the low layer", measured, 1280, 720, 300_000, -1, 0},
		{"estimate below every layer still sends the lowest", measured, 1280, 720, 50_000, 2, 0},
		{"estimate for the middle layer", measured, 1280, 720, 800_000, -1, 1},
		{"up-switch needs headroom", measured, 1280, 720, 1_600_000, 1, 1},
		{"up-switch with headroom", measured, 1280, 720, 1_900_000, 1, 2},
		{"staying needs no headroom", measured, 1280, 720, 1_600_000, 2, 2},
		{"down-switch once the current layer does not fit", measured, 1280, 720, 1_400_000, 2, 1},
		{"unmeasured layers use nominal sizes", unmeasured, 640, 360, 0, -1, 1},
		{"unmeasured layers use nominal rates", unmeasured, 1280, 720, 700_000, -1, 1},
		{"a single layer is sent whatever the estimate", single, 1280, 720, 10_000, 0, 0},
		{"two layers rank as the nominal h and f", []Layer{{RID: "h"}, {RID: "f"}}, 640, 360, 0, -1, 0},
		{"a layer never sent is passed over", []Layer{{RID: "q"}, {RID: "h"}, {RID: "f", Unavailable: true}}, 1280, 720, 0, -1, 1},
		{"an unavailable middle layer is skipped down", []Layer{measured[0], {RID: "h", Unavailable: true}, measured[2]}, 640, 360, 1_000_000, -1, 0},
		{"an unavailable middle layer is skipped up", []Layer{measured[0], {RID: "h", Unavailable: true}, measured[2]}, 640, 360, 0, -1, 2},
		{"the lowest available is the fallback", []Layer{{RID: "q", Unavailable: true}, measured[1], measured[2]}, 1280, 720, 10_000, -1, 1},
		{"nothing arrives yet", []Layer{{RID: "q", Unavailable: true}, {RID: "h", Unavailable: true}}, 640, 360, 0, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ChooseLayer(LayerChoice{Layers: tt.layers, ViewWidth: tt.w, ViewHeight: tt.h, Budget: tt.budget, Current: tt.current})
			require.Equal(t, tt.want, got)
		})
	}
}

func TestOrderRIDs(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"q", "h", "f"}, orderRIDs([]string{"f", "q", "h"}))
	require.Equal(t, []string{"lo", "mid", "hi"}, orderRIDs([]string{"lo", "mid", "hi"}), "unknown names keep the declared order")
	require.Equal(t, []string{""}, orderRIDs([]string{""}))
}

func TestVP8Keyframe(t *testing.T) {
	t.Parallel()
	key := vp8Frame(true, 640, 360, 20)
	ok, w, h := vp8Keyframe(key)
	require.True(t, ok)
	require.Equal(t, []int{640, 360}, []int{w, h})
	ok, _, _ = vp8Keyframe(vp8Frame(false, 0, 0, 20))
	require.False(t, ok)
	cont := vp8Frame(true, 640, 360, 20)
	cont[0] = 0x00 // S=0: not the first packet of the frame
	ok, _, _ = vp8Keyframe(cont)
	require.False(t, ok)
	ok, _, _ = vp8Keyframe(nil)
	require.False(t, ok)
}

// TestReceiverLayerAvailability: a layer never sent, or one that stopped though it was
// asked for, is not chosen; one paused on the SFU's request, or just asked to resume, is.
func TestReceiverLayerAvailability(t *testing.T) {
	t.Parallel()
	src := newSimulcastSource(t, nil)
	r := src.r
	unavailable := func() []bool {
		var out []bool
		for _, l := range r.Layers() {
			out = append(out, l.Unavailable)
		}
		return out
	}
	r.layers[0].attached.Store(true)
	r.layers[0].live.Store(true)
	r.layers[1].attached.Store(true) // sent once, stopped on its own
	require.Equal(t, []bool{false, true, true}, unavailable(), "f never came, h stopped")

	r.needMu.Lock()
	r.sentMask = 0b001 // h and f paused on request
	r.needMu.Unlock()
	require.Equal(t, []bool{false, false, true}, unavailable(), "h can be resumed; f was never sent")

	r.needMu.Lock()
	r.sendLayersLocked(0b011) // h asked for again
	r.needMu.Unlock()
	require.Equal(t, []bool{false, false, true}, unavailable(), "h is resuming")
}
