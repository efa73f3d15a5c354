#!/bin/sh
# run_fuzzer.sh FUZZER CORPUS SECONDS - runs a libFuzzer target for a short
# time on a scratch copy of the seed corpus (the tree's corpus stays as is).
set -eu
fuzzer=$1 corpus=$2 seconds=$3
[ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ] || { echo "no corpus at $corpus" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$corpus"/. "$work"/
exec "$fuzzer" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 "$work"
