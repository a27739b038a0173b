package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/convene/convene/deploy/internal/compose"
	"github.com/convene/convene/deploy/internal/dockerfile"
	"github.com/convene/convene/deploy/internal/kube"
	"github.com/convene/convene/deploy/internal/sourcescan"
)

// The rules are tested on the repository's real files, each broken in one way: the real
// file must pass and every mutation must be caught with the right message.

func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs(filepath.Join("..", "..", ".."))
	require.NoError(t, err)
	return r
}

func comps(t *testing.T) []Component {
	t.Helper()
	c, err := Components()
	require.NoError(t, err)
	return c
}

func component(t *testing.T, name string) Component {
	t.Helper()
	for _, c := range comps(t) {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no component %s", name)
	return Component{}
}

func allReads(t *testing.T) map[string]sourcescan.Vars {
	t.Helper()
	r, err := Reads(root(t), comps(t))
	require.NoError(t, err)
	return r
}

func requireViolation(t *testing.T, errs []error, want string) {
	t.Helper()
	var msgs []string
	for _, e := range errs {
		if strings.Contains(e.Error(), want) {
			return
		}
		msgs = append(msgs, e.Error())
	}
	t.Fatalf("no violation contains %q; got:\n%s", want, strings.Join(msgs, "\n"))
}

func TestComponents(t *testing.T) {
	t.Parallel()
	cs := comps(t)
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	require.Equal(t, []string{"chats-svc", "conference-svc", "gateway", "messages-svc", "teams-svc", "users-svc"}, names)
	users := component(t, "users-svc")
	require.Equal(t, Component{Name: "users-svc", HTTPPort: 8101, GRPCPort: 9101}, users)
	require.True(t, users.IsService())
	require.False(t, component(t, "gateway").IsService())

	tests := []struct {
		ref, want string
		ok        bool
	}{
		{"convene/users-svc:0.1.0", "users-svc", true},
		{"convene/users-svc", "users-svc", true},
		{"convene/gateway:dev", "gateway", true},
		{"registry:5000/convene/users-svc:1", "", false},
		{"convene/users:1", "", false},
		{"postgres:15", "", false},
	}
	for _, tt := range tests {
		c, ok := ComponentOfImage(cs, tt.ref)
		require.Equal(t, tt.ok, ok, tt.ref)
		require.Equal(t, tt.want, c.Name, tt.ref)
	}
}

func TestCheckEnv(t *testing.T) {
	t.Parallel()
	reads := sourcescan.Vars{}
	for _, k := range []string{"HTTP_ADDR", "GRPC_ADDR", "INTERNAL_AUTH_SECRET", "REDIS_URL", "CONSUL_HTTP_ADDR", "INSTANCE_ID", "LOG_FORMAT", "DATABASE_URL", "ADVERTISE_HOST"} {
		reads[k] = &sourcescan.Var{Name: k}
	}
	c := Component{Name: "users-svc", HTTPPort: 8101, GRPCPort: 9101}
	good := func() Env {
		return Env{
			"HTTP_ADDR": {Value: "0.0.0.0:8101"}, "GRPC_ADDR": {Value: "0.0.0.0:9101"},
			"INTERNAL_AUTH_SECRET": {Secret: "s/k"}, "REDIS_URL": {Secret: "s/r"},
			"HOST_IP": {Field: "status.hostIP"}, "CONSUL_HTTP_ADDR": {Value: "$(HOST_IP):8500"},
			"INSTANCE_ID": {Field: "metadata.name"}, "LOG_FORMAT": {Value: "json"},
			"DATABASE_URL": {Secret: "s/d"}, "ADVERTISE_HOST": {Field: "status.podIP"},
			"OTEL_EXPORTER_OTLP_ENDPOINT": {Value: "http://jaeger:4318"},
		}
	}
	require.Empty(t, CheckEnv(c, reads, good()))

	tests := []struct {
		name   string
		mutate func(Env)
		want   string
	}{
		{"misspelt variable", func(e Env) { e["HTTP_ADR"] = EnvValue{Value: "x"} }, "sets HTTP_ADR, which the code does not read"},
		{"helper nobody expands", func(e Env) { e["CONSUL_HTTP_ADDR"] = EnvValue{Value: "consul:8500"} }, "sets HOST_IP"},
		{"missing secret", func(e Env) { delete(e, "INTERNAL_AUTH_SECRET") }, "INTERNAL_AUTH_SECRET is not set"},
		{"empty value", func(e Env) { e["REDIS_URL"] = EnvValue{} }, "REDIS_URL is not set"},
		{"missing database", func(e Env) { delete(e, "DATABASE_URL") }, "DATABASE_URL is not set"},
		{"wrong http port", func(e Env) { e["HTTP_ADDR"] = EnvValue{Value: "0.0.0.0:8080"} }, "the port must be 8101"},
		{"wrong grpc port", func(e Env) { e["GRPC_ADDR"] = EnvValue{Value: "0.0.0.0:9999"} }, "the port must be 9101"},
		{"loopback in a container", func(e Env) { e["HTTP_ADDR"] = EnvValue{Value: "127.0.0.1:8101"} }, "every interface"},
		{"not an address", func(e Env) { e["GRPC_ADDR"] = EnvValue{Value: "9101"} }, "is not host:port"},
		{"text logs", func(e Env) { e["LOG_FORMAT"] = EnvValue{Value: "text"} }, "central logs need json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := good()
			tt.mutate(e)
			requireViolation(t, CheckEnv(c, reads, e), tt.want)
		})
	}
}

func TestCheckImage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, component, old, new, want string
	}{
		{"cgo on", "users-svc", "CGO_ENABLED=0", "CGO_ENABLED=1", "ENV CGO_ENABLED=0"},
		{"workspace on", "users-svc", "ENV CGO_ENABLED=0 GOWORK=off", "ENV CGO_ENABLED=0 GOWORK=auto", "ENV GOWORK=off"},
		{"vendor mode", "users-svc", `GOFLAGS="-mod=mod -buildvcs=false"`, `GOFLAGS="-buildvcs=false"`, "-mod=mod"},
		{"network during build", "users-svc", "RUN GOPROXY=off go build -trimpath -ldflags=\"-s -w\" -o /out/users-svc", "RUN go build -trimpath -ldflags=\"-s -w\" -o /out/users-svc", "GOPROXY=off"},
		{"no trimpath", "teams-svc", "go build -trimpath -ldflags=\"-s -w\" -o /out/teams-svc", "go build -ldflags=\"-s -w\" -o /out/teams-svc", "-trimpath"},
		{"no download", "chats-svc", "RUN go mod download\n", "", "no go mod download step"},
		{"sources before download", "chats-svc", "RUN go mod download\nCOPY platform/ /src/platform/\nCOPY proto/ /src/proto/\nCOPY chats-svc/ /src/chats-svc/\n", "COPY platform/ /src/platform/\nCOPY proto/ /src/proto/\nCOPY chats-svc/ /src/chats-svc/\nRUN go mod download\n", "before the sources are copied"},
		{"proto not copied", "chats-svc", "COPY proto/ /src/proto/\n", "", "does not copy proto"},
		{"wrong package", "messages-svc", "./cmd/messages-svc\n", "./cmd/other\n", "must be built from messages-svc/./cmd/messages-svc"},
		{"no probe build", "messages-svc", "RUN GOPROXY=off go build -trimpath -ldflags=\"-s -w\" -o /out/healthprobe ./cmd/healthprobe\n", "", "no go build of healthprobe"},
		{"builder image", "users-svc", "FROM golang:1.26 AS build", "FROM golang:1.25 AS build", "want golang:1.26"},
		{"full base image", "users-svc", "FROM gcr.io/distroless/static-debian12:nonroot", "FROM debian:12", "want gcr.io/distroless/static-debian12:nonroot"},
		{"root user", "users-svc", "USER nonroot", "USER root", "USER nonroot"},
		{"shell in final stage", "users-svc", "USER nonroot\n", "USER nonroot\nRUN mkdir /data\n", "distroless has no shell"},
		{"no health check", "conference-svc", "HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD [\"/usr/local/bin/healthprobe\"]\n", "", "HEALTHCHECK must be"},
		{"probe not copied", "conference-svc", "COPY --from=build /out/healthprobe /usr/local/bin/healthprobe\n", "", "health probe must be copied"},
		{"wrong exposed port", "teams-svc", "EXPOSE 8102 9102", "EXPOSE 8102", "EXPOSE is missing 9102"},
		{"wrong listen port", "teams-svc", "HTTP_ADDR=0.0.0.0:8102", "HTTP_ADDR=0.0.0.0:8080", "ENV HTTP_ADDR must be 0.0.0.0:8102"},
		{"shell entrypoint", "teams-svc", `ENTRYPOINT ["/usr/local/bin/teams-svc"]`, `ENTRYPOINT /usr/local/bin/teams-svc`, "ENTRYPOINT must be"},
		{"no frontend build", "gateway", "RUN npm run build\n", "", "must run npm ci and npm run build"},
		{"frontend elsewhere", "gateway", "FRONTEND_DIR=/app/frontend", "FRONTEND_DIR=/srv/web", "must be copied to FRONTEND_DIR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := component(t, tt.component)
			raw, err := os.ReadFile(filepath.Join(root(t), c.Dockerfile()))
			require.NoError(t, err)
			good, err := dockerfile.Parse(strings.NewReader(string(raw)), c.Dockerfile())
			require.NoError(t, err)
			require.Empty(t, CheckImage(c, good), "the real Dockerfile must pass")

			require.Contains(t, string(raw), tt.old, "the mutation must apply")
			bad, err := dockerfile.Parse(strings.NewReader(strings.Replace(string(raw), tt.old, tt.new, 1)), c.Dockerfile())
			require.NoError(t, err)
			requireViolation(t, CheckImage(c, bad), tt.want)
		})
	}
}

func TestCheckCompose(t *testing.T) {
	t.Parallel()
	rawFile, err := os.ReadFile(filepath.Join(root(t), "docker-compose.yml"))
	require.NoError(t, err)
	example, err := compose.ReadEnvFile(filepath.Join(root(t), ".env.example"))
	require.NoError(t, err)
	reads := allReads(t)
	check := func(t *testing.T, raw string) []error {
		t.Helper()
		f, err := compose.Parse([]byte(raw), example)
		require.NoError(t, err)
		self := map[string]string{}
		for _, v := range compose.Variables([]byte(raw)) {
			self[v] = "${" + v + "}"
		}
		refs, err := compose.Parse([]byte(raw), self)
		require.NoError(t, err)
		errs := CheckCompose(comps(t), reads, f, refs)
		return append(errs, CheckDependencies(comps(t), f)...)
	}
	require.Empty(t, check(t, string(rawFile)), "the real compose file must pass")

	tests := []struct {
		name, old, new, want string
	}{
		{"writable root", "  read_only: true\n", "  read_only: false\n", "read_only: true"},
		{"capabilities kept", "  cap_drop:\n    - ALL\n", "", "cap_drop: [ALL]"},
		{"no health check", "    test: [\"CMD\", \"/usr/local/bin/healthprobe\"]", "    test: [\"CMD\", \"true\"]", "needs healthcheck test"},
		{"short stop grace", "stop_grace_period: 30s", "stop_grace_period: 10s", "stop_grace_period"},
		{"literal secret", "INTERNAL_AUTH_SECRET: ${INTERNAL_AUTH_SECRET:?set INTERNAL_AUTH_SECRET in .env (see .env.example)}", "INTERNAL_AUTH_SECRET: committed-secret-value", "INTERNAL_AUTH_SECRET is a literal"},
		{"misspelt variable", "      INSTANCE_ID: teams-svc-1\n", "      INSTANCE_ID: teams-svc-1\n      GRPC_ADRESS: 0.0.0.0:9102\n", "sets GRPC_ADRESS"},
		{"wrong port", "      HTTP_ADDR: 0.0.0.0:8103\n", "      HTTP_ADDR: 0.0.0.0:8003\n", "the port must be 8103"},
		{"one messages instance", "  messages-svc-2:\n    <<: *app\n", "  messages-svc-2:\n    <<: *app\n    profiles: [\"never\"]\n", "messages-svc needs at least 2 instance(s), has 1"},
		{"wrong advertise host", "      ADVERTISE_HOST: chats-svc\n", "      ADVERTISE_HOST: localhost\n", "ADVERTISE_HOST must be chats-svc"},
		{"duplicate instance id", "      INSTANCE_ID: messages-svc-2\n", "      INSTANCE_ID: messages-svc-1\n", "share INSTANCE_ID messages-svc-1"},
		{"database not created", "@postgres:5432/convene_teams?", "@postgres:5432/convene_team?", `database "convene_team" is not created`},
		{"shared database", "@postgres:5432/convene_chats?", "@postgres:5432/convene_teams?", "shared by 2 components"},
		{"JWT mismatch", "      INSTANCE_ID: users-svc-1\n", "      INSTANCE_ID: users-svc-1\n      JWT_ISSUER_OVERRIDE: x\n", "sets JWT_ISSUER_OVERRIDE"},
		{"issuer differs", "      JWT_ISSUER: ${JWT_ISSUER:-convene}\n      JWT_AUDIENCE: ${JWT_AUDIENCE:-convene-api}\n    depends_on: *needs-infra", "      JWT_ISSUER: other\n      JWT_AUDIENCE: ${JWT_AUDIENCE:-convene-api}\n    depends_on: *needs-infra", "JWT_ISSUER differs"},
		{"service published", "      dockerfile: deploy/docker/teams-svc.Dockerfile\n", "      dockerfile: deploy/docker/teams-svc.Dockerfile\n    ports: [\"8102:8102\"]\n", "services are reached through the gateway only"},
		{"media port mismatch", "      - \"7882:7882/udp\"", "      - \"7883:7883/udp\"", "must publish exactly its media port"},
		{"wrong dockerfile", "dockerfile: deploy/docker/chats-svc.Dockerfile", "dockerfile: deploy/docker/teams-svc.Dockerfile", "want deploy/docker/chats-svc.Dockerfile"},
		{"unknown image", "image: convene/chats-svc:${CONVENE_TAG:-latest}", "image: convene/chat-svc:${CONVENE_TAG:-latest}", "which no Dockerfile builds"},
		{"no observability profile", "    profiles: [\"observability\"]\n    restart: unless-stopped\n    command: [\"--config.file", "    restart: unless-stopped\n    command: [\"--config.file", "prometheus must exist in profile observability"},
		{"infra not awaited", "  postgres:\n    condition: service_healthy\n  redis:", "  postgres:\n    condition: service_started\n  redis:", "must depend on postgres being healthy"},
		{"gateway starts early", "      users-svc:\n        condition: service_healthy\n", "", "gateway must depend on users-svc being healthy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, string(rawFile), tt.old, "the mutation must apply")
			raw := strings.Replace(string(rawFile), tt.old, tt.new, 1)
			requireViolation(t, check(t, raw), tt.want)
		})
	}
}

func TestCheckComposeInstances(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(root(t), "docker-compose.yml"))
	require.NoError(t, err)
	example, err := compose.ReadEnvFile(filepath.Join(root(t), ".env.example"))
	require.NoError(t, err)
	f, err := compose.Parse(raw, example)
	require.NoError(t, err)
	require.Equal(t, []string{"messages-svc-1", "messages-svc-2"}, Instances(comps(t), f)["messages-svc"])

	delete(f.Services, "conference-svc-2")
	requireViolation(t, CheckCompose(comps(t), allReads(t), f, f), "conference-svc needs at least 2 instance(s), has 1")
	requireViolation(t, CheckPrometheus(comps(t), f, []byte("scrape_configs:\n  - job_name: gateway\n    static_configs:\n      - targets: [\"gateway:8080\", \"ghost:8080\"]\n")), "job users-svc does not scrape users-svc:8101")
	requireViolation(t, CheckPrometheus(comps(t), f, []byte("scrape_configs:\n  - job_name: gateway\n    static_configs:\n      - targets: [\"gateway:8080\", \"ghost:8080\"]\n")), "scrapes ghost:8080, which is no gateway instance")
	requireViolation(t, CheckEnvExample([]string{"A", "B"}, map[string]string{"A": "", "C": ""}), "does not document B")
	requireViolation(t, CheckEnvExample([]string{"A", "B"}, map[string]string{"A": "", "B": "", "C": ""}), "sets C, which docker-compose.yml does not use")
}

func TestCheckKube(t *testing.T) {
	t.Parallel()
	render := func(t *testing.T) *kube.Objects {
		t.Helper()
		objs, err := kube.Render(filepath.Join(root(t), "deploy", "k8s", "overlays", "prod"))
		require.NoError(t, err)
		return objs
	}
	reads := allReads(t)
	want := KubeExpect{MinReplicas: 2}
	require.Empty(t, CheckKube(comps(t), reads, render(t), want), "the prod overlay must pass")

	ctr := func(o *kube.Objects, name string) *corev1.Container {
		return &o.Deployment(name).Spec.Template.Spec.Containers[0]
	}
	setEnv := func(c *corev1.Container, name string, v corev1.EnvVar) {
		for i := range c.Env {
			if c.Env[i].Name == name {
				c.Env[i] = v
				return
			}
		}
		c.Env = append(c.Env, v)
	}
	f := false
	tr := true
	tests := []struct {
		name   string
		mutate func(o *kube.Objects)
		want   string
	}{
		{"no readiness probe", func(o *kube.Objects) { ctr(o, "users-svc").ReadinessProbe = nil }, "no readiness probe"},
		{"liveness on readyz", func(o *kube.Objects) { ctr(o, "teams-svc").LivenessProbe.HTTPGet.Path = "/readyz" }, "liveness probe must GET /healthz"},
		{"probe on wrong port", func(o *kube.Objects) { ctr(o, "teams-svc").ReadinessProbe.HTTPGet.Port = intstr.FromInt32(9102) }, "readiness probe must GET /readyz on the http port"},
		{"no limits", func(o *kube.Objects) { ctr(o, "chats-svc").Resources.Limits = nil }, "needs a cpu request and limit"},
		{"request above limit", func(o *kube.Objects) {
			ctr(o, "chats-svc").Resources.Requests[corev1.ResourceMemory] = resource.MustParse("4Gi")
		}, "memory request exceeds its limit"},
		{"root allowed", func(o *kube.Objects) {
			o.Deployment("gateway").Spec.Template.Spec.SecurityContext.RunAsNonRoot = &f
		}, "runAsNonRoot"},
		{"writable root", func(o *kube.Objects) { ctr(o, "gateway").SecurityContext.ReadOnlyRootFilesystem = &f }, "readOnlyRootFilesystem"},
		{"escalation", func(o *kube.Objects) { ctr(o, "gateway").SecurityContext.AllowPrivilegeEscalation = &tr }, "allowPrivilegeEscalation"},
		{"capabilities kept", func(o *kube.Objects) { ctr(o, "gateway").SecurityContext.Capabilities = nil }, "drop ALL"},
		{"no tmp", func(o *kube.Objects) { ctr(o, "messages-svc").VolumeMounts = nil }, "emptyDir on /tmp"},
		{"latest tag", func(o *kube.Objects) { ctr(o, "messages-svc").Image = "convene/messages-svc:latest" }, "pinned tag"},
		{"foreign image", func(o *kube.Objects) { ctr(o, "messages-svc").Image = "convene/messages:1" }, "is not convene/messages-svc"},
		{"one replica", func(o *kube.Objects) { one := int32(1); o.Deployment("chats-svc").Spec.Replicas = &one }, "at least 2 replicas"},
		{"secret as literal", func(o *kube.Objects) {
			setEnv(ctr(o, "users-svc"), "INTERNAL_AUTH_SECRET", corev1.EnvVar{Name: "INTERNAL_AUTH_SECRET", Value: "literal-secret-123456"})
		}, "INTERNAL_AUTH_SECRET must come from a secretKeyRef"},
		{"misspelt variable", func(o *kube.Objects) {
			setEnv(ctr(o, "users-svc"), "ACCESS_TOKEN_TLL", corev1.EnvVar{Name: "ACCESS_TOKEN_TLL", Value: "15m"})
		}, "sets ACCESS_TOKEN_TLL"},
		{"advertise loopback", func(o *kube.Objects) {
			setEnv(ctr(o, "chats-svc"), "ADVERTISE_HOST", corev1.EnvVar{Name: "ADVERTISE_HOST", Value: "127.0.0.1"})
		}, "ADVERTISE_HOST must be the pod IP"},
		{"short grace", func(o *kube.Objects) {
			g := int64(10)
			o.Deployment("teams-svc").Spec.Template.Spec.TerminationGracePeriodSeconds = &g
		}, "terminationGracePeriodSeconds"},
		{"grpc port wrong", func(o *kube.Objects) { ctr(o, "teams-svc").Ports[1].ContainerPort = 9999 }, "container port grpc must be 9102"},
		{"committed secret", func(o *kube.Objects) { o.Secrets = append(o.Secrets, corev1.Secret{}) }, "secrets are created on the cluster"},
		{"no pdb", func(o *kube.Objects) { o.PDBs = o.PDBs[1:] }, "has 0 PodDisruptionBudgets"},
		{"no hpa", func(o *kube.Objects) { o.HPAs = nil }, "Deployment gateway has 0 HorizontalPodAutoscalers, want 1"},
		{"service misses pods", func(o *kube.Objects) {
			o.Service("users-svc").Spec.Selector = map[string]string{"app.kubernetes.io/name": "user-svc"}
		}, "does not select the pods"},
		{"numeric target port", func(o *kube.Objects) { o.Service("users-svc").Spec.Ports[0].TargetPort = intstr.FromInt32(8101) }, "must target a named container port"},
		{"postgres in cluster", func(o *kube.Objects) { o.Service("postgres").Spec.Type = corev1.ServiceTypeClusterIP }, "Service postgres must be an ExternalName"},
		{"media nodeport differs", func(o *kube.Objects) { o.Service("conference-svc-media").Spec.Ports[0].NodePort = 30999 }, "must expose UDP 30781"},
		{"media cluster policy", func(o *kube.Objects) {
			o.Service("conference-svc-media").Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
		}, "externalTrafficPolicy: Local"},
		{"nat from config", func(o *kube.Objects) {
			setEnv(ctr(o, "conference-svc"), "NAT_1TO1_IP", corev1.EnvVar{Name: "NAT_1TO1_IP", Value: "203.0.113.7"})
		}, "NAT_1TO1_IP must be the node's IP"},
		{"two sfus per node", func(o *kube.Objects) { o.Deployment("conference-svc").Spec.Template.Spec.Affinity = nil }, "one SFU per node"},
		{"missing deployment", func(o *kube.Objects) {
			o.Deployments = filterDeployments(o.Deployments, "teams-svc")
		}, "no Deployment teams-svc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			objs := render(t)
			tt.mutate(objs)
			requireViolation(t, CheckKube(comps(t), reads, objs, want), tt.want)
		})
	}
}

func filterDeployments(ds []appsv1.Deployment, drop string) []appsv1.Deployment {
	var out []appsv1.Deployment
	for _, d := range ds {
		if d.Name != drop {
			out = append(out, d)
		}
	}
	return out
}

func TestCheckDashboard(t *testing.T) {
	t.Parallel()
	series := []string{"http_requests_total", "http_request_duration_seconds_bucket"}
	tests := []struct {
		name, json, want string
	}{
		{"unknown metric", `{"uid":"u","title":"t","panels":[{"title":"p","type":"timeseries","targets":[{"expr":"rate(http_requests_totl{job=\"x\"}[1m])"}]}]}`, "queries http_requests_totl"},
		{"nested unknown", `{"uid":"u","title":"t","panels":[{"title":"r","type":"row","panels":[{"title":"p","type":"timeseries","targets":[{"expr":"sfu_rooms{}"}]}]}]}`, "queries sfu_rooms"},
		{"no query", `{"uid":"u","title":"t","panels":[{"title":"p","type":"timeseries"}]}`, "has no query"},
		{"no selector", `{"uid":"u","title":"t","panels":[{"title":"p","type":"timeseries","targets":[{"expr":"vector(1)"}]}]}`, "queries no metric"},
		{"missing panel", `{"uid":"u","title":"t","panels":[]}`, "no panel \"Latency\""},
		{"no uid", `{"title":"t","panels":[]}`, "needs a uid"},
		{"not json", `{`, "dashboard:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			requireViolation(t, CheckDashboard([]byte(tt.json), series, []string{"Latency"}), tt.want)
		})
	}
	ok := `{"uid":"u","title":"t","panels":[{"title":"Latency","type":"timeseries","targets":[{"expr":"histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket{job=~\"$job\"}[5m])))"}]}]}`
	require.Empty(t, CheckDashboard([]byte(ok), series, []string{"Latency"}))
}
