#!/usr/bin/env bash
# Latency of the dashboard under concurrent signed-in users on the demo label.
#
#   bench/dashboard-load.sh [SECONDS] [CONNECTIONS]      (default 25 s, 50 connections)
#
# Builds the release binary, starts `backstock serve --demo` on a free port with a
# temporary data directory, signs in as the demo owner with curl (the session cookie),
# warms up, then runs wrk with CONNECTIONS keep-alive connections (one signed-in user
# each) against /t/marigold/dashboard and prints requests/s and p50/p90/p99 latency.
# Fails when any answer is not 2xx (an expired session would be a 303 to /login) or any
# request errs or times out. Installs wrk (Debian/Ubuntu apt) and curl when missing.
# Environment: BENCH_PATH (default /t/marigold/dashboard), WRK_THREADS (default 2),
# BIN (a backstock binary to use instead of building one).
#
# SCALE_STORE=DIR serves the store DIR/backstock.db (e.g. bench/scale.sh's
# /tmp/backstock-scale-10000000-12/db) as the demo label instead of the demo data
# (hard-linked, so what the server records — alerts, one payment per run — goes into
# it), and first times the dashboard's first load, a cached load, and the first load
# after one new entry (a payment imported while serving; PAYMENT_DATE, default today). With ADD_ENTRIES=N, one
# more payment is imported every N seconds while wrk runs.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-25}
conns=${2:-50}
threads=${WRK_THREADS:-2}
path=${BENCH_PATH:-/t/marigold/dashboard}
case "$duration$conns$threads" in
  *[!0-9]*) echo "usage: bench/dashboard-load.sh [SECONDS] [CONNECTIONS]" >&2; exit 2 ;;
esac

need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "== installing $2 (apt)" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "$1 is required: install the $2 package" >&2
    exit 1
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null ||
    { $sudo apt-get update -q >/dev/null && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null; }
}
need wrk wrk
need curl curl

if [ -z "${BIN:-}" ]; then
  echo "== cargo build --release"
  cargo build --release -q -p backstock
  bin=${CARGO_TARGET_DIR:-target}/release/backstock
else
  bin=$BIN
fi

work=$(mktemp -d)
pid=""
adder=""
cleanup() {
  if [ -n "$adder" ] && kill -0 "$adder" 2>/dev/null; then
    kill "$adder" 2>/dev/null || true
  fi
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -INT "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

label_dir="$work/data/labels/marigold"
if [ -n "${SCALE_STORE:-}" ]; then
  mkdir -p "$label_dir"
  ln "$SCALE_STORE/backstock.db" "$label_dir/backstock.db" 2>/dev/null ||
    cp "$SCALE_STORE/backstock.db" "$label_dir/backstock.db"
fi
# One payment (a new journal entry) into the served label, dated PAYMENT_DATE (default
# the machine's today: a payment received today, which changes today's figures only;
# a date in the past also changes every history point from that day on).
payment_date=${PAYMENT_DATE:-$(date +%F)}
payment_no=0
add_payment() {
  payment_no=$((payment_no + 1))
  local f="$work/pay-$payment_no.csv"
  printf 'payment_id,date,distributor,amount,currency,statement_id\nWEB-%s-%s,%s,dist0,1.00,USD,D0-2016-01\n' \
    "$$" "$payment_no" "$payment_date" >"$f"
  "$bin" --data-dir "$label_dir" import "$f" >/dev/null
}

password="bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
"$bin" --data-dir "$work/data" serve --demo --demo-password "$password" --addr 127.0.0.1:0 \
  >"$work/serve.log" 2>&1 &
pid=$!
base=""
for _ in $(seq 1 600); do
  base=$(sed -n 's|.*backstock is serving .* on \(http://127\.0\.0\.1:[0-9]*\)/.*|\1|p' "$work/serve.log")
  [ -n "$base" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "backstock serve exited:" >&2
    cat "$work/serve.log" >&2
    exit 1
  fi
  sleep 0.2
done
if [ -z "$base" ]; then
  echo "backstock serve did not start within 120 s:" >&2
  cat "$work/serve.log" >&2
  exit 1
fi

# Sign in as the demo owner: the form posts email and password (no CSRF token before a
# session exists; cross-site sign-in is stopped by the Origin check) and answers 303
# with the session cookie.
status=$(curl -s -o /dev/null -D "$work/login.headers" -w '%{http_code}' \
  --data-urlencode "email=owner@marigold.test" --data-urlencode "password=$password" \
  --data-urlencode "next=$path" "$base/login")
sid=$(sed -n 's/^[Ss]et-[Cc]ookie: bs_session=\([0-9a-f]*\).*/\1/p' "$work/login.headers")
if [ "$status" != 303 ] || [ -z "$sid" ]; then
  echo "signing in as owner@marigold.test answered $status without a session cookie:" >&2
  cat "$work/login.headers" >&2
  exit 1
fi
cookie="Cookie: bs_session=$sid"

check_page() {
  local code
  code=$(curl -s -o "$work/page.html" -w '%{http_code}' -H "$cookie" "$base$path")
  if [ "$code" != 200 ]; then
    echo "GET $path answered $code (expected 200)" >&2
    exit 1
  fi
}
if [ -n "${SCALE_STORE:-}" ]; then
  load_time() {
    curl -s -o "$work/page.html" -w '%{http_code} %{time_total}' -H "$cookie" "$base$path"
  }
  echo "== $path on $SCALE_STORE (server RSS before: $(ps -o rss= -p "$pid") KB)"
  echo "   first load:                    $(load_time) s"
  echo "   cached load:                   $(load_time) s"
  add_payment
  echo "   first load after a new entry:  $(load_time) s"
  echo "   cached load:                   $(load_time) s"
  echo "   server peak RSS: $(sed -n 's/VmHWM:[[:space:]]*//p' "/proc/$pid/status")"
  # BACKSTOCK_TIMING=1 (inherited by the server): each computation of the books by phase.
  grep -h 'books of' "$work/serve.log" | sed 's/^/   /' || true
fi
check_page
bytes=$(wc -c <"$work/page.html")
entries=$(grep -o '[0-9,]* journal entries' "$work/page.html" | head -1 || true)

# Counts non-2xx answers per thread and prints machine-readable totals at the end.
cat >"$work/report.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local bad_total = 0
  for _, t in ipairs(threads) do bad_total = bad_total + t:get("bad") end
  local e = summary.errors
  io.write(string.format("RESULT requests %d seconds %.2f rps %.1f\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6)))
  io.write(string.format("RESULT latency_ms p50 %.2f p90 %.2f p99 %.2f max %.2f mean %.2f\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000))
  io.write(string.format("RESULT non2xx %d connect %d read %d write %d timeout %d\n",
    bad_total, e.connect, e.read, e.write, e.timeout))
end
LUA

echo "== serving $base (demo label, ${entries:-? journal entries}); $path is $bytes bytes"
echo "== machine: $(nproc) cores; load before: $(uptime | sed 's/.*load average/load average/')"
echo "== warm-up: 5 s, $conns connections"
wrk -t"$threads" -c"$conns" -d5s --timeout 10s -H "$cookie" -s "$work/report.lua" "$base$path" >"$work/warmup.txt"
grep '^RESULT' "$work/warmup.txt" | sed 's/^RESULT /   warm-up /'

if [ -n "${ADD_ENTRIES:-}" ]; then
  (while sleep "$ADD_ENTRIES"; do add_payment; done) &
  adder=$!
  echo "== adding one payment every $ADD_ENTRIES s while wrk runs"
fi
echo "== wrk --latency -t$threads -c$conns -d${duration}s GET $path"
wrk --latency -t"$threads" -c"$conns" -d"${duration}s" --timeout 10s -H "$cookie" \
  -s "$work/report.lua" "$base$path" | tee "$work/wrk.txt"
if [ -n "$adder" ]; then
  kill "$adder" 2>/dev/null || true
  adder=""
fi
echo "== machine load after: $(uptime | sed 's/.*load average/load average/')"

read -r _ _ requests _ _ _ rps < <(grep '^RESULT requests' "$work/wrk.txt")
read -r _ _ _ p50 _ p90 _ p99 _ max _ _ < <(grep '^RESULT latency_ms' "$work/wrk.txt")
read -r _ _ non2xx _ connect _ read _ write _ timeout < <(grep '^RESULT non2xx' "$work/wrk.txt")
check_page # the session is still good after the run

echo
echo "dashboard under $conns concurrent users, ${duration} s: $requests requests, $rps req/s;" \
  "latency p50 $p50 ms, p90 $p90 ms, p99 $p99 ms, max $max ms"
errors=$((connect + read + write + timeout))
if [ "$requests" -eq 0 ] || [ "$non2xx" -ne 0 ] || [ "$errors" -ne 0 ]; then
  echo "FAILED: $non2xx non-2xx answers, $errors socket errors (connect $connect, read $read," \
    "write $write, timeout $timeout) of $requests requests" >&2
  exit 1
fi
