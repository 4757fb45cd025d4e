#!/usr/bin/env bash
# Royalty run at scale, through the product: generates a seeded year of statements
# (N lines, 100k SKUs by 10k artists with skewed popularity, 5 distributors in 3
# currencies) with one royalty contract per artist, imports everything into a fresh
# store, then times `backstock royalties run --period 2016H1` (every artist's statement,
# per release × format × channel × distributor; one stored statement per payee) and one
# artist's statement in each format.
#   bench/royalty-run.sh [LINES] [PERIOD]   (default 10,000,000 lines, 2016H1)
# BACKSTOCK=path/to/backstock times that binary instead of building one.
# STORE=DIR keeps the imported store under DIR (built once, reused while present): each
# run then times a fresh copy of it, so runs of different builds compare on one store.
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
build_store() { # $1: the store's data directory
    $bin gen --out "$work/files" --lines "$lines" >/dev/null
    local db=(--data-dir "$1")
    $bin "${db[@]}" init >/dev/null
    $bin "${db[@]}" import "$work/files/catalog.csv" "$work/files/distributors.csv" \
      "$work/files/payees.csv" "$work/files/contracts.csv" >/dev/null
    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
    /usr/bin/time -f "import of $lines lines: %e s, peak RSS %M KB" \
      $bin "${db[@]}" import "$work/files/statements.csv" >/dev/null
    rm -rf "$work/files"
}
if [[ -n "${STORE:-}" ]]; then
    if [[ ! -f "$STORE/done" ]]; then
        rm -rf "$STORE" && mkdir -p "$STORE"
        build_store "$STORE/db"
        touch "$STORE/done"
    fi
    cp -r "$STORE/db" "$work/db"
else
    build_store "$work/db"
fi
db=(--data-dir "$work/db")
echo "load before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
# The day after the period's end (2016H1 → 2016-07-01; the run refuses a period not over).
on=$(python3 -c "
import datetime, sys
p = sys.argv[1].upper(); y = int(p[:4]); r = p[4:]
m = 6 * int(r[1:]) if r.startswith('H') else 3 * int(r[1:]) if r.startswith('Q') else 12 if r == '' else int(r.lstrip('-'))
print(datetime.date(y + (m == 12), m % 12 + 1, 1))" "$period")
BACKSTOCK_TIMING=1 /usr/bin/time -f "royalty run: %e s, peak RSS %M KB, CPU user %U s + sys %S s" \
  $bin "${db[@]}" royalties run --period "$period" --on "$on" --label-name "Bench Records" >"$work/run.txt"
tail -3 "$work/run.txt"
if [[ -n "${KEEP_OUTPUT:-}" ]]; then # KEEP_OUTPUT=DIR: the run's output and artist-7's JSON statement, to compare builds
    mkdir -p "$KEEP_OUTPUT"
    cp "$work/run.txt" "$KEEP_OUTPUT/run.txt"
    $bin "${db[@]}" royalties statement --payee artist-7 --period "$period" --format json >"$KEEP_OUTPUT/artist-7.json"
    if command -v sqlite3 >/dev/null; then # every stored statement's SHA-256
        sqlite3 "$work/db/backstock.db" "SELECT payee, sha256 FROM royalty_statements ORDER BY period, payee" >"$KEEP_OUTPUT/sha256.txt"
    fi
fi
for f in pdf csv html json; do
    /usr/bin/time -f "one statement ($f): %e s, peak RSS %M KB" \
      $bin "${db[@]}" royalties statement --payee artist-7 --period "$period" --format $f >/dev/null
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
