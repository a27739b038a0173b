// Command wsidle measures what an idle WebSocket costs the gateway (issue 4):
//
//	wsidle backend -addr A              a WebSocket echo service to stand in for messages-svc
//	wsidle open -url U -token T -n N -metrics M [-hold D]
//	                                    opens N sockets at U (?access_token=T) through the
//	                                    gateway, waits for them to settle idle, and prints the
//	                                    growth of the gateway's resident memory, Go heap,
//	                                    goroutine stacks and goroutines per socket, read from
//	                                    its /metrics (M) before and after
//
// scripts/bench-gateway.sh runs it with WS_SOCKETS sockets. Every socket needs a
// descriptor here and two in the gateway: raise `ulimit -n` where they start.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: wsidle backend|open [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "backend":
		err = backend(os.Args[2:])
	case "open":
		err = open(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsidle:", err)
		os.Exit(1)
	}
}

func backend(args []string) error {
	fs := flag.NewFlagSet("backend", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:8191", "listen address")
	_ = fs.Parse(args)
	upgrader := websocket.Upgrader{ReadBufferSize: 512, WriteBufferSize: 512}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		for {
			mt, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if err := conn.WriteMessage(mt, msg); err != nil {
				return
			}
		}
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}

func open(args []string) error {
	fs := flag.NewFlagSet("open", flag.ExitOnError)
	url := fs.String("url", "", "WebSocket URL through the gateway")
	token := fs.String("token", "", "access token, sent as ?access_token=")
	n := fs.Int("n", 1000, "sockets to open")
	metrics := fs.String("metrics", "", "the gateway's /metrics URL")
	settle := fs.Duration("settle", 5*time.Second, "wait after opening before measuring")
	hold := fs.Duration("hold", 0, "keep the sockets open this much longer")
	_ = fs.Parse(args)
	if *url == "" || *metrics == "" {
		return errors.New("open: -url and -metrics are required")
	}
	before, err := scrape(*metrics)
	if err != nil {
		return err
	}
	target := *url
	if *token != "" {
		target += "?access_token=" + *token
	}
	dialer := websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 256, WriteBufferSize: 256}
	conns := make([]*websocket.Conn, *n)
	var failed atomic.Int32
	var firstErr atomic.Value
	var wg sync.WaitGroup
	next := make(chan int)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c, _, err := dialer.Dial(target, nil)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				// One round trip proves the socket works end to end.
				if err = c.WriteMessage(websocket.TextMessage, []byte("hi")); err == nil {
					_, _, err = c.ReadMessage()
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					c.Close()
					continue
				}
				conns[i] = c
			}
		}()
	}
	start := time.Now()
	for i := range *n {
		next <- i
	}
	close(next)
	wg.Wait()
	opened := *n - int(failed.Load())
	if f := failed.Load(); f > 0 {
		fmt.Fprintf(os.Stderr, "wsidle: %d sockets failed, first: %v\n", f, firstErr.Load())
	}
	if opened == 0 {
		return errors.New("open: no socket opened")
	}
	took := time.Since(start)
	time.Sleep(*settle)
	after, err := scrape(*metrics)
	if err != nil {
		return err
	}
	per := func(name string) float64 { return (after[name] - before[name]) / float64(opened) }
	fmt.Printf("sockets=%d open_s=%.1f rss_per_socket_kb=%.1f heap_inuse_per_socket_kb=%.1f stack_inuse_per_socket_kb=%.1f goroutines_per_socket=%.2f rss_mb=%.1f\n",
		opened, took.Seconds(),
		per("process_resident_memory_bytes")/1024, per("go_memstats_heap_inuse_bytes")/1024,
		per("go_memstats_stack_inuse_bytes")/1024, per("go_goroutines"),
		after["process_resident_memory_bytes"]/(1<<20))
	time.Sleep(*hold)
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	return nil
}

// scrape reads the unlabelled gauges of a Prometheus text page.
func scrape(url string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || strings.Contains(line, "{") {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
			out[name] = v
		}
	}
	return out, sc.Err()
}
