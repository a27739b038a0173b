# syntax=docker/dockerfile:1
# Image of conference-svc. Build from the repository root (the context needs platform/ and proto/,
# which go.mod's replace lines point at):
#   docker build -f deploy/docker/conference-svc.Dockerfile -t convene/conference-svc .
# deploy/dockerfile_test.go replays this file's go build commands on the host with the same
# flags; keep every build step a plain command.

FROM golang:1.26 AS build
# GOWORK=off: the image builds one module, resolved through its own go.mod and replace lines.
# -mod=mod lets that module build without a vendor directory; -buildvcs=false because the
# context has no .git (see .dockerignore).
ENV CGO_ENABLED=0 GOWORK=off GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false"
WORKDIR /src/conference-svc
# Module files first, so that the download layer is reused until a go.mod or go.sum changes.
COPY platform/go.mod platform/go.sum /src/platform/
COPY proto/go.mod proto/go.sum /src/proto/
COPY conference-svc/go.mod conference-svc/go.sum /src/conference-svc/
RUN go mod download
COPY platform/ /src/platform/
COPY proto/ /src/proto/
COPY conference-svc/ /src/conference-svc/
# GOPROXY=off: everything must come from the module cache filled above, so that a build
# never fetches code that go.sum has not pinned.
RUN GOPROXY=off go build -trimpath -ldflags="-s -w" -o /out/conference-svc ./cmd/conference-svc
# The health probe imports the standard library only: nothing to download.
WORKDIR /src/deploy
COPY deploy/go.mod deploy/go.sum /src/deploy/
COPY deploy/cmd/healthprobe/ /src/deploy/cmd/healthprobe/
RUN GOPROXY=off go build -trimpath -ldflags="-s -w" -o /out/healthprobe ./cmd/healthprobe

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/conference-svc /usr/local/bin/conference-svc
COPY --from=build /out/healthprobe /usr/local/bin/healthprobe
# Listen on every interface inside the container; the fixed ports are those of
# platform/discovery.DefaultPorts. Logs are JSON on stdout for docker logs / kubectl logs.
ENV HTTP_ADDR=0.0.0.0:8105 \
    GRPC_ADDR=0.0.0.0:9105 \
    MEDIA_UDP_ADDR=0.0.0.0:7881 \
    LOG_FORMAT=json
EXPOSE 8105 9105 7881/udp
USER nonroot
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["/usr/local/bin/healthprobe"]
ENTRYPOINT ["/usr/local/bin/conference-svc"]
