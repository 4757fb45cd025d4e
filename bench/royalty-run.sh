#!/usr/bin/env bash
# Royalty run at scale, through the product: generates a seeded month of statements
# (N lines, 100k SKUs by 10k artists with skewed popularity, 5 distributors in 3
# currencies) with one royalty contract per artist, imports everything into a fresh
# store, then times `backstock royalties run` for the month the statements became
# known in (February 2016: January's statements are issued on 20 February), which
# gives every artist's statement (per release × format × channel × distributor).
#   bench/royalty-run.sh [LINES]   (default 10,000,000)
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-10000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release -q -p backstock
bin=target/release/backstock
$bin gen --out "$work/files" --lines "$lines" --months 1 >/dev/null
db=(--data-dir "$work/db")
$bin "${db[@]}" init >/dev/null
$bin "${db[@]}" import "$work/files/catalog.csv" "$work/files/distributors.csv" \
  "$work/files/payees.csv" "$work/files/contracts.csv" >/dev/null
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(date +%s%N)
$bin "${db[@]}" import "$work/files/statements.csv" >/dev/null
t1=$(date +%s%N)
/usr/bin/time -f "royalty run: peak RSS %M KB, CPU user %U s + sys %S s" \
  $bin "${db[@]}" royalties run --period 2016-02 --on 2016-03-01 --label-name "Bench Records" | tail -4
t2=$(date +%s%N)
echo "import of $lines lines: $(( (t1 - t0) / 1000000 )) ms; royalty run (10,000 payees): $(( (t2 - t1) / 1000000 )) ms"
$bin "${db[@]}" royalties statement --payee artist-0 --period 2016-02 --format csv | head -5
