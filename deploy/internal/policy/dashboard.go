package policy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
)

// selector finds the metric names of a PromQL expression: the dashboard writes every
// selector with braces (metric{...}), so a name followed by "{" is a metric.
var selector = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\{`)

// DashboardPanel is what the checks read of a Grafana panel.
type DashboardPanel struct {
	Title   string `json:"title"`
	Type    string `json:"type"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []DashboardPanel `json:"panels"`
}

// CheckDashboard: every metric a panel queries is exported by some Convene process (series
// lists them, from the source), every query panel has a query, and the panels named in
// wantTitles exist.
func CheckDashboard(raw []byte, series []string, wantTitles []string) []error {
	var d struct {
		UID    string           `json:"uid"`
		Title  string           `json:"title"`
		Panels []DashboardPanel `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return []error{fmt.Errorf("dashboard: %w", err)}
	}
	var errs []error
	if d.UID == "" || d.Title == "" {
		errs = append(errs, fmt.Errorf("dashboard: needs a uid and a title"))
	}
	titles := map[string]bool{}
	var walk func([]DashboardPanel)
	walk = func(ps []DashboardPanel) {
		for _, p := range ps {
			titles[p.Title] = true
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				errs = append(errs, fmt.Errorf("dashboard: panel %q has no query", p.Title))
			}
			for _, t := range p.Targets {
				names := selector.FindAllStringSubmatch(t.Expr, -1)
				if len(names) == 0 {
					errs = append(errs, fmt.Errorf("dashboard: panel %q queries no metric: %s", p.Title, t.Expr))
				}
				for _, m := range names {
					if !slices.Contains(series, m[1]) {
						errs = append(errs, fmt.Errorf("dashboard: panel %q queries %s, which no Convene process exports", p.Title, m[1]))
					}
				}
			}
		}
	}
	walk(d.Panels)
	for _, t := range wantTitles {
		if !titles[t] {
			errs = append(errs, fmt.Errorf("dashboard: no panel %q", t))
		}
	}
	return errs
}
