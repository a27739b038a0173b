#!/usr/bin/env bash
# Conference benchmarks (docs/benchmarks-conference.md): join → first video RTP over loopback,
# and a 10-participant room at ~1 Mbps video each. Needs Postgres and Redis (scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/../conference-svc"
go test ./internal/service -run '^$' -bench 'JoinToFirstVideo' -benchtime 30x
go test ./internal/service -run '^$' -bench 'Room10' -benchtime 10x
# The same room through the gateway, with conference-svc in its own process (its CPU alone).
cd ..
go run ./tools/confload -stack -participants 10 -bitrate 1000000 -duration 20s
