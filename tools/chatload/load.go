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
	// IdleBytesPerSocket is the RSS growth of the measured processes per open socket.
	IdleBytesPerSocket float64
}

func (r Report) String() string {
	secs := r.Duration.Seconds()
	var b strings.Builder
	fmt.Fprintf(&b, "users %d, chats %d of %d, sockets %d, sending for %s\n", r.Users, r.Chats, r.ChatSize, r.Users, r.Duration)
	fmt.Fprintf(&b, "persisted    %d (%.0f/s), send errors %d\n", r.Persisted, float64(r.Persisted)/secs, r.SendErrors)
	fmt.Fprintf(&b, "deliveries   %d (%.0f/s)\n", r.Deliveries, float64(r.Deliveries)/secs)
	fmt.Fprintf(&b, "latency      p50 %s  p99 %s  max %s (send → deliver)\n", r.P50, r.P99, r.Max)
	fmt.Fprintf(&b, "lost         %d\nduplicates   %d\n", r.Lost, r.Duplicates)
	if r.IdleBytesPerSocket > 0 {
		fmt.Fprintf(&b, "memory       %.1f KB per idle socket (RSS growth of the measured processes / sockets)\n", r.IdleBytesPerSocket/1024)
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
	before, rssErr := rss(ctx, p.Metrics)
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
	if len(p.Metrics) > 0 && rssErr == nil {
		time.Sleep(2 * time.Second) // let the servers' allocations settle
		if after, err := rss(ctx, p.Metrics); err == nil {
			rep.IdleBytesPerSocket = float64(after-before) / float64(len(members))
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
	fmt.Fprintf(log, "sending done; draining for %s\n", p.Drain)
	time.Sleep(p.Drain)
	measuring.Store(false)
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
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
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

// rss sums process_resident_memory_bytes over the /metrics URLs.
func rss(ctx context.Context, urls []string) (int64, error) {
	var total int64
	for _, u := range urls {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return 0, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		sc := bufio.NewScanner(resp.Body)
		found := false
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "process_resident_memory_bytes "); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err == nil {
					total += int64(f)
					found = true
				}
			}
		}
		resp.Body.Close()
		if !found {
			return 0, fmt.Errorf("%s: no process_resident_memory_bytes", u)
		}
	}
	return total, nil
}
