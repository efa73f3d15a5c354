"""MariaDB's own regression-test binlogs: decoded like mariadb-binlog, or refused by name.

The Debian package mariadb-test-data (scripts/deps.sh installs it) ships the
binlog files MariaDB's test suite replays: MySQL 3.23/4.x layouts, MySQL 5.1
pre-GA and Google-patched servers, relay logs, MySQL 8.0 files, damaged
files. Every file under /usr/share/mysql/mysql-test/**/std_data/ that starts
with the binlog magic is run through `mariadb-binlog -v
--base64-output=decode-rows` (the reference row count: its `### INSERT`,
`### UPDATE` and `### DELETE` lines) and `oxbow decode`. For each file,
either

  - oxbow exits 0 with the same number of row changes as mariadb-binlog, or
  - the file is listed in REFUSED and oxbow exits non-zero with a message
    that names the file, the event offset and the format or the damage, or
  - mariadb-binlog itself cannot read the file to its end, the file is listed
    in BEYOND_MARIADB with the row count oxbow reaches, and that count is at
    least what mariadb-binlog printed before it stopped.

A file not listed anywhere must decode like mariadb-binlog, so a new file in
a package update, or a regression, fails here.
"""

import glob
import os
import re
import subprocess

import pytest

from oxtest import oxbow_bin

ROOT = "/usr/share/mysql/mysql-test"

# file basename -> what the refusal must say (after "<file> offset N: ").
REFUSED = {
    # MySQL 5.1.0-5.1.17 (pre-GA): TABLE_MAP without column metadata, rows
    # events of another layout. mariadb-binlog prints them as *_rows_old
    # with "Number of rows: 0": it does not decode them either.
    "ver_5_1-telco.001": r"pre-GA format, server 5\.1\.15-ndb.* is not supported",
    "ver_5_1_17.001": r"pre-GA format, server 5\.1\.17-beta.* is not supported",
    "bug32407.001": r"pre-GA format, server 5\.1\.15-ndb.* is not supported",
    # Damaged on purpose: a rows event whose extra data holds a cut-short
    # extra-row-info chunk (mariadb-binlog fails too).
    "invalid_row_v2_tag.001": r"rows event extra data: bad extra row info chunk",
    # Encrypted binlog without its key (mariadb-binlog prints no rows).
    "binlog_before_20574.bin": r"encrypted binlog \(START_ENCRYPTION event\)",
    # Corrupt relay log (mariadb-binlog fails too).
    "corrupt-relay-bin.000624": r"QUERY event: status/db beyond the event",
    # A GTID event with a zero CRC32 (mariadb-binlog fails too).
    "mdev-39404-binlog.000001": r"bad CRC32 in event type 162",
    # Cut short at 8192 bytes inside an event of 65567 bytes.
    "bug11747416_32228_binlog.000001": r"truncated event \(type 23, 7876 of 65567 bytes\)",
}

# file basename -> rows oxbow decodes where mariadb-binlog stops early.
BEYOND_MARIADB = {
    # MySQL 8.0 with TRANSACTION_PAYLOAD (zstd): mariadb-binlog stops at the
    # first payload ("incompatible MySQL 8.0 TRANSACTION_PAYLOAD_EVENT").
    "mdev35643_mysql_80_binlog.000001": 106,
    # mariadb-binlog exits 1 on this file; it holds no row events.
    "bug40482-bin.000001": 0,
}

ROW_LINE = re.compile(rb"^### (INSERT INTO|UPDATE|DELETE FROM) ", re.M)
OX_ROW = re.compile(rb'^\{"op":"(insert|update|delete)"', re.M)


def std_binlogs():
    out = []
    for path in sorted(glob.glob(ROOT + "/**/std_data/**", recursive=True)):
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            if f.read(4) == b"\xfebin":
                out.append(path)
    return out


def test_package_is_installed():
    # Not a skip: without the package the coverage below would silently vanish.
    files = std_binlogs()
    assert len(files) >= 30, "mariadb-test-data missing? (scripts/deps.sh installs it)"
    names = {os.path.basename(p) for p in files}
    assert set(REFUSED) <= names and set(BEYOND_MARIADB) <= names


@pytest.mark.parametrize("path", std_binlogs(), ids=lambda p: os.path.relpath(p, ROOT))
def test_std_data_binlog(path):
    name = os.path.basename(path)
    ref = subprocess.run(["mariadb-binlog", "--no-defaults", "-v",
                          "--base64-output=decode-rows", path],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    ref_rows = len(ROW_LINE.findall(ref.stdout))
    ox = subprocess.run([oxbow_bin(), "decode", path], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, timeout=120)
    ox_rows = len(OX_ROW.findall(ox.stdout))
    err = ox.stderr.decode(errors="replace")
    if name in REFUSED:
        assert ox.returncode != 0, "%s: expected a refusal, decoded %d rows" % (name, ox_rows)
        m = re.search(re.escape(name) + r" offset (\d+): (.*)", err)
        assert m, "%s: the message names no file/offset: %r" % (name, err)
        assert re.search(REFUSED[name], m.group(2)), "%s: %r" % (name, err)
        # What was delivered before the refusal is never more than the
        # reference saw.
        assert ox_rows <= max(ref_rows, 0) or ref.returncode != 0, (name, ox_rows, ref_rows)
        return
    assert ox.returncode == 0, "%s: oxbow failed: %s" % (name, err)
    if name in BEYOND_MARIADB:
        assert ref.returncode != 0, "%s: mariadb-binlog now reads it; compare counts" % name
        assert ox_rows == BEYOND_MARIADB[name] and ox_rows >= ref_rows, (name, ox_rows, ref_rows)
        return
    assert ref.returncode == 0, "%s: mariadb-binlog failed: %s" % (
        name, ref.stderr.decode(errors="replace")[-500:])
    assert ox_rows == ref_rows, "%s: oxbow %d row changes, mariadb-binlog %d" % (
        name, ox_rows, ref_rows)
