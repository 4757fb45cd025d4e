#!/usr/bin/env bash
# Loading labels into PostgreSQL (issue 16), release build, a throwaway server started
# here (scripts/postgres-local.sh: Debian's postgresql, a cluster in a temp dir):
#   1. one label: `backstock --database URL?label=… import` of `backstock gen --lines N`
#      (catalog, distributors, payees, contracts, then the statements file): wall time
#      and lines/s; then `verify` on the database (every hash recomputed);
#   2. LABELS labels importing the same files at once (one process each): wall time,
#      every label verifies with the same entry count;
#   3. KILLS times: an importer killed with SIGKILL at a random moment of its import
#      (uniform over the time step 1 took), then the label
#      verified (nothing partial: each file is one transaction) and the import run
#      again to completion.
#
#   bench/postgres-load.sh [LINES] [LABELS] [KILLS]     (default 10,000,000 8 20)
#
# Environment: BIN (a backstock binary instead of building one), WORK (default
# /tmp/backstock-pg-load-LINES).
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-10000000}
labels=${2:-8}
kills=${3:-20}
case "$lines$labels$kills" in
  *[!0-9]*) echo "usage: bench/postgres-load.sh [LINES] [LABELS] [KILLS]" >&2; exit 2 ;;
esac
work=${WORK:-/tmp/backstock-pg-load-$lines}
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p backstock
  bin=${CARGO_TARGET_DIR:-target}/release/backstock
else
  bin=$BIN
fi
mkdir -p "$work"
# The labels' working copies (kept between commands) live with the rest of the run.
export BACKSTOCK_WORKING_COPIES="$work/working-copies"
pg="$work/pg"
url="$(scripts/postgres-local.sh start "$pg")"
trap 'scripts/postgres-local.sh stop "$pg" >/dev/null 2>&1 || true' EXIT
echo "== PostgreSQL at $url; load $(cut -d' ' -f1-3 /proc/loadavg)"
files="$work/files"
if [ ! -e "$files/ready" ]; then
  rm -rf "$files"
  $bin gen --out "$files" --lines "$lines" --months 12 >/dev/null
  touch "$files/ready"
fi
ref=("$files/catalog.csv" "$files/distributors.csv" "$files/payees.csv" "$files/contracts.csv")
run=$(date +%s)

one() { # label
  $bin --database "$url?label=$1" import "${ref[@]}" >/dev/null
  $bin --database "$url?label=$1" import "$files/statements.csv" >/dev/null
}

echo "== 1. one label, $lines statement lines"
$bin --database "$url?label=load-$run" import "${ref[@]}" >/dev/null
/usr/bin/time -o "$work/t" -f "%e s %M KB" \
  $bin --database "$url?label=load-$run" import "$files/statements.csv" >/dev/null
t=$(cut -d' ' -f1 "$work/t")
echo "import of the statements: $(cat "$work/t"); $(python3 -c "print(f'{$lines / $t:,.0f}')") lines/s"
/usr/bin/time -o "$work/t" -f "%e s %M KB" $bin --database "$url?label=load-$run" verify | tail -1
echo "verify on PostgreSQL: $(cat "$work/t")"
head_one=$($bin --database "$url?label=load-$run" checkpoint | cut -d: -f1)

echo "== 2. $labels labels importing at once"
start=$(date +%s.%N)
pids=()
for i in $(seq 1 "$labels"); do
  ( one "many-$run-$i" ) > "$work/many-$i.log" 2>&1 &
  pids+=($!)
done
fail=0
for p in "${pids[@]}"; do wait "$p" || fail=$((fail + 1)); done
end=$(date +%s.%N)
echo "$labels imports of $lines lines: $(python3 -c "print(f'{$end - $start:.1f}')") s wall, $fail failed"
bad=0
for i in $(seq 1 "$labels"); do
  n=$($bin --database "$url?label=many-$run-$i" checkpoint | cut -d: -f1)
  [ "$n" = "$head_one" ] || { echo "label many-$run-$i holds $n entries, not $head_one" >&2; bad=$((bad + 1)); }
done
echo "labels verified with $head_one entries each: $((labels - bad)) of $labels"

echo "== 3. kill -9 of an importer, $kills times"
partial=0
for k in $(seq 1 "$kills"); do
  l="kill-$run-$k"
  $bin --database "$url?label=$l" import "${ref[@]}" >/dev/null
  $bin --database "$url?label=$l" import "$files/statements.csv" >/dev/null 2>&1 &
  victim=$!
  # Anywhere in the import: reading the file, the working copy, the append.
  sleep "$(python3 -c "import random; print(round(random.uniform(0.2, $t), 2))")"
  kill -9 "$victim" 2>/dev/null || true
  wait "$victim" 2>/dev/null || true
  n=$($bin --database "$url?label=$l" checkpoint 2>/dev/null | cut -d: -f1) || { echo "kill $k: label $l does not verify" >&2; partial=$((partial + 1)); continue; }
  $bin --database "$url?label=$l" import "$files/statements.csv" >/dev/null
  m=$($bin --database "$url?label=$l" checkpoint | cut -d: -f1)
  [ "$m" = "$head_one" ] || { echo "kill $k: $m entries after the re-import, not $head_one" >&2; partial=$((partial + 1)); }
  echo "kill $k: $n entries after the kill, $m after the re-import"
done
echo "kills leaving a label that does not verify or complete: $partial of $kills"
rm -rf "${TMPDIR:-/tmp}"/backstock-working-copy-kill-"$run"-* # left by the killed importers
