"""MariaDB's INET6, INET4 and UUID through a real `oxbow store` (issue 8):
the binlog calls them BINARY(16)/BINARY(4), the schema history knows their
type (from information_schema for tables that exist when the store starts,
from CREATE/ALTER TABLE for later ones), and the served rows show them
exactly as SELECT does, with FULL and MINIMAL row metadata. A plain
BINARY(16) next to them stays {"base64": ...}. The store's /v1/status
counts no schema mismatch and no unknown schema."""

import base64
import json
import time

import pytest

from oxtest_store import Store, Subscription

# Values whose text forms exercise MariaDB's INET6 printing: a one-group
# zero run is compressed, the first of two equal runs wins, IPv4-compatible
# and IPv4-mapped addresses end in a dotted quad unless the zero run is
# longer ("::1", "::1:0:0").
INET6 = ["::1", "2001:db8::ff00:42:8329", "::ffff:1.2.3.4", "::", "1::", "::1.2.3.4",
         "1:0:0:2:0:0:0:3", "::2:3:4:5:6:7:8", "0:0:1::", "1:0:2:3:4:5:6:7",
         "1:0:0:2:0:0:3:4", "::0.1.0.0", "::ffff:0.0.0.0", "0:0:0:0:0:1:0:0",
         "::1:2:3:4:5:6:7", "FFFF:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::1:0:0:0"]
# Time-based (version 1), other versions and variants, nil and max.
UUID = ["123e4567-e89b-12d3-a456-426614174000", "00000000-0000-0000-0000-000000000000",
        "12345678-1234-7234-9234-123456789a00", "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "12345678-1234-1234-9234-123456789abc", "12345678-1234-0234-9234-123456789abc",
        "12345678-1234-4234-c234-123456789ABC", "00000000-0000-0000-0000-000000000001",
        "6ccd780c-baba-1026-9564-5b8c656024db"]
INET4 = ["1.2.3.4", "0.0.0.0", "255.255.255.255", "10.0.0.1", "192.168.100.200"]


class Rows:
    """DML on the source, and the row each must be served as (SELECT's)."""

    def __init__(self, db):
        self.conn = db.root_conn()
        self.expected = []

    def run(self, sql, args=None):
        with self.conn.cursor() as cur:
            cur.execute(sql, args)

    def row(self, table, rid):
        with self.conn.cursor() as cur:
            cur.execute("SELECT * FROM fx.`%s` WHERE id = %%s" % table, (rid,))
            names = [d[0] for d in cur.description]
            rows = cur.fetchall()
        assert len(rows) == 1
        return {n: {"base64": base64.b64encode(v).decode()} if isinstance(v, bytes) else v
                for n, v in zip(names, rows[0])}

    def ins(self, table, rid, **vals):
        cols = ["id"] + list(vals)
        self.run("INSERT INTO fx.`%s` (%s) VALUES (%s)" % (table, ",".join(cols),
                                                         ",".join(["%s"] * len(cols))),
                 [rid] + list(vals.values()))
        self.expected.append((table, "insert", None, self.row(table, rid)))

    def upd(self, table, rid, **vals):
        before = self.row(table, rid)
        self.run("UPDATE fx.`%s` SET %s WHERE id = %%s"
                 % (table, ",".join("%s = %%s" % k for k in vals)), list(vals.values()) + [rid])
        self.expected.append((table, "update", before, self.row(table, rid)))

    def dele(self, table, rid):
        before = self.row(table, rid)
        self.run("DELETE FROM fx.`%s` WHERE id = %%s" % table, (rid,))
        self.expected.append((table, "delete", before, None))


def read_until(port, table, timeout=90):
    sub = Subscription(port, "from=earliest", timeout=60)
    assert sub.status == 200, sub.error
    recs = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r = sub.next(timeout=30)
            assert r is not None, "no record; last %s" % recs[-3:]
            recs.append(r)
            if r.get("op") == "insert" and r.get("table") == table:
                return recs
        raise AssertionError("no insert into %s; last %s" % (table, recs[-3:]))
    finally:
        sub.close()


@pytest.mark.parametrize("mariadb", ["FULL", "MINIMAL"], indirect=True)
def test_inet6_uuid_inet4_as_select(mariadb):
    w = Rows(mariadb)
    w.run("CREATE DATABASE fx")
    # Known from information_schema when the store starts.
    w.run("CREATE TABLE fx.pre (id INT PRIMARY KEY, i INET6, u UUID, i4 INET4, b BINARY(16))")
    s = Store(mariadb)
    try:
        s.start()
        n = max(len(INET6), len(UUID), len(INET4))
        for k in range(n):
            w.ins("pre", k + 1, i=INET6[k % len(INET6)], u=UUID[k % len(UUID)],
                  i4=INET4[k % len(INET4)], b=bytes([k]) * 3)
        w.ins("pre", 100, i=None, u=None, i4=None, b=None)
        w.upd("pre", 1, i="::2", u=UUID[2])
        w.dele("pre", 2)
        # Known from the DDL the history reads.
        w.run("CREATE TABLE fx.post (id INT PRIMARY KEY, u UUID NOT NULL, i INET6 NOT NULL)")
        for k in range(len(INET6)):
            w.ins("post", k + 1, u=UUID[k % len(UUID)], i=INET6[k])
        w.run("ALTER TABLE fx.post ADD COLUMN a4 INET4 AFTER id, ADD COLUMN i2 INET6 FIRST")
        w.ins("post", 50, a4="9.8.7.6", i2="::ffff:9.8.7.6", u=UUID[0], i="1::")
        w.upd("post", 3, a4="1.1.1.1", i2="a:b::c")
        w.run("CREATE TABLE fx.fin (id INT PRIMARY KEY)")
        w.run("INSERT INTO fx.fin VALUES (1)")
        recs = read_until(s.port, "fin")
        rows = [r for r in recs if r.get("op") in ("insert", "update", "delete")
                and r.get("table") != "fin"]
        got = [(r["table"], r["op"], r.get("before"), r.get("after")) for r in rows]
        assert not [r for r in rows if r.get("schema")], rows[:3]
        for i, (g, e) in enumerate(zip(got, w.expected)):
            assert g == e, "%s row %d:\n got      %s\n expected %s" % (mariadb.metadata, i, g, e)
        assert len(got) == len(w.expected)
        # Spot checks of the text forms against what SELECT printed above.
        pre1 = [e for e in w.expected if e[0] == "pre" and e[1] == "insert"]
        assert pre1[1][3]["i"] == "2001:db8::ff00:42:8329"
        assert pre1[9][3]["i"] == "1::2:3:4:5:6:7"
        assert pre1[0][3]["u"] == "123e4567-e89b-12d3-a456-426614174000"
        st = s.status()
        assert st["schemaMismatches"] == 0 and st["schemaUnknown"] == 0, st
    finally:
        s.cleanup()
