package dockerfile

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const sample = `# syntax=docker/dockerfile:1
ARG GO_VERSION=1.26
FROM golang:${GO_VERSION} AS build
ENV CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false"
WORKDIR /src
WORKDIR users-svc
RUN go mod download
RUN GOPROXY=off go build -trimpath -ldflags="-s -w" -o /out/users-svc ./cmd/users-svc && go version
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/users-svc /usr/local/bin/users-svc
ENV HTTP_ADDR=0.0.0.0:8101 ADDR_COPY=$HTTP_ADDR
EXPOSE 8101 9101
USER nonroot
HEALTHCHECK --interval=10s CMD ["/usr/local/bin/healthprobe"]
ENTRYPOINT ["/usr/local/bin/users-svc"]
`

func TestParse(t *testing.T) {
	t.Parallel()
	f, err := Parse(strings.NewReader(sample), "sample")
	require.NoError(t, err)
	require.Len(t, f.Stages, 2)
	require.Equal(t, map[string]string{"GO_VERSION": "1.26"}, f.Args)

	build := f.Stage("build")
	require.NotNil(t, build)
	require.Equal(t, "golang:1.26", build.From)
	require.Nil(t, f.Stage("nope"))

	env, err := build.Env()
	require.NoError(t, err)
	require.Equal(t, "-mod=mod -buildvcs=false", env["GOFLAGS"], "quotes are removed as Docker does")

	cmds, err := build.Commands()
	require.NoError(t, err)
	require.Len(t, cmds, 3)
	require.Equal(t, []string{"go", "mod", "download"}, cmds[0].Words)
	require.Equal(t, "/src/users-svc", cmds[0].Dir, "relative WORKDIR joins the previous one")
	gb := cmds[1]
	require.Equal(t, []string{"go", "build", "-trimpath", "-ldflags=-s -w", "-o", "/out/users-svc", "./cmd/users-svc"}, gb.Words)
	require.Equal(t, map[string]string{"GOPROXY": "off"}, gb.Assigned)
	require.Equal(t, "off", gb.Env["GOPROXY"])
	require.Equal(t, "0", gb.Env["CGO_ENABLED"])
	require.Equal(t, []string{"go", "version"}, cmds[2].Words)
	require.NotContains(t, cmds[2].Env, "GOPROXY", "inline assignments apply to their own command only")

	final := f.Final()
	require.Equal(t, "gcr.io/distroless/static-debian12:nonroot", final.From)
	fenv, err := final.Env()
	require.NoError(t, err)
	require.Equal(t, "0.0.0.0:8101", fenv["ADDR_COPY"], "later ENV values expand earlier ones")
	cp := final.All("COPY")
	require.Len(t, cp, 1)
	from, ok := cp[0].Flag("from")
	require.True(t, ok)
	require.Equal(t, "build", from)
	_, ok = cp[0].Flag("chown")
	require.False(t, ok)
	hc := final.All("HEALTHCHECK")
	require.Len(t, hc, 1)
	require.True(t, hc[0].JSON)
	require.Equal(t, []string{"CMD", "/usr/local/bin/healthprobe"}, hc[0].Args)
	require.Equal(t, []string{"8101", "9101"}, final.All("EXPOSE")[0].Args)
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, want string
	}{
		{"no FROM", "RUN true\n", "before the first FROM"},
		{"only ARG", "ARG X=1\n", "no FROM"},
		{"comment only", "# nothing\n", "no instructions"},
		{"empty file", "", "no instructions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(strings.NewReader(tt.src), "x")
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestCommandsRefuseWhatTestsCannotReplay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, run, want string
	}{
		{"pipe", "go build ./... | tee log", "not a plain command"},
		{"semicolon", "go mod download; go build", "not a plain command"},
		{"substitution", "go build -o $(pwd)/x .", "not a plain command"},
		{"variable", "go build -o $OUT .", "expands variables"},
		{"cd", "cd users-svc && go build .", "use WORKDIR"},
		{"only assignments", "GOPROXY=off", "empty command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse(strings.NewReader("FROM golang:1.26\nRUN "+tt.run+"\n"), "x")
			require.NoError(t, err)
			_, err = f.Final().Commands()
			require.ErrorContains(t, err, tt.want)
		})
	}
}
