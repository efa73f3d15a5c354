#!/bin/sh
# bench_decode.sh - binlog decode and live capture against mariadb-binlog,
# @vlasky/zongji and the server's raw dump, measured in the same run (run by
# bench/run.sh, which exports OX_BUILD_DIR and OX_SOURCE_DIR). The work is
# done by bench_decode.py (see its header); OX_BENCH_RUNS sets the number of
# runs per figure (default 5, medians reported).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 "$here/bench_decode.py"
