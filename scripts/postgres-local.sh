#!/usr/bin/env bash
# A throwaway PostgreSQL for backstock on this machine, without docker: Debian's
# `postgresql` package (installed when missing), a cluster in a directory of its own
# on a loopback port, run as an unprivileged user. Prints the URL to give backstock.
#
#   scripts/postgres-local.sh start [DIR]   # default DIR: ./backstock-pg; prints the URL
#   scripts/postgres-local.sh stop  [DIR]
#
# Then, for example:
#   backstock store copy --from backstock-demo --to "$(cat backstock-pg/url)?label=marigold"
#   backstock --database "$(cat backstock-pg/url)?label=marigold" verify
set -euo pipefail
cmd="${1:-start}"
dir="$(realpath -m "${2:-backstock-pg}")"
pg_bin=""
for d in /usr/lib/postgresql/*/bin; do
  if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then pg_bin="$d"; fi
done
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if [ -z "$pg_bin" ]; then
  echo "installing Debian's postgresql package…" >&2
  as_root apt-get update -q >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then pg_bin="$d"; fi
  done
fi
[ -n "$pg_bin" ] || { echo "PostgreSQL's initdb was not found" >&2; exit 1; }
# PostgreSQL refuses to run as root: the cluster belongs to `nobody` then.
run() { if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }
case "$cmd" in
  start)
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown nobody "$dir"; fi
    if [ ! -d "$dir/data" ]; then
      run "$pg_bin/initdb" -D "$dir/data" -U backstock --auth=trust --no-locale -E UTF8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    run "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://backstock@127.0.0.1:$port/postgres" | tee "$dir/url"
    ;;
  stop)
    run "$pg_bin/pg_ctl" -D "$dir/data" -m fast stop
    ;;
  *)
    echo "usage: $0 start|stop [DIR]" >&2
    exit 2
    ;;
esac
