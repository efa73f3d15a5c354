"""Every column type after every other column type, checked against SELECT.

The decoder's per-column state (type metadata, the charset lists of the
optional metadata, ENUM/SET names, signedness) is read by walking the
columns in order, so a mistake for one type shows up as a wrong value in a
*later* column. This test generates the layouts instead of picking them:
an Eulerian circuit of the complete directed graph (loops included) over
the type list visits every ordered pair (a, b) once, so cut into tables of
COLS columns (consecutive tables share one type) every type is, somewhere,
immediately followed by every type (BIT takes part with a few widths, and
all 64 widths get a table of their own). Each layout exists twice: all
columns nullable (with NULLs mixed in) and all NOT NULL.

Rows are inserted, updated (row r takes the values of row r+1) and some
deleted; then every decoded row image, from `oxbow decode` on the binlog
files, from live `oxbow capture` and from `oxbow capture --schema-dir` (the
schema history the store keeps), is compared with SELECT on the source
(snapshots taken after the inserts and after the updates), mapped to the
JSON forms of docs/records.md. Runs against a FULL and a MINIMAL
binlog_row_metadata server.
"""

import base64
import math
import os
import struct

import pytest

from oxtest import parse_json_lines, run_oxbow

COLS = 40   # columns per table, besides the id
ROWS = 5    # rows per table
DB = "pw"


def _b(hexstr):
    return {"base64": base64.b64encode(bytes.fromhex(hexstr or "")).decode()}


def _float32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


# Comparison kinds: how SELECT's value is fetched and mapped to JSON.
#   int      SELECT c+0 (integers, BIT, YEAR) -> number
#   text     SELECT CAST(c AS CHAR) (DECIMAL, temporal) -> string
#   str      SELECT c (character columns, any charset) -> string
#   bin      SELECT HEX(c) -> {"base64": ...}
#   float    SELECT CAST(c AS DOUBLE) -> number (equal as 32-bit floats)
#   double   SELECT c -> number
#   enum     FULL: CAST(c AS CHAR) -> name; MINIMAL: c+0 -> index/bitmask
#   fbt      MariaDB's INET6/UUID/INET4, BINARY(16)/BINARY(4) in the binlog:
#            with the schema history (the store) SELECT c -> its text; without
#            (`oxbow decode`, capture without --schema-dir)
#            HEX(CAST(c AS BINARY(n))) -> {"base64": n bytes}
FBT = {"INET6": 16, "UUID": 16, "INET4": 4}
def _types():
    t = []

    def add(name, sql, kind, values):
        t.append((name, sql, kind, values))

    ints = [("TINYINT", 8), ("SMALLINT", 16), ("MEDIUMINT", 24), ("INT", 32), ("BIGINT", 64)]
    for name, bits in ints:
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        add(name, name, "int", [str(lo), str(hi), "0", "-1", "42"])
        add(name + "U", name + " UNSIGNED", "int", ["0", str((1 << bits) - 1), "1", str(hi + 1),
                                                     "7"])
    add("DEC1", "DECIMAL(1,0)", "text", ["-9", "9", "0", "5", "-1"])
    add("DEC10_4", "DECIMAL(10,4)", "text", ["-123456.7891", "0.0001", "0", "999999.9999",
                                             "-0.5"])
    add("DEC20_0U", "DECIMAL(20,0) UNSIGNED", "text", ["99999999999999999999", "0", "1",
                                                       "12345678901234567890", "10"])
    add("DEC65_30", "DECIMAL(65,30)", "text",
        ["-" + "9" * 35 + "." + "9" * 30, "0", "0." + "0" * 29 + "1",
         "12345678901234567890.123456789012345678901234567890", "-1.5"])
    add("FLOAT", "FLOAT", "float", ["0", "-1.5", "3.4e38", "1.17549435e-38", "16777216"])
    add("DOUBLE", "DOUBLE", "double", ["0", "-1.5", "1e100", "0.1",
                                       "1.7976931348623157e308"])
    for n in range(1, 65):
        add("BIT%d" % n, "BIT(%d)" % n, "int", ["0", str((1 << n) - 1), "1", str(1 << (n - 1)),
                                                 str(((1 << n) - 1) // 3)])
    add("YEAR", "YEAR", "int", ["1901", "2155", "0", "2000", "1999"])
    add("DATE", "DATE", "text", ["'1000-01-01'", "'9999-12-31'", "'0000-00-00'", "'2024-02-29'",
                                 "'1970-01-01'"])
    for fsp in range(7):
        add("TIME%d" % fsp, "TIME(%d)" % fsp, "text",
            ["'-838:59:59'", "'838:59:59'", "'00:00:00'", "'-01:02:03.456789'",
             "'12:34:56.123456'"])
        add("DATETIME%d" % fsp, "DATETIME(%d)" % fsp, "text",
            ["'1000-01-01 00:00:00'", "'9999-12-31 23:59:59.999999'", "'0000-00-00 00:00:00'",
             "'2024-02-29 12:34:56.123456'", "'1970-01-01 00:00:00.000001'"])
        add("TIMESTAMP%d" % fsp, "TIMESTAMP(%d)" % fsp, "text",
            ["'1970-01-01 00:00:01'", "'2038-01-19 03:14:07.999999'", "'0000-00-00 00:00:00'",
             "'2024-02-29 12:34:56.123456'", "'2001-09-09 01:46:40.5'"])
    u8 = ["''", "'abc  '", "'ñandú'", "'😀x'", "' lead'"]
    l1 = ["''", "'café'", "'€‰'", "'trail  '", "'ÿ'"]
    for cs, vals in (("utf8mb4", u8), ("latin1", l1)):
        sfx = " CHARACTER SET " + cs
        add("CHAR10_" + cs, "CHAR(10)" + sfx, "str", vals)
        add("CHAR100_" + cs, "CHAR(100)" + sfx, "str", vals)
        add("VARCHAR20_" + cs, "VARCHAR(20)" + sfx, "str", vals)
        add("VARCHAR300_" + cs, "VARCHAR(300)" + sfx, "str", vals[:-1] + ["REPEAT('é', 300)"])
        for tt in ("TINYTEXT", "TEXT", "MEDIUMTEXT", "LONGTEXT"):
            add(tt + "_" + cs, tt + sfx, "str", vals)
    bins = ["x''", "x'01020000'", "x'00'", "x'FF00C3A9'", "x'20'"]
    add("BINARY1", "BINARY(1)", "bin", ["x''", "x'00'", "x'FF'", "x'20'", "x'01'"])
    add("BINARY4", "BINARY(4)", "bin", bins)
    add("BINARY255", "BINARY(255)", "bin", bins)
    add("CHAR8_BIN", "CHAR(8) CHARACTER SET binary", "bin", bins)
    add("VARBINARY10", "VARBINARY(10)", "bin", bins)
    add("VARBINARY300", "VARBINARY(300)", "bin", bins)
    for tt in ("TINYBLOB", "BLOB", "MEDIUMBLOB", "LONGBLOB"):
        add(tt, tt, "bin", bins)
    add("ENUM", "ENUM('a','b','c') CHARACTER SET utf8mb4", "enum",
        ["'a'", "'c'", "'b'", "''", "'a'"])
    add("ENUM300", "ENUM(%s)" % ",".join("'v%d'" % i for i in range(300)), "enum",
        ["'v0'", "'v299'", "'v255'", "'v256'", "'v1'"])
    add("ENUM_L1", "ENUM('é','x') CHARACTER SET latin1", "enum",
        ["'é'", "'x'", "'x'", "'é'", "'x'"])
    add("SET", "SET('a','b','c','d') CHARACTER SET utf8mb4", "enum",
        ["''", "'a,d'", "'a,b,c,d'", "'b'", "'c'"])
    add("SET64", "SET(%s)" % ",".join("'s%d'" % i for i in range(64)), "enum",
        ["''", "'s0,s63'", "'s8,s9,s10'", "'s62'", "'s1'"])
    add("JSON", "JSON", "str", ["'{\"a\":1}'", "'[]'", "'\"x\"'", "'{\"é\":[1,2.5,null]}'",
                                "'1'"])
    geo = [("GEOMETRY", ["'POINT(1 2)'", "'LINESTRING(0 0,1 1)'",
                         "'POLYGON((0 0,1 0,1 1,0 0))'", "'POINT(-1.5 10000000000.25)'",
                         "'GEOMETRYCOLLECTION(POINT(1 1))'"]),
           ("POINT", ["'POINT(1 2)'", "'POINT(0 0)'", "'POINT(-1.5 10000000000.25)'"]),
           ("LINESTRING", ["'LINESTRING(0 0,1 1)'", "'LINESTRING(0 0,1 1,2 0)'"]),
           ("POLYGON", ["'POLYGON((0 0,1 0,1 1,0 0))'"]),
           ("MULTIPOINT", ["'MULTIPOINT(1 1,2 2)'", "'MULTIPOINT(0 0)'"]),
           ("MULTILINESTRING", ["'MULTILINESTRING((0 0,1 1),(2 2,3 3))'"]),
           ("MULTIPOLYGON", ["'MULTIPOLYGON(((0 0,1 0,1 1,0 0)))'"]),
           ("GEOMETRYCOLLECTION", ["'GEOMETRYCOLLECTION(POINT(1 1),LINESTRING(0 0,1 1))'"])]
    for name, wkts in geo:
        vals = ["ST_GeomFromText(%s)" % w for w in wkts]
        add(name, name, "bin", (vals * ROWS)[:ROWS])
    add("INET6", "INET6", "fbt", ["'::1'", "'1::'", "'::'", "'ffff::ffff'", "'::ffff:1.2.3.4'"])
    add("INET4", "INET4", "fbt", ["'1.2.3.4'", "'0.0.0.0'", "'255.255.255.255'", "'10.0.0.1'",
                                  "'127.0.0.1'"])
    add("UUID", "UUID", "fbt", ["'00000000-0000-0000-0000-000000000000'",
                                "'12345678-1234-1234-9234-123456789abc'",
                                "'12345678-1234-7234-9234-123456789a00'",
                                "'ffffffff-ffff-ffff-ffff-ffffffffffff'",
                                "'00000000-0000-0000-0000-000000000001'"])
    return t


TYPES = _types()
# Every BIT width is checked in one table of its own; the pairs use these.
PAIR_BITS = {"BIT%d" % n for n in (1, 7, 8, 9, 16, 17, 33, 63, 64)}
PAIRWISE = [i for i, t in enumerate(TYPES) if not t[0].startswith("BIT") or t[0] in PAIR_BITS]
EXTRA_LAYOUTS = [[i for i, t in enumerate(TYPES) if t[0].startswith("BIT")]]


def euler_sequence(n):
    """A closed walk over 0..n-1 using every ordered pair (a, b), loops
    included, exactly once (Hierholzer on the complete digraph)."""
    nxt = [list(range(n)) for _ in range(n)]
    stack, seq = [0], []
    while stack:
        v = stack[-1]
        if nxt[v]:
            stack.append(nxt[v].pop())
        else:
            seq.append(stack.pop())
    return seq[::-1]


def layouts():
    """Column layouts (lists of TYPES indexes): the Eulerian sequence over
    PAIRWISE cut into tables of COLS columns, consecutive tables sharing a
    type, then EXTRA_LAYOUTS."""
    seq = [PAIRWISE[k] for k in euler_sequence(len(PAIRWISE))]
    out = []
    for start in range(0, len(seq) - 1, COLS - 1):
        out.append(seq[start:start + COLS])
    return out + EXTRA_LAYOUTS


def select_expr(kind, col, minimal):
    if kind == "int":
        return "%s+0" % col
    if kind == "text":
        return "CAST(%s AS CHAR)" % col
    if kind == "float":
        return "CAST(%s AS DOUBLE)" % col  # exact; plain SELECT rounds to 6 digits
    if kind in ("str", "double"):
        return col
    if kind == "bin":
        return "HEX(%s)" % col
    if kind == "enum":
        # SET+0 of a 64-member SET is a signed BIGINT in SELECT: cast it.
        return "CAST(%s+0 AS UNSIGNED)" % col if minimal else "CAST(%s AS CHAR)" % col
    if kind == "fbt":
        # Both forms, split by expected(); NULL stays NULL.
        return "CONCAT(HEX(CAST(%s AS BINARY(16))), ' ', %s)" % (col, col)
    raise AssertionError(kind)


def expected(kind, v):
    if v is None:
        return None
    if kind == "int":
        return int(v)
    if kind == "bin":
        return _b(v)
    if kind == "fbt":
        hexstr, text = v.split(" ")
        n = 4 if "." in text and ":" not in text else 16  # INET4 text is a dotted quad
        return {"bin": _b(hexstr[:2 * n]), "text": text}
    if kind in ("float", "double"):
        return float(v)
    return v


def same(kind, want, got):
    if want is None or got is None:
        return want is None and got is None
    if kind == "float":
        if not isinstance(got, (int, float)):
            return False
        return _float32(want) == _float32(got)
    if kind == "double":
        return isinstance(got, (int, float)) and math.isclose(want, got, rel_tol=1e-15)
    if isinstance(want, int) and not isinstance(want, bool):
        return isinstance(got, int) and not isinstance(got, bool) and want == got
    return want == got


def build(m, nullable):
    """Creates and fills the tables of one variant; returns
    {table: (type indexes, snapshot after inserts, snapshot after updates,
    updated ids, deleted ids)}."""
    variant = "n" if nullable else "nn"
    tables = {}
    sql = ["SET SESSION sql_mode='', time_zone='+00:00';", "USE %s;" % DB]
    for k, lay in enumerate(layouts()):
        name = "t_%s_%d" % (variant, k)
        cols = ["id INT NOT NULL PRIMARY KEY"]
        for j, ti in enumerate(lay):
            cols.append("c%d %s %s" % (j, TYPES[ti][1], "NULL" if nullable else "NOT NULL"))
        sql.append("CREATE TABLE %s (%s) ENGINE=MyISAM DEFAULT CHARSET=utf8mb4;"
                   % (name, ", ".join(cols)))

        def row_values(r, lay=lay):
            vals = []
            for j, ti in enumerate(lay):
                vs = TYPES[ti][3]
                if nullable and (r + j) % 4 == 0:
                    vals.append("NULL")
                else:
                    vals.append(vs[(r + j) % len(vs)])
            return vals

        sql.append("INSERT INTO %s VALUES %s;" % (name, ",".join(
            "(%d,%s)" % (r + 1, ",".join(row_values(r))) for r in range(ROWS))))
        tables[name] = (lay, row_values)
    return tables, sql


def snapshot(m, name, lay, minimal):
    exprs = ["id"] + [select_expr(TYPES[ti][2], "c%d" % j, minimal) for j, ti in enumerate(lay)]
    c = m.root_conn(init_command="SET time_zone='+00:00'")
    try:
        with c.cursor() as cur:
            cur.execute("SELECT %s FROM %s.%s ORDER BY id" % (", ".join(exprs), DB, name))
            rows = cur.fetchall()
    finally:
        c.close()
    out = {}
    for row in rows:
        out[row[0]] = [expected(TYPES[ti][2], row[j + 1]) for j, ti in enumerate(lay)]
    return out


def run_workload(m, minimal):
    m.query("CREATE DATABASE %s" % DB)
    all_tables = {}
    sql = []
    for nullable in (True, False):
        tables, s = build(m, nullable)
        all_tables.update(tables)
        sql += s
    m.client("\n".join(sql) + "\n")
    before = {t: snapshot(m, t, lay, minimal) for t, (lay, _) in all_tables.items()}
    # With the schema history ENUM/SET are names on MINIMAL servers too.
    before_n = {t: snapshot(m, t, lay, False) for t, (lay, _) in all_tables.items()}
    # Updates: row r takes the values of row r+1 (ids 1..ROWS-1); deletes:
    # the rows with even ids.
    sql = ["SET SESSION sql_mode='', time_zone='+00:00';", "USE %s;" % DB]
    for t, (lay, row_values) in all_tables.items():
        for r in range(ROWS - 1):
            sets = ", ".join("c%d=%s" % (j, v) for j, v in enumerate(row_values(r + 1)))
            sql.append("UPDATE %s SET %s WHERE id=%d;" % (t, sets, r + 1))
    m.client("\n".join(sql) + "\n")
    after = {t: snapshot(m, t, lay, minimal) for t, (lay, _) in all_tables.items()}
    after_n = {t: snapshot(m, t, lay, False) for t, (lay, _) in all_tables.items()}
    sql = ["USE %s;" % DB] + ["DELETE FROM %s WHERE id %% 2 = 0;" % t for t in all_tables]
    m.client("\n".join(sql) + "\n")
    m.query("FLUSH BINARY LOGS")
    return {t: lay for t, (lay, _) in all_tables.items()}, before, after, before_n, after_n


def values_of(image, lay, names_known):
    """The image's values in column order (id first); keys are the column
    names, or "@1".. when the names are unknown."""
    if names_known:
        keys = ["id"] + ["c%d" % j for j in range(len(lay))]
    else:
        keys = ["@%d" % (j + 1) for j in range(len(lay) + 1)]
    assert set(image) == set(keys), sorted(image)
    return [image[k] for k in keys]


def check(recs, layouts_, before, after, names_known, where, fbt_text=False):
    rows = [r for r in recs if r["op"] in ("insert", "update", "delete") and r["db"] == DB]
    by_table = {}
    for r in rows:
        by_table.setdefault(r["table"], []).append(r)
    assert set(by_table) == set(layouts_), "%s: tables with rows differ" % where
    bad = []
    for t, lay in layouts_.items():
        ops = [r["op"] for r in by_table[t]]
        n_upd, n_del = ROWS - 1, ROWS // 2
        assert ops == ["insert"] * ROWS + ["update"] * n_upd + ["delete"] * n_del, (where, t, ops)

        def cmp(image, snap, label):
            vals = values_of(image, lay, names_known)
            rid = vals[0]
            for j, ti in enumerate(lay):
                kind = TYPES[ti][2]
                want, got = snap[rid][j], vals[j + 1]
                if kind == "fbt" and want is not None:
                    want = want["text" if fbt_text else "bin"]
                if not same(kind, want, got):
                    prev = TYPES[lay[j - 1]][0] if j else "id"
                    bad.append("%s %s.%s id=%s c%d %s (after %s) %s: SELECT %r, decoded %r"
                               % (where, t, label, rid, j, TYPES[ti][0], prev, label, want,
                                  got))

        for r in by_table[t]:
            if r["op"] == "insert":
                cmp(r["after"], before[t], "insert")
            elif r["op"] == "update":
                cmp(r["before"], before[t], "update.before")
                cmp(r["after"], after[t], "update.after")
            else:
                cmp(r["before"], after[t], "delete")
    assert not bad, "%d mismatches, first ones:\n%s" % (len(bad), "\n".join(bad[:40]))


def test_every_pair_is_generated():
    n = len(PAIRWISE)
    assert len(euler_sequence(n)) == n * n + 1
    pairs = set()
    for lay in layouts():
        pairs.update(zip(lay, lay[1:]))
    assert pairs >= {(a, b) for a in PAIRWISE for b in PAIRWISE}
    assert {i for lay in layouts() for i in lay} == set(range(len(TYPES)))


@pytest.mark.parametrize("mariadb", ["FULL", "MINIMAL"], indirect=True)
def test_types_pairwise(mariadb):
    m = mariadb
    minimal = m.metadata == "MINIMAL"
    first = m.binlogs()[0][0]
    layouts_, before, after, before_n, after_n = run_workload(m, minimal)

    # Offline: every binlog file, in order, as one stream of records.
    recs = []
    for name, _ in m.binlogs()[:-1]:
        recs += parse_json_lines(run_oxbow("decode", m.binlog_path(name)).stdout)
    check(recs, layouts_, before, after, names_known=not minimal, where="decode")

    # Live: names come from information_schema when TABLE_MAP has none.
    r = run_oxbow("capture", "--host", m.host, "--port", m.port, "--user", m.user,
                  "--server-id", 4343, "--from-file", first, "--from-pos", 4, "--until-end",
                  env={"OX_SOURCE_PASSWORD": m.password}, timeout=300)
    check(parse_json_lines(r.stdout), layouts_, before, after, names_known=True,
          where="capture")

    # The store's path: the schema history knows INET6/UUID/INET4 and the
    # rows show them as SELECT does.
    r = run_oxbow("capture", "--host", m.host, "--port", m.port, "--user", m.user,
                  "--server-id", 4344, "--from-file", first, "--from-pos", 4, "--until-end",
                  "--schema-dir", os.path.join(m.dir, "oxhist"),
                  env={"OX_SOURCE_PASSWORD": m.password}, timeout=300)
    check(parse_json_lines(r.stdout), layouts_, before_n, after_n, names_known=True,
          where="capture --schema-dir", fbt_text=True)
