#!/usr/bin/env bash
# Generates a seeded statements file of N lines and imports it into a fresh SQLite
# store, printing the time of each phase, lines/s and peak memory.
#   bench/import.sh [LINES]   (default 10,000,000)
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-10000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release -q -p backstock
bin=target/release/backstock
$bin gen --out "$work/files" --lines "$lines"
$bin --data-dir "$work/db" init >/dev/null
$bin --data-dir "$work/db" import "$work/files/catalog.csv" "$work/files/distributors.csv" >/dev/null
start=$(date +%s%N)
BACKSTOCK_TIMING=1 /usr/bin/time -f "peak RSS %M KB" $bin --data-dir "$work/db" import "$work/files/statements.csv"
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
echo "imported $lines lines in ${ms} ms: $(( lines * 1000 / (ms > 0 ? ms : 1) )) lines/s"
