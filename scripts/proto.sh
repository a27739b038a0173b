#!/usr/bin/env bash
# Regenerates the Go code of every .proto under proto/. With --check, fails when the
# committed code differs from what the .proto files generate (CI runs it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$(go env GOPATH)/bin:$PATH"
command -v protoc >/dev/null || { apt-get install -y -qq protobuf-compiler >/dev/null; }
command -v protoc-gen-go >/dev/null || GOFLAGS= go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.11
command -v protoc-gen-go-grpc >/dev/null || GOFLAGS= go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
out="$root/proto"
if [ "${1:-}" = "--check" ]; then
  out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
fi
cd "$root/proto"
files=$(find . -name '*.proto' | sort)
protoc -I . --go_out="$out" --go_opt=paths=source_relative \
  --go-grpc_out="$out" --go-grpc_opt=paths=source_relative $files
if [ "${1:-}" = "--check" ]; then
  for f in $(cd "$out" && find . -name '*.go'); do
    if ! cmp -s "$out/$f" "$root/proto/$f"; then echo "proto: $f is stale; run 'make proto'" >&2; exit 1; fi
  done
  echo "proto: generated code is current"
fi
