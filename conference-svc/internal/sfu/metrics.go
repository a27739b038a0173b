package sfu

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Process-wide counters, served on /metrics; the benchmark reads forwarded packets here.
var (
	packetsReceived = promauto.NewCounter(prometheus.CounterOpts{
		Name: "sfu_rtp_packets_received_total", Help: "RTP packets received from publishers.",
	})
	packetsForwarded = promauto.NewCounter(prometheus.CounterOpts{
		Name: "sfu_rtp_packets_forwarded_total", Help: "RTP packets written to subscribers.",
	})
	bytesForwarded = promauto.NewCounter(prometheus.CounterOpts{
		Name: "sfu_rtp_bytes_forwarded_total", Help: "RTP payload bytes written to subscribers.",
	})
	nackRetransmits = promauto.NewCounter(prometheus.CounterOpts{
		Name: "sfu_nack_retransmits_total", Help: "Packets resent from the cache on a subscriber's NACK.",
	})
	nackMisses = promauto.NewCounter(prometheus.CounterOpts{
		Name: "sfu_nack_misses_total", Help: "NACKed packets no longer in the cache.",
	})
	keyframeRequests = promauto.NewCounter(prometheus.CounterOpts{
		Name: "sfu_keyframe_requests_total", Help: "PLIs sent to publishers.",
	})
	subscriberEstimate = promauto.NewHistogram(prometheus.HistogramOpts{
		Name: "sfu_subscriber_estimate_bits_per_second", Help: "Subscribers' bandwidth estimates, sampled at each layer choice.",
		Buckets: prometheus.ExponentialBuckets(125_000, 2, 10),
	})
	subscriberLoss = promauto.NewHistogram(prometheus.HistogramOpts{
		Name: "sfu_subscriber_fraction_lost", Help: "Fraction lost reported in subscribers' receiver reports.",
		Buckets: []float64{0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1},
	})
)
