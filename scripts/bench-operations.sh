#!/usr/bin/env bash
# Tracing overhead (`make bench-operations`): allocations and time per request of
#   1. the gateway's proxy (gateway/internal/upstream) with tracing from the process-wide
#      default (no-op), export off (never-sampled provider, the default) and export on;
#   2. the gateway's server-span middleware against otelgin, export off;
#   3. the services' middleware chain (platform/httpx.NewEngineWith), export off and on.
# Allocation counts are the stable figures; times move with the machine's load.
# Knob: BENCHTIME (default 20000x).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
BENCHTIME=${BENCHTIME:-20000x}
cd "$root"
go test -run '^$' -bench 'BenchmarkServe' -benchtime "$BENCHTIME" -count 3 ./gateway/internal/upstream
go test -run '^$' -bench 'BenchmarkTraceRequests' -benchtime "$BENCHTIME" -count 3 ./gateway/internal/ports
go test -run '^$' -bench 'BenchmarkEngine' -benchtime "$BENCHTIME" -count 3 ./platform/httpx
