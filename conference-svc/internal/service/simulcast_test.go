package service

import (
	"slices"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/require"
)

// simulcastCamera is a camera published as three layers: about 60, 120 and 250 kB/s.
var simulcastCamera = publish{kind: webrtc.RTPCodecTypeVideo, streamID: "camera-1", frameBytes: 8000, simulcast: true}

// layersAsked returns the "layers" frames the client received so far.
func (c *mediaClient) layersAsked() []frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.layers)
}

// videoLog returns the packets the client received on its only forwarded video, and the
// video's track id.
func (c *mediaClient) videoLog(t *testing.T) ([]recvPacket, string) {
	t.Helper()
	recv, labels, _ := c.snapshot()
	for stream, l := range labels {
		if l.Kind == "video" {
			return recv[stream].log, l.TrackID
		}
	}
	return nil, ""
}

// tailLayers reports whether the last n packets received all came from layer.
func tailLayers(log []recvPacket, n int, layer byte) bool {
	if len(log) < n {
		return false
	}
	for _, p := range log[len(log)-n:] {
		if p.layer != layer {
			return false
		}
	}
	return true
}

// requireSeamless checks the subscriber's one stream across layer switches: sequence
// numbers without a gap, the stream starting on a key frame, and every switch to another
// layer starting on a key frame of it.
func requireSeamless(t *testing.T, log []recvPacket) {
	t.Helper()
	require.NotEmpty(t, log)
	require.True(t, log[0].key, "the video starts on a key frame")
	seen := map[uint16]bool{}
	first, last := log[0].seq, log[0].seq
	for i, p := range log {
		seen[p.seq] = true
		if int16(p.seq-last) > 0 {
			last = p.seq
		}
		if i > 0 && p.layer != log[i-1].layer {
			require.True(t, p.key, "packet %d: the switch from layer %d to %d starts on a key frame", i, log[i-1].layer, p.layer)
		}
	}
	missing := 0
	for s := first; s != last; s++ {
		if !seen[s] {
			missing++
		}
	}
	// Loopback loses nothing the NACKs do not recover.
	require.Zero(t, missing, "sequence numbers stay contiguous across switches")
}

// switchView shows the subscriber's video at width × height, waits until layer flows, and
// checks that the previous layer kept flowing until the switch (no freeze while the new
// layer's key frame is awaited). It returns how long the switch took.
func switchView(t *testing.T, cs *mediaClient, trackID string, width, height int, layer byte) time.Duration {
	t.Helper()
	before, _ := cs.videoLog(t)
	cs.sendJSON(map[string]any{"type": "view", "track_id": trackID, "width": width, "height": height})
	require.Eventually(t, func() bool {
		log, _ := cs.videoLog(t)
		return tailLayers(log, 30, layer)
	}, 10*time.Second, 50*time.Millisecond, "a %dx%d view switches to layer %d", width, height, layer)
	log, _ := cs.videoLog(t)
	at := slices.IndexFunc(log[len(before):], func(p recvPacket) bool { return p.layer == layer }) + len(before)
	var gap time.Duration
	for i := len(before); i <= at; i++ {
		gap = max(gap, log[i].at.Sub(log[i-1].at))
	}
	// Frames come every 33 ms; a freeze while waiting for the key frame would last up to 2 s.
	require.Less(t, gap, 500*time.Millisecond, "the previous layer keeps flowing until the switch to %d", layer)
	return log[at].at.Sub(log[len(before)].at)
}

// TestSimulcastLayerFollowsView: a subscriber that shows a publisher's simulcast camera
// small receives the low layer, and the publisher is asked to stop the layers nobody
// watches; once the subscriber shows it large it switches up to the top layer (which the
// publisher is asked to send again), and back down when it shows it small again. Every
// switch happens on a key frame of the new layer, the old layer flowing until then, in one
// stream with contiguous sequence numbers. The publisher answers no PLI (a key frame every
// two seconds, and when a layer resumes), so that a switch to a running layer has to wait.
func TestSimulcastLayerFollowsView(t *testing.T) {
	h := startService(t, harnessOptions{})
	pubUser, subUser := newID(), newID()
	team := h.teams.team(pubUser, subUser)
	conf := h.createConference(t, team, pubUser, false)
	slow := simulcastCamera
	slow.slowKeyframes = true
	cp := h.joinMedia(t, conf, pubUser, slow)
	cs := h.joinMedia(t, conf, subUser)
	require.Eventually(t, func() bool { return cs.receivingFrom(pubUser, 10) == 1 }, 10*time.Second, 50*time.Millisecond)
	_, trackID := cs.videoLog(t)

	switchView(t, cs, trackID, 160, 90, 0)
	require.Eventually(t, func() bool {
		asked := cp.layersAsked()
		return len(asked) > 0 && slices.Equal(asked[len(asked)-1].Active, []string{"q"})
	}, 10*time.Second, 50*time.Millisecond, "the publisher is asked to send only the low layer: %+v", cp.layersAsked())
	asked := cp.layersAsked()
	require.NotEmpty(t, asked[len(asked)-1].TrackID, "layers names the publisher's own track")
	require.NotEmpty(t, asked[len(asked)-1].Mid)

	took := switchView(t, cs, trackID, 1280, 720, 2)
	asked = cp.layersAsked()
	require.Contains(t, asked[len(asked)-1].Active, "f", "the top layer is asked for again")
	t.Logf("up to the resumed top layer in %v", took)
	took = switchView(t, cs, trackID, 320, 180, 0)
	t.Logf("down to the running low layer in %v (its next key frame)", took)

	log, _ := cs.videoLog(t)
	requireSeamless(t, log)
	var switches []byte
	for i, p := range log {
		if i == 0 || p.layer != log[i-1].layer {
			switches = append(switches, p.layer)
		}
	}
	require.Equal(t, []byte{2, 0}, switches[len(switches)-2:])
	t.Logf("layers forwarded in turn: %v over %d packets", switches, len(log))
}

// TestSimulcastLowEstimateTakesLowLayer: a subscriber whose bandwidth estimate is low
// receives the low layer even when it shows the video large; the layer choice reads the
// estimator of its connection (here capped by SUBSCRIBER_MAX_BITRATE).
func TestSimulcastLowEstimateTakesLowLayer(t *testing.T) {
	h := startService(t, harnessOptions{configure: func(c *Config) { c.SubscriberMaxBitrate = 150_000 }})
	pubUser, subUser := newID(), newID()
	team := h.teams.team(pubUser, subUser)
	conf := h.createConference(t, team, pubUser, false)
	h.joinMedia(t, conf, pubUser, simulcastCamera)
	cs := h.joinMedia(t, conf, subUser)
	require.Eventually(t, func() bool { return cs.receivingFrom(pubUser, 10) == 1 }, 10*time.Second, 50*time.Millisecond)
	_, trackID := cs.videoLog(t)
	cs.sendJSON(map[string]any{"type": "view", "track_id": trackID, "width": 1280, "height": 720})
	require.Eventually(t, func() bool {
		log, _ := cs.videoLog(t)
		return len(log) > 150
	}, 15*time.Second, 50*time.Millisecond)
	log, _ := cs.videoLog(t)
	// pion reports a publisher's layers one by one as their first packets arrive; until the
	// low layer has, the lowest one that has is forwarded (a picture rather than none). From
	// the low layer's first packet on, nothing else may come.
	first := slices.IndexFunc(log, func(p recvPacket) bool { return p.layer == 0 })
	require.GreaterOrEqual(t, first, 0, "the low layer is forwarded")
	for i, p := range log[first:] {
		require.Zero(t, p.layer, "packet %d of %d: a 150 kbps subscriber gets the low layer only once it arrives", first+i, len(log))
	}
	t.Logf("%d packets of a higher layer before the low layer arrived", first)
	requireSeamless(t, log)
}
