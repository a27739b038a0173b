package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

func read(args []string) error {
	fs := flag.NewFlagSet("read", flag.ExitOnError)
	gateway := fs.String("gateway", "http://127.0.0.1:8080", "gateway URL")
	statePath := fs.String("state", "teamsload-state.json", "state written by seed")
	metricsURL := fs.String("metrics", "", "teams-svc's /metrics URL, for statements and CPU per request")
	gatewayMetrics := fs.String("gateway-metrics", "", "the gateway's /metrics URL, for its CPU per request")
	readers := fs.Int("readers", 50, "concurrent readers")
	duration := fs.Duration("duration", 20*time.Second, "how long to read")
	limit := fs.Int("limit", 50, "page size")
	interval := fs.Duration("interval", 0, "with a value, each reader starts a request every interval "+
		"(open loop; latency counts from the scheduled start, so queueing is not hidden); "+
		"without, each reader sends its next request as soon as the last one answered")
	_ = fs.Parse(args)
	st, err := loadState(*statePath)
	if err != nil {
		return err
	}
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: *readers, MaxConnsPerHost: *readers},
	}

	// Warm up: every reader's membership and every author's name get cached.
	for _, tok := range st.Tokens {
		if _, _, err := page(client, *gateway, st.TeamID, tok, "", *limit); err != nil {
			return err
		}
	}
	before, err := scrape(*metricsURL)
	if err != nil {
		return err
	}
	gwBefore, err := scrape(*gatewayMetrics)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	var (
		mu      sync.Mutex
		all     []time.Duration
		errs    int
		items   int
		wrapped int
		wg      sync.WaitGroup
	)
	for r := range *readers {
		wg.Go(func() {
			tok := st.Tokens[r%len(st.Tokens)]
			var lat []time.Duration
			var nerr, nitems, nwrap int
			cursor := ""
			// Readers start spread over one interval, so that paced readers do not all
			// fire at the same instant.
			scheduled := time.Now().Add(*interval * time.Duration(r) / time.Duration(*readers))
			for ctx.Err() == nil {
				t0 := time.Now()
				if *interval > 0 {
					if wait := time.Until(scheduled); wait > 0 {
						select {
						case <-ctx.Done():
						case <-time.After(wait):
						}
					}
					t0 = scheduled
					scheduled = scheduled.Add(*interval)
				}
				next, n, err := page(client, *gateway, st.TeamID, tok, cursor, *limit)
				d := time.Since(t0)
				if ctx.Err() != nil {
					break
				}
				if err != nil {
					nerr++
					continue
				}
				lat = append(lat, d)
				nitems += n
				if cursor = next; cursor == "" {
					nwrap++
				}
			}
			mu.Lock()
			all = append(all, lat...)
			errs += nerr
			items += nitems
			wrapped += nwrap
			mu.Unlock()
		})
	}
	start := time.Now()
	wg.Wait()
	elapsed := time.Since(start)
	after, err := scrape(*metricsURL)
	if err != nil {
		return err
	}
	gwAfter, err := scrape(*gatewayMetrics)
	if err != nil {
		return err
	}

	mode := "closed loop"
	if *interval > 0 {
		mode = fmt.Sprintf("open loop, each every %s", *interval)
	}
	fmt.Printf("GET /api/v1/teams/{id}/posts?limit=%d: %d readers (%s), %s\n", *limit, *readers, mode, elapsed.Round(time.Millisecond))
	fmt.Printf("  requests %d (%.0f/s), errors %d, posts read %d, full walks %d\n",
		len(all), float64(len(all))/elapsed.Seconds(), errs, items, wrapped)
	printPercentiles(all)
	if *metricsURL != "" {
		reqs := after.sum("http_requests_total", `route="/api/v1/teams/:team_id/posts"`) - before.sum("http_requests_total", `route="/api/v1/teams/:team_id/posts"`)
		stmts := after.sum("teams_sql_statements_total", "") - before.sum("teams_sql_statements_total", "")
		users := after.sum("grpc_client_handled_total", `grpc_method="GetUsers"`) - before.sum("grpc_client_handled_total", `grpc_method="GetUsers"`)
		l1, shared := membershipHits(before, after)
		hits := l1 + shared
		cpu := after.sum("process_cpu_seconds_total", "") - before.sum("process_cpu_seconds_total", "")
		fmt.Printf("  teams-svc served %.0f list requests: %.2f SQL statements per request, %.3f users-svc calls per request, %.3f membership cache hits per request, %.2fms CPU per request\n",
			reqs, stmts/reqs, users/reqs, hits/reqs, 1000*cpu/reqs)
		if *gatewayMetrics != "" {
			gwCPU := gwAfter.sum("process_cpu_seconds_total", "") - gwBefore.sum("process_cpu_seconds_total", "")
			fmt.Printf("  gateway: %.2fms CPU per request\n", 1000*gwCPU/reqs)
		}
	}
	return nil
}

// page fetches one page and returns the next cursor and the number of posts.
func page(c *http.Client, base, teamID, token, cursor string, limit int) (string, int, error) {
	url := fmt.Sprintf("%s/api/v1/teams/%s/posts?limit=%d", base, teamID, limit)
	if cursor != "" {
		url += "&before=" + cursor
	}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := c.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(res.Body)
		return "", 0, fmt.Errorf("status %d: %s", res.StatusCode, raw)
	}
	var body struct {
		Items      []json.RawMessage `json:"items"`
		NextCursor string            `json:"next_cursor"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return "", 0, err
	}
	return body.NextCursor, len(body.Items), nil
}

func printPercentiles(all []time.Duration) {
	if len(all) == 0 {
		fmt.Println("  no samples")
		return
	}
	slices.Sort(all)
	at := func(q float64) time.Duration { return all[min(len(all)-1, int(q*float64(len(all))))] }
	fmt.Printf("  latency p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
		round(at(0.50)), round(at(0.90)), round(at(0.99)), round(at(0.999)), round(all[len(all)-1]))
}

func round(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64) + "ms"
}

// metrics is a scrape of a Prometheus text endpoint.
type metrics []string

func scrape(url string) (metrics, error) {
	if url == "" {
		return nil, nil
	}
	res, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var out metrics
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if line := sc.Text(); !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out, sc.Err()
}

// sum adds the samples of name whose labels contain match.
// membershipHits counts the membership answers served between two scrapes from teams-svc's
// in-process L1 and from the shared Redis cache.
func membershipHits(before, after metrics) (l1, shared float64) {
	count := func(m metrics, result string) float64 {
		return m.sum("teams_cache_requests_total", `cache="membership",result="`+result+`"`)
	}
	return count(after, "l1_hit") - count(before, "l1_hit"), count(after, "hit") - count(before, "hit")
}

func (m metrics) sum(name, match string) float64 {
	var total float64
	for _, line := range m {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		if match != "" && !strings.Contains(line, match) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err == nil {
			total += v
		}
	}
	return total
}
