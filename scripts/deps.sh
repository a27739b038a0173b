#!/usr/bin/env bash
# Makes sure the real dependencies the tests and `make run-full` use are running on loopback:
# PostgreSQL, Redis and a Consul dev agent (built once by scripts/consul.sh). Installs
# Postgres and Redis from Debian when they are missing. Idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/var"
say() { echo "deps: $*" >&2; }

ensure_apt() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# docker-compose validates docker-compose.yml without an engine (deploy tests).
command -v docker-compose >/dev/null || ensure_apt docker-compose

# PostgreSQL
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  command -v pg_ctlcluster >/dev/null || ensure_apt postgresql
  say "starting postgres"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
  for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
fi
pg_isready -q -h 127.0.0.1 -p 5432 || { say "postgres did not start"; exit 1; }

# Redis
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  command -v redis-server >/dev/null || ensure_apt redis-server
  say "starting redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --logfile "$root/var/redis.log"
  for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 0.1; done
fi

# Consul (dev agent on loopback: in-memory, single node)
consul=$("$root/scripts/consul.sh")
if ! curl -fsS http://127.0.0.1:8500/v1/status/leader 2>/dev/null | grep -q ':'; then
  say "starting consul agent"
  nohup "$consul" agent -dev -bind 127.0.0.1 -client 127.0.0.1 -log-level warn >"$root/var/consul.log" 2>&1 &
  for _ in $(seq 1 100); do
    curl -fsS http://127.0.0.1:8500/v1/status/leader 2>/dev/null | grep -q ':' && break
    sleep 0.2
  done
fi
curl -fsS http://127.0.0.1:8500/v1/status/leader | grep -q ':' || { say "consul did not start"; exit 1; }
say "postgres, redis and consul are up"
