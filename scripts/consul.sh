#!/usr/bin/env bash
# Builds (once) and prints the path of a Consul agent binary.
# Consul is not packaged by Debian and recent releases do not build from the module proxy;
# v1.11.11 does (see ../shared/ENVIRONMENT.md). The binary is cached under .cache/bin.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.cache/bin/consul"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
if command -v consul >/dev/null 2>&1; then command -v consul; exit 0; fi
mkdir -p "$root/.cache/bin"
ver=v1.11.11
echo "building consul $ver (one time, a few minutes)..." >&2
export GOWORK=off GOFLAGS=-mod=mod GOTOOLCHAIN=local
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
(cd "$tmp" && go mod download "github.com/hashicorp/consul@$ver" >&2)
src=$(go env GOMODCACHE)/github.com/hashicorp/consul@$ver
cp -r "$src" "$tmp/consul"
chmod -R u+w "$tmp/consul"
cd "$tmp/consul"
sed -i '/^replace github.com\/hashicorp\/consul\/\(api\|sdk\) =>/d' go.mod
sed -i '/^\s*github.com\/hashicorp\/consul\/\(api\|sdk\) => /d' go.mod
go mod edit -require=github.com/hashicorp/consul/api@v1.13.0 -require=github.com/hashicorp/consul/sdk@v0.11.0
go build -ldflags=-checklinkname=0 -o "$bin.tmp" . >&2
mv "$bin.tmp" "$bin"
echo "$bin"
