"""Differential test: oxbow's binlog decoder against mariadb-binlog.

The workload of binlog_workload.py (every column type, NULLs, extremes,
multi-row events, updates, deletes, DDL mid-stream) runs on MariaDB with
binlog_row_metadata=FULL and MINIMAL. The binlog is decoded by
`oxbow decode` and by `mariadb-binlog -vv --base64-output=decode-rows` (-vv
is -v plus a type comment after each value, which tells this test how to
read the value), and EVERY row value of every row change is compared.

How mariadb-binlog prints a value, and how it is matched to oxbow's JSON:

  NULL                        NULL                   <-> null
  TINYINT..LONGINT            -1 (255): signed value and, if negative, the
                              unsigned reading in parentheses <-> the number
                              equals either
  FLOAT                       printf %-20g           <-> '%g' of our number
                              rounded to float32
  DOUBLE                      printf %.20g           <-> '%.20g' of our number
  DECIMAL(p,s)                digits with the scale  <-> identical string
  YEAR                        2021 (year 0 as 1900)  <-> number (0 <-> 1900)
  DATE                        '2021:02:03'           <-> "2021-02-03"
  TIME(n), DATETIME(n)        'HH:MM:SS.fff'         <-> identical string
  TIMESTAMP(n)                epoch seconds[.fff]    <-> UTC text converted to
                                                         the epoch (zero: 0)
  strings, BLOBs, GEOMETRY    'raw bytes' with bytes < 0x20 as \\xNN <-> our
                              text (UTF-8, or latin1 for latin1 columns) or
                              base64 bytes, escaped the same way
  ENUM                        1-based index          <-> name (FULL) mapped
                                                         through the column's
                                                         definition, or index
  SET                         b'bits', the stored    <-> names (FULL) mapped
                              little-endian bytes        to the bitmask, or
                              in storage order           the bitmask
  BIT(n)                      b'bits'                <-> number

With MINIMAL metadata oxbow names columns "@N" offline, exactly like
mariadb-binlog; with FULL it uses the names, in column order, so the N-th
key of our object is column @N.

The live path is checked too: `oxbow capture` from the first binlog to the
end prints exactly what `oxbow decode` prints for the same files (with FULL
metadata; with MINIMAL, capture names columns from information_schema, so
the values are compared by position).
"""

import base64
import calendar
import json
import re
import struct
import subprocess

import pytest

import binlog_workload as W
from oxtest import parse_json_lines, run_oxbow

ROW_OPS = ("insert", "update", "delete")


def run_workload(m):
    m.client(W.sql_text())
    m.query("FLUSH BINARY LOGS")
    return [m.binlog_path(name) for name, _ in m.binlogs()]


# ---- mariadb-binlog output ------------------------------------------------

HEAD = re.compile(rb"^### (INSERT INTO|UPDATE|DELETE FROM) `([^`]*)`\.`([^`]*)`$")
VAL = re.compile(rb"^###   @(\d+)=(.*) /\* (.*?) meta=\d+ nullable=\d is_null=(\d) \*/$")


def parse_mariadb_binlog(paths, indexed=False):
    """Returns [(op, db, table, before, after)] with before/after lists of
    (value_bytes, type_text, is_null), or with indexed=True dicts from the
    column number N of "@N" to that tuple (for partial row images)."""
    out = []
    cur = None
    img = None
    for path in paths:
        r = subprocess.run(["mariadb-binlog", "--no-defaults", "-vv",
                            "--base64-output=decode-rows", path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
        for line in r.stdout.split(b"\n"):
            if not line.startswith(b"###"):
                continue
            h = HEAD.match(line)
            if h:
                op = {b"INSERT INTO": "insert", b"UPDATE": "update",
                      b"DELETE FROM": "delete"}[h.group(1)]
                cur = [op, h.group(2).decode(), h.group(3).decode(), None, None]
                out.append(cur)
                continue
            if line == b"### WHERE":
                cur[3] = img = {} if indexed else []
                continue
            if line == b"### SET":
                cur[4] = img = {} if indexed else []
                continue
            v = VAL.match(line)
            assert v, "unparsed mariadb-binlog line: %r" % line[:200]
            val = (v.group(2), v.group(3).decode(), v.group(4) == b"1")
            if indexed:
                img[int(v.group(1))] = val
            else:
                assert int(v.group(1)) == len(img) + 1
                img.append(val)
    return [tuple(x) for x in out]


# ---- value comparison -----------------------------------------------------

def escape_like_mariadb(b):
    """mariadb-binlog's my_b_write_quoted: bytes < 0x20 as \\xNN, others raw."""
    return b"".join(bytes([c]) if c > 0x1F else b"\\x%02x" % c for c in b)


def f32(x):
    return struct.unpack("<f", struct.pack("<f", float(x)))[0]


def ts_epoch_text(ours, fsp):
    date, _, frac = ours.partition(".")
    if date.startswith("0000-00-00"):
        sec = 0
    else:
        sec = calendar.timegm(tuple(int(x) for x in re.split("[- :]", date)) + (0, 0, 0))
    return "%d%s" % (sec, ("." + frac) if fsp else "")


def value_matches(ours, theirs, typ, table, col):
    """True if our JSON value is the value mariadb-binlog printed."""
    t = theirs
    if typ.split("(")[0] in ("TINYINT", "SHORTINT", "MEDIUMINT", "INT", "LONGINT"):
        m = re.fullmatch(rb"(-?\d+)(?: \((\d+)\))?", t)
        return (isinstance(ours, int) and not isinstance(ours, bool) and m is not None
                and (ours == int(m.group(1)) or (m.group(2) is not None
                                                 and ours == int(m.group(2)))))
    if typ == "FLOAT":
        try:
            return isinstance(ours, (int, float)) and ("%g" % f32(ours)).encode() == t.strip()
        except OverflowError:  # not a float32 at all
            return False
    if typ == "DOUBLE":
        return isinstance(ours, (int, float)) and ("%.20g" % float(ours)).encode() == t.strip()
    if typ.startswith("DECIMAL"):
        return isinstance(ours, str) and ours.encode() == t
    if typ == "YEAR":
        return isinstance(ours, int) and (int(t) == ours or (ours == 0 and t == b"1900"))
    if typ == "DATE":
        return isinstance(ours, str) and t == b"'" + ours.replace("-", ":").encode() + b"'"
    if typ.startswith("TIMESTAMP"):
        fsp = int(typ[10:-1]) if "(" in typ else 0
        return isinstance(ours, str) and ts_epoch_text(ours, fsp).encode() == t
    if typ.startswith("TIME") or typ.startswith("DATETIME"):
        return isinstance(ours, str) and t == b"'" + ours.encode() + b"'"
    if typ.startswith("ENUM"):
        if isinstance(ours, str):
            names = W.ENUMS[(table, col)]
            idx = 0 if ours == "" else names.index(ours) + 1
            return int(t) == idx
        return ours == int(t)
    if typ.startswith("SET") or typ.startswith("BIT"):
        assert t.startswith(b"b'") and t.endswith(b"'"), t
        bits = t[2:-1]
        if typ.startswith("SET"):
            # A SET is stored little-endian, and mariadb-binlog prints its
            # bytes in storage order: reverse the bytes.
            bits = b"".join(bits[i:i + 8] for i in range(len(bits) - 8, -1, -8))
        mask = int(bits, 2)
        if typ.startswith("SET") and isinstance(ours, str):
            names = W.SETS[(table, col)]
            want = 0
            for n in (ours.split(",") if ours else []):
                want |= 1 << names.index(n)
            return want == mask
        return ours == mask
    # Strings, binary strings, BLOB/TEXT, GEOMETRY: quoted raw bytes.
    assert t.startswith(b"'") and t.endswith(b"'"), (typ, t[:80])
    raw = t[1:-1]
    if isinstance(ours, dict):
        return escape_like_mariadb(base64.b64decode(ours["base64"])) == raw
    if isinstance(ours, str):
        cands = [ours.encode("utf-8")]
        try:
            cands.append(ours.encode("latin-1"))  # latin1 columns
        except UnicodeEncodeError:
            pass
        return any(escape_like_mariadb(c) == raw for c in cands)
    return False


def compare_image(ours, theirs, table, where):
    assert ours is not None and theirs is not None, where
    keys = list(ours)
    assert len(keys) == len(theirs), "%s: %d columns vs %d" % (where, len(keys), len(theirs))
    for i, (k, (tv, typ, is_null)) in enumerate(zip(keys, theirs)):
        assert k == k and (k == "@%d" % (i + 1) or not k.startswith("@")), (where, k)
        v = ours[k]
        if is_null:
            assert v is None, "%s column %s: expected NULL, got %r" % (where, k, v)
            continue
        assert v is not None, "%s column %s: got NULL, expected %r" % (where, k, tv[:80])
        assert value_matches(v, tv, typ, table, k), \
            "%s column %s (%s): oxbow %r vs mariadb-binlog %r" % (
                where, k, typ, v if not isinstance(v, str) else v[:80], tv[:80])


def compare_streams(ours_recs, theirs_rows):
    ours_rows = [r for r in ours_recs if r["op"] in ROW_OPS]
    assert len(ours_rows) == len(theirs_rows)
    ncols = 0
    for n, (o, (op, db, table, before, after)) in enumerate(zip(ours_rows, theirs_rows)):
        where = "row change #%d (%s %s.%s)" % (n, op, db, table)
        assert (o["op"], o["db"], o["table"]) == (op, db, table), where
        if op in ("update", "delete"):
            compare_image(o["before"], before, table, where + " before")
            ncols += len(before)
        else:
            assert "before" not in o
        if op in ("update", "insert"):
            compare_image(o["after"], after, table, where + " after")
            ncols += len(after)
        else:
            assert "after" not in o
    return len(ours_rows), ncols


@pytest.mark.parametrize("mariadb", ["FULL", "MINIMAL"], indirect=True)
def test_decode_matches_mariadb_binlog(mariadb):
    paths = run_workload(mariadb)
    ours = parse_json_lines(run_oxbow("decode", *paths).stdout)
    theirs = parse_mariadb_binlog(paths)
    nrows, nvals = compare_streams(ours, theirs)
    # The workload's size: a guard against both sides silently losing rows.
    assert nrows > 300 and nvals > 1500
    named = [r for r in ours if r["op"] == "insert" and r["table"] == "st"]
    if mariadb.metadata == "FULL":
        assert named[0]["pk"] == ["id"] and "lb" in named[0]["after"]
        assert named[0]["after"]["e2"] == "😀" and named[0]["after"]["s64"] == "m0,m63"
    else:
        assert "@1" in named[0]["after"]
    big = [r for r in named if r["after"].get("v", r["after"].get("@3")) == "one MiB"]
    assert len(big) == 1
    blob = next(v for v in big[0]["after"].values() if isinstance(v, dict))
    assert len(base64.b64decode(blob["base64"])) == 1 << 20
    # DDL records carry the statement text.
    ddl = [r["sql"] for r in ours if r["op"] == "ddl" and "sql" in r]  # account: no text
    assert any("ADD COLUMN extra" in s for s in ddl)
    assert any("DROP COLUMN l1t" in s for s in ddl)


def positional(rec):
    """The record with column keys replaced by their positions."""
    r = dict(rec)
    for k in ("before", "after"):
        if k in r:
            r[k] = list(r[k].values())
    r.pop("pk", None)
    return r


@pytest.mark.parametrize("mariadb", ["FULL", "MINIMAL"], indirect=True)
def test_capture_equals_decode(mariadb):
    paths = run_workload(mariadb)
    first = mariadb.binlogs()[0][0]
    dec = run_oxbow("decode", *paths).stdout
    cap = run_oxbow("capture", "--host", mariadb.host, "--port", mariadb.port, "--user",
                    mariadb.user, "--server-id", 77, "--from-file", first, "--until-end",
                    env={"OX_SOURCE_PASSWORD": mariadb.password}).stdout
    if mariadb.metadata == "FULL":
        assert cap == dec
        return
    d, c = parse_json_lines(dec), parse_json_lines(cap)
    assert len(d) == len(c)
    for a, b in zip(d, c):
        assert positional(a) == positional(b)
    # Live capture named the columns from information_schema where the
    # table's current shape matches the event (ints never changed)...
    ints = [r for r in c if r["op"] == "insert" and r["table"] == "ints"]
    assert list(ints[0]["after"])[:3] == ["id", "ti", "tiu"] and ints[0]["pk"] == ["id"]
    # ...and fell back to positions for st rows written before its ALTERs.
    st_rows = [r for r in c if r["op"] == "insert" and r["table"] == "st"]
    assert "@1" in st_rows[0]["after"]
    assert "id" in st_rows[-1]["after"]  # the row after the last ALTER of st
    assert json.loads(json.dumps(st_rows[-1]["after"]))["l1"] == "àé"
