#!/usr/bin/env bash
# Login throughput of users-svc, which argon2id bounds: first the Go benchmark of one hash
# (serial and on every core), then wrk on POST /api/v1/auth/login against one users-svc
# process on loopback (embedded SQLite, login-attempt limit off, access log off).
# Settings: BENCH_DURATION (default 20s), BENCH_CONNECTIONS (default 4), BENCH_HTTP_ADDR /
# BENCH_GRPC_ADDR (default 127.0.0.1:18191 / :19191), DATABASE_URL to run on Postgres.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export GOTOOLCHAIN=local GOFLAGS=${GOFLAGS:--buildvcs=false}
duration=${BENCH_DURATION:-20s}
conns=${BENCH_CONNECTIONS:-4}
http_addr=${BENCH_HTTP_ADDR:-127.0.0.1:18191}
grpc_addr=${BENCH_GRPC_ADDR:-127.0.0.1:19191}

if ! command -v wrk >/dev/null; then
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

echo "==> argon2id hash (production parameters), go test -bench"
(cd "$root/users-svc" && go test ./internal/adapters -run '^$' -bench Argon2 -benchtime 50x)

tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

(cd "$root/users-svc" && go build -o "$tmp/users-svc" ./cmd/users-svc)
HTTP_ADDR=$http_addr GRPC_ADDR=$grpc_addr SQLITE_PATH="$tmp/users.db" \
  INTERNAL_AUTH_SECRET="bench-secret-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  LOG_LEVEL=warn LOGIN_ATTEMPTS_PER_MINUTE=0 "$tmp/users-svc" >"$tmp/users-svc.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://$http_addr/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://$http_addr/healthz" >/dev/null || { cat "$tmp/users-svc.log"; exit 1; }

curl -fsS -o /dev/null -X POST "http://$http_addr/api/v1/auth/register" \
  -H 'Content-Type: application/json' \
  -d '{"username":"bench","email":"bench@example.com","password":"correct horse battery"}'
cat >"$tmp/login.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"login":"bench","password":"correct horse battery"}'
LUA

echo
echo "==> wrk POST /api/v1/auth/login, $conns connections, $duration ($(nproc) cores)"
wrk -t2 -c"$conns" -d"$duration" --latency -s "$tmp/login.lua" "http://$http_addr/api/v1/auth/login"
