#!/usr/bin/env bash
# Everything `make test` runs, in order: start the real dependencies, check generated code and
# formatting, vet, run every Go module's tests with -race (unit, repository, component), the
# end-to-end suite through the gateway, and the frontend's unit and browser tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export GOTOOLCHAIN=local GOFLAGS=${GOFLAGS:--buildvcs=false}
# scripts/deps.sh installs docker-compose: its absence must fail the compose check, not skip it.
export CONVENE_REQUIRE_DOCKER_COMPOSE=1
step() { printf '\n==> %s\n' "$*"; }

step "dependencies: postgres, redis, consul"
bash scripts/deps.sh

step "generated code is current"
bash scripts/proto.sh --check

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './frontend/*') 2>/dev/null || true)
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi

modules=$(go list -m | grep -v '/e2e$')
patterns=$(for m in $modules; do echo "$m/..."; done)

step "go vet"
go vet $patterns github.com/convene/convene/e2e/...

step "go test -race (unit, repository, component)"
go test -race -count=1 -timeout 15m $patterns

step "frontend: unit tests and production build"
bash scripts/frontend.sh test

step "end-to-end through the gateway (real processes, Postgres, Redis, Consul, Chromium)"
bash scripts/browser.sh
go test -count=1 -timeout 20m github.com/convene/convene/e2e/...
