"""A binlog workload that covers every MariaDB column type.

Used by test_binlog_diff.py (oxbow vs mariadb-binlog) and
test_binlog_apply.py (apply the decoded stream, compare CHECKSUM TABLE).

Everything lives in database `dt`. The workload runs with sql_mode='' (zero
dates allowed) and time_zone='+00:00'. It has multi-row INSERTs (several rows
per rows event), multi-row UPDATEs and DELETEs, NULLs in every column,
extremes of every integer width, FLOAT/DOUBLE, DECIMALs of several
precisions including negatives, YEAR, DATE, TIME/DATETIME/TIMESTAMP with
fractional precision 0..6 and zero dates, utf8mb4 text with emoji, latin1
text, empty strings, binary strings and BLOBs including a 1 MiB blob, ENUM,
SET, BIT(1..64), JSON (MariaDB: text), GEOMETRY, and DDL in the middle of the
stream (ALTER TABLE ADD COLUMN / DROP COLUMN, then more rows).
"""

DB = "dt"

# ENUM/SET definitions by (table, column): mariadb-binlog prints indexes and
# bitmasks, oxbow prints names when TABLE_MAP metadata has them.
ENUMS = {("st", "e"): ["a", "b", "c"], ("st", "e2"): ["x-ray", "yankee", "😀"]}
SETS = {("st", "s"): ["x", "y", "z"], ("st", "s64"): ["m%d" % i for i in range(64)]}

INT_TYPES = [("ti", "TINYINT", -128, 127, 255), ("si", "SMALLINT", -32768, 32767, 65535),
             ("mi", "MEDIUMINT", -8388608, 8388607, 16777215),
             ("ii", "INT", -2147483648, 2147483647, 4294967295),
             ("bi", "BIGINT", -9223372036854775808, 9223372036854775807, 18446744073709551615)]

DECIMALS = [(1, 0), (5, 2), (10, 4), (18, 9), (19, 0), (20, 10), (38, 10), (65, 30), (65, 0),
            (10, 10)]


def _sql_str(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "''") + "'"


def _dec_values(p, s):
    """Max, min, a small negative and zero for DECIMAL(p,s), as SQL text."""
    ip = p - s
    mx = ("9" * ip if ip else "0") + ("." + "9" * s if s else "")
    small = ("-0." + "0" * (s - 1) + "1") if s else "-1"
    mid = ("-" + ("12345678901234567890123456789012345678901234567890123456789012345"[:ip] or "0")
           + ("." + "98765432109876543210987654321098765432109876543210"[:s] if s else ""))
    return [mx, "-" + mx, small, "0", mid]


def statements():
    """The workload as a list of SQL statements (run in order, one session)."""
    st = ["SET sql_mode=''", "SET time_zone='+00:00'", "CREATE DATABASE " + DB, "USE " + DB]

    # Integers of every width, signed and unsigned.
    cols = ", ".join("%s %s, %su %s UNSIGNED" % (n, t, n, t) for n, t, *_ in INT_TYPES)
    st.append("CREATE TABLE ints (id INT PRIMARY KEY, %s) ENGINE=InnoDB" % cols)
    rows = []
    for rid, pick in ((1, "min"), (2, "max"), (3, "zero"), (4, "minus1"), (5, "null")):
        vals = []
        for n, t, lo, hi, uhi in INT_TYPES:
            if pick == "min":
                vals += [str(lo), "0"]
            elif pick == "max":
                vals += [str(hi), str(uhi)]
            elif pick == "zero":
                vals += ["0", "0"]
            elif pick == "minus1":
                vals += ["-1", "1"]
            else:
                vals += ["NULL", "NULL"]
        rows.append("(%d, %s)" % (rid, ", ".join(vals)))
    st.append("INSERT INTO ints VALUES " + ", ".join(rows))

    # FLOAT, DOUBLE, DECIMALs.
    dcols = ", ".join("d%d_%d DECIMAL(%d,%d)" % (p, s, p, s) for p, s in DECIMALS)
    st.append("CREATE TABLE nums (id INT PRIMARY KEY, f FLOAT, d DOUBLE, %s) ENGINE=InnoDB"
              % dcols)
    floats = [("3.14159", "2.718281828459045"), ("-3.4028234e38", "-1.7976931348623157e308"),
              ("1.17549435e-38", "2.2250738585072014e-308"), ("0", "0.1"),
              ("123456.7", "-1e-300")]
    decs = [_dec_values(p, s) for p, s in DECIMALS]
    rows = []
    for i in range(5):
        f, d = floats[i]
        rows.append("(%d, %s, %s, %s)" % (i + 1, f, d, ", ".join(_sql_str(decs[k][i])
                                                                   for k in range(len(DECIMALS)))))
    rows.append("(6, NULL, NULL, %s)" % ", ".join("NULL" for _ in DECIMALS))
    st.append("INSERT INTO nums VALUES " + ", ".join(rows))

    # Temporal types with every fractional precision, and zero dates.
    tcols = ["y YEAR", "dd DATE"]
    tcols += ["t%d TIME(%d)" % (n, n) for n in range(7)]
    tcols += ["dt%d DATETIME(%d)" % (n, n) for n in range(7)]
    tcols += ["ts%d TIMESTAMP(%d) NULL DEFAULT NULL" % (n, n) for n in range(7)]
    st.append("CREATE TABLE tm (id INT PRIMARY KEY, %s) ENGINE=InnoDB" % ", ".join(tcols))

    def trow(rid, y, d, t, dt, ts):
        frac = "123456"
        vals = [y, d]
        for n in range(7):
            vals.append(t if t in ("NULL",) else "'%s%s'" % (t, ("." + frac[:n]) if n else ""))
        for n in range(7):
            vals.append(dt if dt == "NULL" else "'%s%s'" % (dt, ("." + frac[:n]) if n else ""))
        for n in range(7):
            vals.append(ts if ts == "NULL" else "'%s%s'" % (ts, ("." + frac[:n]) if n else ""))
        return "(%d, %s)" % (rid, ", ".join(vals))

    st.append("INSERT INTO tm VALUES " + ", ".join([
        trow(1, "2021", "'2021-02-03'", "12:34:56", "2021-02-03 04:05:06", "2021-02-03 04:05:06"),
        trow(2, "1901", "'1000-01-01'", "-838:59:58", "1000-01-01 00:00:00",
             "1970-01-01 00:00:01"),
        trow(3, "2155", "'9999-12-31'", "838:59:58", "9999-12-31 23:59:59",
             "2038-01-19 03:14:06"),
        trow(4, "0", "'0000-00-00'", "00:00:00", "0000-00-00 00:00:00", "0000-00-00 00:00:00"),
        trow(5, "NULL", "NULL", "NULL", "NULL", "NULL"),
        trow(6, "1999", "'2000-02-29'", "-00:00:01", "2000-02-29 12:00:00",
             "2000-02-29 12:00:00"),
    ]))

    # Strings, binaries, ENUM, SET, BIT, JSON, GEOMETRY.
    st.append(
        "CREATE TABLE st (id INT PRIMARY KEY, c CHAR(10), v VARCHAR(300), "
        "t TEXT, tt TINYTEXT, mt MEDIUMTEXT, lt LONGTEXT, "
        "l1 VARCHAR(50) CHARACTER SET latin1, l1t TEXT CHARACTER SET latin1, "
        "b BINARY(8), vb VARBINARY(100), tb TINYBLOB, bb BLOB, mb MEDIUMBLOB, lb LONGBLOB, "
        "e ENUM('a','b','c'), e2 ENUM('x-ray','yankee','😀'), s SET('x','y','z'), "
        "s64 SET(%s), bt1 BIT(1), bt8 BIT(8), bt17 BIT(17), bt64 BIT(64), j JSON, g GEOMETRY"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" % ", ".join("'m%d'" % i for i in range(64)))
    allbytes = "X'" + "".join("%02X" % i for i in range(256)) + "'"
    st.append(
        "INSERT INTO st VALUES "
        "(1, 'ab', 'it''s \"q\" \\\\ 😀🎉 漢字', 'text\\nwith\\ttabs', 'tiny', 'medium', 'long', "
        "'café ñ ü', 'Grüße ÿ', X'0001020304', X'00FF0A27', X'DEADBEEF', " + allbytes + ", "
        "X'00', X'01', 'b', '😀', 'x,z', 'm0,m63', 1, 255, 65537, 18446744073709551615, "
        "'{\"a\": [1, 2.5, \"x\"], \"b\": null}', ST_GeomFromText('POINT(1 2)')), "
        "(2, '', '', '', '', '', '', '', '', '', X'', X'', X'', X'', X'', '', 'x-ray', '', '', "
        "0, 0, 0, 0, '[]', ST_GeomFromText('LINESTRING(0 0, 1 1, 2 5)')), "
        "(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
        "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), "
        "(4, 'x', REPEAT('é', 300), REPEAT('😀', 1000), REPEAT('t', 255), REPEAT('m', 70000), "
        "REPEAT('l', 100000), REPEAT('ÿ', 50), 'x', X'FFFFFFFFFFFFFFFF', REPEAT(X'00', 100), "
        "REPEAT(X'AB', 255), REPEAT(X'CD', 65535), REPEAT(X'EF', 70000), X'', 'c', 'yankee', "
        "'x,y,z', 'm1,m2,m62', 0, 128, 131071, 9223372036854775808, '\"just a string\"', "
        "ST_GeomFromText('POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))'))")
    # A 1 MiB blob containing every byte value.
    st.append("INSERT INTO st (id, lb, v) VALUES (5, REPEAT(%s, 4096), 'one MiB')" % allbytes)

    # A table without a primary key, and a bigger multi-row insert.
    st.append("CREATE TABLE nopk (a INT, b VARCHAR(20), c DOUBLE) ENGINE=InnoDB")
    st.append("INSERT INTO nopk VALUES " + ", ".join(
        "(%d, 'row %d', %d.25)" % (i % 7, i, i) for i in range(200)))

    # Multi-row updates and deletes, including NULL <-> value.
    st += [
        "BEGIN",
        "UPDATE ints SET tiu = tiu + 1, biu = 42 WHERE id IN (3, 4)",
        "UPDATE nums SET f = -f, d = d / 2 WHERE id <= 3",
        "UPDATE tm SET t6 = '-12:00:00.000001', ts6 = '2001-01-01 00:00:00.999999' WHERE id >= 5",
        "UPDATE st SET v = 'new\nline', e = 'c', s = '', g = NULL WHERE id = 1",
        "UPDATE st SET c = 'filled', bt64 = 1 WHERE id = 3",
        "UPDATE nopk SET b = CONCAT(b, '!') WHERE a = 3",
        "COMMIT",
        "DELETE FROM ints WHERE id = 2",
        "DELETE FROM nopk WHERE a >= 5",
    ]

    # DDL in mid-stream, then more rows in the changed tables.
    st += [
        "ALTER TABLE st ADD COLUMN extra INT NOT NULL DEFAULT 7 AFTER c",
        "INSERT INTO st (id, c, extra, v, e) VALUES (6, 'after add', -5, 'added', 'a'), "
        "(7, 'two', 8, NULL, NULL)",
        "UPDATE st SET extra = extra + 100 WHERE id IN (1, 6)",
        "ALTER TABLE st DROP COLUMN l1t, DROP COLUMN tt",
        "INSERT INTO st (id, c, v, l1) VALUES (8, 'after drop', 'dropped', 'àé')",
        "UPDATE st SET l1 = 'ü' WHERE id = 8",
        "DELETE FROM st WHERE id IN (2, 7)",
        "ALTER TABLE nums ADD COLUMN note VARCHAR(10) FIRST",
        "INSERT INTO nums (id, note, f, d) VALUES (7, 'first', 1.5, 2.5)",
        "DELETE FROM nums WHERE id = 6",
    ]
    return st


def sql_text():
    """The workload as one script for the mariadb client."""
    return ";\n".join(statements()) + ";\n"


TABLES = ["ints", "nums", "tm", "st", "nopk"]
