// Command healthprobe is the container health check of every Convene image. The images are
// distroless (no shell, no curl), so Docker's HEALTHCHECK runs this static binary instead: it
// asks the process in the same container for http://127.0.0.1:<port>/readyz and exits 0 only
// on a 200. The port comes from HTTP_ADDR, the same variable the service listens on, so one
// binary serves every image without per-image flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

// run returns the process exit code: 0 healthy, 1 unhealthy, 2 bad usage (Docker treats any
// non-zero code as a failed check; 2 tells a human reading `docker inspect` it was a setup
// mistake rather than a sick service).
func run(args []string, getenv func(string) string, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthprobe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", getenv("HTTP_ADDR"), "listen address of the service (host:port); only the port is used")
	path := fs.String("path", "/readyz", "path to probe")
	timeout := fs.Duration("timeout", 2*time.Second, "deadline of the whole probe")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	target, err := probeURL(*addr, *path)
	if err != nil {
		fmt.Fprintln(stderr, "healthprobe:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := probe(ctx, target); err != nil {
		fmt.Fprintln(stderr, "healthprobe:", err)
		return 1
	}
	return 0
}

// probeURL targets loopback whatever host the service binds (0.0.0.0 in containers): the
// probe runs inside the service's own network namespace.
func probeURL(addr, path string) (string, error) {
	if addr == "" {
		return "", errors.New("HTTP_ADDR is not set and -addr was not given")
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("address %q: %w", addr, err)
	}
	if port == "" || port == "0" {
		return "", fmt.Errorf("address %q has no fixed port", addr)
	}
	if path == "" || path[0] != '/' {
		return "", fmt.Errorf("path %q must start with /", path)
	}
	return "http://" + net.JoinHostPort("127.0.0.1", port) + path, nil
}

func probe(ctx context.Context, target string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// Drain a bounded amount so that the connection closes cleanly; the body is not needed.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d", target, resp.StatusCode)
	}
	return nil
}
