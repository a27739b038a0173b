#!/usr/bin/env bash
# Chat benchmark (issue 4): starts its own stack (gateway, users-svc, chats-svc and two
# messages-svc instances on Postgres, Redis and a Consul agent of its own, free ports) and
# drives it with tools/chatload over real sockets through the gateway.
#
#   scripts/bench-chat.sh smoke          CI size: 20 users, fails on any loss or duplicate
#                                        (also run by `make test`: TestSmoke in tools/chatload)
#   scripts/bench-chat.sh [chatload flags] full size by hand, e.g.
#   scripts/bench-chat.sh -users 2000 -chat-size 10 -rate 0.5 -duration 30s
#   scripts/bench-chat.sh -users 9800 -chat-size 10 -rate 0.1 -duration 30s -setup-concurrency 16
#                                        issue 4's size, as far as a 20,000-descriptor hard limit
#                                        lets one gateway go (two descriptors per socket)
#   scripts/bench-chat.sh -stack 1 -users 1000 -duration 30s -pprof-messages 127.0.0.1:6061
#                                        profiles the one messages-svc (the last -stack wins)
#
# Needs Postgres and Redis (scripts/deps.sh starts them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/deps.sh >/dev/null
# Every socket costs a descriptor in the load tool and in messages-svc, and two in the
# gateway: 10,000 sockets need more than the usual 20,000. The stack's processes inherit
# the limit. Root may raise the hard limit; anyone else gets what the hard limit allows.
ulimit -Hn 200000 2>/dev/null || true
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "${1:-}" = "smoke" ]; then
  shift
  exec go run ./tools/chatload -stack 2 -smoke "$@"
fi
exec go run ./tools/chatload -stack 2 "$@"
