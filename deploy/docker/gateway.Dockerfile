# syntax=docker/dockerfile:1
# Image of the gateway, with the built web client inside. Build from the repository root:
#   docker build -f deploy/docker/gateway.Dockerfile -t convene/gateway .
# deploy/dockerfile_test.go replays this file's go build commands on the host with the same
# flags; keep every build step a plain command.

FROM node:20 AS frontend
WORKDIR /src/frontend
# Lock file first: npm ci reinstalls only when the dependencies change.
COPY frontend/package.json frontend/package-lock.json /src/frontend/
RUN npm ci --no-audit --no-fund
COPY frontend/ /src/frontend/
RUN npm run build

FROM golang:1.26 AS build
# GOWORK=off: the image builds one module, resolved through its own go.mod and replace lines.
# -mod=mod lets that module build without a vendor directory; -buildvcs=false because the
# context has no .git (see .dockerignore).
ENV CGO_ENABLED=0 GOWORK=off GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false"
WORKDIR /src/gateway
# Module files first, so that the download layer is reused until a go.mod or go.sum changes.
COPY platform/go.mod platform/go.sum /src/platform/
COPY proto/go.mod proto/go.sum /src/proto/
COPY gateway/go.mod gateway/go.sum /src/gateway/
RUN go mod download
COPY platform/ /src/platform/
COPY proto/ /src/proto/
COPY gateway/ /src/gateway/
# GOPROXY=off: everything must come from the module cache filled above, so that a build
# never fetches code that go.sum has not pinned.
RUN GOPROXY=off go build -trimpath -ldflags="-s -w" -o /out/gateway ./cmd/gateway
# The health probe imports the standard library only: nothing to download.
WORKDIR /src/deploy
COPY deploy/go.mod deploy/go.sum /src/deploy/
COPY deploy/cmd/healthprobe/ /src/deploy/cmd/healthprobe/
RUN GOPROXY=off go build -trimpath -ldflags="-s -w" -o /out/healthprobe ./cmd/healthprobe

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gateway /usr/local/bin/gateway
COPY --from=build /out/healthprobe /usr/local/bin/healthprobe
COPY --from=frontend /src/frontend/dist /app/frontend
# Listen on every interface inside the container. FRONTEND_DIR is where the web client was
# copied above; the gateway serves it with an SPA fallback. Logs are JSON on stdout.
ENV HTTP_ADDR=0.0.0.0:8080 \
    FRONTEND_DIR=/app/frontend \
    LOG_FORMAT=json
EXPOSE 8080
USER nonroot
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["/usr/local/bin/healthprobe"]
ENTRYPOINT ["/usr/local/bin/gateway"]
