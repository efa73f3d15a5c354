#!/bin/sh
# bench_log.sh - change log appends and reads against dd and cat on the same
# bytes, in the same run (run by bench/run.sh, which exports OX_BUILD_DIR).
#
# For each log size (records of 200 payload bytes, each its own transaction,
# group commit every 10 ms): RUNS times
#   - bench_log write: a fresh log, appends, final sync, close;
#   - cat <segment files> | dd of=<new file> bs=1M conv=fdatasync
#     (the segment bytes, warm in the page cache);
#   - bench_log read: one reader over the whole log (warm);
#   - cat <segment files> > /dev/null (warm).
# Prints medians: records/s, MB/s, the ratios to dd and cat, and peak RSS of
# the writer and of the reader (getrusage ru_maxrss), for two sizes to show
# that memory does not grow with the log. Goals: writes >= 0.70 of dd, reads
# >= 0.70 of cat, flat RSS.
set -eu
build=${OX_BUILD_DIR:-build}
bin=$build/bench/bench_log
[ -x "$bin" ] || { echo "bench_log not built in $build" >&2; exit 1; }
runs=${OX_BENCH_RUNS:-5}
sizes=${OX_BENCH_LOG_SIZES:-"1000000 4000000"}
work=$(mktemp -d "${TMPDIR:-/tmp}/oxbench-log.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

for n in $sizes; do
    : >"$work/w" ; : >"$work/r" ; : >"$work/dd" ; : >"$work/cat"
    : >"$work/wrss" ; : >"$work/rrss"
    i=0
    while [ $i -lt "$runs" ]; do
        rm -rf "$work/log" "$work/dd.out"
        out=$("$bin" write "$work/log" "$n" 200)
        echo "$out" | field seconds >>"$work/w"
        echo "$out" | field maxrss_kb >>"$work/wrss"
        bytes=$(echo "$out" | field bytes)
        # dd writes the same bytes: the segment files, warm in the page cache,
        # piped in (no new dirty source file competes with dd's writes).
        sync
        "$bin" time /dev/null sh -c 'cat "$@" | dd of="$0" bs=1M iflag=fullblock \
            conv=fdatasync status=none' "$work/dd.out" "$work"/log/*.seg |
            field seconds >>"$work/dd"
        rm -f "$work/dd.out"
        out=$("$bin" read "$work/log" "$n")
        echo "$out" | field seconds >>"$work/r"
        echo "$out" | field maxrss_kb >>"$work/rrss"
        "$bin" time /dev/null cat "$work"/log/*.seg | field seconds >>"$work/cat"
        i=$((i + 1))
    done
    w=$(median <"$work/w"); r=$(median <"$work/r"); d=$(median <"$work/dd"); c=$(median <"$work/cat")
    wr=$(median <"$work/wrss"); rr=$(median <"$work/rrss")
    mb=$(echo "$bytes / 1000000" | bc -l)
    printf 'log of %d records (%.0f MB on disk), medians of %d runs:\n' "$n" "$mb" "$runs"
    printf '  append  %9.0f records/s %8.1f MB/s | dd conv=fdatasync %8.1f MB/s | ratio %.2f\n' \
        "$(echo "$n / $w" | bc -l)" "$(echo "$mb / $w" | bc -l)" "$(echo "$mb / $d" | bc -l)" \
        "$(echo "$d / $w" | bc -l)"
    printf '  read    %9.0f records/s %8.1f MB/s | cat              %8.1f MB/s | ratio %.2f\n' \
        "$(echo "$n / $r" | bc -l)" "$(echo "$mb / $r" | bc -l)" "$(echo "$mb / $c" | bc -l)" \
        "$(echo "$c / $r" | bc -l)"
    printf '  peak RSS: writer %d KiB, reader %d KiB\n' "$wr" "$rr"
done
