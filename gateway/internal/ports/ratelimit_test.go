package ports

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/ratelimit"
)

func TestLiveLimit(t *testing.T) {
	l := NewLiveLimit(20, 10)
	cases := []struct {
		name    string
		set     func(string) error
		value   string
		wantErr bool
		want    ratelimit.Limit
	}{
		{"rate", l.SetRate, "60", false, ratelimit.Limit{Rate: 60, Burst: 10, Period: time.Minute}},
		{"burst", l.SetBurst, "5", false, ratelimit.Limit{Rate: 60, Burst: 5, Period: time.Minute}},
		{"not a number keeps the old value", l.SetRate, "fast", true, ratelimit.Limit{Rate: 60, Burst: 5, Period: time.Minute}},
		{"zero keeps the old value", l.SetBurst, "0", true, ratelimit.Limit{Rate: 60, Burst: 5, Period: time.Minute}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.set(tc.value)
			if tc.wantErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tc.want, l.Limit())
		})
	}
}
