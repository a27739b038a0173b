#!/usr/bin/env bash
# Regenerates the Go code of every .proto under proto/. With --check, fails when the
# committed code differs from what the .proto files generate (CI runs it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command -v protoc >/dev/null || { apt-get install -y -qq protobuf-compiler >/dev/null; }
# The generators' versions are written into the generated files, so the check must use the
# pinned ones, not whatever an earlier `go install` left on the machine's PATH.
gen_go=v1.36.11 gen_grpc=v1.6.2
bin="$root/.cache/protoc-gen/$gen_go-$gen_grpc"
if [ ! -x "$bin/protoc-gen-go" ] || [ ! -x "$bin/protoc-gen-go-grpc" ]; then
  GOFLAGS= GOBIN="$bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$gen_go"
  GOFLAGS= GOBIN="$bin" go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$gen_grpc"
fi
export PATH="$bin:$PATH"
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
