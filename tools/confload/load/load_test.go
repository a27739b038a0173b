package load

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"
)

func TestTrailer(t *testing.T) {
	payload := make([]byte, 40)
	putTrailer(payload, 123456789)
	plain, err := (&rtp.Packet{Header: rtp.Header{Version: 2}, Payload: payload}).Marshal()
	require.NoError(t, err)
	padded, err := (&rtp.Packet{Header: rtp.Header{Version: 2, Padding: true}, Payload: payload, PaddingSize: 7}).Marshal()
	require.NoError(t, err)
	probe, err := (&rtp.Packet{Header: rtp.Header{Version: 2, Padding: true}, PaddingSize: 200}).Marshal()
	require.NoError(t, err)
	foreign, err := (&rtp.Packet{Header: rtp.Header{Version: 2}, Payload: make([]byte, 40)}).Marshal()
	require.NoError(t, err)

	for _, tc := range []struct {
		name string
		pkt  []byte
		ok   bool
	}{
		{"plain", plain, true},
		{"padded", padded, true},
		{"padding-only probe", probe, false},
		{"foreign payload", foreign, false},
		{"short", plain[:15], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at, ok := readTrailer(tc.pkt)
			require.Equal(t, tc.ok, ok)
			if ok {
				require.Equal(t, int64(123456789), at)
			}
		})
	}
}

func TestWindowCountsBySendTime(t *testing.T) {
	w := &window{}
	w.countSent(5, 3) // before the window opened
	w.start.Store(100)
	for _, sentAt := range []int64{100, 150, 199} {
		w.countSent(sentAt, 3)
	}
	w.end.Store(200)
	w.countSent(200, 3) // after it closed
	require.Equal(t, uint64(3), w.sent.Load())
	require.Equal(t, uint64(9), w.expected.Load())

	// 8 of 9 deliveries arrive, one of them after the window closed: it still counts.
	latencies := []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond, 2 * time.Millisecond,
		2 * time.Millisecond, 3 * time.Millisecond, 5 * time.Millisecond, 50 * time.Millisecond}
	for i, l := range latencies {
		sentAt := int64(100 + 10*i)
		w.countReceived(sentAt, 1000, sentAt+int64(l))
	}
	w.countReceived(99, 1000, 1000) // sent before the window: late, not counted
	require.Equal(t, uint64(8), w.received.Load())
	require.Equal(t, uint64(0), w.stale.Load(), "the window had closed when it arrived")
	require.Equal(t, uint64(8000), w.recvBytes.Load())
	require.InDelta(t, 1.0/9, w.loss(), 1e-9)
	require.Equal(t, 2*time.Millisecond+bucketWidth, w.quantile(0.5))
	require.Equal(t, 50*time.Millisecond+bucketWidth, w.quantile(0.99))
}

func TestQuantileOverflow(t *testing.T) {
	w := &window{}
	w.start.Store(1)
	w.countReceived(1, 100, 1+int64(3*time.Second))
	require.Equal(t, time.Second+bucketWidth, w.quantile(0.99))
	require.Zero(t, (&window{}).quantile(0.5))
}

// TestProcessCPU checks /proc/<pid>/stat against getrusage: the test burns CPU until the
// kernel's own account shows 100 ms more, however long a loaded machine takes to give it.
func TestProcessCPU(t *testing.T) {
	rusage := func() time.Duration {
		var ru syscall.Rusage
		require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	before, err := ProcessCPU(os.Getpid())
	require.NoError(t, err)
	ruBefore := rusage()
	deadline := time.Now().Add(30 * time.Second)
	for rusage()-ruBefore < 100*time.Millisecond {
		require.True(t, time.Now().Before(deadline), "no CPU time granted in 30 s")
	}
	after, err := ProcessCPU(os.Getpid())
	require.NoError(t, err)
	burnt := rusage() - ruBefore
	// /proc counts in 10 ms ticks, and the two reads are not simultaneous.
	require.InDelta(t, burnt.Seconds(), (after - before).Seconds(), 0.03)

	_, err = ProcessCPU(1 << 30)
	require.ErrorIs(t, err, ErrNoProcess)
}

func TestPidListening(t *testing.T) {
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer udp.Close()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer tcp.Close()
	for _, addr := range []string{udp.LocalAddr().String(), tcp.Addr().String()} {
		pid, err := PidListening(addr)
		require.NoError(t, err)
		require.Equal(t, os.Getpid(), pid)
	}
	free, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	freeAddr := free.LocalAddr().String()
	free.Close()
	_, err = PidListening(freeAddr)
	require.ErrorIs(t, err, ErrNoProcess)
}

// fakeServer must never be reached: bad parameters are refused before any room exists.
type fakeServer struct{ t *testing.T }

func (f fakeServer) Name() string { return "fake" }
func (f fakeServer) Pid() int     { return os.Getpid() }
func (f fakeServer) NewRoom(context.Context, int) (Room, error) {
	f.t.Fatal("NewRoom called")
	return nil, errors.New("unreachable")
}

func TestRunRefusesBadParams(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Params
	}{
		{"no room", Params{Rooms: 0, RoomSize: 10}},
		{"one participant", Params{Rooms: 1, RoomSize: 1}},
		{"no frame rate", Params{Rooms: 1, RoomSize: 2, Media: MediaParams{VideoBitrate: 1e6, MaxPayload: 1200, KeyframeInterval: time.Second}}},
		{"tiny packets", Params{Rooms: 1, RoomSize: 2, Media: MediaParams{VideoBitrate: 1e6, FPS: 30, MaxPayload: 20, KeyframeInterval: time.Second}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), fakeServer{t}, tc.p)
			require.ErrorIs(t, err, ErrBadParams)
		})
	}
}

func TestSaturated(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    Report
		want bool
	}{
		{"healthy", Report{Loss: 0.005, P99: 30 * time.Millisecond}, false},
		{"loss", Report{Loss: 0.02, P99: 30 * time.Millisecond}, true},
		{"latency", Report{P99: 120 * time.Millisecond}, true},
		{"not flowing", Report{Incomplete: "8 of 10"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, tc.r.Saturated()) })
	}
}

func TestWindowCountsLatePackets(t *testing.T) {
	w := &window{}
	w.countReceived(10, 100, 20) // before the window opened: nothing
	w.start.Store(100)
	w.countReceived(50, 100, 150) // queued since before the window
	w.countReceived(120, 100, 150)
	require.Equal(t, uint64(1), w.stale.Load())
	require.Equal(t, uint64(1), w.received.Load())
}
