package policy

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/convene/convene/deploy/internal/compose"
	"github.com/convene/convene/deploy/internal/sourcescan"
)

// ScaledOut are the components compose runs twice, to show (and exercise) scale-out.
var ScaledOut = []string{"messages-svc", "conference-svc"}

// Infrastructure images of docker-compose.yml.
var infraImages = map[string]string{
	"postgres": "postgres:15",
	"redis":    "redis:7",
	"consul":   "hashicorp/consul:1.11",
}

// optionalProfiles are the services that start only with their profile.
var optionalProfiles = map[string]string{
	"coturn":     "coturn",
	"prometheus": "observability",
	"grafana":    "observability",
	"jaeger":     "observability",
}

// Instances groups the compose services running a Convene image by component. Services
// in a profile do not start with a plain `docker compose up` and do not count.
func Instances(comps []Component, f *compose.File) map[string][]string {
	out := map[string][]string{}
	for name, s := range f.Services {
		if c, ok := ComponentOfImage(comps, s.Image); ok && len(s.Profiles) == 0 {
			out[c.Name] = append(out[c.Name], name)
		}
	}
	for _, l := range out {
		sort.Strings(l)
	}
	return out
}

// CheckCompose checks docker-compose.yml. f is the file interpolated with the example .env;
// refs is the same file with every variable left as ${NAME}, which shows where a value
// comes from.
func CheckCompose(comps []Component, reads map[string]sourcescan.Vars, f, refs *compose.File) []error {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf("compose: "+format, a...)) }

	for name, img := range infraImages {
		if s, ok := f.Services[name]; !ok || s.Image != img {
			fail("service %s must run %s", name, img)
		}
	}
	for name, profile := range optionalProfiles {
		s, ok := f.Services[name]
		if !ok || !slices.Equal(s.Profiles, []string{profile}) {
			fail("service %s must exist in profile %s only", name, profile)
		}
	}
	databases := strings.Fields(f.Services["postgres"].Environment["CONVENE_DATABASES"])
	pgUser := f.Services["postgres"].Environment["POSTGRES_USER"]

	instances := Instances(comps, f)
	for name, s := range f.Services {
		if _, ok := ComponentOfImage(comps, s.Image); !ok && strings.HasPrefix(s.Image, "convene/") {
			fail("service %s runs %s, which no Dockerfile builds", name, s.Image)
		}
	}
	instanceIDs := map[string]string{}
	dbOf := map[string]string{}
	jwt := map[string]map[string]bool{}
	mediaPorts := map[int]string{}
	for _, c := range comps {
		names := instances[c.Name]
		want := 1
		if slices.Contains(ScaledOut, c.Name) {
			want = 2
		}
		if len(names) < want {
			fail("%s needs at least %d instance(s), has %d", c.Name, want, len(names))
		}
		built := false
		for _, name := range names {
			s := f.Services[name]
			if s.Build != nil {
				if s.Build.Dockerfile != c.Dockerfile() || s.Build.Context != "." {
					fail("%s builds %s with context %q, want %s with context \".\"", name, s.Build.Dockerfile, s.Build.Context, c.Dockerfile())
				}
				built = true
			}
			env := Env{}
			for k, v := range s.Environment {
				env[k] = EnvValue{Value: v}
			}
			for _, err := range CheckEnv(c, reads[c.Name], env) {
				fail("%s: %v", name, err)
			}
			raw := refs.Services[name].Environment
			for _, k := range Sensitive {
				if v, ok := raw[k]; ok && !strings.Contains(v, "${") {
					fail("%s: %s is a literal; take it from .env", name, k)
				}
			}
			if id := s.Environment["INSTANCE_ID"]; id != "" {
				if other, dup := instanceIDs[id]; dup {
					fail("%s and %s share INSTANCE_ID %s", other, name, id)
				}
				instanceIDs[id] = name
			}
			if c.IsService() && s.Environment["ADVERTISE_HOST"] != name {
				fail("%s: ADVERTISE_HOST must be %s, the name other containers reach it by", name, name)
			}
			if c.IsService() {
				db, err := checkDatabaseURL(s.Environment["DATABASE_URL"], pgUser, databases)
				if err != nil {
					fail("%s: %v", name, err)
				}
				if prev, ok := dbOf[c.Name]; ok && prev != db {
					fail("%s: every %s instance must use database %s", name, c.Name, prev)
				}
				dbOf[c.Name] = db
			}
			if u, err := url.Parse(s.Environment["REDIS_URL"]); err != nil || u.Host != "redis:6379" {
				fail("%s: REDIS_URL must point at redis:6379", name)
			}
			if s.Environment["CONSUL_HTTP_ADDR"] != "consul:8500" {
				fail("%s: CONSUL_HTTP_ADDR must be consul:8500", name)
			}
			for _, k := range []string{"JWT_ISSUER", "JWT_AUDIENCE"} {
				if v, ok := s.Environment[k]; ok {
					if jwt[k] == nil {
						jwt[k] = map[string]bool{}
					}
					jwt[k][v] = true
				}
			}
			errs = append(errs, checkHardening(name, s)...)
			errs = append(errs, checkPorts(c, name, s, mediaPorts)...)
		}
		if len(names) > 0 && !built {
			fail("no %s service builds %s", c.Name, c.Image())
		}
	}
	for db, n := range countValues(dbOf) {
		if n > 1 {
			fail("database %s is shared by %d components; each service owns its database", db, n)
		}
	}
	for k, vals := range jwt {
		if len(vals) > 1 {
			fail("%s differs between the gateway and users-svc", k)
		}
	}
	return errs
}

func checkDatabaseURL(raw, user string, databases []string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "postgres" {
		return "", fmt.Errorf("DATABASE_URL must be a postgres:// URL")
	}
	db := strings.TrimPrefix(u.Path, "/")
	switch {
	case u.Host != "postgres:5432":
		return db, fmt.Errorf("DATABASE_URL must point at postgres:5432")
	case u.User.Username() != user:
		return db, fmt.Errorf("DATABASE_URL must connect as %s", user)
	case !slices.Contains(databases, db):
		return db, fmt.Errorf("database %q is not created by CONVENE_DATABASES", db)
	}
	return db, nil
}

func checkHardening(name string, s compose.Service) []error {
	var errs []error
	fail := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("compose: %s: "+format, append([]any{name}, a...)...))
	}
	if !s.ReadOnly || !slices.Contains(s.Tmpfs, "/tmp") {
		fail("needs read_only: true with a tmpfs on /tmp")
	}
	if !slices.Contains(s.CapDrop, "ALL") {
		fail("needs cap_drop: [ALL]")
	}
	if !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
		fail("needs security_opt: [no-new-privileges:true]")
	}
	if s.Restart == "" {
		fail("needs a restart policy")
	}
	if s.Healthcheck == nil || !slices.Equal(s.Healthcheck.Test, []string{"CMD", ProbePath}) {
		fail("needs healthcheck test [CMD, %s]", ProbePath)
	}
	grace, err := time.ParseDuration(s.StopGracePeriod)
	shutdown, serr := time.ParseDuration(s.Environment["SHUTDOWN_GRACE"])
	if err != nil || serr != nil || grace <= shutdown+time.Second {
		fail("stop_grace_period (%q) must exceed SHUTDOWN_GRACE (%q) plus the drain delay", s.StopGracePeriod, s.Environment["SHUTDOWN_GRACE"])
	}
	return errs
}

// checkPorts: only the gateway and the SFU media ports are published; every SFU instance
// publishes its own media port one to one, as its ICE candidates announce it.
func checkPorts(c Component, name string, s compose.Service, media map[int]string) []error {
	var errs []error
	fail := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("compose: %s: "+format, append([]any{name}, a...)...))
	}
	switch {
	case c.Name == "gateway":
		if len(s.Ports) != 1 || !strings.HasSuffix(s.Ports[0], ":"+strconv.Itoa(c.HTTPPort)) {
			fail("must publish its port %d, and nothing else", c.HTTPPort)
		}
	case c.Name == "conference-svc":
		port, err := portOf(s.Environment["MEDIA_UDP_ADDR"])
		want := fmt.Sprintf("%d:%d/udp", port, port)
		if err != nil || !slices.Equal(s.Ports, []string{want}) {
			fail("must publish exactly its media port as %q (MEDIA_UDP_ADDR=%q)", want, s.Environment["MEDIA_UDP_ADDR"])
		}
		if other, dup := media[port]; dup {
			fail("media port %d is already used by %s", port, other)
		}
		media[port] = name
		if s.Environment["NAT_1TO1_IP"] == "" {
			fail("NAT_1TO1_IP must be set to the address clients reach")
		}
	default:
		if len(s.Ports) > 0 {
			fail("publishes %v; services are reached through the gateway only", s.Ports)
		}
	}
	return errs
}

// CheckDependencies: services start after the infrastructure is healthy and the gateway
// after the services; every service_healthy dependency has a health check.
func CheckDependencies(comps []Component, f *compose.File) []error {
	var errs []error
	instances := Instances(comps, f)
	for _, c := range comps {
		for _, name := range instances[c.Name] {
			deps := f.Services[name].DependsOn
			want := []string{"redis", "consul"}
			if c.IsService() {
				want = append(want, "postgres")
			} else {
				for _, svc := range comps {
					if svc.IsService() {
						want = append(want, instances[svc.Name]...)
					}
				}
			}
			for _, d := range want {
				if deps[d] != "service_healthy" {
					errs = append(errs, fmt.Errorf("compose: %s must depend on %s being healthy", name, d))
				}
			}
		}
	}
	for name, s := range f.Services {
		for d, cond := range s.DependsOn {
			dep, ok := f.Services[d]
			if !ok {
				errs = append(errs, fmt.Errorf("compose: %s depends on unknown service %s", name, d))
			} else if cond == "service_healthy" && dep.Healthcheck == nil {
				errs = append(errs, fmt.Errorf("compose: %s waits for %s to be healthy, which has no health check", name, d))
			}
		}
	}
	return errs
}

// CheckEnvExample: every variable the compose file uses is documented in .env.example and
// the example documents nothing else.
func CheckEnvExample(used []string, example map[string]string) []error {
	var errs []error
	for _, v := range used {
		if _, ok := example[v]; !ok {
			errs = append(errs, fmt.Errorf(".env.example does not document %s, which docker-compose.yml uses", v))
		}
	}
	for v := range example {
		if !slices.Contains(used, v) {
			errs = append(errs, fmt.Errorf(".env.example sets %s, which docker-compose.yml does not use", v))
		}
	}
	return errs
}

// CheckPrometheus: every instance is scraped on its HTTP port under its component's job.
func CheckPrometheus(comps []Component, f *compose.File, promConfig []byte) []error {
	var cfg struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(promConfig, &cfg); err != nil {
		return []error{fmt.Errorf("prometheus.yml: %w", err)}
	}
	targets := map[string][]string{}
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			targets[sc.JobName] = append(targets[sc.JobName], st.Targets...)
		}
	}
	var errs []error
	instances := Instances(comps, f)
	for _, c := range comps {
		for _, name := range instances[c.Name] {
			want := name + ":" + strconv.Itoa(c.HTTPPort)
			if !slices.Contains(targets[c.Name], want) {
				errs = append(errs, fmt.Errorf("prometheus.yml: job %s does not scrape %s", c.Name, want))
			}
		}
		for _, t := range targets[c.Name] {
			host, _, _ := strings.Cut(t, ":")
			if !slices.Contains(instances[c.Name], host) {
				errs = append(errs, fmt.Errorf("prometheus.yml: job %s scrapes %s, which is no %s instance", c.Name, t, c.Name))
			}
		}
	}
	return errs
}

func countValues(m map[string]string) map[string]int {
	out := map[string]int{}
	for _, v := range m {
		out[v]++
	}
	return out
}
