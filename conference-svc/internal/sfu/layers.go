package sfu

import "slices"

// Layer is what the layer choice knows of one simulcast layer of a published video.
type Layer struct {
	// RID is the layer's RTP stream id ("q", "h", "f"; "" for a publisher without simulcast).
	RID string
	// Width and Height are the layer's picture size, read from its key frames (0: not seen
	// yet; the choice then assumes the usual 1/4, 1/2, 1 scaling of a 720p camera).
	Width, Height int
	// Bitrate is what the layer was last measured to carry, in bits per second (0: never
	// measured; the choice then assumes a typical rate for its rank).
	Bitrate int
	// Unavailable marks a layer the publisher does not send though nobody asked it to stop:
	// one it never sent (a browser drops layers its capture is too small for) or stopped
	// on its own (its uplink is short). Switching to it would wait for nothing.
	Unavailable bool
}

// Nominal figures for layers not measured yet: what a browser sends for a 720p camera with
// scaleResolutionDownBy 4, 2, 1 (and what the web client asks for as maxBitrate).
var (
	nominalWidths   = []int{320, 640, 1280}
	nominalHeights  = []int{180, 360, 720}
	nominalBitrates = []int{150_000, 500_000, 1_500_000}
)

const (
	// viewSlack lets a layer count as covering a view up to this fraction smaller than it:
	// a 640x360 layer serves a 660x370 tile without a visible loss, at a third of the rate
	// of the next layer up.
	viewSlack = 0.85
	// upswitchHeadroom is how much more than a layer's rate the budget must be before the
	// choice switches up to it, while switching down happens as soon as the current layer
	// no longer fits: an estimate that hovers around one layer's rate does not flap.
	upswitchHeadroom = 1.25
)

// LayerChoice is the input of ChooseLayer for one subscriber and one track.
type LayerChoice struct {
	// Layers are the track's layers, lowest first.
	Layers []Layer
	// ViewWidth and ViewHeight are the size the subscriber shows the video at; 0 hides it.
	ViewWidth, ViewHeight int
	// Budget is the share of the subscriber's bandwidth estimate this track may use, in
	// bits per second; 0 means no estimate yet (no limit).
	Budget int
	// Current is the layer now forwarded (-1: none).
	Current int
}

// ChooseLayer returns the layer to forward, or -1 to pause the track: the highest layer
// that fits the budget and is not much larger than the view. When even the lowest layer
// does not fit, the lowest is still sent: a small picture beats a frozen one, and the
// estimator only learns that more fits from media that flows.
func ChooseLayer(c LayerChoice) int {
	if len(c.Layers) == 0 || c.ViewWidth <= 0 || c.ViewHeight <= 0 {
		return -1
	}
	lowest := slices.IndexFunc(c.Layers, func(l Layer) bool { return !l.Unavailable })
	if lowest < 0 {
		return 0 // nothing arrives yet: wait for the lowest layer
	}
	// The view caps the layer: the first one that covers the view, or the top one.
	limit := lowest
	for i := range c.Layers {
		if c.Layers[i].Unavailable {
			continue
		}
		limit = i
		w, h := layerSize(c.Layers, i)
		if float64(w) >= viewSlack*float64(c.ViewWidth) && float64(h) >= viewSlack*float64(c.ViewHeight) {
			break
		}
	}
	if c.Budget <= 0 {
		return limit
	}
	for i := limit; i > lowest; i-- {
		if c.Layers[i].Unavailable {
			continue
		}
		rate := float64(layerBitrate(c.Layers, i))
		if i > c.Current {
			rate *= upswitchHeadroom
		}
		if rate <= float64(c.Budget) {
			return i
		}
	}
	return lowest
}

// layerSize is the layer's measured size, or the nominal one for its rank counted from the
// top (a two-layer publisher's layers are the nominal h and f).
func layerSize(ls []Layer, i int) (int, int) {
	if ls[i].Width > 0 && ls[i].Height > 0 {
		return ls[i].Width, ls[i].Height
	}
	n := nominalRank(ls, i)
	return nominalWidths[n], nominalHeights[n]
}

func layerBitrate(ls []Layer, i int) int {
	if ls[i].Bitrate > 0 {
		return ls[i].Bitrate
	}
	return nominalBitrates[nominalRank(ls, i)]
}

func nominalRank(ls []Layer, i int) int {
	return min(len(nominalWidths)-1, max(0, len(nominalWidths)-len(ls)+i))
}
