// Command gwload drives the gateway benchmark (scripts/bench-gateway.sh):
//
//	gwload token    -seed S             prints an access token signed with the benchmark key
//	gwload identity                     prints an internal identity signed with INTERNAL_AUTH_SECRET
//	gwload rate -url U -rate R -duration D [-conns C] [-H "Name: value"]...
//	                                    sends R requests a second (open loop) on C keep-alive
//	                                    connections and prints latency percentiles measured from
//	                                    each request's scheduled start, so that a stalled server
//	                                    cannot hide its queueing delay (what wrk2 does; wrk2 is
//	                                    not packaged here)
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/convene/convene/gateway/internal/whoami"
	"github.com/convene/convene/platform/authn"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gwload token|identity|rate [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "token":
		err = token(os.Args[2:])
	case "identity":
		err = identity()
	case "rate":
		err = rate(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gwload:", err)
		os.Exit(1)
	}
}

func token(args []string) error {
	fs := flag.NewFlagSet("token", flag.ExitOnError)
	seed := fs.String("seed", os.Getenv("BENCH_SIGNING_SEED"), "base64 Ed25519 seed")
	ttl := fs.Duration("ttl", time.Hour, "token lifetime")
	_ = fs.Parse(args)
	key, err := whoami.SigningKey(*seed)
	if err != nil {
		return err
	}
	now := time.Now()
	tok, err := authn.SignAccessToken(key, whoami.KeyID, authn.AccessClaims{Username: "bench", RegisteredClaims: jwt.RegisteredClaims{
		Subject: "bench-user", ID: fmt.Sprintf("bench-%d", now.UnixNano()), Issuer: "convene",
		Audience: jwt.ClaimStrings{"convene-api"}, IssuedAt: jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(*ttl)),
	}})
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

func identity() error {
	secret := os.Getenv("INTERNAL_AUTH_SECRET")
	if len(secret) < 16 {
		return errors.New("INTERNAL_AUTH_SECRET must be set")
	}
	fmt.Println(authn.NewSigner(secret).Sign(authn.Identity{UserID: "bench-user", Username: "bench"}))
	return nil
}

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

func rate(args []string) error {
	fs := flag.NewFlagSet("rate", flag.ExitOnError)
	target := fs.String("url", "", "URL to GET (http only)")
	perSec := fs.Int("rate", 1000, "requests per second")
	duration := fs.Duration("duration", 10*time.Second, "how long to send")
	warmup := fs.Duration("warmup", 2*time.Second, "sent at the same rate before measuring")
	conns := fs.Int("conns", 64, "keep-alive connections; each sends its share of the schedule")
	var hs headers
	fs.Var(&hs, "H", `header "Name: value" (repeatable)`)
	_ = fs.Parse(args)
	if *target == "" || *perSec <= 0 || *conns <= 0 {
		return errors.New("rate: -url, a positive -rate and -conns are required")
	}
	u, err := url.Parse(*target)
	if err != nil || u.Scheme != "http" {
		return fmt.Errorf("rate: bad -url %q", *target)
	}
	// The request is built once: the load tool must cost little next to what it measures,
	// or on a small machine it takes the CPU the server needs and the tail it reports is
	// its own.
	var req strings.Builder
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: gwload\r\n", u.RequestURI(), u.Host)
	for _, h := range hs {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return fmt.Errorf("rate: bad header %q", h)
		}
		fmt.Fprintf(&req, "%s: %s\r\n", strings.TrimSpace(k), strings.TrimSpace(v))
	}
	req.WriteString("\r\n")
	l := &loader{addr: u.Host, request: []byte(req.String()), conns: *conns}
	if _, _, err := l.run(*perSec, *warmup); err != nil {
		return err
	}
	lat, errs, err := l.run(*perSec, *duration)
	if err != nil {
		return err
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	fmt.Printf("rate=%d sent=%d errors=%d p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f\n",
		*perSec, len(lat)+errs, errs, pct(0.50), pct(0.90), pct(0.99), pct(0.999), pct(1))
	return nil
}

// loader sends a fixed request on a fixed number of keep-alive connections, as wrk2 does:
// request i is due at start + i/rate and goes on connection i mod conns. A connection
// still waiting for an earlier answer sends late, and the latency of a request counts
// from when it was due, so a stalled server cannot hide its queueing delay.
type loader struct {
	addr    string
	request []byte
	conns   int
}

func (l *loader) run(perSec int, d time.Duration) ([]time.Duration, int, error) {
	total := int(d.Seconds() * float64(perSec))
	interval := time.Second / time.Duration(perSec)
	type result struct {
		lat  []time.Duration
		errs int
		err  error
	}
	results := make(chan result, l.conns)
	start := time.Now().Add(50 * time.Millisecond)
	for c := range l.conns {
		go func() {
			var r result
			defer func() { results <- r }()
			var conn net.Conn
			var br *bufio.Reader
			defer func() {
				if conn != nil {
					conn.Close()
				}
			}()
			for i := c; i < total; i += l.conns {
				due := start.Add(time.Duration(i) * interval)
				if wait := time.Until(due); wait > 0 {
					time.Sleep(wait)
				}
				if conn == nil {
					var err error
					if conn, err = net.DialTimeout("tcp", l.addr, 5*time.Second); err != nil {
						r.errs++
						conn = nil
						continue
					}
					br = bufio.NewReader(conn)
				}
				ok := l.once(conn, br)
				if !ok {
					r.errs++
					conn.Close()
					conn = nil
					continue
				}
				r.lat = append(r.lat, time.Since(due))
			}
		}()
	}
	var lat []time.Duration
	errs := 0
	for range l.conns {
		r := <-results
		lat = append(lat, r.lat...)
		errs += r.errs
	}
	return lat, errs, nil
}

// once sends the request and reads the whole answer; false means the connection is done.
func (l *loader) once(conn net.Conn, br *bufio.Reader) bool {
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(l.request); err != nil {
		return false
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return false
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err == nil && resp.StatusCode == http.StatusOK && !resp.Close
}
