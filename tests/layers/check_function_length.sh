#!/bin/sh
# check_function_length.sh SRC_DIR - fails when a C function under src/ is
# longer than 120 lines, except the binlog decoder's type switches (one case
# per column type; splitting them would scatter one table over several
# functions). The list is scripts/long_functions.sh's.
set -eu
cd "$1"
allowed='ox_bl_value ox_bl_col_layout ox_bl_dispatch'
bad=0
scripts/long_functions.sh 120 > /tmp/ox_long_functions.$$ || true
while read -r n where sig; do
    name=$(printf '%s\n' "$sig" | sed 's/(.*//; s/.*[ *]//')
    case " $allowed " in
    *" $name "*) continue ;;
    esac
    echo "function over 120 lines ($n): $where $name" >&2
    bad=1
done < /tmp/ox_long_functions.$$
rm -f /tmp/ox_long_functions.$$
[ "$bad" = 0 ] && echo "check_function_length: ok"
exit "$bad"
