#!/usr/bin/env bash
# Gateway benchmark (`make bench-gateway`), in one run on loopback:
#   1. wrk against whoami (a trivial authenticated endpoint on platform/httpx) directly,
#      through nginx, and through the gateway with JWT verification, RUNS rounds
#      interleaved; the median of each is reported;
#   2. latency at half the gateway's median peak rate, open loop (gwload rate), direct and
#      gateway alternating RUNS times; the median added p99 is reported;
#   3. a CPU profile of the gateway under wrk;
#   4. memory per idle WebSocket: WS_SOCKETS sockets through a gateway to an echo service
#      (gateway/cmd/wsidle), growth of the gateway's RSS, heap and goroutines per socket;
#   5. login throughput through the gateway to users-svc (bounded by argon2id).
# Results go to stdout and var/bench/gateway/results.md. Knobs: DURATION (default 15s),
# CONNS (default 64), RUNS (default 3), WS_SOCKETS (default 5000, 0 skips), NICE (default
# 0: the niceness every benchmark process runs at; on a machine shared with other
# builds, NICE=-10 as root keeps their load from swamping the tail latencies — it
# applies to the direct, nginx and gateway paths alike), GATEWAY_BIN (a gateway binary to
# measure instead of the tree's, e.g. one built from an older commit, for a before/after
# comparison under the same conditions).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/var/bench/gateway"
bin="$out/bin"
rm -rf "$out" && mkdir -p "$bin" "$out/nginx"
DURATION=${DURATION:-15s}
CONNS=${CONNS:-64}
RUNS=${RUNS:-3}
WS_SOCKETS=${WS_SOCKETS:-5000}
NICE=${NICE:-0}
# Every idle socket holds a descriptor in the load tool, two in the gateway.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# run runs a command in the foreground at NICE. Background services are started with nice
# itself, which execs them, so that $! is the service: killing a function's subshell
# would leave the service running.
run() { nice -n "$NICE" "$@"; }
command -v wrk >/dev/null || { echo "bench-gateway: wrk is required (apt-get install -y wrk)" >&2; exit 1; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx_bin" ] || { echo "bench-gateway: nginx is required (apt-get install -y nginx-light)" >&2; exit 1; }

echo "building..." >&2
(cd "$root" && go build -o "$bin/" ./gateway/cmd/gateway ./gateway/cmd/whoami ./gateway/cmd/gwload ./gateway/cmd/wsidle)
[ -n "${GATEWAY_BIN:-}" ] && cp "$GATEWAY_BIN" "$bin/gateway"
have_users=0
if [ -d "$root/users-svc/cmd/users-svc" ]; then
  (cd "$root" && go build -o "$bin/" ./users-svc/cmd/users-svc) && have_users=1
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
WHOAMI=127.0.0.1:$(free_port)
GATEWAY=127.0.0.1:$(free_port)
NGINX=127.0.0.1:$(free_port)
PPROF=127.0.0.1:$(free_port)
USERS=127.0.0.1:$(free_port)
USERS_GRPC=127.0.0.1:$(free_port)
LOGIN_GATEWAY=127.0.0.1:$(free_port)
WS_BACKEND=127.0.0.1:$(free_port)
WS_GATEWAY=127.0.0.1:$(free_port)

export INTERNAL_AUTH_SECRET="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
BENCH_SIGNING_SEED=$(head -c 32 /dev/urandom | base64)
export BENCH_SIGNING_SEED
export LOG_FORMAT=json LOG_LEVEL=info

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$out/nginx/nginx.pid" ] && kill "$(cat "$out/nginx/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

wait_http() {
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://$1/healthz" 2>/dev/null && return 0; sleep 0.1; done
  echo "bench-gateway: $1 did not come up" >&2; exit 1
}

HTTP_ADDR=$WHOAMI nice -n "$NICE" "$bin/whoami" >"$out/whoami.log" 2>&1 & pids+=($!)
HTTP_ADDR=$GATEWAY USERS_SVC_HTTP_ADDRS=$WHOAMI FRONTEND_DIR= PPROF_ADDR=$PPROF \
  nice -n "$NICE" "$bin/gateway" >"$out/gateway.log" 2>&1 & pids+=($!)
wait_http "$WHOAMI"; wait_http "$GATEWAY"

token=$("$bin/gwload" token)
# nginx_conf writes nginx's configuration with a fresh signed identity: one is valid two
# minutes, so every round reloads nginx with a new one.
nginx_conf() {
  identity=$("$bin/gwload" identity)
  cat >"$out/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $out/nginx/nginx.pid;
error_log $out/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log $out/nginx/access.log combined buffer=64k flush=1s;
  client_body_temp_path $out/nginx/tmp-body;
  proxy_temp_path $out/nginx/tmp-proxy;
  fastcgi_temp_path $out/nginx/tmp-fastcgi;
  uwsgi_temp_path $out/nginx/tmp-uwsgi;
  scgi_temp_path $out/nginx/tmp-scgi;
  upstream whoami { server $WHOAMI; keepalive 256; }
  server {
    listen $NGINX;
    location / {
      proxy_pass http://whoami;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Convene-Identity "$identity";
      proxy_set_header X-Forwarded-For \$remote_addr;
    }
  }
}
EOF
}
nginx_conf
run "$nginx_bin" -c "$out/nginx/nginx.conf" -p "$out/nginx" -e "$out/nginx/error.log"
wait_http "$NGINX"

path=/api/v1/users/whoami
curl -fsS -H "X-Convene-Identity: $identity" "http://$WHOAMI$path" >/dev/null
curl -fsS "http://$NGINX$path" >/dev/null
curl -fsS -H "Authorization: Bearer $token" "http://$GATEWAY$path" >/dev/null

# run_wrk NAME ROUND URL [HEADER]: prints "name req/s p50 p99" (latencies in ms)
run_wrk() {
  local name=$1 round=$2 url=$3 header=${4:-}
  local args=(-t1 -c"$CONNS" -d"$DURATION" --latency)
  [ -n "$header" ] && args+=(-H "$header")
  run wrk "${args[@]}" "$url" >"$out/wrk-$name-$round.txt"
  if grep -q "Non-2xx" "$out/wrk-$name-$round.txt"; then echo "bench-gateway: $name had errors" >&2; cat "$out/wrk-$name-$round.txt" >&2; exit 1; fi
  awk -v name="$name" '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^ +50%/ {p50=ms($2)} /^ +99%/ {p99=ms($2)} /^Requests\/sec/ {rps=$2}
    END { printf "%s %.0f %.3f %.3f\n", name, rps, p50, p99 }' "$out/wrk-$name-$round.txt"
}

# median: the median of the numbers on stdin, one a line.
median() { sort -g | awk '{v[NR]=$1} END { if (NR%2) print v[(NR+1)/2]; else printf "%.3f\n", (v[NR/2]+v[NR/2+1])/2 }'; }
# field NAME: the value of NAME=... in gwload's output on stdin.
field() { sed -E "s/.*$1=([0-9.]+).*/\1/"; }

echo "warming up..." >&2
run wrk -t1 -c"$CONNS" -d3s -H "Authorization: Bearer $token" "http://$GATEWAY$path" >/dev/null
run wrk -t1 -c"$CONNS" -d3s "http://$NGINX$path" >/dev/null

echo "wrk, $CONNS connections, $DURATION each, $RUNS rounds..." >&2
: >"$out/wrk.txt"
for round in $(seq 1 "$RUNS"); do
  if [ "$round" -gt 1 ]; then
    nginx_conf
    run "$nginx_bin" -c "$out/nginx/nginx.conf" -p "$out/nginx" -e "$out/nginx/error.log" -s reload
    sleep 1
  fi
  {
    run_wrk direct "$round" "http://$WHOAMI$path" "X-Convene-Identity: $identity"
    run_wrk nginx "$round" "http://$NGINX$path"
    run_wrk gateway "$round" "http://$GATEWAY$path" "Authorization: Bearer $token"
  } | sed "s/\$/ $round $(cut -d' ' -f1 /proc/loadavg)/" >>"$out/wrk.txt"
done
# wrk.txt rows: name req/s p50 p99 round load
med() { awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$out/wrk.txt" | median; }
gw_rps=$(med gateway 2)
half=$(awk -v r="$gw_rps" 'BEGIN { printf "%d", r / 2 }')
echo "open-loop latency at $half req/s (half the gateway's median peak), $RUNS rounds..." >&2
: >"$out/rate.txt"
for round in $(seq 1 "$RUNS"); do
  identity=$("$bin/gwload" identity)
  d=$(run "$bin/gwload" rate -url "http://$WHOAMI$path" -rate "$half" -duration 10s -H "X-Convene-Identity: $identity")
  g=$(run "$bin/gwload" rate -url "http://$GATEWAY$path" -rate "$half" -duration 10s -H "Authorization: Bearer $token")
  echo "$round $(cut -d' ' -f1 /proc/loadavg) direct $d" >>"$out/rate.txt"
  echo "$round $(cut -d' ' -f1 /proc/loadavg) gateway $g" >>"$out/rate.txt"
  echo "$(echo "$g" | field p99_ms) $(echo "$d" | field p99_ms)" | awk '{ printf "%.3f\n", $1 - $2 }' >>"$out/added-p99.txt"
done

echo "profiling the gateway under wrk..." >&2
run wrk -t1 -c"$CONNS" -d12s -H "Authorization: Bearer $token" "http://$GATEWAY$path" >/dev/null &
wrkpid=$!
curl -fsS -o "$out/gateway.cpu.pprof" "http://$PPROF/debug/pprof/profile?seconds=10"
wait "$wrkpid"
go tool pprof -top -nodecount=35 "$bin/gateway" "$out/gateway.cpu.pprof" >"$out/pprof-top.txt" 2>/dev/null
go tool pprof -top -cum -nodecount=45 "$bin/gateway" "$out/gateway.cpu.pprof" >"$out/pprof-cum.txt" 2>/dev/null

ws=""
if [ "$WS_SOCKETS" -gt 0 ]; then
  echo "memory per idle WebSocket, $WS_SOCKETS sockets..." >&2
  nice -n "$NICE" "$bin/wsidle" backend -addr "$WS_BACKEND" >"$out/wsidle-backend.log" 2>&1 & pids+=($!)
  HTTP_ADDR=$WS_GATEWAY USERS_SVC_HTTP_ADDRS=$WHOAMI MESSAGES_SVC_HTTP_ADDRS=$WS_BACKEND FRONTEND_DIR= LOG_LEVEL=warn \
    nice -n "$NICE" "$bin/gateway" >"$out/ws-gateway.log" 2>&1 & pids+=($!)
  wait_http "$WS_BACKEND"; wait_http "$WS_GATEWAY"
  ws=$(run "$bin/wsidle" open -url "ws://$WS_GATEWAY/api/v1/ws" -token "$token" -n "$WS_SOCKETS" -metrics "http://$WS_GATEWAY/metrics")
fi

login=""
if [ "$have_users" = 1 ]; then
  echo "login throughput through the gateway to users-svc..." >&2
  # users-svc limits login attempts per account; the benchmark logs one account in on purpose.
  HTTP_ADDR=$USERS GRPC_ADDR=$USERS_GRPC SQLITE_PATH="$out/users.db" LOGIN_ATTEMPTS_PER_MINUTE=1000000 "$bin/users-svc" >"$out/users-svc.log" 2>&1 & pids+=($!)
  HTTP_ADDR=$LOGIN_GATEWAY USERS_SVC_HTTP_ADDRS=$USERS FRONTEND_DIR= AUTH_RATE_LIMIT=1000000 AUTH_RATE_BURST=1000000 \
    "$bin/gateway" >"$out/login-gateway.log" 2>&1 & pids+=($!)
  wait_http "$USERS"; wait_http "$LOGIN_GATEWAY"
  curl -fsS -o /dev/null -H 'Content-Type: application/json' \
    -d '{"username":"bench_user","email":"bench@example.test","password":"bench-password-1"}' \
    "http://$LOGIN_GATEWAY/api/v1/auth/register"
  cat >"$out/login.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"login":"bench_user","password":"bench-password-1"}'
EOF
  wrk -t1 -c8 -d10s --latency -s "$out/login.lua" "http://$LOGIN_GATEWAY/api/v1/auth/login" >"$out/wrk-login.txt"
  login=$(awk '/requests in/ {n=$1; secs=$4+0} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Non-2xx/ {bad=$NF}
    END { printf "%.0f successful logins/s (%d requests, %d refused), p50 %s, p99 %s", (n-bad)/secs, n, bad, p50, p99 }' "$out/wrk-login.txt")
fi

{
  echo "## Gateway benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), nice $NICE)"
  echo
  echo "wrk -t1 -c$CONNS -d$DURATION --latency, GET $path (whoami: platform/httpx + RequireIdentity)"
  echo
  echo "Medians of $RUNS rounds (every round in wrk.txt):"
  echo
  echo "| path | req/s | p50 ms | p99 ms | req/s vs nginx |"
  echo "|---|---|---|---|---|"
  nginx_rps=$(med nginx 2)
  for name in direct nginx gateway; do
    echo "$name $(med "$name" 2) $(med "$name" 3) $(med "$name" 4)" | awk -v n="$nginx_rps" '{ printf "| %s | %s | %s | %s | %.2f |\n", $1, $2, $3, $4, $2/n }'
  done
  echo
  echo "Per round, gateway req/s ÷ nginx req/s: $(awk '$1 == "nginx" { n[$5] = $2 } $1 == "gateway" { g[$5] = $2 } END { for (r in g) printf "%.2f ", g[r]/n[r] }' "$out/wrk.txt")"
  echo
  echo "Open loop at $half req/s (gwload rate, latency from each request's scheduled start), round, load average, path:"
  echo
  sed 's/^/- /' "$out/rate.txt"
  echo
  echo "- added p99 per round (ms): $(tr '\n' ' ' <"$out/added-p99.txt")— median **$(median <"$out/added-p99.txt") ms**"
  echo
  [ -n "$ws" ] && echo "Idle WebSockets through the gateway (gateway/cmd/wsidle): $ws" && echo
  [ -n "$login" ] && echo "Login through the gateway (wrk -c8, argon2id in users-svc): $login" && echo
  echo "Top of the gateway's CPU profile (flat):"
  echo
  echo '```'
  sed -n '1,30p' "$out/pprof-top.txt"
  echo '```'
} | tee "$out/results.md"
