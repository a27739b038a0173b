package sourcescan

import (
	"fmt"
	"go/ast"
	"sort"
	"strings"
)

// Metric is one Prometheus metric declared in the scanned code.
type Metric struct {
	// Name is the full name: Namespace_Subsystem_Name.
	Name string
	// Kind is counter, gauge, histogram or summary.
	Kind  string
	Where string
}

// Metrics maps a metric name to its declaration.
type Metrics map[string]Metric

// optsKinds are client_golang's option types; a composite literal of one of them with a
// constant Name declares a metric (promauto.NewCounter(prometheus.CounterOpts{...}) and the
// Vec variants alike).
var optsKinds = map[string]string{
	"CounterOpts": "counter", "GaugeOpts": "gauge", "HistogramOpts": "histogram", "SummaryOpts": "summary",
}

// MetricNames scans the non-test Go files under each directory (see Packages) for the
// metrics they declare.
func MetricNames(dirs ...string) (Metrics, error) {
	out := Metrics{}
	err := Packages(dirs, func(p Package) {
		for _, f := range p.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.CompositeLit)
				if !ok {
					return true
				}
				sel, ok := lit.Type.(*ast.SelectorExpr)
				if !ok || optsKinds[sel.Sel.Name] == "" {
					return true
				}
				parts := map[string]string{}
				for _, el := range lit.Elts {
					kv, ok := el.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					key, ok := kv.Key.(*ast.Ident)
					if !ok {
						continue
					}
					if v, ok := stringValue(kv.Value, p.Consts); ok {
						parts[key.Name] = v
					}
				}
				if parts["Name"] == "" {
					return true
				}
				var name []string
				for _, k := range []string{"Namespace", "Subsystem", "Name"} {
					if parts[k] != "" {
						name = append(name, parts[k])
					}
				}
				pos := p.Fset.Position(lit.Pos())
				m := Metric{Name: strings.Join(name, "_"), Kind: optsKinds[sel.Sel.Name], Where: fmt.Sprintf("%s:%d", pos.Filename, pos.Line)}
				out[m.Name] = m
				return true
			})
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Series returns every series name the metrics expose, sorted: histograms and summaries
// add their _bucket (histograms only), _sum and _count series to the base name.
func (m Metrics) Series() []string {
	var out []string
	for name, metric := range m {
		switch metric.Kind {
		case "histogram":
			out = append(out, name+"_bucket", name+"_sum", name+"_count")
		case "summary":
			out = append(out, name, name+"_sum", name+"_count")
		default:
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
