"""PostgreSQL as a source: a store with source.type=postgresql captures
insert/update/delete/truncate through its own slot and publication, with
exact values, LSN positions, replica identities and resume after restart."""

import time

import pytest

from oxtest_pg import wait_ready
from oxtest_store import Store, rows_only


def pg_store(pg, **keys):
    pg.password = ""  # trust authentication: an empty password file
    keys.setdefault("source__type", "postgresql")
    keys.setdefault("source__database", "postgres")
    return Store(pg, **keys)


def lsn_of(rec):
    return (rec["fileIdx"] << 32) | rec["nextOffset"]


def test_rows_and_positions(postgres):
    pg = postgres
    pg.query("CREATE TABLE t (id int PRIMARY KEY, name text, price numeric(10,2))")
    st = pg_store(pg).start()
    try:
        wait_ready(st, pg)
        slots = pg.query("SELECT slot_name, plugin FROM pg_replication_slots")
        assert slots == [("oxbow_teststore", "pgoutput")]
        pubs = pg.query("SELECT pubname, puballtables FROM pg_publication")
        assert pubs == [("oxbow_teststore", True)]
        pg.query("INSERT INTO t VALUES (1, 'a', 9.5), (2, 'b''\"x', NULL)")
        pg.query("UPDATE t SET name = 'c' WHERE id = 1")
        pg.query("DELETE FROM t WHERE id = 2")
        sub = st.subscribe("from=earliest")
        assert sub.status == 200, sub.error
        recs = sub.take(7)
        ops = [r["op"] for r in recs]
        assert ops == ["insert", "insert", "commit", "update", "commit", "delete", "commit"], ops
        rows = rows_only(recs)
        assert rows[0]["db"] == "postgres.public" and rows[0]["table"] == "t"
        assert rows[0]["pk"] == ["id"]
        assert rows[0]["after"] == {"id": 1, "name": "a", "price": "9.50"}
        assert rows[1]["after"] == {"id": 2, "name": "b'\"x", "price": None}
        assert rows[2]["after"] == {"id": 1, "name": "c", "price": "9.50"}
        assert rows[2]["before"] == {"id": 1}
        assert rows[3]["before"] == {"id": 2}
        commits = [r for r in recs if r["op"] == "commit"]
        # The commit's fileIdx:nextOffset is the commit's end LSN.
        ends = pg.query("SELECT (pg_current_wal_lsn() - '0/0')::bigint")[0][0]
        assert all(0 < lsn_of(c) <= ends for c in commits)
        assert all("xid" in c for c in commits)
        # The slot's lag is visible in the store's status.
        s = st.wait_status(lambda s: "sourceLagBytes" in s, what="sourceLagBytes")
        assert 0 <= s["sourceLagBytes"] < 1 << 30
    finally:
        st.cleanup()


def test_capture_cli(postgres):
    """`oxbow capture --type postgresql` prints the records and confirms the
    slot up to what it printed; a second run resumes from the slot."""
    from oxtest.oxbow import JsonLineReader, spawn_oxbow
    pg = postgres
    pg.query("CREATE TABLE c (id int PRIMARY KEY, v float8)")
    args = ["capture", "--type", "postgresql", "--database", "postgres", "--slot", "cli_slot",
            "--host", pg.host, "--port", pg.port, "--user", "postgres", "--heartbeat-ms", "200"]
    p = spawn_oxbow(*args, "--limit", "3", env={"OX_SOURCE_PASSWORD": ""})
    rd = JsonLineReader(p)
    deadline = time.time() + 30
    while not pg.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = 'cli_slot'"):
        assert time.time() < deadline and p.poll() is None, p.stderr.read()
        time.sleep(0.1)
    pg.query("INSERT INTO c VALUES (1, 'NaN'), (2, 0.1)")
    pg.query("INSERT INTO c VALUES (3, '-Infinity')")
    pg.query("INSERT INTO c VALUES (4, 1e300)")
    m, seen = rd.wait_for(lambda r: r.get("after", {}).get("id") == 3, 30)
    assert m is not None, seen
    assert p.wait(30) == 0
    rows = [r for r in seen if r["op"] == "insert"]
    assert [r["after"] for r in rows] == [{"id": 1, "v": "NaN"}, {"id": 2, "v": 0.1},
                                          {"id": 3, "v": "-Infinity"}]
    # The second run starts at the slot: row 4 (the first run stopped at its
    # limit inside the second transaction, which it had not finished
    # printing as a transaction, so that one comes again).
    p2 = spawn_oxbow(*args, "--limit", "1", env={"OX_SOURCE_PASSWORD": ""})
    rd2 = JsonLineReader(p2)
    m, seen2 = rd2.wait_for(lambda r: r["op"] == "insert", 30)
    assert m is not None and m["after"]["id"] in (3, 4), seen2
    assert p2.wait(30) == 0
    # The walsender of the process that just exited may hold the slot a
    # moment longer.
    deadline = time.time() + 10
    while pg.query("SELECT active FROM pg_replication_slots WHERE slot_name = 'cli_slot'") \
            == [(True,)] and time.time() < deadline:
        time.sleep(0.05)
    pg.query("SELECT pg_drop_replication_slot('cli_slot')")


def test_whitelist_database_schema(postgres):
    """store.whitelist names PostgreSQL tables as database.schema.table."""
    pg = postgres
    pg.query("CREATE TABLE keep (id int PRIMARY KEY)")
    pg.query("CREATE TABLE drop_me (id int PRIMARY KEY)")
    st = pg_store(pg, store__whitelist="postgres.public.keep").start()
    try:
        wait_ready(st, pg)
        # The store's publication publishes just what the list names.
        assert pg.query("SELECT puballtables FROM pg_publication") == [(False,)]
        assert pg.query("SELECT tablename FROM pg_publication_tables") == [("keep",)]
        pg.query("INSERT INTO drop_me VALUES (1)")
        pg.query("INSERT INTO keep VALUES (2)")
        sub = st.subscribe("from=earliest")
        recs = rows_only(sub.take(2))
        assert [(r["table"], r["after"]["id"]) for r in recs] == [("keep", 2)]
    finally:
        st.cleanup()


def test_publication_scope(postgres):
    """Lists a publication cannot express, or naming missing tables, give a
    FOR ALL TABLES publication (the store's filter does the rest)."""
    pg = postgres
    pg.query("CREATE SCHEMA s2")
    pg.query("CREATE TABLE s2.a (id int PRIMARY KEY)")
    for i, (wl, want) in enumerate([
            ("postgres.s2.*, postgres.public.nosuch", True),
            ("postgres.s2", False),
            ("postgres.s*.a", True),
            ("other.public.t", True)]):
        st = pg_store(pg, store__name="pub%d" % i, store__whitelist=wl).start()
        try:
            wait_ready(st, pg, "oxbow_pub%d" % i)
            got = pg.query("SELECT puballtables FROM pg_publication WHERE pubname = %s",
                           ("oxbow_pub%d" % i,))
            assert got == [(want,)], (wl, got)
        finally:
            st.cleanup()


def test_start_timestamp(postgres):
    """A timestamp start: transactions committed before it are skipped; a
    timestamp before a new slot's creation is refused (status 2)."""
    pg = postgres
    pg.query("CREATE TABLE t (id int PRIMARY KEY)")
    old = pg_store(pg, store__name="old", store__start__checkpoint="::::%d:" % (time.time() - 3600))
    old.start()
    try:
        s = old.wait_status(lambda s: s["status"] == 2, what="refused timestamp")
        assert "cannot go back before its creation" in s["errMsg"], s
        assert pg.query("SELECT count(*) FROM pg_replication_slots") == [(0,)]
    finally:
        old.cleanup()
    t = int(time.time()) + 3
    st = pg_store(pg, store__name="later", store__start__checkpoint="::::%d:" % t).start()
    try:
        wait_ready(st, pg, "oxbow_later")
        pg.query("INSERT INTO t VALUES (1)")
        while time.time() < t + 1:
            time.sleep(0.2)
        pg.query("INSERT INTO t VALUES (2)")
        sub = st.subscribe("from=earliest")
        recs = rows_only(sub.take(2))
        assert [r["after"]["id"] for r in recs] == [2]
        assert recs[0]["timestamp"] >= t
    finally:
        st.cleanup()


def test_pk_with_identity_full_and_nothing(postgres):
    """REPLICA IDENTITY FULL and NOTHING name no key in the Relation message:
    pk is the table's primary key from the catalog (in key order), and is
    omitted for a table without one."""
    pg = postgres
    pg.query("CREATE TABLE fk (a int, b text, c int, PRIMARY KEY (c, a))")
    pg.query("ALTER TABLE fk REPLICA IDENTITY FULL")
    pg.query('CREATE TABLE "Odd" ("K ey" int PRIMARY KEY, v int)')
    pg.query('ALTER TABLE "Odd" REPLICA IDENTITY FULL')
    pg.query("CREATE TABLE nk (id int PRIMARY KEY, v text)")
    pg.query("ALTER TABLE nk REPLICA IDENTITY NOTHING")
    pg.query("CREATE TABLE nopk (x int, y int)")
    pg.query("ALTER TABLE nopk REPLICA IDENTITY FULL")
    st = pg_store(pg).start()
    try:
        wait_ready(st, pg)
        pg.query("INSERT INTO fk VALUES (1, 'x', 2)")
        pg.query("UPDATE fk SET b = 'y'")
        pg.query("DELETE FROM fk")
        pg.query('INSERT INTO "Odd" VALUES (7, 1)')
        pg.query("INSERT INTO nk VALUES (1, 'a')")
        pg.query("INSERT INTO nopk VALUES (1, 2)")
        sub = st.subscribe("from=earliest")
        rows = rows_only(sub.take(12))
        assert [(r["table"], r["op"]) for r in rows] == [
            ("fk", "insert"), ("fk", "update"), ("fk", "delete"), ("Odd", "insert"),
            ("nk", "insert"), ("nopk", "insert")], rows
        for r in rows[:3]:
            assert r["pk"] == ["c", "a"], r
        assert rows[1]["before"] == {"a": 1, "b": "x", "c": 2}
        assert rows[3]["pk"] == ["K ey"], rows[3]
        assert rows[4]["pk"] == ["id"], rows[4]
        assert "pk" not in rows[5], rows[5]
        # The same key the catalog shows.
        got = pg.query("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON "
                       "a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) WHERE "
                       "i.indrelid = 'fk'::regclass AND i.indisprimary "
                       "ORDER BY array_position(i.indkey::int2[], a.attnum)")
        assert [g[0] for g in got] == ["c", "a"]
    finally:
        st.cleanup()
