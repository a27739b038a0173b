#!/usr/bin/env bash
# chats-svc benchmarks (docs/benchmarks-chats.md): chats-svc in-process on the local
# Postgres and Redis (scripts/deps.sh starts them), with stand-ins for users-svc and
# messages-svc. BENCHTIME and COUNT override the defaults.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/deps.sh" >/dev/null
cd "$root/chats-svc"
go test -run '^$' -bench . -benchmem -benchtime "${BENCHTIME:-3s}" -count "${COUNT:-3}" ./internal/service/
