#!/usr/bin/env bash
# Royalty run at scale, through the product: generates a seeded year of statements
# (N lines, 100k SKUs by 10k artists with skewed popularity, 5 distributors in 3
# currencies) with one royalty contract per artist, imports everything into a fresh
# store, then times `backstock royalties run --period 2016H1` (every artist's statement,
# per release × format × channel × distributor; one stored statement per payee) and one
# artist's statement in each format.
#   bench/royalty-run.sh [LINES] [PERIOD]   (default 10,000,000 lines, 2016H1)
# BACKSTOCK=path/to/backstock times that binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-10000000}
period=${2:-2016H1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ -z "${BACKSTOCK:-}" ]]; then
    cargo build --release -q -p backstock
fi
bin=${BACKSTOCK:-${CARGO_TARGET_DIR:-target}/release/backstock}
$bin gen --out "$work/files" --lines "$lines" >/dev/null
db=(--data-dir "$work/db")
$bin "${db[@]}" init >/dev/null
$bin "${db[@]}" import "$work/files/catalog.csv" "$work/files/distributors.csv" \
  "$work/files/payees.csv" "$work/files/contracts.csv" >/dev/null
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -f "import of $lines lines: %e s, peak RSS %M KB" \
  $bin "${db[@]}" import "$work/files/statements.csv" >/dev/null
# The day after the period's end (2016H1 → 2016-07-01; the run refuses a period not over).
on=$(python3 -c "
import datetime, sys
p = sys.argv[1].upper(); y = int(p[:4]); r = p[4:]
m = 6 * int(r[1:]) if r.startswith('H') else 3 * int(r[1:]) if r.startswith('Q') else 12 if r == '' else int(r.lstrip('-'))
print(datetime.date(y + (m == 12), m % 12 + 1, 1))" "$period")
BACKSTOCK_TIMING=1 /usr/bin/time -f "royalty run: %e s, peak RSS %M KB, CPU user %U s + sys %S s" \
  $bin "${db[@]}" royalties run --period "$period" --on "$on" --label-name "Bench Records" | tail -3
for f in pdf csv html json; do
    /usr/bin/time -f "one statement ($f): %e s, peak RSS %M KB" \
      $bin "${db[@]}" royalties statement --payee artist-7 --period "$period" --format $f >/dev/null
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
