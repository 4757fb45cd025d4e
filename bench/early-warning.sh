#!/usr/bin/env bash
# Early-warning evaluation: SEEDS generated labels (12 distributor shapes each: 6 that
# fail, 6 healthy, all with everyday short-pays and lateness), each imported through
# `backstock import` into a fresh store, then `backstock risk --as-of` every 14 days and
# the credit check of `backstock ship` before every consignment shipment. Prints the
# Markdown report (per shape, totals, spread over seeds, targets PASS/FAIL) and the time.
#   bench/early-warning.sh [SEEDS] [extra risk-eval flags…]   (default 20 seeds)
# e.g. bench/early-warning.sh 10 --step-days 28 --format json
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-20}
shift || true
cargo build --release -q -p backstock
bin=${CARGO_TARGET_DIR:-target}/release/backstock
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
start=$(date +%s%N)
/usr/bin/time -f "peak RSS %M KB, CPU user %U s + sys %S s" \
  "$bin" risk-eval --seeds "$seeds" "$@"
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
echo "elapsed: ${ms} ms for $seeds seeds ($(( ms / seeds )) ms a seed)" >&2
