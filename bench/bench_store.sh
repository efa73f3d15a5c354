#!/bin/sh
# bench_store.sh - the store's benchmarks beside their peers (latency vs
# mariadb-binlog, catch-up vs zongji, fan-out, peak RSS); see bench_store.py.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 "$here/bench_store.py"
