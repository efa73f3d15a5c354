#!/bin/sh
# bench_pg.sh - PostgreSQL catch-up: oxbow store vs pg_recvlogical with
# test_decoding and with pgoutput (see bench_pg.py).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 "$here/bench_pg.py"
