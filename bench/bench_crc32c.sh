#!/bin/sh
# bench_crc32c.sh - CRC32C GB/s per implementation (tables, crc32 instruction,
# PCLMULQDQ and VPCLMULQDQ folding, ox_crc32c's choice) next to zlib's crc32
# and memcpy on the same warm buffers, for the log's 240-byte records, 4 KiB,
# a 256 KiB reader chunk and 16 MiB (run by bench/run.sh, which exports
# OX_BUILD_DIR). Each figure is the median of 5 timed slices of ~50 ms; the
# line ends with the ratios of ox_crc32c to zlib, memcpy and the crc32
# instruction alone. "x3 recs" is the log reader's pattern: 248-byte records
# of a chunk checked three at a time with ox_crc32c_x3.
set -eu
build=${OX_BUILD_DIR:-build}
bin=$build/bench/bench_crc32c
[ -x "$bin" ] || { echo "bench_crc32c not built in $build" >&2; exit 1; }
exec "$bin" ${OX_BENCH_CRC_SIZES:-240 4096 262144 16777216}
