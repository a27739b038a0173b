package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// startConsul starts a dev agent on free ports for this stack alone, unless an agent
// address was given. A per-stack agent keeps concurrent stacks (tests) from seeing each
// other's instances.
func (s *Stack) startConsul(ctx context.Context) error {
	if s.opts.ConsulAddr != "" {
		s.ConsulAddr = s.opts.ConsulAddr
		return nil
	}
	bin := s.opts.ConsulBin
	if bin == "" {
		bin = filepath.Join(s.opts.Root, ".cache", "bin", "consul")
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("stack: consul binary %s missing (scripts/consul.sh builds it): %w", bin, err)
	}
	dataDir, err := os.MkdirTemp("", "convene-consul-")
	if err != nil {
		return err
	}
	httpAddr := freeAddr()
	port := func(a string) string { return portOf(a) }
	args := []string{
		"agent", "-dev", "-bind", "127.0.0.1", "-client", "127.0.0.1", "-log-level", "warn",
		"-data-dir", dataDir,
		"-http-port", port(httpAddr),
		"-dns-port", "-1",
		"-grpc-port", port(freeAddr()),
		"-serf-lan-port", port(freeAddr()),
		"-serf-wan-port", port(freeAddr()),
		"-server-port", port(freeAddr()),
	}
	cmd := exec.Command(bin, args...)
	out := &prefixWriter{w: s.opts.Logs, prefix: "[consul] "}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("stack: start consul: %w", err)
	}
	s.consul = cmd
	s.ConsulAddr = httpAddr
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		var leader string
		if err := getJSON(ctx, "http://"+httpAddr+"/v1/status/leader", &leader); err == nil && leader != "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stack: consul agent at %s has no leader: %w", httpAddr, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// WaitPassing waits until Consul reports n passing instances of service.
func (s *Stack) WaitPassing(ctx context.Context, service string, n int) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	url := "http://" + s.ConsulAddr + "/v1/health/service/" + service + "?passing=true"
	for {
		var entries []json.RawMessage
		if err := getJSON(ctx, url, &entries); err == nil && len(entries) == n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stack: %s: want %d passing instances in consul: %w", service, n, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, strconv.Itoa(resp.StatusCode))
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
