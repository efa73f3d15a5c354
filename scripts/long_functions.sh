#!/bin/sh
# Lists C functions longer than LIMIT lines (default 120) under src/, longest
# first: "lines file:line signature". The house rule (issue 11): none outside
# the binlog decoders' type switches. A function is counted from its opening
# brace in column 0 to its closing brace in column 0 (the clang-format
# layout of this tree). Usage: scripts/long_functions.sh [LIMIT]
set -eu
limit=${1:-120}
cd "$(dirname "$0")/.."
# shellcheck disable=SC2046
awk -v limit="$limit" '
/^[a-zA-Z].*\(/ && !/;[ \t]*$/ { sig = $0; sigline = FNR }
/^\{/ { start = FNR; name = sig; at = sigline }
/^\}/ {
    if (start) {
        n = FNR - start + 1
        if (n > limit)
            printf "%d %s:%d %s\n", n, FILENAME, at, name
        start = 0
    }
}' $(git ls-files 'src/*.c') | sort -rn
