#!/bin/sh
# run.sh BUILD_DIR - runs every benchmark script bench/bench_*.sh in turn.
# Each script measures oxbow and its peer in the same run and prints both
# figures and their ratio (medians over repeated runs).
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
export OX_BUILD_DIR=$(cd "$build" && pwd) OX_SOURCE_DIR=$(dirname "$here")
rc=0
for b in "$here"/bench_*.sh; do
    [ -e "$b" ] || continue
    echo "=== $(basename "$b" .sh) ==="
    "$b" || { echo "benchmark $(basename "$b") FAILED"; rc=1; }
    echo
done
exit $rc
