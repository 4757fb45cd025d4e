#!/usr/bin/env bash
# Statement lines as Parquet, queried by the product (DataFusion in process) and by
# DuckDB on the same files, same machine:
#
#   bench/lines-vs-duckdb.sh [LINES] [PERIOD]        (defaults: 10000000 2016H1)
#
# 1. `backstock lines gen` writes LINES DDEX DSR sales records (ISRC × territory ×
#    service, 5 distributors × 12 months of 2016, 100k SKUs, 40 territories);
# 2. `backstock import` records them (one statement per file), `backstock lines
#    rebuild` re-reads every kept original and writes its lines as Parquet
#    (Decimal128 amounts, label=/distributor=/period=/SHA256.parquet);
# 3. per ISRC × territory × month totals of PERIOD: `backstock lines query` (DataFusion,
#    every total checked against exact i128 sums) against DuckDB (the Python module,
#    installed with pip if missing) reading the same parts.
#    Both answers must be identical group by group, to the cent, or the script fails.
#
# The binary is the debug build with `--features lines` (the workspace builds every
# dependency at opt-level 2 in debug, so DataFusion, Arrow and Parquet run optimized;
# backstock's own crates do not). LINES_OPT=1 builds backstock's crates at opt-level 2
# too (CARGO_PROFILE_DEV_OPT_LEVEL=2: the dependencies are not rebuilt);
# LINES_RELEASE=1 builds and uses a release binary (a cold build of everything).
#
# BALLISTA=1 builds with `--features ballista` and runs the same query on Apache
# Ballista too: `backstock lines cluster` (a scheduler and executors in one process,
# on loopback) with 1 executor of 2 task slots, then 2 executors of 1 slot each (the
# same two cores), each answer compared with the local engine's, group by group. On
# one machine this shows the plan is split across executors, not a speed-up: that
# needs executors on more machines.
set -euo pipefail
cd "$(dirname "$0")/.."
LINES="${1:-10000000}"
PERIOD="${2:-2016H1}"
TARGET="${CARGO_TARGET_DIR:-target}"
WORK="${BENCH_DIR:-$TARGET/bench-lines-$LINES}"

if [ "${LINES_OPT:-}" = 1 ]; then
  export CARGO_PROFILE_DEV_OPT_LEVEL=2
fi
FEATURES=lines
if [ "${BALLISTA:-}" = 1 ]; then FEATURES=ballista; fi
if [ "${LINES_RELEASE:-}" = 1 ]; then
  cargo build --quiet --release -p backstock --features "$FEATURES"
  BIN="$TARGET/release/backstock"
else
  cargo build --quiet -p backstock --features "$FEATURES"
  BIN="$TARGET/debug/backstock"
fi

PY=python3
"$PY" -c 'import duckdb' 2>/dev/null || {
  echo "installing duckdb (pip)"
  "$PY" -m pip install --quiet duckdb
}

DB="$WORK/db"
FILES="$WORK/files"
# BENCH_REUSE=1: the files, store and Parquet of an earlier run are queried again.
REUSE=""
if [ "${BENCH_REUSE:-}" = 1 ] && [ -d "$DB/lines" ]; then REUSE=1; else rm -rf "$WORK"; fi
mkdir -p "$WORK"

# `timed NAME CMD…`: runs CMD, records wall seconds and peak RSS (MB) as NAME.
declare -A SECS RSS
timed() {
  local name="$1"; shift
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$WORK/$name.rss" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || {
    cat "$WORK/$name.err" >&2; echo "$name failed" >&2; exit 1; }
  t1=$(date +%s.%N)
  SECS[$name]=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
  RSS[$name]=$(( $(tail -1 "$WORK/$name.rss") / 1024 ))
  echo "  $name: ${SECS[$name]} s, peak ${RSS[$name]} MB"
}

echo "== $LINES DSR lines, period $PERIOD ($BIN)"
if [ -z "$REUSE" ]; then
  timed gen "$BIN" lines gen --out "$FILES" --lines "$LINES"
  "$BIN" --data-dir "$DB" init >/dev/null
  "$BIN" --data-dir "$DB" import "$FILES/catalog.csv" "$FILES/distributors.csv" >/dev/null
  export BIN DB FILES
  # (Built with the feature, import also writes each file's lines: rebuild then rewrites
  # the same bytes, and is timed on its own.)
  timed import bash -c 'for d in "$FILES"/dsr/*/; do "$BIN" --data-dir "$DB" import "$d" --distributor "$(basename "$d")" >/dev/null; done'
  timed rebuild "$BIN" --data-dir "$DB" lines rebuild
else
  for s in gen import rebuild; do SECS[$s]="(earlier run)"; RSS[$s]="–"; done
fi
PARTS="$DB/lines"
echo "  Parquet: $(find "$PARTS" -name '*.parquet' | wc -l) parts, $(du -sm "$PARTS" | cut -f1) MB"

BACKSTOCK_TIMING=1 timed query "$BIN" --data-dir "$DB" lines query --period "$PERIOD" --by isrc,territory,month --format csv
cp "$WORK/query.out" "$WORK/ours.csv"
ENGINE_LINE=$(grep '^\[lines\]' "$WORK/query.err" || true)
echo "  $ENGINE_LINE"

cat >"$WORK/duck.py" <<'PY'
import duckdb, sys, time, re
parts, period, out = sys.argv[1], sys.argv[2], sys.argv[3]
m = re.fullmatch(r"(\d{4})(?:H([12])|Q([1-4])|-(\d\d))", period)
y = int(m.group(1))
if m.group(2): months = range(6 * (int(m.group(2)) - 1) + 1, 6 * int(m.group(2)) + 1)
elif m.group(3): months = range(3 * (int(m.group(3)) - 1) + 1, 3 * int(m.group(3)) + 1)
else: months = [int(m.group(4))]
globs = [f"{parts}/label=default/*/period={y}-{mm:02d}/*.parquet" for mm in months]
con = duckdb.connect()
q = f"""
  SELECT isrc, territory, month, currency, count(*) AS lines, sum(units) AS units, sum(amount) AS amount
  FROM read_parquet({globs!r})
  GROUP BY ALL
"""
# The aggregation alone, then the answer written as CSV (what `lines query --format csv`
# gives); fetching 10^6 rows into Python objects would time Python, not DuckDB.
t0 = time.time()
con.execute(f"SELECT count(*) FROM ({q})").fetchone()
agg = time.time() - t0
t0 = time.time()
con.execute(f"COPY ({q}) TO '{out}' (HEADER)")
dt = time.time() - t0
print(f"{agg:.3f} {dt:.3f}")
PY
DUCK_T0=$(date +%s.%N)
read -r DUCK_AGG DUCK_Q < <(/usr/bin/time -f '%M' -o "$WORK/duck.rss" "$PY" "$WORK/duck.py" "$PARTS" "$PERIOD" "$WORK/duck.csv")
DUCK_T1=$(date +%s.%N)
DUCK_ALL=$(python3 -c "print(f'{$DUCK_T1 - $DUCK_T0:.1f}')")
DUCK_RSS=$(( $(tail -1 "$WORK/duck.rss") / 1024 ))
echo "  duckdb: aggregate ${DUCK_AGG} s, aggregate + CSV ${DUCK_Q} s (process ${DUCK_ALL} s, peak ${DUCK_RSS} MB)"

python3 - "$WORK/ours.csv" "$WORK/duck.csv" <<'PY'
import sys, csv
def load(p):
    with open(p) as f:
        r = csv.reader(f); head = next(r)
        return head, sorted(tuple(x) for x in r)
h1, a = load(sys.argv[1]); h2, b = load(sys.argv[2])
assert h1 == h2, (h1, h2)
if a != b:
    sa, sb = set(a), set(b)
    print("DIFFERENT:", len(sa - sb), "groups only ours, e.g.", sorted(sa - sb)[:3], ";", len(sb - sa), "only DuckDB's, e.g.", sorted(sb - sa)[:3])
    sys.exit(1)
print(f"  identical: {len(a)} groups (ISRC x territory x month x currency), every count, unit and cent")
PY

# The same query on Ballista: 1 executor × 2 task slots, then 2 executors × 1 slot.
BALLISTA_ROWS=()
if [ "${BALLISTA:-}" = 1 ]; then
  for shape in "1 2" "2 1"; do
    read -r n tasks <<<"$shape"
    name="ballista$n"
    "$BIN" lines cluster --executors "$n" --tasks "$tasks" >"$WORK/$name.cluster" 2>&1 &
    cluster=$!
    at=""
    for _ in $(seq 1 300); do
      at=$(sed -n 's/.* is listening on \([^ ]*\)\.$/\1/p' "$WORK/$name.cluster" | head -1)
      [ -n "$at" ] && break
      kill -0 "$cluster" 2>/dev/null || break
      sleep 0.2
    done
    [ -n "$at" ] || { cat "$WORK/$name.cluster" >&2; echo "the cluster did not start" >&2; exit 1; }
    BACKSTOCK_TIMING=1 timed "$name" "$BIN" --data-dir "$DB" lines query --period "$PERIOD" --by isrc,territory,month --format csv --engine "ballista://$at"
    kill "$cluster" 2>/dev/null || true
    wait "$cluster" 2>/dev/null || true
    if ! cmp -s <(sort "$WORK/$name.out") <(sort "$WORK/ours.csv"); then
      echo "$name: the answer differs from the local engine's" >&2; exit 1
    fi
    line=$(grep '^\[lines\]' "$WORK/$name.err" || true)
    echo "  $name ($n executor(s) x $tasks slot(s)): identical to the local engine's answer; $line"
    BALLISTA_ROWS+=("| lines query on Ballista, $n executor(s) × $tasks task slot(s), same machine (whole command) | ${SECS[$name]} s | ${RSS[$name]} MB (the CLI; the cluster is another process) |" "| — of which Ballista / exact check | $line | |")
  done
fi

ENGINE_S=$(echo "$ENGINE_LINE" | sed -n 's/.*DataFusion \([0-9.]*\)\(m\?s\).*/\1 \2/p')
echo
echo "| step | time | peak memory |"
echo "|---|---|---|"
echo "| lines gen ($LINES DSR lines) | ${SECS[gen]} s | ${RSS[gen]} MB |"
echo "| import (every DSR file, one statement each) | ${SECS[import]} s | ${RSS[import]} MB |"
echo "| lines rebuild (originals → Parquet) | ${SECS[rebuild]} s | ${RSS[rebuild]} MB |"
echo "| lines query $PERIOD by isrc,territory,month (whole command) | ${SECS[query]} s | ${RSS[query]} MB |"
echo "| — of which DataFusion / exact check | $ENGINE_LINE | |"
echo "| DuckDB, same query on the same parts: aggregate / aggregate + CSV | ${DUCK_AGG} s / ${DUCK_Q} s (process ${DUCK_ALL} s) | ${DUCK_RSS} MB |"
for row in "${BALLISTA_ROWS[@]}"; do echo "$row"; done
