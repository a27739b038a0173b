package load

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// StepParams grow the load: Start rooms, then Step more each round, up to Max.
type StepParams struct {
	Start, Step, Max int
	// Run shapes every round (its Rooms is set per round).
	Run Params
	// Pause separates two runs, for the machine to settle (sockets closing, GC).
	Pause time.Duration
}

// Step runs the same growing load against every server, interleaved round by round so that
// whatever else the machine does hits all of them alike. A server leaves the rotation after
// its first saturated round (loss > 1 %, p99 > 100 ms, media not flowing) or failed one.
func Step(ctx context.Context, servers []Server, sp StepParams) []Report {
	if sp.Step < 1 {
		sp.Step = 1
	}
	sp.Start = max(sp.Start, 1)
	sp.Max = max(sp.Max, sp.Start)
	done := make([]bool, len(servers))
	var out []Report
	for rooms := sp.Start; rooms <= sp.Max; rooms += sp.Step {
		for i, srv := range servers {
			if done[i] || ctx.Err() != nil {
				continue
			}
			p := sp.Run
			p.Rooms = rooms
			rep, err := Run(ctx, srv, p)
			if err != nil {
				rep.Incomplete = "failed: " + err.Error()
				rep.LoadAvg = loadAvg()
			}
			out = append(out, rep)
			fmt.Fprintln(p.Progress, rep.Line())
			if err != nil || rep.Saturated() {
				done[i] = true
			}
			_ = sleep(ctx, sp.Pause)
		}
	}
	return out
}

// Line is a one-line summary of a run.
func (r Report) Line() string {
	if r.Wall == 0 {
		return fmt.Sprintf("%s rooms=%d: %s", r.Server, r.Rooms, r.Incomplete)
	}
	return fmt.Sprintf("%s rooms=%d×%d: %.0f pkt/s forwarded (%.1f Mbit/s), server %.2f cores, %.0f pkt per CPU-s (%v/pkt), p50 %v p99 %v, loss %.2f%%, join median %v p95 %v, load tool %.2f cores, load %s",
		r.Server, r.Rooms, r.RoomSize, r.ForwardedPPS, r.ForwardedMbps, r.ServerCores, r.PacketsPerCPUSecond,
		r.CPUPerPacket.Round(10*time.Nanosecond), r.P50, r.P99, 100*r.Loss, r.JoinMedian.Round(time.Millisecond),
		r.JoinP95.Round(time.Millisecond), r.LoadToolCores, r.LoadAvg)
}

// WriteTable prints runs as one Markdown table.
func WriteTable(w io.Writer, reps []Report) error {
	var b strings.Builder
	b.WriteString("| server | rooms×size | fwd pkt/s | fwd Mbit/s | server cores | pkt per CPU-s | CPU µs/pkt | p50 ms | p99 ms | loss % | join p50/p95 ms | load tool cores | load avg | note |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|\n")
	for _, r := range reps {
		note := r.Incomplete
		if note == "" && r.Saturated() {
			note = "limit"
		}
		if r.StalePPS >= 1 {
			note = strings.TrimPrefix(note+fmt.Sprintf("; %.0f pkt/s sent before the window arrived in it", r.StalePPS), "; ")
		}
		fmt.Fprintf(&b, "| %s | %d×%d | %.0f | %.1f | %.2f | %.0f | %.2f | %.2f | %.2f | %.2f | %d/%d | %.2f | %s | %s |\n",
			r.Server, r.Rooms, r.RoomSize, r.ForwardedPPS, r.ForwardedMbps, r.ServerCores, r.PacketsPerCPUSecond,
			float64(r.CPUPerPacket)/1e3, ms(r.P50), ms(r.P99), 100*r.Loss,
			r.JoinMedian.Milliseconds(), r.JoinP95.Milliseconds(), r.LoadToolCores, r.LoadAvg, strings.ReplaceAll(note, "|", "/"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
