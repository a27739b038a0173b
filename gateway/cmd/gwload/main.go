// Command gwload drives the gateway benchmark (scripts/bench-gateway.sh):
//
//	gwload token    -seed S             prints an access token signed with the benchmark key
//	gwload identity                     prints an internal identity signed with INTERNAL_AUTH_SECRET
//	gwload rate -url U -rate R -duration D [-H "Name: value"]...
//	                                    sends R requests a second (open loop) and prints latency
//	                                    percentiles measured from each request's scheduled start,
//	                                    so that a stalled server cannot hide its queueing delay
//	                                    (what wrk2 does; wrk2 is not packaged here)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
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
	url := fs.String("url", "", "URL to GET")
	perSec := fs.Int("rate", 1000, "requests per second")
	duration := fs.Duration("duration", 10*time.Second, "how long to send")
	warmup := fs.Duration("warmup", 2*time.Second, "sent at the same rate before measuring")
	maxInflight := fs.Int("max-inflight", 1024, "requests in flight at most")
	var hs headers
	fs.Var(&hs, "H", `header "Name: value" (repeatable)`)
	_ = fs.Parse(args)
	if *url == "" || *perSec <= 0 {
		return errors.New("rate: -url and a positive -rate are required")
	}
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: *maxInflight, DisableCompression: true,
	}, Timeout: 10 * time.Second}
	header := http.Header{}
	for _, h := range hs {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return fmt.Errorf("rate: bad header %q", h)
		}
		header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if _, _, err := run(client, *url, header, *perSec, *warmup, *maxInflight); err != nil {
		return err
	}
	lat, errs, err := run(client, *url, header, *perSec, *duration, *maxInflight)
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

// run sends perSec requests a second for d. A request whose turn comes while maxInflight
// are outstanding waits for a slot; its latency still counts from its scheduled time.
func run(client *http.Client, url string, header http.Header, perSec int, d time.Duration, maxInflight int) ([]time.Duration, int, error) {
	total := int(d.Seconds() * float64(perSec))
	interval := time.Second / time.Duration(perSec)
	slots := make(chan struct{}, maxInflight)
	var mu sync.Mutex
	lat := make([]time.Duration, 0, total)
	errs := 0
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < total; i++ {
		scheduled := start.Add(time.Duration(i) * interval)
		if wait := time.Until(scheduled); wait > 0 {
			time.Sleep(wait)
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
			req.Header = header.Clone()
			resp, err := client.Do(req)
			ok := err == nil
			if ok {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				ok = resp.StatusCode == http.StatusOK
			}
			took := time.Since(scheduled)
			mu.Lock()
			defer mu.Unlock()
			if !ok {
				errs++
				return
			}
			lat = append(lat, took)
		}()
	}
	wg.Wait()
	return lat, errs, nil
}
