package service

import (
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// BenchmarkJoinToFirstVideo measures, over loopback, the time from sending "join" (waiting
// room off) to the first RTP packet of another participant's video. Each iteration is a
// new participant; the median and p95 are reported. The participant reaches the SFU
// directly, or (turn-udp, turn-tcp) through the embedded TURN server with relayed
// candidates only.
//
//	go test ./internal/service -run '^$' -bench JoinToFirstVideo -benchtime 30x
func BenchmarkJoinToFirstVideo(b *testing.B) {
	h := startService(b, harnessOptions{turn: true})
	host := newID()
	team := h.teams.team(host)
	conf := h.createConference(b, team, host, false)
	publisher := h.joinMedia(b, conf, host, camera)
	viewer := newID()
	h.teams.addMember(team, viewer)
	first := h.joinMedia(b, conf, viewer)
	require.Eventually(b, func() bool { return first.receivingFrom(host, 10) == 1 }, 10*time.Second, 10*time.Millisecond)
	first.close()
	_ = publisher

	for _, path := range []struct{ name, relay string }{{"direct", ""}, {"turn-udp", "udp"}, {"turn-tcp", "tcp"}} {
		b.Run(path.name, func(b *testing.B) {
			var took []time.Duration
			for range b.N {
				user := newID()
				h.teams.addMember(team, user)
				c := h.joinMediaWith(b, conf, user, path.relay)
				var d time.Duration
				require.Eventually(b, func() bool {
					recv, _, _ := c.snapshot()
					for _, r := range recv {
						if r.kind == "video" {
							c.mu.Lock()
							d = r.firstPacket.Sub(c.joinSent)
							c.mu.Unlock()
							return true
						}
					}
					return false
				}, 10*time.Second, time.Millisecond)
				took = append(took, d)
				c.close()
			}
			b.StopTimer()
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "ms-median")
			b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "ms-p95")
		})
	}
}

// BenchmarkRoom10 runs a room of 10 participants, each publishing synthetic VP8 at about
// 1 Mbps (30 fps × 4167 bytes), and reports the packets the SFU forwarded per second and
// the CPU the whole process used per second of wall time. The process also runs the ten
// clients (their SRTP and RTP handling), so the CPU figure is an upper bound for the SFU.
// One iteration is one second of the room.
//
//	go test ./internal/service -run '^$' -bench Room10 -benchtime 10x
func BenchmarkRoom10(b *testing.B) {
	const n = 10
	h := startService(b, harnessOptions{})
	users := make([]string, n)
	for i := range users {
		users[i] = newID()
	}
	team := h.teams.team(users[0], users[1:]...)
	conf := h.createConference(b, team, users[0], false)
	video := publish{kind: webrtc.RTPCodecTypeVideo, streamID: "camera-1", frameBytes: 1_000_000 / 8 / 30}
	clients := make([]*mediaClient, n)
	for i, u := range users {
		clients[i] = h.joinMedia(b, conf, u, video)
	}
	require.Eventually(b, func() bool {
		for i, c := range clients {
			for j, u := range users {
				if i != j && c.receivingFrom(u, 30) != 1 {
					return false
				}
			}
		}
		return true
	}, 60*time.Second, 100*time.Millisecond, "every participant receives the nine others")

	startPkts, startBytes := forwarded(b)
	startCPU := cpuTime()
	start := time.Now()
	b.ResetTimer()
	for range b.N {
		time.Sleep(time.Second)
	}
	b.StopTimer()
	wall := time.Since(start).Seconds()
	pkts, bytes := forwarded(b)
	b.ReportMetric((pkts-startPkts)/wall, "fwd-pkts/s")
	b.ReportMetric((bytes-startBytes)*8/wall/1e6, "fwd-Mbit/s")
	b.ReportMetric((cpuTime()-startCPU).Seconds()/wall, "cpu-cores")
}

// forwarded reads the SFU's counters of forwarded packets and payload bytes.
func forwarded(b *testing.B) (pkts, bytes float64) {
	families, err := prometheus.DefaultGatherer.Gather()
	require.NoError(b, err)
	for _, f := range families {
		switch f.GetName() {
		case "sfu_rtp_packets_forwarded_total":
			pkts = f.GetMetric()[0].GetCounter().GetValue()
		case "sfu_rtp_bytes_forwarded_total":
			bytes = f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return pkts, bytes
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
