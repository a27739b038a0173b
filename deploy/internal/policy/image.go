package policy

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/convene/convene/deploy/internal/dockerfile"
)

// Image bases every Dockerfile uses.
const (
	GoBuilderImage = "golang:1.26"
	NodeImage      = "node:20"
	RuntimeImage   = "gcr.io/distroless/static-debian12:nonroot"
	// ProbePath is where every image has the health probe binary.
	ProbePath = "/usr/local/bin/healthprobe"
	// SourceRoot is where the build stage puts the repository's modules.
	SourceRoot = "/src"
)

// GoBuild is one `go build` of a Dockerfile, as the host must replay it.
type GoBuild struct {
	Line int
	// Module is the module directory relative to the repository root.
	Module string
	// Env are the variables the command runs with (stage ENV plus inline ones).
	Env map[string]string
	// Args follow `go build`; Output is the -o value, Package the package built.
	Args    []string
	Output  string
	Package string
}

// GoBuilds returns the `go build` commands of the stage named "build".
func GoBuilds(f *dockerfile.File) ([]GoBuild, error) {
	st := f.Stage("build")
	if st == nil {
		return nil, fmt.Errorf("%s: no stage named build", f.Path)
	}
	cmds, err := st.Commands()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	var out []GoBuild
	for _, c := range cmds {
		if len(c.Words) < 2 || c.Words[0] != "go" || c.Words[1] != "build" {
			continue
		}
		rel, ok := strings.CutPrefix(c.Dir, SourceRoot+"/")
		if !ok {
			return nil, fmt.Errorf("%s:%d: go build runs in %s, outside %s", f.Path, c.Line, c.Dir, SourceRoot)
		}
		b := GoBuild{Line: c.Line, Module: rel, Env: c.Env, Args: c.Words[2:]}
		for i, a := range b.Args {
			if a == "-o" && i+1 < len(b.Args) {
				b.Output = b.Args[i+1]
			}
		}
		if n := len(b.Args); n > 0 {
			b.Package = b.Args[n-1]
		}
		out = append(out, b)
	}
	return out, nil
}

// CheckImage checks a component's Dockerfile: offline, static, reproducible build; a
// distroless non-root runtime with the health probe; the component's ports.
func CheckImage(c Component, f *dockerfile.File) []error {
	var errs []error
	fail := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{f.Path}, a...)...))
	}
	build := f.Stage("build")
	if build == nil {
		return []error{fmt.Errorf("%s: no stage named build", f.Path)}
	}
	if build.From != GoBuilderImage {
		fail("the build stage is FROM %s, want %s", build.From, GoBuilderImage)
	}
	env, err := build.Env()
	if err != nil {
		fail("%v", err)
	}
	for k, want := range map[string]string{"CGO_ENABLED": "0", "GOWORK": "off"} {
		if env[k] != want {
			fail("the build stage must set ENV %s=%s", k, want)
		}
	}
	if !slices.Contains(strings.Fields(env["GOFLAGS"]), "-mod=mod") {
		fail("the build stage's GOFLAGS must contain -mod=mod")
	}
	errs = append(errs, checkBuildOrder(c, f, build)...)

	builds, err := GoBuilds(f)
	if err != nil {
		return append(errs, err)
	}
	wantBuilds := map[string]string{
		c.Name:        "./cmd/" + c.Name,
		"healthprobe": "./cmd/healthprobe",
	}
	wantModule := map[string]string{c.Name: c.Name, "healthprobe": "deploy"}
	seen := map[string]bool{}
	for _, b := range builds {
		bin := path.Base(b.Output)
		if b.Output != "/out/"+bin || wantBuilds[bin] == "" {
			fail("line %d: unexpected go build output %q", b.Line, b.Output)
			continue
		}
		seen[bin] = true
		if b.Package != wantBuilds[bin] || b.Module != wantModule[bin] {
			fail("line %d: %s must be built from %s/%s", b.Line, bin, wantModule[bin], wantBuilds[bin])
		}
		if b.Env["GOPROXY"] != "off" {
			fail("line %d: go build must run with GOPROXY=off (offline, from the module cache)", b.Line)
		}
		if !slices.Contains(b.Args, "-trimpath") || !slices.Contains(b.Args, "-ldflags=-s -w") {
			fail("line %d: go build must use -trimpath and -ldflags=\"-s -w\"", b.Line)
		}
	}
	for bin := range wantBuilds {
		if !seen[bin] {
			fail("no go build of %s", bin)
		}
	}
	return append(errs, checkRuntime(c, f)...)
}

// checkBuildOrder keeps the layer order that makes builds cached and offline: module files,
// go mod download, then sources, then go build.
func checkBuildOrder(c Component, f *dockerfile.File, build *dockerfile.Stage) []error {
	var errs []error
	download, firstBuild, sources := -1, -1, -1
	copied := map[string]bool{}
	for i, in := range build.Instructions {
		switch in.Cmd {
		case "RUN":
			run := strings.Join(in.Args, " ")
			if strings.HasPrefix(run, "go mod download") && download < 0 {
				download = i
			}
			if strings.Contains(run, "go build") && firstBuild < 0 {
				firstBuild = i
			}
		case "COPY":
			for _, src := range in.Args[:max(len(in.Args)-1, 0)] {
				copied[strings.TrimSuffix(src, "/")] = true
				if strings.TrimSuffix(src, "/") == c.Name && sources < 0 {
					sources = i
				}
			}
		}
	}
	for _, dir := range []string{"platform", "proto", c.Name, "platform/go.mod", "proto/go.mod", c.Name + "/go.mod", c.Name + "/go.sum"} {
		if !copied[dir] {
			errs = append(errs, fmt.Errorf("%s: the build stage does not copy %s", f.Path, dir))
		}
	}
	switch {
	case download < 0:
		errs = append(errs, fmt.Errorf("%s: no go mod download step", f.Path))
	case sources >= 0 && download > sources:
		errs = append(errs, fmt.Errorf("%s: go mod download must come before the sources are copied (layer cache)", f.Path))
	case firstBuild >= 0 && download > firstBuild:
		errs = append(errs, fmt.Errorf("%s: go mod download must come before go build", f.Path))
	}
	return errs
}

func checkRuntime(c Component, f *dockerfile.File) []error {
	var errs []error
	fail := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{f.Path}, a...)...))
	}
	final := f.Final()
	if final.From != RuntimeImage {
		fail("the image is FROM %s, want %s", final.From, RuntimeImage)
	}
	if len(final.All("RUN")) > 0 {
		fail("the final stage has RUN steps, but distroless has no shell")
	}
	users := final.All("USER")
	if len(users) == 0 || !slices.Contains([]string{"nonroot", "65532", "65532:65532", "nonroot:nonroot"}, users[len(users)-1].Args[0]) {
		fail("the final stage must end as USER nonroot")
	}
	bin := "/usr/local/bin/" + c.Name
	copies := map[string]string{}
	for _, in := range final.All("COPY") {
		from, _ := in.Flag("from")
		if len(in.Args) == 2 {
			copies[in.Args[1]] = from + ":" + in.Args[0]
		}
	}
	if copies[bin] != "build:/out/"+c.Name {
		fail("the binary must be copied from build:/out/%s to %s", c.Name, bin)
	}
	if copies[ProbePath] != "build:/out/healthprobe" {
		fail("the health probe must be copied from build:/out/healthprobe to %s", ProbePath)
	}
	eps := final.All("ENTRYPOINT")
	if len(eps) != 1 || !eps[0].JSON || !slices.Equal(eps[0].Args, []string{bin}) {
		fail("ENTRYPOINT must be [%q]", bin)
	}
	hcs := final.All("HEALTHCHECK")
	if len(hcs) != 1 || !hcs[0].JSON || !slices.Equal(hcs[0].Args, []string{"CMD", ProbePath}) {
		fail("HEALTHCHECK must be CMD [%q]", ProbePath)
	}
	exposed := map[string]bool{}
	for _, in := range final.All("EXPOSE") {
		for _, p := range in.Args {
			exposed[strings.TrimSuffix(p, "/tcp")] = true
		}
	}
	env, err := final.Env()
	if err != nil {
		fail("%v", err)
	}
	wantPorts := map[string]int{"HTTP_ADDR": c.HTTPPort}
	if c.IsService() {
		wantPorts["GRPC_ADDR"] = c.GRPCPort
	}
	for key, port := range wantPorts {
		if !exposed[strconv.Itoa(port)] {
			fail("EXPOSE is missing %d", port)
		}
		if env[key] != "0.0.0.0:"+strconv.Itoa(port) {
			fail("ENV %s must be 0.0.0.0:%d", key, port)
		}
	}
	if env["LOG_FORMAT"] != "json" {
		fail("ENV LOG_FORMAT must be json")
	}
	if c.Name == "gateway" {
		errs = append(errs, checkFrontend(f, final, env)...)
	}
	return errs
}

// checkFrontend: the gateway image builds the web client from its lock file and serves it
// from FRONTEND_DIR.
func checkFrontend(f *dockerfile.File, final *dockerfile.Stage, env map[string]string) []error {
	var errs []error
	var web *dockerfile.Stage
	for _, s := range f.Stages {
		if s.From == NodeImage {
			web = s
		}
	}
	if web == nil {
		return []error{fmt.Errorf("%s: no %s stage builds the frontend", f.Path, NodeImage)}
	}
	cmds, err := web.Commands()
	if err != nil {
		return []error{fmt.Errorf("%s: %w", f.Path, err)}
	}
	var ci, build bool
	dist := ""
	for _, c := range cmds {
		w := strings.Join(c.Words, " ")
		ci = ci || strings.HasPrefix(w, "npm ci")
		if w == "npm run build" {
			build = true
			dist = path.Join(c.Dir, "dist")
		}
	}
	if !ci || !build {
		errs = append(errs, fmt.Errorf("%s: the %s stage must run npm ci and npm run build", f.Path, web.Name))
	}
	dir := env["FRONTEND_DIR"]
	found := false
	for _, in := range final.All("COPY") {
		from, _ := in.Flag("from")
		if from == web.Name && len(in.Args) == 2 && in.Args[0] == dist && in.Args[1] == dir {
			found = true
		}
	}
	if dir == "" || !found {
		errs = append(errs, fmt.Errorf("%s: the built frontend (%s) must be copied to FRONTEND_DIR (%q)", f.Path, dist, dir))
	}
	return errs
}
