#!/usr/bin/env bash
# Conference benchmarks (docs/benchmarks-conference.md).
#  1. Go benchmarks of conference-svc: join → first video RTP, a 10-participant room.
#  2. Convene against livekit-server v1.13.5 in one run (tools/confload-livekit): rooms of
#     10 participants each publishing Opus + ~1 Mbit/s VP8 and receiving all others, grown
#     one room per round, the two servers interleaved, until a server loses > 1 % of the
#     packets or its p99 passes 100 ms. Prints one comparison table. "convene-pacing" is
#     the same Convene build with MEDIA_PACING=true (pion's subscriber pacer on).
# CONFLOAD_ARGS replaces the step load's flags; BENCH_CONFERENCE_GO=0 skips part 1.
# Convene runs as an embedded stack (SQLite, no Postgres/Redis/Consul needed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export GOTOOLCHAIN=local

if [ "${BENCH_CONFERENCE_GO:-1}" != 0 ]; then
	(cd conference-svc && go test ./internal/service -run '^$' -bench 'JoinToFirstVideo' -benchtime 30x)
	(cd conference-svc && go test ./internal/service -run '^$' -bench 'Room10' -benchtime 10x)
fi

livekit=$(bash scripts/livekit.sh)
bin="$root/.cache/bin/confload-livekit"
# The LiveKit driver's module is outside go.work: its SDK's dependency versions stay its own.
(cd tools/confload-livekit && GOWORK=off go build -o "$bin" .)
ulimit -n 65536 2>/dev/null || true
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
"$bin" -livekit-bin "$livekit" ${CONFLOAD_ARGS:--servers convene,livekit -size 10 -rooms 1 -step 1 -step-max 6 -duration 10s -warmup 3s -pause 5s}
