package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Report is what a run measured.
type Report struct {
	Users, Chats, ChatSize int
	Duration               time.Duration
	Persisted              int64
	Deliveries             int64
	Lost, Duplicates       int64
	SendErrors             int64
	P50, P99, Max          time.Duration
	// Idle is what opening the sockets cost each measured process, per socket.
	Idle []IdleCost
	// CPU is each measured process's CPU time over the sending phase (drain included),
	// as a share of one core.
	CPU []ProcessCPU
}

// ProcessCPU is one process's CPU use while the load ran.
type ProcessCPU struct {
	Process string
	// Cores is CPU seconds per wall second: 1 is one core busy.
	Cores float64
}

// IdleCost is the growth of one process's resident memory, Go heap in use, goroutine
// stacks and goroutines between before the sockets were opened and after, divided by the
// sockets.
type IdleCost struct {
	Process   string
	RSS       float64
	HeapInuse float64
	// StackInuse is the goroutine stacks' memory (go_memstats_stack_inuse_bytes): with
	// HeapInuse, what the sockets hold, without the garbage RSS still counts.
	StackInuse float64
	Goroutines float64
}

func (r Report) String() string {
	secs := r.Duration.Seconds()
	var b strings.Builder
	fmt.Fprintf(&b, "users %d, chats %d of %d, sockets %d, sending for %s\n", r.Users, r.Chats, r.ChatSize, r.Users, r.Duration)
	fmt.Fprintf(&b, "persisted    %d (%.0f/s), send errors %d\n", r.Persisted, float64(r.Persisted)/secs, r.SendErrors)
	fmt.Fprintf(&b, "deliveries   %d (%.0f/s)\n", r.Deliveries, float64(r.Deliveries)/secs)
	fmt.Fprintf(&b, "latency      p50 %s  p99 %s  max %s (send → deliver)\n", r.P50, r.P99, r.Max)
	fmt.Fprintf(&b, "lost         %d\nduplicates   %d\n", r.Lost, r.Duplicates)
	if len(r.Idle) > 0 {
		fmt.Fprintf(&b, "idle socket  growth per socket: RSS, Go heap in use, goroutine stacks, goroutines\n")
		var rss, heap, stack float64
		for _, c := range r.Idle {
			fmt.Fprintf(&b, "  %-22s %7.1f KB  %7.1f KB  %7.1f KB  %5.2f\n", c.Process, c.RSS/1024, c.HeapInuse/1024, c.StackInuse/1024, c.Goroutines)
			rss += c.RSS
			heap += c.HeapInuse
			stack += c.StackInuse
		}
		fmt.Fprintf(&b, "  %-22s %7.1f KB  %7.1f KB  %7.1f KB\n", "total", rss/1024, heap/1024, stack/1024)
	}
	if len(r.CPU) > 0 {
		fmt.Fprintf(&b, "cpu          while sending, in cores:")
		for _, c := range r.CPU {
			fmt.Fprintf(&b, "  %s %.2f", c.Process, c.Cores)
		}
		fmt.Fprintln(&b)
	}
	return b.String()
}

// member is one user's socket and what it saw.
type member struct {
	acc  account
	chat int
	conn *websocket.Conn
	// writeMu serialises writes; reads happen in one goroutine.
	writeMu sync.Mutex

	mu      sync.Mutex
	seen    map[int64]int // seq → times delivered
	latency []time.Duration
	// acked maps the seqs this user's sends got, for the chat's expected set.
	acked []int64
	// sent counts sends written; refused counts error frames answering them.
	sent    int
	refused int
}

// Run sets up users and chats, opens one socket per user, measures idle memory, sends for
// p.Duration and reports.
func Run(ctx context.Context, p Params, log io.Writer) (Report, error) {
	a := &api{base: strings.TrimRight(p.Gateway, "/"), http: &http.Client{Timeout: 30 * time.Second}}
	users, chatMembers, chatIDs, err := setup(ctx, p, a, log)
	if err != nil {
		return Report{}, err
	}
	members := make([]*member, 0, len(chatMembers)*p.ChatSize)
	for j, idx := range chatMembers {
		for _, i := range idx {
			members = append(members, &member{acc: users[i], chat: j, seen: map[int64]int{}})
		}
	}
	before, memErr := processStats(ctx, p.Metrics)
	start := time.Now()
	dialer := &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}
	err = parallel(ctx, len(members), p.Concurrency*4, func(ctx context.Context, i int) error {
		return members[i].connect(ctx, dialer, a.base)
	})
	if err != nil {
		return Report{}, fmt.Errorf("%w: sockets: %v", errSetup, err)
	}
	defer func() {
		for _, m := range members {
			m.conn.Close()
		}
	}()
	fmt.Fprintf(log, "sockets open: %d in %s\n", len(members), time.Since(start).Round(time.Millisecond))
	rep := Report{Users: len(members), Chats: len(chatIDs), ChatSize: p.ChatSize, Duration: p.Duration}
	if len(p.Metrics) > 0 && memErr == nil {
		time.Sleep(2 * time.Second) // let the servers' allocations settle
		if after, err := processStats(ctx, p.Metrics); err == nil {
			n := float64(len(members))
			for i, b := range before {
				a := after[i]
				rep.Idle = append(rep.Idle, IdleCost{
					Process:    processName(p, i),
					RSS:        (a.rss - b.rss) / n,
					HeapInuse:  (a.heapInuse - b.heapInuse) / n,
					StackInuse: (a.stackInuse - b.stackInuse) / n,
					Goroutines: (a.goroutines - b.goroutines) / n,
				})
			}
		}
	}

	var measuring atomic.Bool
	var sendErrors atomic.Int64
	var readers sync.WaitGroup
	for _, m := range members {
		readers.Add(1)
		go func() {
			defer readers.Done()
			m.read(&measuring)
		}()
	}

	cpuBefore, cpuErr := processStats(ctx, p.Metrics)
	cpuStart := time.Now()
	measuring.Store(true)
	sendCtx, cancel := context.WithTimeout(ctx, p.Duration)
	var senders sync.WaitGroup
	for _, m := range members {
		senders.Add(1)
		go func() {
			defer senders.Done()
			m.send(sendCtx, chatIDs[m.chat], p.Rate, &sendErrors)
		}()
	}
	senders.Wait()
	cancel()
	fmt.Fprintf(log, "sending done; waiting up to %s for the last acks and deliveries\n", p.Drain)
	waitComplete(ctx, members, p.Drain)
	measuring.Store(false)
	if cpuAfter, err := processStats(ctx, p.Metrics); err == nil && cpuErr == nil && len(p.Metrics) > 0 {
		wall := time.Since(cpuStart).Seconds()
		for i := range cpuAfter {
			rep.CPU = append(rep.CPU, ProcessCPU{Process: processName(p, i), Cores: (cpuAfter[i].cpu - cpuBefore[i].cpu) / wall})
		}
	}
	for _, m := range members {
		m.conn.Close()
	}
	readers.Wait()

	rep.SendErrors = sendErrors.Load()
	tally(&rep, members)
	return rep, nil
}

func (m *member) connect(ctx context.Context, d *websocket.Dialer, base string) error {
	u, err := url.Parse(base + "/api/v1/ws")
	if err != nil {
		return err
	}
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	u.RawQuery = url.Values{"access_token": {m.acc.Token}}.Encode()
	conn, resp, err := d.DialContext(ctx, u.String(), nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return err
	}
	// The session is started (its chats' positions known) once it answers a frame.
	if err := conn.WriteJSON(map[string]string{"type": "hello"}); err != nil {
		conn.Close()
		return err
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, _, err := conn.ReadMessage(); err != nil {
		conn.Close()
		return err
	}
	_ = conn.SetReadDeadline(time.Time{})
	m.conn = conn
	return nil
}

type inFrame struct {
	Type    string `json:"type"`
	Message struct {
		Seq  int64  `json:"seq"`
		Text string `json:"text"`
	} `json:"message"`
}

func (m *member) read(measuring *atomic.Bool) {
	for {
		_, raw, err := m.conn.ReadMessage()
		if err != nil {
			return
		}
		now := time.Now()
		var f inFrame
		if json.Unmarshal(raw, &f) != nil || !measuring.Load() {
			continue
		}
		switch f.Type {
		case "ack":
			m.mu.Lock()
			m.acked = append(m.acked, f.Message.Seq)
			m.mu.Unlock()
		case "error":
			m.mu.Lock()
			m.refused++
			m.mu.Unlock()
		case "message":
			sent, err := strconv.ParseInt(f.Message.Text, 10, 64)
			m.mu.Lock()
			m.seen[f.Message.Seq]++
			if err == nil {
				m.latency = append(m.latency, now.Sub(time.Unix(0, sent)))
			}
			m.mu.Unlock()
		}
	}
}

// send sends at rate messages a second with a random phase, so that users do not send in
// lockstep. The text carries the send time for the latency measurement.
func (m *member) send(ctx context.Context, chatID string, rate float64, errs *atomic.Int64) {
	every := time.Duration(float64(time.Second) / rate)
	select {
	case <-time.After(time.Duration(rand.Int64N(int64(every)))):
	case <-ctx.Done():
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for n := 0; ; n++ {
		m.writeMu.Lock()
		err := m.conn.WriteJSON(map[string]string{
			"type": "send", "chat_id": chatID, "client_msg_id": fmt.Sprint(m.acc.Name, "-", time.Now().UnixNano(), "-", n),
			"text": strconv.FormatInt(time.Now().UnixNano(), 10),
		})
		m.writeMu.Unlock()
		if err != nil {
			errs.Add(1)
		} else {
			m.mu.Lock()
			m.sent++
			m.mu.Unlock()
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// waitComplete returns once every send was answered (ack or error) and every member saw
// every acknowledged seq of its chat, or after limit: whatever is missing then counts as
// lost.
func waitComplete(ctx context.Context, members []*member, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if complete(members) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func complete(members []*member) bool {
	expected := map[int][]int64{}
	for _, m := range members {
		m.mu.Lock()
		answered := len(m.acked)+m.refused >= m.sent
		expected[m.chat] = append(expected[m.chat], m.acked...)
		m.mu.Unlock()
		if !answered {
			return false
		}
	}
	for _, m := range members {
		m.mu.Lock()
		for _, seq := range expected[m.chat] {
			if m.seen[seq] == 0 {
				m.mu.Unlock()
				return false
			}
		}
		m.mu.Unlock()
	}
	return true
}

// tally compares what every socket received with what was acknowledged in its chat.
func tally(rep *Report, members []*member) {
	expected := map[int][]int64{}
	for _, m := range members {
		expected[m.chat] = append(expected[m.chat], m.acked...)
		rep.Persisted += int64(len(m.acked))
	}
	var lat []time.Duration
	for _, m := range members {
		for _, seq := range expected[m.chat] {
			n := m.seen[seq]
			if n == 0 {
				rep.Lost++
				continue
			}
			rep.Deliveries++
			rep.Duplicates += int64(n - 1)
		}
		lat = append(lat, m.latency...)
	}
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	rep.P50 = lat[len(lat)/2]
	rep.P99 = lat[len(lat)*99/100]
	rep.Max = lat[len(lat)-1]
}

// stats is what /metrics says of one process.
type stats struct{ rss, heapInuse, stackInuse, goroutines, cpu float64 }

// processStats reads resident memory, Go heap and stacks in use, goroutines and CPU time
// from each /metrics URL.
func processStats(ctx context.Context, urls []string) ([]stats, error) {
	out := make([]stats, len(urls))
	for i, u := range urls {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		found := map[string]float64{}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			name, v, ok := strings.Cut(sc.Text(), " ")
			switch name {
			case "process_resident_memory_bytes", "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes", "go_goroutines", "process_cpu_seconds_total":
				if f, err := strconv.ParseFloat(v, 64); ok && err == nil {
					found[name] = f
				}
			}
		}
		resp.Body.Close()
		if len(found) < 5 {
			return nil, fmt.Errorf("%s: missing process or Go runtime metrics", u)
		}
		out[i] = stats{
			rss: found["process_resident_memory_bytes"], heapInuse: found["go_memstats_heap_inuse_bytes"],
			stackInuse: found["go_memstats_stack_inuse_bytes"],
			goroutines: found["go_goroutines"], cpu: found["process_cpu_seconds_total"],
		}
	}
	return out, nil
}

// processName labels the i-th metrics URL: the processes' names when chatload started the
// stack, else the URL.
func processName(p Params, i int) string {
	if i < len(p.MetricsNames) {
		return p.MetricsNames[i]
	}
	return p.Metrics[i]
}
