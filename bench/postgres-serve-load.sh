#!/usr/bin/env bash
# The web app on PostgreSQL under load (issue 16): LABELS labels importing at once while
# CONNECTIONS signed-in users load their dashboards, release build, a throwaway server
# started here (scripts/postgres-local.sh).
#
#   1. `backstock serve --database URL --demo` (users and every label in the database,
#      served through working copies) and LABELS more labels owned by the demo owner
#      (`user add … --create-label`), each given the catalog, distributors, payees and
#      contracts of `backstock gen --lines LINES`;
#   2. for SECONDS: wrk with CONNECTIONS keep-alive connections (one signed-in owner
#      each) cycling over every label's dashboard, while one importer per label (its own
#      `backstock --database URL?label=… import` processes) imports the statements file
#      and then a payment file every 2 s;
#   3. checks: no answer but 200 and no socket error or timeout; every label verifies
#      in the database (every hash recomputed) and holds exactly the entries of the
#      same files imported into a data directory (none lost, none twice); each
#      dashboard shows that count.
#
#   bench/postgres-serve-load.sh [LINES] [LABELS] [SECONDS] [CONNECTIONS]
#                                (default 1,000,000 8 60 50)
#
# Environment: BIN (a backstock binary instead of building one), WORK (default a temp
# dir, removed at the end), WRK_THREADS (default 2). Installs wrk and curl (apt) when
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}
labels=${2:-8}
duration=${3:-60}
conns=${4:-50}
threads=${WRK_THREADS:-2}
case "$lines$labels$duration$conns$threads" in
  *[!0-9]*) echo "usage: bench/postgres-serve-load.sh [LINES] [LABELS] [SECONDS] [CONNECTIONS]" >&2; exit 2 ;;
esac
for tool in wrk curl; do
  command -v "$tool" >/dev/null 2>&1 && continue
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$tool" >/dev/null ||
    { $sudo apt-get update -q >/dev/null && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$tool" >/dev/null; }
done
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p backstock
  bin=${CARGO_TARGET_DIR:-target}/release/backstock
else
  bin=$BIN
fi
keep=${WORK:+1}
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
export BACKSTOCK_WORKING_COPIES="$work/working-copies"
pg="$work/pg"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -INT "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  scripts/postgres-local.sh stop "$pg" >/dev/null 2>&1 || true
  [ -n "$keep" ] || rm -rf "$work"
}
trap cleanup EXIT
url="$(scripts/postgres-local.sh start "$pg")"
echo "== PostgreSQL at $url; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

files="$work/files"
if [ ! -e "$files/ready" ]; then
  rm -rf "$files"
  $bin gen --out "$files" --lines "$lines" --months 12 >/dev/null
  touch "$files/ready"
fi
ref=("$files/catalog.csv" "$files/distributors.csv" "$files/payees.csv" "$files/contracts.csv")
payments=$(( duration / 2 + 5 ))
for k in $(seq 1 "$payments"); do
  printf 'payment_id,date,distributor,amount,currency,statement_id\nLOAD-%s,2016-12-31,%s,1.00,USD,\n' \
    "$k" "$(sed -n '2s/,.*//p' "$files/distributors.csv")" >"$files/payment-$k.csv"
done

echo "== 1. serve --database URL --demo, $labels labels"
password="bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
$bin --data-dir "$work/data" --database "$url" serve --demo --demo-password "$password" \
  --addr 127.0.0.1:0 >"$work/serve.log" 2>&1 &
pid=$!
base=""
for _ in $(seq 1 600); do
  base=$(sed -n 's|.*backstock is serving .* on \(http://127\.0\.0\.1:[0-9]*\)/.*|\1|p' "$work/serve.log")
  [ -n "$base" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.2
done
[ -n "$base" ] || { echo "serve did not start" >&2; cat "$work/serve.log" >&2; exit 1; }
paths=("/t/marigold/dashboard")
for i in $(seq 1 "$labels"); do
  $bin --data-dir "$work/data" --database "$url" user add owner@marigold.test --label "l$i" \
    --create-label "Load label $i" --role owner >/dev/null
  $bin --database "$url?label=l$i" import "${ref[@]}" >/dev/null
  paths+=("/t/l$i/dashboard")
done
status=$(curl -s -o /dev/null -D "$work/login.headers" -w '%{http_code}' \
  --data-urlencode "email=owner@marigold.test" --data-urlencode "password=$password" "$base/login")
sid=$(sed -n 's/^[Ss]et-[Cc]ookie: bs_session=\([0-9a-f]*\).*/\1/p' "$work/login.headers")
[ "$status" = 303 ] && [ -n "$sid" ] || { echo "sign-in answered $status" >&2; exit 1; }
cookie="Cookie: bs_session=$sid"
for p in "${paths[@]}"; do # first loads (the books computed once per label)
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "$cookie" "$base$p")
  [ "$code" = 200 ] || { echo "GET $p answered $code" >&2; exit 1; }
done

{
  echo "local paths = {"
  for p in "${paths[@]}"; do echo "  \"$p\","; done
  echo "}"
  cat <<'LUA'
local threads = {}
local n = 0
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function request()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local bad_total = 0
  for _, t in ipairs(threads) do bad_total = bad_total + t:get("bad") end
  local e = summary.errors
  io.write(string.format("RESULT requests %d seconds %.2f rps %.1f\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6)))
  io.write(string.format("RESULT latency_ms p50 %.2f p90 %.2f p99 %.2f max %.2f\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
  io.write(string.format("RESULT non200 %d connect %d read %d write %d timeout %d\n",
    bad_total, e.connect, e.read, e.write, e.timeout))
end
LUA
} >"$work/cycle.lua"

echo "== 2. $duration s: wrk -c$conns over ${#paths[@]} dashboards while $labels labels import ($lines statement lines, then a payment every 2 s)"
importer() { # label
  local l=$1 start=$SECONDS k=0
  $bin --database "$url?label=$l" import "$files/statements.csv" >/dev/null
  while [ $((SECONDS - start)) -lt "$duration" ] && [ "$k" -lt "$payments" ]; do
    k=$((k + 1))
    $bin --database "$url?label=$l" import "$files/payment-$k.csv" >/dev/null
    sleep 2
  done
  echo "$k" >"$work/$l.payments"
}
ipids=()
for i in $(seq 1 "$labels"); do
  importer "l$i" >"$work/import-l$i.log" 2>&1 &
  ipids+=($!)
done
wrk --latency -t"$threads" -c"$conns" -d"${duration}s" --timeout 10s -H "$cookie" \
  -s "$work/cycle.lua" "$base" >"$work/wrk.txt"
failed=0
for p in "${ipids[@]}"; do wait "$p" || failed=$((failed + 1)); done
read -r _ _ requests _ _ _ rps < <(grep '^RESULT requests' "$work/wrk.txt")
read -r _ _ _ p50 _ p90 _ p99 _ max < <(grep '^RESULT latency_ms' "$work/wrk.txt")
read -r _ _ non200 _ connect _ read _ write _ timeout < <(grep '^RESULT non200' "$work/wrk.txt")
echo "dashboards: $requests requests, $rps req/s; p50 $p50 ms, p90 $p90 ms, p99 $p99 ms, max $max ms;" \
  "non-200 $non200, socket errors $((connect + read + write)), timeouts $timeout; importers failed: $failed"
echo "server peak RSS: $(sed -n 's/VmHWM:[[:space:]]*//p' "/proc/$pid/status")"

echo "== 3. nothing lost"
# What the same files give in a data directory: the statements import, then one entry
# per payment file.
ref_dir="$work/reference"
rm -rf "$ref_dir"
$bin --data-dir "$ref_dir" init >/dev/null
$bin --data-dir "$ref_dir" import "${ref[@]}" >/dev/null
$bin --data-dir "$ref_dir" import "$files/statements.csv" >/dev/null
base_entries=$($bin --data-dir "$ref_dir" checkpoint | cut -d: -f1)
$bin --data-dir "$ref_dir" import "$files/payment-1.csv" >/dev/null
[ "$($bin --data-dir "$ref_dir" checkpoint | cut -d: -f1)" = $((base_entries + 1)) ] ||
  { echo "a payment file is not one entry" >&2; exit 1; }
lost=0
for i in $(seq 1 "$labels"); do
  l="l$i"
  k=$(cat "$work/$l.payments" 2>/dev/null || echo 0)
  want=$((base_entries + k))
  have=$($bin --database "$url?label=$l" verify | sed -n 's/^Head: \([0-9]*\):.*/\1/p')
  shown=$(curl -s -H "$cookie" "$base/api/v1/t/$l/dashboard" | python3 -c 'import json,sys; print(json.load(sys.stdin)["journal_entries"])')
  [ "$have" = "$want" ] && [ "$shown" = "$want" ] || lost=$((lost + 1))
  echo "$l: $k payments; $have entries in the database (verified), $want in a directory given the same files, $shown on its dashboard"
done
echo "labels not matching: $lost of $labels"
if [ "$requests" -eq 0 ] || [ "$non200" -ne 0 ] || [ $((connect + read + write + timeout)) -ne 0 ] || [ "$failed" -ne 0 ] || [ "$lost" -ne 0 ]; then
  echo "FAILED" >&2
  exit 1
fi
echo "OK"
