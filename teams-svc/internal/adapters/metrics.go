package adapters

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"gorm.io/gorm"
)

var (
	// cacheRequests counts cache lookups by cache and result (l1_hit: answered from the
	// instance's memory; hit: from the shared cache; miss, error, bypass), so that
	// /metrics shows the hit ratio of the membership cache.
	cacheRequests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "teams_cache_requests_total",
		Help: "Cache lookups of teams-svc by cache (membership, members, user) and result (l1_hit, hit, miss, error, bypass).",
	}, []string{"cache", "result"})
	// sqlStatements counts the SQL statements teams-svc sends, so that the number of
	// queries per request can be measured from outside (see docs/benchmarks-teams.md).
	sqlStatements = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "teams_sql_statements_total",
		Help: "SQL statements sent by teams-svc, by kind (transaction BEGIN/COMMIT not included).",
	}, []string{"kind"})
)

// CountStatements makes every statement gorm sends count in teams_sql_statements_total.
func CountStatements(gdb *gorm.DB) error {
	cb := gdb.Callback()
	hooks := []struct {
		kind     string
		register func(name string, fn func(*gorm.DB)) error
	}{
		{"create", cb.Create().After("gorm:create").Register},
		{"query", cb.Query().After("gorm:query").Register},
		{"update", cb.Update().After("gorm:update").Register},
		{"delete", cb.Delete().After("gorm:delete").Register},
		{"row", cb.Row().After("gorm:row").Register},
		{"raw", cb.Raw().After("gorm:raw").Register},
	}
	for _, h := range hooks {
		counter := sqlStatements.WithLabelValues(h.kind)
		if err := h.register("teams:count_"+h.kind, func(*gorm.DB) { counter.Inc() }); err != nil {
			return err
		}
	}
	return nil
}
