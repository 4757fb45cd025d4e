#!/usr/bin/env bash
# Early warning on histories `risk-eval` does not generate: an independent generator
# (Python 3, standard library only; written by a reviewer who did not read the rules'
# tuning) of 11 shapes — 7 healthy (late by habit, quarterly on 150-day terms, lump
# sums, payments twice a year, sales halved then recovered, statements late twice a
# year, monthly then quarterly) and 4 failing — imported through `backstock import`,
# `backstock risk --as-of` every 14 days from the second year, and `backstock ship`'s
# credit check (on a scratch copy) before every second shipment to a healthy one.
# Prints the per-shape table and every false alarm and late detection with the
# signals' sentences.
#   bench/independent-early-warning.sh [SEEDS] (default 1-12; about 15 minutes)
# OUT=DIR keeps the labels there (a temporary directory otherwise). AGREED_CALENDARS=1:
# the twice-a-year payers' agreements carry their calendar (payment_months 6;12), as a
# label that signed for it would write; the histories are the same.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-1-12}
out=${OUT:-$(mktemp -d)}
cargo build --release -q -p backstock
BACKSTOCK_BIN=$(realpath "${CARGO_TARGET_DIR:-target}/release/backstock")
export BACKSTOCK_BIN
here=bench/independent-early-warning
python3 "$here/gen.py" --seeds "$seeds" --out "$out/labels" ${AGREED_CALENDARS:+--agreed-calendars} >&2
python3 "$here/evaluate.py" --seeds "$seeds" --labels "$out/labels" >&2
python3 "$here/metrics.py" --seeds "$seeds" --labels "$out/labels" --detail
