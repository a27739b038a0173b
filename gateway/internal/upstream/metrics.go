package upstream

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	upstreamErrors = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_upstream_errors_total",
		Help: "Failed attempts to reach a service instance, by service and kind (connect, timeout, broken, retried).",
	}, []string{"service", "kind"})
	openWebSockets = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "gateway_websockets_open",
		Help: "WebSocket connections currently proxied, by service.",
	}, []string{"service"})
	misdirected = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_upstream_misdirected_total",
		Help: "421 answers naming another instance, by service and outcome (followed, returned, unknown_instance, failed).",
	}, []string{"service", "outcome"})
	ejections = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_upstream_ejections_total",
		Help: "Instances left out of the rotation after repeated failures, by service.",
	}, []string{"service"})
)
