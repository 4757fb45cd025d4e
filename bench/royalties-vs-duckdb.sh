#!/usr/bin/env bash
# The product's royalty path against DuckDB, side by side, from the same CSV files.
#
#   bench/royalties-vs-duckdb.sh [LINES] [PERIOD]     (defaults: 10,000,000 lines, 2016H1)
#
# Data: `backstock gen --lines LINES` (a year of statements from 5 distributors in 3
# currencies, 100k SKUs by 10k artists with skewed popularity, one royalty contract
# per artist: net receipts at 15/18/20/25%).
#
# Ours (the product, as a label runs it): `backstock init`, `backstock import` of the
# reference files and of statements.csv, then `backstock royalties run --period PERIOD`
# (reads what the period needs, computes, ties out, posts, stores one statement per
# payee). Each step is timed as a process (wall clock, peak RSS).
#
# DuckDB (Python module, installed with pip if missing), the same job from the same
# CSV files into a database file: import (statements.csv and contracts.csv into
# tables), then the query: statements known by the period's end, lines aggregated per
# statement × SKU × kind as backstock records them, each royalty = signed cents × rate
# rounded half to even once per aggregated line (integer arithmetic, no DOUBLE), summed
# per payee × currency.
#
# Both answers are compared payee by payee and currency by currency, to the cent; any
# difference fails the benchmark. Environment: BENCH_DIR (default: a temporary
# directory, removed after; an existing BENCH_DIR/files is reused), THREADS (DuckDB
# threads; default all cores), BACKSTOCK (a built binary to time).
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-10000000}
period=${2:-2016H1}
threads=${THREADS:-$(nproc)}
work=${BENCH_DIR:-$(mktemp -d)}
[[ -z "${BENCH_DIR:-}" ]] && trap 'rm -rf "$work"' EXIT
mkdir -p "$work"

# BACKSTOCK=path/to/backstock times that binary instead of building one.
if [[ -z "${BACKSTOCK:-}" ]]; then
    cargo build --release -q -p backstock
fi
bin=${BACKSTOCK:-${CARGO_TARGET_DIR:-target}/release/backstock}
python3 -c 'import duckdb' 2>/dev/null || {
    echo "installing duckdb (pip)"
    python3 -m pip install --quiet duckdb
}

if [[ ! -f "$work/files/statements.csv" ]]; then
    $bin gen --out "$work/files" --lines "$lines" >/dev/null
fi
f="$work/files"
end=$(python3 -c "
import sys, datetime
p = sys.argv[1].upper(); y = int(p[:4]); r = p[4:]
if r.startswith('H'): m = 6 * int(r[1:])
elif r.startswith('Q'): m = 3 * int(r[1:])
elif r == '': m = 12
else: m = int(r.lstrip('-'))
n = datetime.date(y + (m == 12), m % 12 + 1, 1)
print(n - datetime.timedelta(days=1))" "$period")
on=$(python3 -c "import datetime,sys; print(datetime.date.fromisoformat(sys.argv[1]) + datetime.timedelta(days=1))" "$end")

timed() { # label, command…: wall ms and peak RSS KB into $work/times
    local label=$1
    shift
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -f "%M" -o "$work/rss" "$@" >"$work/out.$label" 2>"$work/err.$label" || {
        echo "FAIL: $label"
        cat "$work/err.$label"
        exit 1
    }
    t1=$(date +%s%N)
    echo "$label $(((t1 - t0) / 1000000)) $(tail -1 "$work/rss")" >>"$work/times"
}

rm -f "$work/times"
rm -rf "$work/db" "$work/duck.db"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
db=(--data-dir "$work/db")
timed init "$bin" "${db[@]}" init
timed import_reference "$bin" "${db[@]}" import "$f/catalog.csv" "$f/distributors.csv" "$f/payees.csv" "$f/contracts.csv"
timed import_statements "$bin" "${db[@]}" import "$f/statements.csv"
timed royalty_run "$bin" "${db[@]}" royalties run --period "$period" --on "$on" --label-name "Bench Records" --format csv
timed statement_pdf "$bin" "${db[@]}" royalties statement --payee artist-7 --period "$period" --format pdf

python3 - "$f" "$work" "$end" "$threads" <<'PY'
import resource, sys, time, duckdb
f, work, end, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
con = duckdb.connect(f"{work}/duck.db")
con.execute(f"SET threads = {threads}")
t0 = time.perf_counter()
con.execute(f"""
CREATE TABLE statements AS SELECT * FROM read_csv('{f}/statements.csv', header = true,
  columns = {{'statement_id': 'VARCHAR', 'distributor': 'VARCHAR', 'period_start': 'DATE',
             'period_end': 'DATE', 'issued_on': 'DATE', 'kind': 'VARCHAR', 'sku': 'VARCHAR',
             'units': 'BIGINT', 'amount': 'DECIMAL(18,2)', 'currency': 'VARCHAR', 'memo': 'VARCHAR'}})""")
con.execute(f"""
CREATE TABLE contracts AS SELECT * FROM read_csv('{f}/contracts.csv', header = true, all_varchar = true)""")
t1 = time.perf_counter()
rows = con.execute(f"""
WITH covered AS (
  SELECT split_part(payees, ':', 1) AS payee,
         unnest(string_split(skus, ';')) AS sku,
         CAST(CAST(rtrim(split_part(rates, ':', 3), '%') AS DECIMAL(12,4)) * 10000 AS BIGINT) AS ppm
  FROM contracts
), lines AS (
  SELECT distributor, statement_id, sku, kind, currency,
         sum(CAST(amount * 100 AS BIGINT)) * CASE kind WHEN 'return' THEN -1 ELSE 1 END AS signed
  FROM statements
  WHERE greatest(period_end, issued_on) <= DATE '{end}' AND sku IS NOT NULL
    AND kind IN ('sale', 'return')
  GROUP BY distributor, statement_id, sku, kind, currency
), rated AS (
  SELECT c.payee, l.currency, l.signed * c.ppm AS p FROM lines l JOIN covered c ON l.sku = c.sku
), rounded AS (
  SELECT payee, currency, (p - p % 1000000) // 1000000 AS q, p % 1000000 AS r, sign(p) AS s
  FROM rated
)
SELECT payee, currency,
       sum(q + CASE WHEN abs(r) * 2 > 1000000 OR (abs(r) * 2 = 1000000 AND q % 2 <> 0)
                    THEN s ELSE 0 END) AS royalty
FROM rounded GROUP BY payee, currency ORDER BY payee, currency""").fetchall()
t2 = time.perf_counter()
con.close()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with open(f"{work}/duck.csv", "w") as out:
    for p, c, r in rows:
        if r != 0:
            out.write(f"{p},{c},{r}\n")
with open(f"{work}/times", "a") as t:
    t.write(f"duckdb_import {int((t1 - t0) * 1000)} {peak}\n")
    t.write(f"duckdb_query {int((t2 - t1) * 1000)} {peak}\n")
print(duckdb.__version__, file=open(f"{work}/duck.version", "w"))
PY

# Ours: the run's CSV (one row per payee × contract × currency; royalties as 1234.56).
python3 - "$work" <<'PY'
import csv, sys
work = sys.argv[1]
tot = {}
with open(f"{work}/out.royalty_run") as f:
    for row in csv.DictReader(f):
        amount, cur = row["royalties"], row["currency"]
        neg = amount.startswith("-")
        whole, _, frac = amount.lstrip("-").replace(",", "").partition(".")
        cents = int(whole) * 100 + int((frac + "00")[:2])
        key = (row["payee"], cur)
        tot[key] = tot.get(key, 0) + (-cents if neg else cents)
with open(f"{work}/ours.csv", "w") as out:
    for (p, c), v in sorted(tot.items()):
        if v != 0:
            out.write(f"{p},{c},{v}\n")
PY
sort -o "$work/ours.csv" "$work/ours.csv"
sort -o "$work/duck.csv" "$work/duck.csv"
if ! cmp -s "$work/ours.csv" "$work/duck.csv"; then
    echo "FAIL: the royalties differ (ours: $work/ours.csv, DuckDB: $work/duck.csv)"
    diff "$work/ours.csv" "$work/duck.csv" | head -20
    exit 1
fi

ms() { awk -v k="$1" '$1 == k { print $2 }' "$work/times"; }
kb() { awk -v k="$1" '$1 == k { print $3 }' "$work/times"; }
ours_import=$(($(ms init) + $(ms import_reference) + $(ms import_statements)))
ours_run=$(ms royalty_run)
duck_import=$(ms duckdb_import)
duck_query=$(ms duckdb_query)
ratio() { python3 -c "import sys; print(f'{int(sys.argv[1]) / max(1, int(sys.argv[2])):.2f}')" "$1" "$2"; }
echo "identical royalties, to the cent: $(wc -l <"$work/ours.csv") payee × currency totals for $period from $lines statement lines"
echo "load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg); DuckDB $(cat "$work/duck.version"), $threads threads"
echo "backstock: import ${ours_import} ms (statements $(ms import_statements) ms, peak $(($(kb import_statements) / 1024)) MB); royalty run ${ours_run} ms (peak $(($(kb royalty_run) / 1024)) MB); end to end $((ours_import + ours_run)) ms"
echo "DuckDB:    import ${duck_import} ms; query ${duck_query} ms; end to end $((duck_import + duck_query)) ms (peak $(($(kb duckdb_query) / 1024)) MB)"
echo "ratio (DuckDB ÷ backstock): end to end $(ratio $((duck_import + duck_query)) $((ours_import + ours_run)))×; run alone vs query $(ratio "$duck_query" "$ours_run")×"
echo "one stored statement (PDF): $(ms statement_pdf) ms, peak $(($(kb statement_pdf) / 1024)) MB"
