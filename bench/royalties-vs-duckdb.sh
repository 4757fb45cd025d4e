#!/usr/bin/env bash
# The royalty benchmark: per artist × month × currency totals (lines, units, net, and
# the royalty net × rate rounded half to even once per line) of a generated digital
# sales file, by backstock-sales-totals and by DuckDB running the equivalent SQL on the
# same CSV files. The two outputs must be identical to the cent, or this fails.
#
#   bench/royalties-vs-duckdb.sh [LINES] [RUNS]      (defaults: 10,000,000 lines, 5 runs)
#
# Environment: BENCH_DIR (default target/royalties-bench: generated data, kept between
# runs, never committed), THREADS (default: all cores, for both engines), SEED (1).
# Installs the duckdb Python module with pip if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-10000000}
runs=${2:-5}
seed=${SEED:-1}
threads=${THREADS:-$(nproc)}
bench=${BENCH_DIR:-target/royalties-bench}
data="$bench/data-$lines-s$seed"
mkdir -p "$bench"

cargo build --release -q -p backstock-sales-totals
bin=target/release/backstock-sales-totals

if [[ ! -f "$data/sales.csv" || ! -f "$data/catalog.csv" ]]; then
    echo "generating $lines sales lines (100,000 UPCs, 10,000 artists, 6 months) in $data"
    $bin gen --out "$data.tmp" --lines "$lines" --seed "$seed"
    rm -rf "$data"
    mv "$data.tmp" "$data"
fi

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
python3 -c 'import duckdb' 2>/dev/null || {
    echo "installing duckdb (pip)"
    python3 -m pip install --quiet duckdb
}

# The runs alternate — ours, DuckDB, ours, DuckDB … — so both meet the same machine
# load. Ours: the whole process (read the catalog, sum, sort, write the CSV), wall
# clock. DuckDB: the query from reading both CSV files to the sorted result rows,
# in-process (Python start-up and the module import not counted). DuckDB's amounts
# are exact:
#  - net read as DECIMAL(18,2) and turned into integer cents; rates as DECIMAL(12,6)
#    (or DECIMAL(12,4) percent) into integer ppm; their product in BIGINT (DuckDB
#    raises an error on BIGINT overflow, never wraps; the faster choice for DuckDB);
#  - the royalty of each line rounded half to even by integer arithmetic (q = product
#    truncated by 10^6, r the remainder; away from zero when |r| > 10^6/2, or when
#    |r| = 10^6/2 and q is odd) — no DOUBLE anywhere;
#  - the UPC joined as a BIGINT (cheaper for DuckDB than text; the generated file has
#    one 12-digit form per UPC).
timings=$(python3 - "$data" "$bench" "$runs" "$threads" "$bin" <<'PY'
import resource, subprocess, sys, time, duckdb
data, bench, runs, threads, binary = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
sql = f"""
WITH sales AS (
  SELECT * FROM read_csv('{data}/sales.csv', header = true, delim = ',', quote = '',
    columns = {{'sale_month': 'VARCHAR', 'store': 'VARCHAR', 'territory': 'VARCHAR',
               'upc': 'BIGINT', 'units': 'BIGINT', 'net': 'DECIMAL(18,2)',
               'currency': 'VARCHAR'}})
), catalog AS (
  SELECT * FROM read_csv('{data}/catalog.csv', header = true, delim = ',', quote = '',
    columns = {{'upc': 'BIGINT', 'artist': 'VARCHAR', 'rate': 'VARCHAR'}})
), rated AS (
  SELECT upc, artist,
    CASE WHEN right(rate, 1) = '%'
         THEN CAST(CAST(rtrim(rate, '%') AS DECIMAL(12,4)) * 10000 AS BIGINT)
         ELSE CAST(CAST(rate AS DECIMAL(12,6)) * 1000000 AS BIGINT) END AS ppm
  FROM catalog
), lines AS (
  SELECT c.artist, s.sale_month, s.currency, s.units,
         CAST(s.net * 100 AS BIGINT) AS net_minor,
         CAST(s.net * 100 AS BIGINT) * c.ppm AS p
  FROM sales s JOIN rated c ON s.upc = c.upc
), rounded AS (
  SELECT artist, sale_month, currency, units, net_minor,
         (p - p % 1000000) // 1000000 AS q, p % 1000000 AS r, sign(p) AS s
  FROM lines
)
SELECT artist, sale_month, currency, count(*) AS lines, sum(units) AS units,
       sum(net_minor) AS net,
       sum(q + CASE WHEN abs(r) * 2 > 1000000 OR (abs(r) * 2 = 1000000 AND q % 2 <> 0)
                    THEN s ELSE 0 END) AS royalty
FROM rounded
GROUP BY artist, sale_month, currency
ORDER BY artist, sale_month, currency
"""
def money(v):
    v = int(v)
    return f"{'-' if v < 0 else ''}{abs(v) // 100}.{abs(v) % 100:02d}"
def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
ours, duck, ours_cpu, duck_cpu, rows = [], [], [], [], None
for _ in range(runs):
    c0, t0 = children_cpu(), time.perf_counter()
    subprocess.run([binary, "sum", "--threads", str(threads), "--catalog", f"{data}/catalog.csv",
                    "--sales", f"{data}/sales.csv", "--out", f"{bench}/ours.csv"],
                   check=True, stderr=subprocess.DEVNULL)
    ours.append(int((time.perf_counter() - t0) * 1000))
    ours_cpu.append(int((children_cpu() - c0) * 1000))
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    c0, t0 = time.process_time(), time.perf_counter()
    rows = con.execute(sql).fetchall()
    duck.append(int((time.perf_counter() - t0) * 1000))
    duck_cpu.append(int((time.process_time() - c0) * 1000))
    con.close()
with open(f"{bench}/duckdb.csv", "w") as f:
    f.write("artist,month,currency,lines,units,net,royalty\n")
    for a, m, c, n, u, net, roy in rows:
        f.write(f"{a},{m},{c},{n},{u},{money(net)},{money(roy)}\n")
print(" ".join(map(str, ours)))
print(" ".join(map(str, duck)))
print(duckdb.__version__)
print(" ".join(map(str, ours_cpu)))
print(" ".join(map(str, duck_cpu)))
PY
)
ours_ms=($(sed -n 1p <<<"$timings"))
duck_ms=($(sed -n 2p <<<"$timings"))
duck_version=$(sed -n 3p <<<"$timings")
ours_cpu=($(sed -n 4p <<<"$timings"))
duck_cpu=($(sed -n 5p <<<"$timings"))

if ! cmp -s "$bench/ours.csv" "$bench/duckdb.csv"; then
    echo "FAIL: the totals differ (ours: $bench/ours.csv, DuckDB: $bench/duckdb.csv)"
    diff "$bench/ours.csv" "$bench/duckdb.csv" | head -20
    exit 1
fi

stats() { # best and median of a list of milliseconds
    local sorted
    sorted=($(printf '%s\n' "$@" | sort -n))
    echo "${sorted[0]} ${sorted[$((${#sorted[@]} / 2))]}"
}
read -r ours_best ours_median <<<"$(stats "${ours_ms[@]}")"
read -r duck_best duck_median <<<"$(stats "${duck_ms[@]}")"
read -r ours_cpu_best ours_cpu_median <<<"$(stats "${ours_cpu[@]}")"
read -r duck_cpu_best duck_cpu_median <<<"$(stats "${duck_cpu[@]}")"
ratio() { python3 -c "import sys; print(f'{int(sys.argv[1]) / max(1, int(sys.argv[2])):.1f}')" "$1" "$2"; }
echo "identical totals: $(($(wc -l <"$bench/ours.csv") - 1)) artist × month × currency rows from $lines sales lines"
echo "threads: $threads; load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "backstock-sales-totals: best ${ours_best} ms, median ${ours_median} ms (runs: ${ours_ms[*]})"
echo "DuckDB $duck_version:       best ${duck_best} ms, median ${duck_median} ms (runs: ${duck_ms[*]})"
echo "ratio (DuckDB ÷ ours):  best $(ratio "$duck_best" "$ours_best")×, median $(ratio "$duck_median" "$ours_median")×"
echo "CPU time (user + system, all threads; steadier than wall time on a shared machine):"
echo "  ours best ${ours_cpu_best} ms, median ${ours_cpu_median} ms; DuckDB best ${duck_cpu_best} ms, median ${duck_cpu_median} ms; ratio of medians $(ratio "$duck_cpu_median" "$ours_cpu_median")×"
