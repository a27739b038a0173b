// Package compose reads the part of a Compose file that Convene's checks look at, with
// Compose's own semantics for what the checks depend on: YAML anchors and merge keys,
// ${VAR}, ${VAR:-default} and ${VAR:?error} interpolation from an .env file, and the short
// and long forms of environment and depends_on.
package compose

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// File is a Compose file.
type File struct {
	Services map[string]Service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

// Service is one service of a Compose file.
type Service struct {
	Image           string       `yaml:"image"`
	Build           *Build       `yaml:"build"`
	Command         []string     `yaml:"command"`
	Environment     Environment  `yaml:"environment"`
	Ports           []string     `yaml:"ports"`
	Volumes         []string     `yaml:"volumes"`
	Profiles        []string     `yaml:"profiles"`
	DependsOn       DependsOn    `yaml:"depends_on"`
	Healthcheck     *Healthcheck `yaml:"healthcheck"`
	ReadOnly        bool         `yaml:"read_only"`
	Tmpfs           []string     `yaml:"tmpfs"`
	CapDrop         []string     `yaml:"cap_drop"`
	SecurityOpt     []string     `yaml:"security_opt"`
	StopGracePeriod string       `yaml:"stop_grace_period"`
	NetworkMode     string       `yaml:"network_mode"`
	Restart         string       `yaml:"restart"`
}

// Build is a service's build section.
type Build struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

// Healthcheck is a service's health check.
type Healthcheck struct {
	Test     []string `yaml:"test"`
	Interval string   `yaml:"interval"`
	Timeout  string   `yaml:"timeout"`
	Retries  int      `yaml:"retries"`
}

// Environment is a service's environment, from either the map or the KEY=value list form.
type Environment map[string]string

// UnmarshalYAML implements yaml.Unmarshaler.
func (e *Environment) UnmarshalYAML(n *yaml.Node) error {
	out := Environment{}
	switch n.Kind {
	case yaml.MappingNode:
		var m map[string]*string
		if err := n.Decode(&m); err != nil {
			return err
		}
		for k, v := range m {
			if v != nil {
				out[k] = *v
			} else {
				out[k] = ""
			}
		}
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		for _, kv := range l {
			k, v, _ := strings.Cut(kv, "=")
			out[k] = v
		}
	default:
		return fmt.Errorf("line %d: environment must be a map or a list", n.Line)
	}
	*e = out
	return nil
}

// DependsOn maps a dependency to its condition (service_started for the list form).
type DependsOn map[string]string

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *DependsOn) UnmarshalYAML(n *yaml.Node) error {
	out := DependsOn{}
	switch n.Kind {
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		for _, s := range l {
			out[s] = "service_started"
		}
	case yaml.MappingNode:
		var m map[string]struct {
			Condition string `yaml:"condition"`
		}
		if err := n.Decode(&m); err != nil {
			return err
		}
		for k, v := range m {
			out[k] = v.Condition
		}
	default:
		return fmt.Errorf("line %d: depends_on must be a map or a list", n.Line)
	}
	*d = out
	return nil
}

// Load reads the Compose file at path, interpolating variables from env as `docker compose`
// does with an .env file.
func Load(path string, env map[string]string) (*File, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(raw, env)
}

// Parse is Load on bytes.
func Parse(raw []byte, env map[string]string) (*File, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return nil, err
	}
	if err := interpolateNode(&root, env, map[*yaml.Node]bool{}); err != nil {
		return nil, err
	}
	var f File
	if err := root.Decode(&f); err != nil {
		return nil, err
	}
	if len(f.Services) == 0 {
		return nil, fmt.Errorf("compose: no services")
	}
	return &f, nil
}

// interpolateNode rewrites every scalar once; anchors make nodes shared, hence seen.
func interpolateNode(n *yaml.Node, env map[string]string, seen map[*yaml.Node]bool) error {
	if seen[n] {
		return nil
	}
	seen[n] = true
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		v, err := Interpolate(n.Value, env)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		n.Value = v
		return nil
	}
	if n.Kind == yaml.AliasNode {
		return interpolateNode(n.Alias, env, seen)
	}
	for _, c := range n.Content {
		if err := interpolateNode(c, env, seen); err != nil {
			return err
		}
	}
	return nil
}

var reference = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// Interpolate substitutes ${VAR}, $VAR, ${VAR:-default}, ${VAR-default}, ${VAR:?error} and
// ${VAR?error} from env, and $$ with $, like Compose.
func Interpolate(s string, env map[string]string) (string, error) {
	var firstErr error
	out := reference.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		g := reference.FindStringSubmatch(m)
		name, op, arg := g[1], g[2], g[3]
		if name == "" {
			name = g[4]
		}
		v, set := env[name]
		switch op {
		case ":-":
			if v == "" {
				return arg
			}
		case "-":
			if !set {
				return arg
			}
		case ":?":
			if v == "" && firstErr == nil {
				firstErr = fmt.Errorf("required variable %s is missing a value: %s", name, arg)
			}
		case "?":
			if !set && firstErr == nil {
				firstErr = fmt.Errorf("required variable %s is missing: %s", name, arg)
			}
		}
		return v
	})
	return out, firstErr
}

// Variables returns the names of the variables the text references, sorted.
func Variables(raw []byte) []string {
	set := map[string]bool{}
	for _, g := range reference.FindAllSubmatch(raw, -1) {
		switch {
		case len(g[1]) > 0:
			set[string(g[1])] = true
		case len(g[4]) > 0:
			set[string(g[4])] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ReadEnvFile reads KEY=value lines as Compose reads .env: blank lines and # comments are
// skipped, and values are taken literally.
func ReadEnvFile(path string) (map[string]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		k, v, ok := strings.Cut(t, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("%s:%d: not KEY=value", path, line)
		}
		out[strings.TrimSpace(k)] = v
	}
	return out, sc.Err()
}
