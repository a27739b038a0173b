package policy

import (
	"fmt"
	"net"
	"regexp"
	"sort"
	"strings"

	"github.com/convene/convene/deploy/internal/sourcescan"
)

// EnvValue is one variable as a deployment sets it: a literal, or a reference the platform
// resolves when the container starts (a Kubernetes secretKeyRef or fieldRef).
type EnvValue struct {
	Value string
	// Secret is "name/key" of a secretKeyRef.
	Secret string
	// Field is the fieldPath of a fieldRef.
	Field string
}

// Set tells whether the variable gets a non-empty value.
func (v EnvValue) Set() bool { return v.Value != "" || v.Secret != "" || v.Field != "" }

// Env is the environment of one instance.
type Env map[string]EnvValue

// Sensitive are the settings that hold credentials: deployments take them from a secret
// store (.env, a Kubernetes Secret), never from a committed literal.
var Sensitive = []string{"INTERNAL_AUTH_SECRET", "DATABASE_URL", "REDIS_URL", "TURN_CREDENTIAL"}

// sdkPrefixes are variables read by libraries through their own standard names rather
// than through platform/config (the OpenTelemetry SDK reads OTEL_*).
var sdkPrefixes = []string{"OTEL_"}

// kubeRef is Kubernetes' $(VAR) dependent-variable syntax.
var kubeRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// CheckEnv checks one instance's environment against the variables its component reads:
// nothing unknown (a misspelt name would be silently ignored), every shared setting present,
// listen addresses on every interface with the component's fixed ports.
func CheckEnv(c Component, reads sourcescan.Vars, env Env) []error {
	var errs []error
	fail := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{c.Name}, a...)...))
	}
	helpers := map[string]bool{}
	for _, v := range env {
		for _, m := range kubeRef.FindAllStringSubmatch(v.Value, -1) {
			helpers[m[1]] = true
		}
	}
	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if reads[k] == nil && !helpers[k] && !hasAnyPrefix(k, sdkPrefixes) {
			fail("sets %s, which the code does not read", k)
		}
	}

	required := []string{"INTERNAL_AUTH_SECRET", "REDIS_URL", "CONSUL_HTTP_ADDR", "INSTANCE_ID", "HTTP_ADDR", "LOG_FORMAT"}
	if c.IsService() {
		required = append(required, "GRPC_ADDR", "DATABASE_URL", "ADVERTISE_HOST")
	}
	for _, k := range required {
		if !env[k].Set() {
			fail("%s is not set", k)
		}
	}
	checkListen := func(key string, want int) {
		v := env[key]
		if v.Value == "" {
			return
		}
		host, _, err := net.SplitHostPort(v.Value)
		port, perr := portOf(v.Value)
		switch {
		case err != nil || perr != nil:
			fail("%s=%q is not host:port", key, v.Value)
		case port != want:
			fail("%s=%q: the port must be %d (platform/discovery.DefaultPorts)", key, v.Value, want)
		case host != "0.0.0.0" && host != "":
			fail("%s=%q must listen on every interface (0.0.0.0) inside a container", key, v.Value)
		}
	}
	checkListen("HTTP_ADDR", c.HTTPPort)
	if c.IsService() {
		checkListen("GRPC_ADDR", c.GRPCPort)
	}
	if v := env["LOG_FORMAT"]; v.Value != "" && v.Value != "json" {
		fail("LOG_FORMAT=%q: central logs need json", v.Value)
	}
	return errs
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
