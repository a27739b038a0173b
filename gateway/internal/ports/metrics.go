package ports

import (
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	requests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_requests_total", Help: "Requests through the gateway by target (service or local route) and status.",
	}, []string{"target", "status"})
	latency = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name: "gateway_request_duration_seconds", Help: "Request latency through the gateway by target.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"target"})
)

// targetKey holds the service a request was proxied to.
const targetKey = "gateway.target"

func setTarget(c *gin.Context, service string) { c.Set(targetKey, service) }

// metrics counts requests by target: the service for proxied requests, the route
// template for the gateway's own, so that ids in paths do not explode the label set.
func metrics() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		target := c.GetString(targetKey)
		if target == "" {
			if target = c.FullPath(); target == "" {
				target = "other"
			}
		}
		requests.WithLabelValues(target, strconv.Itoa(c.Writer.Status())).Inc()
		latency.WithLabelValues(target).Observe(time.Since(start).Seconds())
	}
}
