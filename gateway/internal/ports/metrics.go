package ports

import (
	"strconv"
	"sync"
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
	var m metricChildren
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		target := c.GetString(targetKey)
		if target == "" {
			if target = c.FullPath(); target == "" {
				target = "other"
			}
		}
		counter, observer := m.get(target, c.Writer.Status())
		counter.Inc()
		observer.Observe(time.Since(start).Seconds())
	}
}

// metricKey is one request counter's labels.
type metricKey struct {
	target string
	status int
}

// metricChildren remembers the labelled series already in use, so that a request costs a
// map lookup rather than formatting its status and hashing its labels again.
type metricChildren struct {
	mu       sync.RWMutex
	counters map[metricKey]prometheus.Counter
	latency  map[string]prometheus.Observer
}

func (m *metricChildren) get(target string, status int) (prometheus.Counter, prometheus.Observer) {
	k := metricKey{target, status}
	m.mu.RLock()
	counter, ok1 := m.counters[k]
	observer, ok2 := m.latency[target]
	m.mu.RUnlock()
	if ok1 && ok2 {
		return counter, observer
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counters == nil {
		m.counters = map[metricKey]prometheus.Counter{}
		m.latency = map[string]prometheus.Observer{}
	}
	if counter, ok1 = m.counters[k]; !ok1 {
		counter = requests.WithLabelValues(target, strconv.Itoa(status))
		m.counters[k] = counter
	}
	if observer, ok2 = m.latency[target]; !ok2 {
		observer = latency.WithLabelValues(target)
		m.latency[target] = observer
	}
	return counter, observer
}
