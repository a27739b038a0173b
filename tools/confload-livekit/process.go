package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// errNotReady means livekit-server did not answer on its HTTP port in time.
var errNotReady = errors.New("livekit-server did not become ready")

// livekitProcess is a livekit-server started for the run: --dev (its built-in key pair) on
// loopback, with free ports, loopback ICE candidates only and logging at warn, like
// conference-svc under load (LOG_LEVEL=warn); every media setting is LiveKit's default.
type livekitProcess struct {
	cmd  *exec.Cmd
	done chan struct{}
	url  string
}

const (
	devKey    = "devkey"
	devSecret = "secret"
)

func startLivekit(ctx context.Context, bin string, logs io.Writer) (*livekitProcess, error) {
	httpPort, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	udpPort, err := freePort("udp")
	if err != nil {
		return nil, err
	}
	tcpPort, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	conf := fmt.Sprintf(`port: %d
rtc:
  udp_port: %d
  tcp_port: %d
  node_ip: 127.0.0.1
  use_external_ip: false
  enable_loopback_candidate: true
  ips:
    includes: [127.0.0.1/32]
logging:
  level: warn
`, httpPort, udpPort, tcpPort)
	cmd := exec.Command(bin, "--dev", "--bind", "127.0.0.1", "--config-body", conf)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start livekit-server: %w", err)
	}
	p := &livekitProcess{cmd: cmd, done: make(chan struct{}), url: fmt.Sprintf("ws://127.0.0.1:%d", httpPort)}
	go func() { _ = cmd.Wait(); close(p.done) }()
	health := fmt.Sprintf("http://127.0.0.1:%d/", httpPort)
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, health, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("%w: it exited", errNotReady)
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%w at %s", errNotReady, health)
		}
	}
}

func (p *livekitProcess) pid() int { return p.cmd.Process.Pid }

func (p *livekitProcess) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// freePort asks the kernel for a free loopback port of network ("tcp" or "udp").
func freePort(network string) (int, error) {
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// logFile is where the servers' output goes, kept for a look after a failed run.
func logFile(name string) (*os.File, error) {
	return os.CreateTemp("", name+"-*.log")
}
