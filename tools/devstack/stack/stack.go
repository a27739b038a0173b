// Package stack builds and starts Convene as real processes: the gateway and every service,
// each on its own ports, with either the embedded defaults (SQLite, in-process cache and
// bus, static addresses — `make run`) or the real dependencies (a Postgres database per
// service, Redis, a Consul agent — `make run-full` and the end-to-end tests).
package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Services are the backend services in start order (users-svc first: the gateway needs its
// JWKS, the others call it).
var Services = []string{"users-svc", "teams-svc", "chats-svc", "messages-svc", "conference-svc"}

// Mode selects the dependencies.
type Mode int

const (
	// Embedded uses SQLite files, in-process cache and bus, and static addresses.
	Embedded Mode = iota
	// Full uses Postgres, Redis and Consul.
	Full
)

// Options describe the stack to start.
type Options struct {
	// Root is the repository root; default: found from the working directory (go.work).
	Root string
	// BinDir holds the built binaries (see Build).
	BinDir string
	// Services to start; default: every service whose cmd exists.
	Services []string
	// Instances per service; default 1.
	Instances map[string]int
	Mode      Mode
	// FixedPorts uses the well-known local ports (gateway :8080, services 81xx/91xx);
	// otherwise every process gets free ports (tests).
	FixedPorts bool
	// GatewayAddr overrides the gateway's listen address.
	GatewayAddr string
	// DataDir holds SQLite files and logs; default Root/var.
	DataDir string
	// PostgresAdminURL (Full): a database per service is created there.
	PostgresAdminURL string
	// DatabasePrefix names the per-service databases (Full); random when empty, and the
	// databases are then dropped on Stop.
	DatabasePrefix string
	// RedisURL (Full).
	RedisURL string
	// ConsulAddr (Full): an existing agent; when empty the stack starts its own dev agent
	// on free ports (isolated from other stacks).
	ConsulAddr string
	// ConsulBin is the consul binary used to start an agent (scripts/consul.sh builds it).
	ConsulBin string
	// Secret is INTERNAL_AUTH_SECRET for every process; random when empty.
	Secret string
	// Env is added to every process; ServiceEnv to one service's processes.
	Env        map[string]string
	ServiceEnv map[string]map[string]string
	// Logs receives every process's output, each line prefixed with its name.
	Logs io.Writer
	// ReadyTimeout bounds the wait for each process (default 60s).
	ReadyTimeout time.Duration
}

// Stack is a running set of processes.
type Stack struct {
	opts       Options
	GatewayURL string
	ConsulAddr string
	// Secret is the INTERNAL_AUTH_SECRET the processes share.
	Secret string

	mu        sync.Mutex
	procs     map[string][]*Proc
	gateway   *Proc
	consul    *exec.Cmd
	databases []string
	// ownDatabases: the stack named its databases itself and drops them on Stop.
	ownDatabases bool
	staticEnv    map[string]string
}

// Proc is one process of the stack.
type Proc struct {
	Name     string
	Service  string
	Index    int
	HTTPAddr string
	GRPCAddr string
	env      []string
	bin      string
	cmd      *exec.Cmd
	done     chan struct{}
}

// Start builds nothing: it starts the processes from opts.BinDir and waits until each is ready.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	s := &Stack{opts: opts, procs: map[string][]*Proc{}, Secret: opts.Secret, staticEnv: map[string]string{}}
	if s.opts.DatabasePrefix == "" {
		s.opts.DatabasePrefix = "e2e_" + randomHex(4)
		s.ownDatabases = true
	}
	if err := s.start(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (o *Options) defaults() error {
	if o.Root == "" {
		root, err := FindRoot()
		if err != nil {
			return err
		}
		o.Root = root
	}
	if o.BinDir == "" {
		o.BinDir = filepath.Join(o.Root, ".cache", "bin", "stack")
	}
	if o.DataDir == "" {
		o.DataDir = filepath.Join(o.Root, "var")
	}
	if len(o.Services) == 0 {
		o.Services = Available(o.Root)
	}
	if o.Secret == "" {
		o.Secret = randomHex(24)
	}
	if o.Logs == nil {
		o.Logs = io.Discard
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 60 * time.Second
	}
	if o.Instances == nil {
		o.Instances = map[string]int{}
	}
	return os.MkdirAll(o.DataDir, 0o755)
}

func (s *Stack) start(ctx context.Context) error {
	o := s.opts
	if o.Mode == Full {
		if err := s.startConsul(ctx); err != nil {
			return err
		}
	}
	// Allocate every address first: in Embedded mode each process learns the others'
	// addresses from <NAME>_HTTP_ADDRS / <NAME>_GRPC_ADDRS.
	for _, svc := range o.Services {
		n := max(o.Instances[svc], 1)
		for i := range n {
			p := &Proc{Service: svc, Index: i, Name: fmt.Sprintf("%s-%d", svc, i+1), bin: filepath.Join(o.BinDir, svc)}
			if o.FixedPorts && i == 0 {
				p.HTTPAddr, p.GRPCAddr = fixedAddr(svc)
			} else {
				p.HTTPAddr, p.GRPCAddr = freeAddr(), freeAddr()
			}
			s.procs[svc] = append(s.procs[svc], p)
		}
		key := envName(svc)
		s.staticEnv[key+"_HTTP_ADDRS"] = joinAddrs(s.procs[svc], func(p *Proc) string { return p.HTTPAddr })
		s.staticEnv[key+"_GRPC_ADDRS"] = joinAddrs(s.procs[svc], func(p *Proc) string { return p.GRPCAddr })
	}
	for _, svc := range o.Services {
		for _, p := range s.procs[svc] {
			env, err := s.serviceEnv(ctx, p)
			if err != nil {
				return err
			}
			p.env = env
			if err := s.run(p); err != nil {
				return err
			}
		}
		for _, p := range s.procs[svc] {
			if err := s.waitReady(ctx, p); err != nil {
				return err
			}
		}
	}
	gwAddr := o.GatewayAddr
	if gwAddr == "" {
		if o.FixedPorts {
			gwAddr = "127.0.0.1:8080"
		} else {
			gwAddr = freeAddr()
		}
	}
	gw := &Proc{Name: "gateway", Service: "gateway", HTTPAddr: gwAddr, bin: filepath.Join(o.BinDir, "gateway")}
	gw.env = append(s.baseEnv("gateway"),
		"HTTP_ADDR="+gwAddr,
		"FRONTEND_DIR="+filepath.Join(o.Root, "frontend", "dist"),
	)
	gw.env = append(gw.env, mapEnv(o.ServiceEnv["gateway"])...)
	s.gateway = gw
	if err := s.run(gw); err != nil {
		return err
	}
	if err := s.waitReady(ctx, gw); err != nil {
		return err
	}
	s.GatewayURL = "http://" + gwAddr
	if o.Mode == Full {
		for _, svc := range o.Services {
			if err := s.WaitPassing(ctx, svc, len(s.procs[svc])); err != nil {
				return err
			}
		}
	}
	return nil
}

// baseEnv is the environment every process of the stack shares.
func (s *Stack) baseEnv(service string) []string {
	o := s.opts
	env := append(os.Environ(),
		"INTERNAL_AUTH_SECRET="+s.Secret,
		"LOG_FORMAT=json",
		"DATABASE_URL=", "REDIS_URL=", "CONSUL_HTTP_ADDR=",
	)
	if o.Mode == Full {
		env = append(env, "REDIS_URL="+o.RedisURL, "CONSUL_HTTP_ADDR="+s.ConsulAddr)
	} else {
		for k, v := range s.staticEnv {
			env = append(env, k+"="+v)
		}
	}
	env = append(env, mapEnv(o.Env)...)
	return env
}

func (s *Stack) serviceEnv(ctx context.Context, p *Proc) ([]string, error) {
	o := s.opts
	env := append(s.baseEnv(p.Service),
		"HTTP_ADDR="+p.HTTPAddr,
		"GRPC_ADDR="+p.GRPCAddr,
		"INSTANCE_ID="+p.Name+"-"+portOf(p.GRPCAddr),
		"SQLITE_PATH="+filepath.Join(o.DataDir, p.Service+".db"),
	)
	if p.Service == "conference-svc" {
		env = append(env, "MEDIA_UDP_ADDR="+freeUDPAddr())
	}
	if o.Mode == Full {
		url, err := s.database(ctx, p.Service)
		if err != nil {
			return nil, err
		}
		env = append(env, "DATABASE_URL="+url)
	}
	return append(env, mapEnv(o.ServiceEnv[p.Service])...), nil
}

func (s *Stack) run(p *Proc) error {
	if _, err := os.Stat(p.bin); err != nil {
		return fmt.Errorf("stack: %s not built (%s): %w", p.Service, p.bin, err)
	}
	cmd := exec.Command(p.bin)
	cmd.Env = p.env
	cmd.Dir = s.opts.Root
	out := &prefixWriter{w: s.opts.Logs, prefix: "[" + p.Name + "] "}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("stack: start %s: %w", p.Name, err)
	}
	p.cmd = cmd
	p.done = make(chan struct{})
	go func() { _ = cmd.Wait(); out.flush(); close(p.done) }()
	return nil
}

func (s *Stack) waitReady(ctx context.Context, p *Proc) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.ReadyTimeout)
	defer cancel()
	url := "http://" + p.HTTPAddr + "/readyz"
	for {
		select {
		case <-p.done:
			return fmt.Errorf("stack: %s exited during start (see its log lines)", p.Name)
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stack: %s not ready at %s: %w", p.Name, url, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Proc returns instance i of service.
func (s *Stack) Proc(service string, i int) *Proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	if service == "gateway" {
		return s.gateway
	}
	return s.procs[service][i]
}

// Kill stops instance i of service with SIGKILL, as a crash would.
func (s *Stack) Kill(service string, i int) error {
	p := s.Proc(service, i)
	if p.cmd == nil || p.cmd.Process == nil {
		return errors.New("stack: not running")
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	return nil
}

// Terminate stops instance i of service with SIGTERM (graceful) and waits for it.
func (s *Stack) Terminate(service string, i int) error {
	p := s.Proc(service, i)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		return errors.New("stack: " + p.Name + " did not stop within 30s")
	}
}

// Restart starts instance i of service again on the same ports and waits until it is ready.
func (s *Stack) Restart(ctx context.Context, service string, i int) error {
	p := s.Proc(service, i)
	select {
	case <-p.done:
	default:
		return errors.New("stack: " + p.Name + " is still running")
	}
	if err := s.run(p); err != nil {
		return err
	}
	return s.waitReady(ctx, p)
}

// Wait blocks until every process has exited (e.g. after Ctrl-C reached them all).
func (s *Stack) Wait() {
	for _, p := range s.all() {
		<-p.done
	}
}

// Stop terminates every process (the gateway first), then the stack's own Consul agent,
// and drops the databases it created.
func (s *Stack) Stop() {
	procs := s.all()
	for _, p := range procs {
		if p.cmd != nil && p.cmd.Process != nil {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	deadline := time.After(30 * time.Second)
	for _, p := range procs {
		if p.done == nil {
			continue
		}
		select {
		case <-p.done:
		case <-deadline:
			_ = p.cmd.Process.Signal(syscall.SIGKILL)
			<-p.done
		}
	}
	if s.consul != nil {
		_ = s.consul.Process.Signal(syscall.SIGTERM)
		_ = s.consul.Wait()
	}
	s.dropDatabases()
}

func (s *Stack) all() []*Proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Proc
	if s.gateway != nil {
		out = append(out, s.gateway)
	}
	for i := len(s.opts.Services) - 1; i >= 0; i-- {
		out = append(out, s.procs[s.opts.Services[i]]...)
	}
	return out
}

// FindRoot walks up from the working directory to the folder holding go.work.
func FindRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("stack: go.work not found above the working directory")
		}
		dir = parent
	}
}

// Available lists the services whose main package exists, in start order.
func Available(root string) []string {
	var out []string
	for _, svc := range Services {
		if _, err := os.Stat(filepath.Join(root, svc, "cmd", svc, "main.go")); err == nil {
			out = append(out, svc)
		}
	}
	return out
}

// Build compiles the gateway and the given services into binDir with one `go build`.
func Build(ctx context.Context, root, binDir string, services []string, out io.Writer) error {
	args := []string{"build", "-o", binDir + string(os.PathSeparator)}
	args = append(args, "./gateway/cmd/gateway")
	for _, svc := range services {
		args = append(args, "./"+svc+"/cmd/"+svc)
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("stack: go %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

func fixedAddr(svc string) (string, string) {
	ports := map[string][2]string{
		"users-svc": {"8101", "9101"}, "teams-svc": {"8102", "9102"}, "chats-svc": {"8103", "9103"},
		"messages-svc": {"8104", "9104"}, "conference-svc": {"8105", "9105"},
	}[svc]
	return "127.0.0.1:" + ports[0], "127.0.0.1:" + ports[1]
}

func envName(svc string) string { return strings.ToUpper(strings.ReplaceAll(svc, "-", "_")) }

func joinAddrs(ps []*Proc, f func(*Proc) string) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = f(p)
	}
	return strings.Join(parts, ",")
}

func mapEnv(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("stack: no free port: %v", err))
	}
	defer l.Close()
	return l.Addr().String()
}

func freeUDPAddr() string {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("stack: no free udp port: %v", err))
	}
	defer c.Close()
	return c.LocalAddr().String()
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
