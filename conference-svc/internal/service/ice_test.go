package service

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/config"
)

// selectedProtocols returns the transport ("udp", "tcp") of the pair each connection uses.
func (c *mediaClient) selectedProtocols() (pub, sub string) {
	protoOf := func(pc *webrtc.PeerConnection) string {
		pair, err := pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
		if err != nil || pair == nil {
			return ""
		}
		return pair.Local.Protocol.String()
	}
	return protoOf(c.pub), protoOf(c.sub)
}

// packetsFrom counts the packets received on every track of user.
func (c *mediaClient) packetsFrom(user string) int {
	recv, labels, _ := c.snapshot()
	n := 0
	for stream, l := range labels {
		if l.UserID == user {
			n += recv[stream].packets
		}
	}
	return n
}

// iceUfrag returns the ICE username fragment of a session description.
func iceUfrag(sd *webrtc.SessionDescription) string {
	if sd == nil {
		return ""
	}
	for _, line := range strings.Split(sd.SDP, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "a=ice-ufrag:"); ok {
			return v
		}
	}
	return ""
}

// TestICETCPOnlyClientGetsMedia: a client whose network lets only TCP through publishes
// and receives over the SFU's ICE-TCP port, offered alongside the UDP candidates.
func TestICETCPOnlyClientGetsMedia(t *testing.T) {
	h := startService(t, harnessOptions{configure: func(c *Config) { c.MediaTCPAddr = "127.0.0.1:0" }})
	udpUser, tcpUser := newID(), newID()
	team := h.teams.team(udpUser, tcpUser)
	conf := h.createConference(t, team, udpUser, false)
	cu := h.joinMedia(t, conf, udpUser, mic, camera)
	ct := h.joinMediaOpts(t, conf, tcpUser, clientOptions{tcpOnly: true}, mic)
	require.Eventually(t, func() bool { return ct.receivingFrom(udpUser, 20) == 2 && cu.receivingFrom(tcpUser, 20) == 1 },
		15*time.Second, 50*time.Millisecond, "media flows both ways with the TCP-only client")
	pub, sub := ct.selectedProtocols()
	require.Equal(t, "tcp", pub)
	require.Equal(t, "tcp", sub)
	recv, labels, _ := ct.snapshot()
	for stream, l := range labels {
		if l.Kind == "video" {
			require.True(t, recv[stream].log[0].key, "video over TCP starts on a key frame")
		}
	}
}

// TestICETCPOff: without MEDIA_TCP_ADDR the SFU offers no TCP candidate, so a TCP-only
// client gets no media (the test above is not passing by some other path).
func TestICETCPOff(t *testing.T) {
	h := startService(t, harnessOptions{})
	udpUser, tcpUser := newID(), newID()
	team := h.teams.team(udpUser, tcpUser)
	conf := h.createConference(t, team, udpUser, false)
	h.joinMedia(t, conf, udpUser, mic)
	ct := h.joinMediaOpts(t, conf, tcpUser, clientOptions{tcpOnly: true})
	require.Eventually(t, func() bool { _, labels, _ := ct.snapshot(); return len(labels) == 1 }, 10*time.Second, 20*time.Millisecond)
	time.Sleep(2 * time.Second)
	require.Zero(t, ct.packetsFrom(udpUser))
}

// TestICERestartKeepsMediaFlowing: the client restarts ICE on both connections, as a
// browser does when its network changes: it re-offers the publisher connection with new
// credentials, and asks the SFU (ice_restart) to re-offer the subscriber one. Both get
// new credentials and media keeps flowing both ways.
func TestICERestartKeepsMediaFlowing(t *testing.T) {
	h := startService(t, harnessOptions{})
	a, b := newID(), newID()
	team := h.teams.team(a, b)
	conf := h.createConference(t, team, a, false)
	ca := h.joinMedia(t, conf, a, mic, camera)
	cb := h.joinMedia(t, conf, b, mic, camera)
	require.Eventually(t, func() bool { return ca.receivingFrom(b, 10) == 2 && cb.receivingFrom(a, 10) == 2 },
		10*time.Second, 50*time.Millisecond)
	pubUfrag, subUfrag := iceUfrag(cb.pub.CurrentRemoteDescription()), iceUfrag(cb.sub.CurrentRemoteDescription())
	require.NotEmpty(t, pubUfrag)
	require.NotEmpty(t, subUfrag)

	cb.offerWith(&webrtc.OfferOptions{ICERestart: true})
	cb.sendJSON(map[string]string{"type": "ice_restart"})
	require.Eventually(t, func() bool {
		return iceUfrag(cb.pub.CurrentRemoteDescription()) != pubUfrag && iceUfrag(cb.sub.CurrentRemoteDescription()) != subUfrag
	}, 10*time.Second, 20*time.Millisecond, "the SFU answers and offers with new ICE credentials")
	require.Eventually(t, func() bool {
		return cb.pub.ICEConnectionState() == webrtc.ICEConnectionStateConnected &&
			cb.sub.ICEConnectionState() == webrtc.ICEConnectionStateConnected
	}, 10*time.Second, 20*time.Millisecond)

	fromA, fromB := cb.packetsFrom(a), ca.packetsFrom(b)
	require.Eventually(t, func() bool { return cb.packetsFrom(a) > fromA+50 && ca.packetsFrom(b) > fromB+50 },
		10*time.Second, 50*time.Millisecond, "media flows both ways after the restart")
	recv, labels, _ := cb.snapshot()
	for stream, l := range labels {
		r := recv[stream]
		// pion drops the old pair as the restart begins: packets in flight while the new
		// pair is checked are lost. Video recovers them from the SFU's cache (NACK);
		// audio has no retransmission and may miss a moment.
		if l.Kind == "video" {
			require.Zero(t, r.holes(), "video: no packet lost across the restart")
		} else {
			require.Less(t, r.holes(), 25, "audio: less than half a second lost across the restart")
		}
		t.Logf("%s: %d packets missing across the restart", l.Source, r.holes())
	}
}

func TestLoadConfigMedia(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		env        map[string]string
		tcp        string
		pacing     bool
		maxBitrate int
		err        string
	}{
		{"defaults: no ICE-TCP, pacing off, no cap", nil, "", false, 0, ""},
		{"ICE-TCP port", map[string]string{"MEDIA_TCP_ADDR": "127.0.0.1:7882"}, "127.0.0.1:7882", false, 0, ""},
		{"ICE_TCP_ADDR is read too", map[string]string{"ICE_TCP_ADDR": "0.0.0.0:7882"}, "0.0.0.0:7882", false, 0, ""},
		{"pacing on", map[string]string{"MEDIA_PACING": "true"}, "", true, 0, ""},
		{"subscriber cap", map[string]string{"SUBSCRIBER_MAX_BITRATE": "2000000"}, "", false, 2_000_000, ""},
		{"malformed cap", map[string]string{"SUBSCRIBER_MAX_BITRATE": "fast"}, "", false, 0, "SUBSCRIBER_MAX_BITRATE"},
		{"malformed pacing", map[string]string{"MEDIA_PACING": "sometimes"}, "", false, 0, "MEDIA_PACING"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"INTERNAL_AUTH_SECRET": "0123456789abcdef0123"}
			maps.Copy(env, tc.env)
			c, err := LoadConfig(config.FromMap(env))
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.tcp, c.MediaTCPAddr)
			require.Equal(t, tc.pacing, c.MediaPacing)
			require.Equal(t, tc.maxBitrate, c.SubscriberMaxBitrate)
		})
	}
}
