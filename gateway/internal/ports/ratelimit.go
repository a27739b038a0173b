package ports

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/convene/convene/gateway/internal/routing"
	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/platform/ratelimit"
)

// LiveLimit is a per-minute limit that Consul KV may change while the gateway runs.
type LiveLimit struct {
	perMinute atomic.Int64
	burst     atomic.Int64
}

// NewLiveLimit returns a limit of perMinute events a minute with bursts of burst.
func NewLiveLimit(perMinute, burst int) *LiveLimit {
	l := &LiveLimit{}
	l.perMinute.Store(int64(perMinute))
	l.burst.Store(int64(burst))
	return l
}

// Limit returns the current limit.
func (l *LiveLimit) Limit() ratelimit.Limit {
	return ratelimit.Limit{Rate: int(l.perMinute.Load()), Burst: int(l.burst.Load()), Period: time.Minute}
}

// SetRate is a liveconfig.Setter for the per-minute rate.
func (l *LiveLimit) SetRate(v string) error { return setPositive(&l.perMinute, v) }

// SetBurst is a liveconfig.Setter for the burst.
func (l *LiveLimit) SetBurst(v string) error { return setPositive(&l.burst, v) }

func setPositive(dst *atomic.Int64, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return fmt.Errorf("%q is not a positive integer", v)
	}
	dst.Store(int64(n))
	return nil
}

// allow applies the per-IP limit of a rate-limited route; it answers 429 itself. A limiter
// that fails (Redis down) lets the request through: refusing every login while Redis is
// away would turn a degraded limiter into an outage.
func (h *proxyHandler) allow(c *gin.Context, route *routing.Route) bool {
	key := "gateway:" + route.Pattern + ":" + c.ClientIP()
	res, err := h.Limiter.Allow(c.Request.Context(), key, h.AuthLimit.Limit())
	if err != nil {
		h.Log.WarnContext(c.Request.Context(), "rate limiter unavailable", "err", err)
		return true
	}
	if res.Allowed {
		return true
	}
	c.Header("Retry-After", strconv.Itoa(max(1, int(math.Ceil(res.RetryAfter.Seconds())))))
	httpx.Abort(c, httpx.NewError(http.StatusTooManyRequests, httpx.CodeRateLimited, "too many requests, retry later"))
	return false
}
