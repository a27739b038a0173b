package realtime

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func frames(seqs ...int64) [][]byte {
	out := make([][]byte, len(seqs))
	for i, s := range seqs {
		out[i] = []byte{byte('0' + s)}
	}
	return out
}

func TestChatCursorOrders(t *testing.T) {
	cases := []struct {
		name    string
		next    int64
		offers  []int64
		want    []int64
		pending int
	}{
		{"in order", 1, []int64{1, 2, 3}, []int64{1, 2, 3}, 0},
		{"swapped", 1, []int64{2, 1, 3}, []int64{1, 2, 3}, 0},
		{"reversed", 1, []int64{4, 3, 2, 1}, []int64{1, 2, 3, 4}, 0},
		{"duplicates dropped", 1, []int64{1, 1, 2, 1, 2}, []int64{1, 2}, 0},
		{"before start dropped", 5, []int64{3, 4, 5}, []int64{5}, 0},
		{"gap waits", 1, []int64{1, 3, 4}, []int64{1}, 2},
		{"unknown start follows the first frame", 0, []int64{7, 8, 6}, []int64{7, 8}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := chatCursor{next: tc.next}
			var got [][]byte
			for _, s := range tc.offers {
				got = append(got, c.offer(s, frames(s)[0])...)
			}
			if len(tc.want) == 0 {
				require.Empty(t, got)
			} else {
				require.Equal(t, frames(tc.want...), got)
			}
			require.Len(t, c.pending, tc.pending)
			require.Equal(t, tc.pending > 0, c.hasGap())
		})
	}
}

func TestChatCursorReplayHoldsLiveFrames(t *testing.T) {
	c := chatCursor{next: 1, replaying: true}
	require.Empty(t, c.offer(1, frames(1)[0]))
	require.Empty(t, c.offer(4, frames(4)[0]))
	// The replay delivered 1..2 itself; the live 1 is stale, 4 waits for 3.
	c.next, c.replaying = 3, false
	require.Empty(t, c.flush())
	require.Len(t, c.pending, 1)
	require.Equal(t, frames(3, 4), c.offer(3, frames(3)[0]))
	require.False(t, c.hasGap())
}
