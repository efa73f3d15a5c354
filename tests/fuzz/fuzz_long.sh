#!/bin/sh
# fuzz_long.sh FUZZER CORPUS RUNS - the long campaign of one libFuzzer target
# (make fuzz-long): RUNS executions (10M by default) starting from the
# in-tree corpus, then the inputs that found new coverage are merged into that
# corpus (-merge=1 keeps only inputs that reach new edges, so it stays small).
# Prints one line: target, executions, seconds, execs/s, corpus files added.
# FUZZ_MAX_SECONDS, if set, also caps the run's time (the line then shows the
# executions actually done, fewer than RUNS).
set -eu
fuzzer=$1 corpus=$2 runs=$3
name=$(basename "$fuzzer")
[ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ] || { echo "no corpus at $corpus" >&2; exit 1; }
# A crashing input is kept here (FUZZ_ARTIFACTS, default build-fuzz/artifacts).
art=${FUZZ_ARTIFACTS:-build-fuzz/artifacts}
mkdir -p "$art"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
mkdir "$work/new"
before=$(ls "$corpus" | wc -l)
start=$(date +%s)
# New inputs go to the first directory (scratch); the tree's corpus is read only.
# Inputs stay small (-max_len) so that the kept corpus does too.
"$fuzzer" -runs="$runs" -print_final_stats=1 -rss_limit_mb=2048 -timeout=25 \
    -artifact_prefix="$art/$name-" ${FUZZ_MAX_SECONDS:+-max_total_time=$FUZZ_MAX_SECONDS} -max_len="${FUZZ_MAX_LEN:-4096}" "$work/new" "$corpus" >"$work/log" 2>&1 || {
    tail -n 60 "$work/log" >&2
    echo "fuzz-long: $name FAILED (log above; the input is under $art)" >&2
    exit 1
}
end=$(date +%s)
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -n 1)
# Edges only (-use_counters=0): an input is kept for a new branch, not for a
# new hit count of an old one, which keeps the corpus to hundreds of files.
"$fuzzer" -merge=1 -use_counters=0 -rss_limit_mb=2048 -timeout=25 "$corpus" "$work/new" >"$work/merge.log" 2>&1 || {
    tail -n 30 "$work/merge.log" >&2
    echo "fuzz-long: $name merge FAILED" >&2
    exit 1
}
after=$(ls "$corpus" | wc -l)
printf 'fuzz-long: %-22s execs %s  time %ss  execs/s %s  corpus %s -> %s files\n' \
    "$name" "${execs:-?}" "$((end - start))" "${rate:-?}" "$before" "$after"
