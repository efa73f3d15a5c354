"""Every built-in PostgreSQL type through a PostgreSQL store: each record's
values equal the source's SELECT (text forms under the session settings the
source uses, docs/records.md), and applying the stream to a second
PostgreSQL reproduces the table (compared with a checksum query). Also:
unchanged TOASTed values are marked unchanged, before images follow
REPLICA IDENTITY, and TRUNCATE arrives as a ddl record."""

import base64
import json
import os
import time
from decimal import Decimal

import psycopg2
import pytest

from oxtest_pg import wait_ready
from oxtest_store import Store, rows_only

SETTINGS = ("-c datestyle=ISO,YMD -c intervalstyle=postgres -c timezone=UTC "
            "-c extra_float_digits=1 -c bytea_output=hex")

SCHEMA = [
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
    "CREATE DOMAIN posint AS int CHECK (VALUE > 0)",
    "CREATE TYPE comp AS (a int, b text)",
    """CREATE TABLE ty (id int PRIMARY KEY, c_i2 int2, c_i4 int4, c_i8 int8, c_num numeric,
       c_num2 numeric(20,5), c_f4 float4, c_f8 float8, c_money money, c_text text,
       c_vc varchar(10), c_ch char(5), c_bytea bytea, c_bool bool, c_date date, c_time time,
       c_timetz timetz, c_ts timestamp, c_tstz timestamptz(3), c_iv interval, c_uuid uuid,
       c_json json, c_jsonb jsonb, c_xml xml, c_inet inet, c_cidr cidr, c_mac macaddr,
       c_mac8 macaddr8, c_bit bit(4), c_vbit varbit, c_arr int[], c_tarr text[],
       c_range int4range, c_tsrange tstzrange, c_mrange int4multirange, c_enum mood,
       c_dom posint, c_comp comp, c_tsv tsvector, c_point point, c_box box, c_circle circle,
       c_line line, c_lseg lseg, c_path path, c_poly polygon, c_oid oid)""",
]

ROWS = [
    """(1, 1, -2147483648, 9223372036854775807, 123.456, -0.00001, 1.5, 0.1, 1234.56, 'héllo',
        'abc', 'ab', '\\x00ff10', true, '2024-02-29', '23:59:59.999999', '12:00:00+05:30',
        '2024-01-02 03:04:05.678901', '2024-01-02 03:04:05.678+02', '1 year 2 mons 3 days 04:05:06.7',
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"b": 1,  "a": [1, 2.50]}',
        '{"b": 1, "a": [1, 2.50], "n": null}', '<a>x</a>', '192.168.0.1/24', '10.0.0.0/8',
        '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05', B'1010', B'101', '{1,2,3}',
        '{"a b","c,d",NULL,""}', '[1,10)', '[2024-01-01 00:00+00,infinity)', '{[1,3),[5,7)}',
        'happy', 7, '(1,"x y")', 'a fat cat', '(1.5,2)', '((0,0),(1,1))', '<(0,0),1>',
        '{1,-1,0}', '[(0,0),(1,1)]', '((0,0),(1,1),(2,0))', '((0,0),(1,1),(1,0))', 42)""",
    """(2, -32768, 0, -9223372036854775808, 'NaN', 99999999999999.99999, 'NaN', '-Infinity',
        -0.01, E'quote\\" back\\\\ nl\\n tab\\t \\u00e9 \\U0001F600', '', '     ', '\\x',
        false, 'infinity', '00:00', '00:00:00-14', '-infinity', 'infinity', '-178000000 years',
        '00000000-0000-0000-0000-000000000000', '[]', '{}', '', '::1', '::/0',
        'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00:00:00', B'0000', B'', '{{1,NULL},{3,4}}',
        '{}', 'empty', '(,)', '{}', 'sad', 1, '(,)', '', '(-1e+300,1e-300)', '((1,1),(1,1))',
        '<(1,1),0>', '{0,1,0}', '[(1,1),(2,2)]', '[(0,0)]', '((0,0))', 0)""",
    "(3" + ", NULL" * 46 + ")",
    """(4, 1, 1, 1, 'Infinity', 0, 'Infinity', 1e308, 0, 'x', 'x', 'x', '\\x01', true,
        '0001-01-01 BC', '24:00:00', '24:00:00+1559', '294276-12-31 23:59:59.999999',
        '-infinity', '-1 days -00:00:01', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '1e400',
        '[1e400, 0.000000000000000000001]', '<?xml version="1.0"?><a/>', '255.255.255.255',
        '0.0.0.0/0', '00:00:00:00:00:01', 'ff:ff:ff:ff:ff:ff:ff:ff', B'1111', B'1',
        '{{{1}}}', '{"\\\\","\\""}', '[-2147483648,2147483647)', '("2024-01-01 00:00+00",)',
        '{(,5),[7,)}', 'ok', 2147483647, '(-1,"")', '''x y'':2A,3B', '(0,-0)',
        '((-1,-1),(1,1))', '<(0,0),1e+300>', '{1,1,1}', '[(-1,0),(1,0)]', '[(0,0),(1,1)]',
        '((0,0),(0,1),(1,1),(1,0))', 4294967295)""",
]

# How each type's JSON relates to the text (docs/records.md).
NUMBER = {"smallint", "integer", "bigint", "oid"}
FLOAT = {"real", "double precision"}


def expected(typ, text):
    if text is None:
        return None
    if typ in NUMBER:
        return int(text)
    if typ in FLOAT:
        if text in ("NaN", "Infinity", "-Infinity"):
            return text
        return Decimal(text)  # the record's number text is the server's, exactly
    if typ == "boolean":
        return text in ("t", "true")
    if typ == "bytea":
        return {"base64": base64.b64encode(bytes.fromhex(text[2:])).decode()}
    if typ == "jsonb":
        return json.loads(text, parse_float=Decimal)
    return text


def dump_json(v):
    """JSON text with Decimal numbers written exactly."""
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, list):
        return "[" + ",".join(dump_json(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k) + ":" + dump_json(x) for k, x in v.items()) + "}"
    return json.dumps(v)


def to_text(typ, v):
    """A record value back to input text for the column type."""
    if v is None:
        return None
    if typ == "boolean":
        return "true" if v else "false"
    if typ == "bytea":
        return "\\x" + base64.b64decode(v["base64"]).hex()
    if typ == "jsonb":
        return dump_json(v)
    if typ in FLOAT and isinstance(v, float):
        return repr(v)
    return str(v)


def make_schema(pg, dbname="postgres"):
    for s in SCHEMA:
        pg.query(s, dbname=dbname)


def columns(pg):
    return pg.query("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                    "WHERE attrelid = 'ty'::regclass AND attnum > 0 ORDER BY attnum")


def select_text(pg, cols):
    c = psycopg2.connect(host=pg.host, port=pg.port, user="postgres", dbname="postgres",
                         options=SETTINGS)
    try:
        cur = c.cursor()
        # The output function, as SELECT shows it (concat calls it; a cast
        # to text would drop char(n) padding and show inet masks).
        exprs = ["CASE WHEN num_nulls(%s) = 1 THEN NULL ELSE concat(%s) END" % (n, n)
                 for n, t in cols]
        cur.execute("SELECT %s FROM ty ORDER BY id" % ", ".join(exprs))
        return cur.fetchall()
    finally:
        c.close()


def checksum(pg):
    return pg.query("SELECT md5(string_agg(ty::text, '|' ORDER BY id)) FROM ty")[0][0]


def raw_records(sub, n, timeout=30):
    """n records parsed with exact decimals (jsonb numbers)."""
    out = []
    sub.conn.sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    while len(out) < n:
        # Keepalive lines keep the socket busy: bound the wait ourselves.
        assert time.monotonic() < deadline, "got %d of %d records: %s" % (len(out), n, out[-2:])
        line = sub.resp.readline()
        assert line, "stream ended after %d records" % len(out)
        if line.strip():
            out.append(json.loads(line, parse_float=Decimal))
    return out


def pg_store(pg, **keys):
    pg.password = ""
    return Store(pg, source__type="postgresql", source__database="postgres", **keys)


def test_type_workload(postgres_factory):
    src = postgres_factory()
    dst = postgres_factory()
    make_schema(src)
    make_schema(dst)
    st = pg_store(src).start()
    try:
        wait_ready(st, src)
        for r in ROWS:
            src.query("INSERT INTO ty VALUES " + r)
        src.query("UPDATE ty SET c_text = 'changed', c_f8 = 'NaN' WHERE id = 1")
        cols = columns(src)
        types = dict(cols)
        want = select_text(src, cols)
        sub = st.subscribe("from=earliest")
        assert sub.status == 200, sub.error
        recs = raw_records(sub, 2 * len(ROWS) + 2)
        rows = rows_only(recs)
        assert [r["op"] for r in rows] == ["insert"] * len(ROWS) + ["update"]
        final = {}
        for r in rows:
            final[r["after"]["id"]] = r["after"]
        for wrow in want:
            got = final[int(wrow[0])]
            for (name, typ), text in zip(cols, wrow):
                assert got[name] == expected(typ, text), (name, typ, text, got[name])
        # Apply the stream to the second server and compare checksums.
        dc = dst.conn()
        cur = dc.cursor()
        for r in rows:
            a = r["after"]
            names = [n for n in a]
            if r["op"] == "insert":
                cur.execute("INSERT INTO ty (%s) VALUES (%s)" % (
                    ", ".join(names), ", ".join("%%s::%s" % types[n] for n in names)),
                    [to_text(types[n], a[n]) for n in names])
            else:
                sets = [n for n in names if n != "id"]
                cur.execute("UPDATE ty SET %s WHERE id = %%s" % ", ".join(
                    "%s = %%s::%s" % (n, types[n]) for n in sets),
                    [to_text(types[n], a[n]) for n in sets] + [r["before"]["id"]])
        dc.close()
        diff = [(n, a, b) for ra, rb in zip(select_text(src, cols), select_text(dst, cols))
                for (n, _), a, b in zip(cols, ra, rb) if a != b]
        assert not diff
        assert checksum(dst) == checksum(src)
    finally:
        st.cleanup()


def test_toast_identity_truncate(postgres):
    pg = postgres
    pg.query("CREATE TABLE big (id int PRIMARY KEY, n int, doc text)")
    pg.query("ALTER TABLE big ALTER COLUMN doc SET STORAGE EXTERNAL")
    pg.query("CREATE TABLE full_t (id int, v text)")
    pg.query("ALTER TABLE full_t REPLICA IDENTITY FULL")
    pg.query("CREATE TABLE idx_t (id int NOT NULL, k int NOT NULL, v text)")
    pg.query("CREATE UNIQUE INDEX idx_t_k ON idx_t (k)")
    pg.query("ALTER TABLE idx_t REPLICA IDENTITY USING INDEX idx_t_k")
    pg.query("CREATE TABLE none_t (id int PRIMARY KEY, v text)")
    pg.query("ALTER TABLE none_t REPLICA IDENTITY NOTHING")
    st = pg_store(pg).start()
    try:
        wait_ready(st, pg)
        doc = "x" * 100000
        pg.query("INSERT INTO big VALUES (1, 1, %s)", (doc,))
        pg.query("UPDATE big SET n = 2 WHERE id = 1")
        pg.query("INSERT INTO full_t VALUES (1, 'a')")
        pg.query("UPDATE full_t SET v = 'b'")
        pg.query("DELETE FROM full_t")
        pg.query("INSERT INTO idx_t VALUES (1, 10, 'a')")
        pg.query("UPDATE idx_t SET v = 'b'")
        pg.query("UPDATE idx_t SET k = 11")
        pg.query("INSERT INTO none_t VALUES (1, 'a')")
        # REPLICA IDENTITY NOTHING: the source itself refuses updates of a
        # table published for them (documented in docs/pg_capture.md).
        with pytest.raises(psycopg2.Error):
            pg.query("UPDATE none_t SET v = 'b'")
        pg.query("TRUNCATE big, full_t")
        sub = st.subscribe("from=earliest")
        recs = sub.take(21)
        rows = [r for r in recs if r["op"] != "commit"]
        ins, upd = rows[0], rows[1]
        assert ins["after"]["doc"] == doc
        assert upd["after"] == {"id": 1, "n": 2, "doc": {"$unchanged": True}}
        assert upd["before"] == {"id": 1}
        f_ins, f_upd, f_del = rows[2:5]
        assert "pk" not in f_upd
        assert f_upd["before"] == {"id": 1, "v": "a"} and f_upd["after"] == {"id": 1, "v": "b"}
        assert f_del["before"] == {"id": 1, "v": "b"}
        i_ins, i_upd, i_upd2 = rows[5:8]
        assert i_ins["pk"] == ["k"]
        assert i_upd["before"] == {"k": 10}
        assert i_upd2["before"] == {"k": 10} and i_upd2["after"]["k"] == 11
        n_ins = rows[8]
        assert n_ins["after"] == {"id": 1, "v": "a"}
        assert n_ins["pk"] == ["id"]  # NOTHING: the primary key from the catalog
        tr = rows[9:11]
        assert [r["op"] for r in tr] == ["ddl", "ddl"]
        assert sorted(r["sql"] for r in tr) == ['TRUNCATE TABLE "public"."big"',
                                                 'TRUNCATE TABLE "public"."full_t"']
        assert all(r["db"] == "postgres.public" for r in tr)
    finally:
        st.cleanup()
