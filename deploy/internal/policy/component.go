// Package policy holds the rules Convene's deployment files must follow, written once and
// applied to the Dockerfiles, docker-compose.yml and every Kubernetes overlay: each rule
// returns the violations it finds, so that a test reports all of them at once.
package policy

import (
	"fmt"
	"net"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/convene/convene/deploy/internal/sourcescan"
	"github.com/convene/convene/platform/discovery"
)

// GatewayHTTPPort is the gateway's fixed port (docs/architecture.md; the gateway's own
// config package is internal to its module, so the checks cannot import it).
const GatewayHTTPPort = 8080

// Component is one kind of Convene process: the gateway or a service.
type Component struct {
	Name     string
	HTTPPort int
	// GRPCPort is 0 for the gateway, which serves no gRPC.
	GRPCPort int
}

// Components are the gateway and every service of discovery.DefaultPorts, sorted by name.
func Components() ([]Component, error) {
	out := []Component{{Name: "gateway", HTTPPort: GatewayHTTPPort}}
	for name, ports := range discovery.DefaultPorts {
		h, err := strconv.Atoi(ports[0])
		if err != nil {
			return nil, fmt.Errorf("discovery.DefaultPorts[%s]: %w", name, err)
		}
		g, err := strconv.Atoi(ports[1])
		if err != nil {
			return nil, fmt.Errorf("discovery.DefaultPorts[%s]: %w", name, err)
		}
		out = append(out, Component{Name: name, HTTPPort: h, GRPCPort: g})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// IsService tells a service (own database, gRPC, Consul registration) from the gateway.
func (c Component) IsService() bool { return c.GRPCPort != 0 }

// Image is the image repository the component is published under.
func (c Component) Image() string { return "convene/" + c.Name }

// Dockerfile is the path of the component's Dockerfile, relative to the repository root.
func (c Component) Dockerfile() string { return "deploy/docker/" + c.Name + ".Dockerfile" }

// ComponentOfImage returns the component whose image ref (repository[:tag]) is given.
func ComponentOfImage(comps []Component, ref string) (Component, bool) {
	repo := ref
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		repo = ref[:i]
	}
	for _, c := range comps {
		if c.Image() == repo {
			return c, true
		}
	}
	return Component{}, false
}

// Reads loads the environment variables each component reads: its own module plus the
// shared settings of platform/config.
func Reads(repoRoot string, comps []Component) (map[string]sourcescan.Vars, error) {
	out := map[string]sourcescan.Vars{}
	for _, c := range comps {
		vars, err := sourcescan.EnvVars(filepath.Join(repoRoot, c.Name), filepath.Join(repoRoot, "platform", "config"))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Name, err)
		}
		out[c.Name] = vars
	}
	return out, nil
}

// portOf returns the numeric port of host:port.
func portOf(addr string) (int, error) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(p)
}
