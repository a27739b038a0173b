package convene

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"time"

	"github.com/convene/convene/tools/confload/load"
	"github.com/convene/convene/tools/devstack/stack"
)

// Stack is a private Convene deployment for a load run.
type Stack struct {
	st      *stack.Stack
	dataDir string
	// Gateway is the gateway's base URL; Pid is conference-svc's process.
	Gateway string
	Pid     int
}

// StackParams configure StartStack.
type StackParams struct {
	// Logs receives every process's output (nil: discarded).
	Logs io.Writer
	// ConferenceEnv is added to conference-svc's environment (e.g. MEDIA_PACING=false).
	ConferenceEnv map[string]string
	// Prebuilt starts the binaries an earlier StartStack built instead of building them
	// again (rebuilding over a running stack's binaries could fail on a busy file).
	Prebuilt bool
}

// StartStack builds and starts the gateway, users-svc, teams-svc and conference-svc with
// the embedded defaults (SQLite, in-process cache and bus) on free ports. Rate limits meant
// for people are lifted: the load registers and joins many users from one address.
func StartStack(ctx context.Context, p StackParams) (*Stack, error) {
	logs := p.Logs
	if logs == nil {
		logs = io.Discard
	}
	conferenceEnv := map[string]string{"CONFERENCE_CREATE_PER_MINUTE": "1000000", "SIGNALING_FRAME_BURST": "1000"}
	maps.Copy(conferenceEnv, p.ConferenceEnv)
	root, err := stack.FindRoot()
	if err != nil {
		return nil, err
	}
	services := []string{"users-svc", "teams-svc", "conference-svc"}
	bin := filepath.Join(root, ".cache", "bin", "confload")
	if !p.Prebuilt {
		if err := stack.Build(ctx, root, bin, services, logs); err != nil {
			return nil, err
		}
	}
	dataDir, err := os.MkdirTemp("", "confload-")
	if err != nil {
		return nil, err
	}
	st, err := stack.Start(ctx, stack.Options{
		Root: root, BinDir: bin, Services: services, Mode: stack.Embedded,
		DataDir: dataDir, Logs: logs, ReadyTimeout: 90 * time.Second,
		Env: map[string]string{"LOG_LEVEL": "warn"},
		ServiceEnv: map[string]map[string]string{
			"gateway":        {"AUTH_RATE_LIMIT": "1000000", "AUTH_RATE_BURST": "100000"},
			"teams-svc":      {"TEAMS_WRITES_PER_MINUTE": "1000000"},
			"conference-svc": conferenceEnv,
		},
	})
	if err != nil {
		os.RemoveAll(dataDir)
		return nil, err
	}
	s := &Stack{st: st, dataDir: dataDir, Gateway: st.GatewayURL}
	if s.Pid, err = load.PidListening(st.Proc("conference-svc", 0).HTTPAddr); err != nil {
		s.Stop()
		return nil, fmt.Errorf("conference-svc: %w", err)
	}
	return s, nil
}

// Stop ends every process and removes the stack's data.
func (s *Stack) Stop() {
	s.st.Stop()
	os.RemoveAll(s.dataDir)
}
