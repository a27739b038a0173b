# Convene — the two commands that matter are `make run` and `make test`.
SHELL := /bin/bash
export GOTOOLCHAIN := local

.PHONY: run run-full test proto lint bench bench-gateway bench-users bench-teams bench-chats bench-chat bench-conference bench-operations deps frontend

## run: build and start the whole stack at http://localhost:8080 with embedded defaults
## (SQLite files under var/, in-process cache and bus, fixed local addresses).
run: frontend
	go build -o .cache/bin/devstack ./tools/devstack
	.cache/bin/devstack

## run-full: the same against a local Postgres, Redis and Consul agent (started if needed).
run-full: deps frontend
	go build -o .cache/bin/devstack ./tools/devstack
	.cache/bin/devstack -full

## test: start what the tests need and run all of them (CI runs this).
test:
	bash scripts/test.sh

deps:
	bash scripts/deps.sh

frontend:
	@if [ -f frontend/package.json ] && command -v npm >/dev/null; then bash scripts/frontend.sh build; \
	else echo "frontend: skipped (no frontend/ or no npm); the API still runs"; fi

## proto: regenerate the Go code of every .proto.
proto:
	bash scripts/proto.sh

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	go vet $$(go list -m | sed 's|$$|/...|')

## bench-*: the benchmarks recorded in docs/benchmarks.md.
bench: bench-gateway bench-users bench-teams bench-chats bench-chat bench-conference bench-operations

bench-gateway:
	bash scripts/bench-gateway.sh

bench-users:
	bash scripts/bench-users.sh

bench-chats:
	bash scripts/bench-chats.sh

bench-teams:
	bash scripts/bench-teams.sh

bench-chat:
	bash scripts/bench-chat.sh

bench-conference:
	bash scripts/bench-conference.sh

bench-operations:
	bash scripts/bench-operations.sh
