#!/usr/bin/env bash
# teams-svc benchmark (docs/benchmarks-teams.md): a team with BENCH_POSTS posts (default
# 100000, bulk-inserted with COPY), BENCH_READERS concurrent readers (default 50) paging
# through GET /api/v1/teams/{id}/posts through the gateway for BENCH_DURATION (default
# 20s) — first each reader paging every BENCH_INTERVAL (default 250ms, open loop), then
# as fast as they can (closed loop) — with SQL statements and users-svc calls per request
# read from teams-svc's /metrics; then teams.v1 GetMembership latency with a warm cache
# (1 caller, then 8).
# Processes: gateway + users-svc (SQLite) + teams-svc (Postgres, Redis), static discovery,
# on loopback. Needs Postgres and Redis (scripts/deps.sh starts them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export GOTOOLCHAIN=local GOFLAGS=${GOFLAGS:--buildvcs=false}
posts=${BENCH_POSTS:-100000}
readers=${BENCH_READERS:-50}
duration=${BENCH_DURATION:-20s}
interval=${BENCH_INTERVAL:-250ms}
pg_admin=${DATABASE_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
redis_url=${REDIS_URL:-redis://127.0.0.1:6379/0}
gw_addr=127.0.0.1:18280
users_http=127.0.0.1:18281 users_grpc=127.0.0.1:19281
teams_http=127.0.0.1:18282 teams_grpc=127.0.0.1:19282

tmp=$(mktemp -d)
db="bench_teams_$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "==> building gateway, users-svc, teams-svc, teamsload"
(cd "$root" && go build -o "$tmp/" ./gateway/cmd/gateway ./users-svc/cmd/users-svc ./teams-svc/cmd/teams-svc ./teams-svc/cmd/teamsload)
psql "$pg_admin" -qc "CREATE DATABASE $db" >/dev/null
teams_db=$(echo "$pg_admin" | sed "s#/postgres?#/$db?#")

secret="bench-secret-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
common=(INTERNAL_AUTH_SECRET="$secret" LOG_LEVEL=warn CONSUL_HTTP_ADDR=
  USERS_SVC_HTTP_ADDRS=$users_http USERS_SVC_GRPC_ADDRS=$users_grpc
  TEAMS_SVC_HTTP_ADDRS=$teams_http TEAMS_SVC_GRPC_ADDRS=$teams_grpc)
start() { # name, env...
  local name=$1; shift
  env "${common[@]}" "$@" "$tmp/$name" >"$tmp/$name.log" 2>&1 &
  pids+=($!)
}
wait_ready() { # name, addr
  for _ in $(seq 1 200); do
    curl -fsS "http://$2/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "$1 did not become ready:"; cat "$tmp/$1.log"; exit 1
}
start users-svc HTTP_ADDR=$users_http GRPC_ADDR=$users_grpc SQLITE_PATH="$tmp/users.db" DATABASE_URL= REDIS_URL=
wait_ready users-svc $users_http
start teams-svc HTTP_ADDR=$teams_http GRPC_ADDR=$teams_grpc DATABASE_URL="$teams_db" REDIS_URL="$redis_url" \
  TEAMS_WRITES_PER_MINUTE=1000000
wait_ready teams-svc $teams_http
start gateway HTTP_ADDR=$gw_addr DATABASE_URL= REDIS_URL= AUTH_RATE_LIMIT=100000 AUTH_RATE_BURST=100000 \
  FRONTEND_DIR="$tmp/none"
wait_ready gateway $gw_addr

echo
echo "==> seeding: $posts posts in one team"
"$tmp/teamsload" seed -gateway "http://$gw_addr" -db "$teams_db" -posts "$posts" -out "$tmp/state.json"

echo
echo "==> $readers readers through the gateway, each paging every $interval (open loop), $duration ($(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg))"
"$tmp/teamsload" read -gateway "http://$gw_addr" -state "$tmp/state.json" \
  -metrics "http://$teams_http/metrics" -gateway-metrics "http://$gw_addr/metrics" \
  -readers "$readers" -duration "$duration" -interval "$interval"

echo
echo "==> $readers readers through the gateway as fast as they can (closed loop: capacity), $duration (load average $(cut -d' ' -f1 /proc/loadavg))"
"$tmp/teamsload" read -gateway "http://$gw_addr" -state "$tmp/state.json" \
  -metrics "http://$teams_http/metrics" -gateway-metrics "http://$gw_addr/metrics" \
  -readers "$readers" -duration "$duration"

echo
echo "==> teams.v1 GetMembership straight at teams-svc (the call conference-svc makes on every join)"
"$tmp/teamsload" membership -grpc $teams_grpc -secret "$secret" -state "$tmp/state.json" \
  -metrics "http://$teams_http/metrics" -n 20000 -concurrency 1
"$tmp/teamsload" membership -grpc $teams_grpc -secret "$secret" -state "$tmp/state.json" \
  -metrics "http://$teams_http/metrics" -n 5000 -concurrency 8
