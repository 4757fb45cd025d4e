#!/usr/bin/env bash
# Import benchmark: generates a seeded statements file of N lines (100k SKUs with
# skewed popularity, 5 distributors in 3 currencies) and imports it into a fresh
# SQLite store, printing each phase's time, lines/s and peak memory.
#   bench/import.sh [LINES] [MONTHS]   (defaults: 10,000,000 lines, 1 month)
# MONTHS=1 is one month's statements from every distributor, as they arrive; MONTHS=12
# puts a year in one file (12× the statement × SKU totals to record).
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-10000000}
months=${2:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release -q -p backstock
bin=target/release/backstock
$bin gen --out "$work/files" --lines "$lines" --months "$months"
$bin --data-dir "$work/db" init >/dev/null
$bin --data-dir "$work/db" import "$work/files/catalog.csv" "$work/files/distributors.csv" >/dev/null
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s%N)
BACKSTOCK_TIMING=1 /usr/bin/time -f "peak RSS %M KB, CPU user %U s + sys %S s" \
  $bin --data-dir "$work/db" import "$work/files/statements.csv"
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
echo "imported $lines lines ($months month(s)) in ${ms} ms: $(( lines * 1000 / (ms > 0 ? ms : 1) )) lines/s"
$bin --data-dir "$work/db" verify | head -1
