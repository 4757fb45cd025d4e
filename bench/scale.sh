#!/usr/bin/env bash
# Reports and verify at a label group's scale (issue 15): one store holding
# `backstock gen --lines N --months M` (100k SKUs by 10k artists, 5 distributors in 3
# currencies, one contract per artist), release build; times each command with
# /usr/bin/time (wall seconds, peak RSS):
#   risk / receivables --as-of the last month end, stock, balances, verify (the
#   first after the import: everything), verify again (nothing new), then one more
#   day's payments imported and verify (incremental: only the new entries), verify
#   --full (everything again).
#
#   bench/scale.sh [LINES] [MONTHS]          (default 10,000,000 lines, 12 months)
#
# The store is built once under $SCALE_DIR (default /tmp/backstock-scale-LINES-MONTHS)
# and reused while present (delete it to rebuild). Every run adds one day's payments
# (a new day each run), so the store grows by a few entries a run.
# Environment: BIN (a backstock binary to time instead of building one).
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-10000000}
months=${2:-12}
case "$lines$months" in
  *[!0-9]*) echo "usage: bench/scale.sh [LINES] [MONTHS]" >&2; exit 2 ;;
esac
work=${SCALE_DIR:-/tmp/backstock-scale-$lines-$months}
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p backstock
  bin=${CARGO_TARGET_DIR:-target}/release/backstock
else
  bin=$BIN
fi
db=(--data-dir "$work/db")
# The last month end of the generated data (the years after 2016 are 2017, 2018 …).
years=$(((months + 11) / 12))
as_of="$((2015 + years))-12-31"
[ "$months" -lt 12 ] && as_of=$(date -d "2016-$(printf %02d "$months")-01 +1 month -1 day" +%F)

if [ ! -e "$work/db/ready" ]; then
  rm -rf "$work"
  mkdir -p "$work"
  echo "== generating $lines lines over $months months into $work"
  $bin gen --out "$work/files" --lines "$lines" --months "$months" >/dev/null
  $bin "${db[@]}" init >/dev/null
  $bin "${db[@]}" import "$work/files/catalog.csv" "$work/files/distributors.csv" \
    "$work/files/payees.csv" "$work/files/contracts.csv" >/dev/null
  /usr/bin/time -f "import statements: %e s %M KB" \
    $bin "${db[@]}" import "$work/files/statements.csv" >/dev/null
  rm -f "$work/files/statements.csv" # kept in the store; disk is not
  touch "$work/db/ready"
fi
echo "== store: $(du -sh "$work/db" | cut -f1); load $(cut -d' ' -f1-3 /proc/loadavg)"

timed() {
  local what=$1
  shift
  /usr/bin/time -o "$work/time.txt" -f "%e s %M KB (CPU %U + %S s)" "$bin" "${db[@]}" "$@" >"$work/out.txt" ||
    { echo "$what FAILED:" >&2; cat "$work/out.txt" "$work/time.txt" >&2; exit 1; }
  printf '%-34s %s\n' "$what" "$(tail -1 "$work/time.txt")"
}

timed "risk --as-of $as_of" risk --as-of "$as_of"
timed "receivables --as-of $as_of" receivables --as-of "$as_of"
timed "stock" stock
timed "balances" balances
timed "verify" verify
timed "verify (nothing new)" verify

# One more day's payments: the day after the last run's (or the first of the next
# month after the data), one payment per distributor against its first statement.
next_day=$(cat "$work/next-day" 2>/dev/null || date -d "$as_of +1 day" +%F)
pay="$work/payments-$next_day.csv"
{
  echo "payment_id,date,distributor,amount,currency,statement_id"
  cur=(USD EUR GBP USD EUR)
  for d in 0 1 2 3 4; do
    echo "P-$next_day-$d,$next_day,dist$d,10.00,${cur[$d]},D$d-2016-01"
  done
} >"$pay"
"$bin" "${db[@]}" import "$pay" >/dev/null
date -d "$next_day +1 day" +%F >"$work/next-day"
timed "verify (one more day: incremental)" verify
if "$bin" verify --help | grep -q -- --full; then
  timed "verify --full" verify --full
fi
if [ -n "${DASHBOARD:-}" ]; then
  echo "== dashboard"
  SCALE_STORE="$work/db" bench/dashboard-load.sh "${DASHBOARD_SECONDS:-15}" 50
fi
