package service

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMediaThroughEmbeddedTURN: a client that may use relayed candidates only (a browser
// with iceTransportPolicy "relay", as behind a firewall that blocks the SFU's UDP port)
// sends and receives media through the embedded TURN server, over UDP and over TCP, with
// the credential "joined" handed it.
func TestMediaThroughEmbeddedTURN(t *testing.T) {
	h := startService(t, harnessOptions{turn: true})
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			host, guest := newID(), newID()
			team := h.teams.team(host, guest)
			conf := h.createConference(t, team, host, false)

			ch := h.joinMedia(t, conf, host, mic, camera)
			cg := h.joinMediaWith(t, conf, guest, transport, mic, camera)
			require.Eventually(t, func() bool {
				return ch.receivingFrom(guest, 10) == 2 && cg.receivingFrom(host, 10) == 2
			}, 15*time.Second, 50*time.Millisecond, "media flows both ways")
			pub, sub := cg.selectedTypes()
			require.Equal(t, "relay", pub, "the guest publishes through the relay")
			require.Equal(t, "relay", sub, "the guest receives through the relay")
			pub, sub = ch.selectedTypes()
			require.Equal(t, "host", pub, "the other participant is not relayed")
			require.Equal(t, "host", sub)
		})
	}
}
