#!/usr/bin/env bash
# Builds (once) and prints the path of livekit-server, the SFU that tools/confload compares
# conference-svc against (scripts/bench-conference.sh). v1.13.5 is the newest release whose
# dependencies the module proxy serves (see ../shared/ENVIRONMENT.md); it is built outside the
# workspace so none of its versions leak into ours. The binary is cached under .cache/bin.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ver=v1.13.5
bin="$root/.cache/bin/livekit-server-$ver"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
mkdir -p "$root/.cache/bin"
echo "building livekit-server $ver (one time, several minutes)..." >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# go install puts the binary, named after its package directory ("server"), into GOBIN.
(cd "$tmp" && GOWORK=off GOTOOLCHAIN=local GOFLAGS= GOBIN="$tmp" \
	go install "github.com/livekit/livekit-server/cmd/server@$ver" >&2)
mv "$tmp/server" "$bin"
echo "$bin"
