"""Faults of a PostgreSQL source, each with its own status code, DRC code and
message (docs/pg_capture.md): a source restart (6) and a killed primary (7),
which the store rides through (then 0) without losing or repeating a row;
the slot dropped behind the store's back (8); the publication altered or
dropped (9), recovering once the table is published again; a user without
REPLICATION (10); wal_level not logical (11)."""

import signal
import time

import pytest

from oxtest_pg import wait_ready
from oxtest_store import Store, rows_only


def pg_store(pg, **keys):
    pg.password = ""
    keys.setdefault("source__type", "postgresql")
    keys.setdefault("source__database", "postgres")
    return Store(pg, **keys)


@pytest.mark.parametrize("postgres", [{"wal_level": "replica"}], indirect=True)
def test_wal_level_not_logical(postgres):
    st = pg_store(postgres).start()
    try:
        s = st.wait_status(lambda s: s["status"] == 11, what="wal_level")
        assert "DRC_511:" in s["errMsg"], s
        assert "wal_level is replica" in s["errMsg"] and "wal_level=logical" in s["errMsg"], s
    finally:
        st.cleanup()


def test_missing_replication_privilege(postgres):
    postgres.query("CREATE ROLE norep LOGIN")
    st = pg_store(postgres, source__user="norep").start()
    try:
        s = st.wait_status(lambda s: s["status"] == 10, what="privilege")
        assert "DRC_510:" in s["errMsg"], s
        assert "REPLICATION" in s["errMsg"] and "norep" in s["errMsg"], s
    finally:
        st.cleanup()


def test_slot_dropped_behind_the_store(postgres):
    pg = postgres
    pg.query("CREATE TABLE t (id int PRIMARY KEY)")
    st = pg_store(pg).start()
    try:
        wait_ready(st, pg)
        pg.query("INSERT INTO t VALUES (1)")
        sub = st.subscribe("from=earliest")
        sub.take(2)
        sub.close()
        st.kill(signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                pg.query("SELECT pg_drop_replication_slot('oxbow_teststore')")
                break
            except Exception:
                time.sleep(0.2)  # its walsender may still hold it
        st.start()
        s = st.wait_status(lambda s: s["status"] == 8, what="slot lost")
        assert "DRC_508:" in s["errMsg"], s
        assert "oxbow_teststore does not exist" in s["errMsg"], s
        assert pg.query("SELECT count(*) FROM pg_replication_slots") == [(0,)], \
            "the store must not quietly make a new slot"
    finally:
        st.cleanup()


@pytest.mark.parametrize("how", ["restart", "kill"])
def test_source_restart(postgres, how):
    pg = postgres
    pg.query("CREATE TABLE t (id int PRIMARY KEY)")
    st = pg_store(pg).start()
    try:
        wait_ready(st, pg)
        for i in range(1, 51):
            pg.query("INSERT INTO t VALUES (%d)" % i)
        if how == "restart":
            pg.stop()
        else:
            pg.kill(signal.SIGKILL)  # the postmaster dies; its children follow
            time.sleep(1)
        code = 6 if how == "restart" else 7
        s = st.wait_status(lambda s: s["status"] == code, what="source down (%d)" % code)
        assert "DRC_%d:" % (500 + code) in s["errMsg"], s
        assert ("shut down or restarting" if how == "restart" else "killed") in s["errMsg"], s
        pg.start()
        for i in range(51, 101):
            pg.query("INSERT INTO t VALUES (%d)" % i)
        st.wait_status(lambda s: s["status"] == 0, timeout=60, what="normal again")
        sub = st.subscribe("from=earliest")
        recs = sub.take(200, timeout=60)
        ids = [r["after"]["id"] for r in rows_only(recs)]
        assert ids == list(range(1, 101))
        assert sub.next(timeout=2) is None, "a row delivered twice"
    finally:
        st.cleanup()


def test_publication_table_removed(postgres):
    """ALTER PUBLICATION ... DROP TABLE of a whitelisted table: pgoutput would
    send nothing more for it; the store says so (9) and recovers once the
    table is published again."""
    pg = postgres
    pg.query("CREATE TABLE t (id int PRIMARY KEY)")
    pg.query("CREATE TABLE u (id int PRIMARY KEY)")
    st = pg_store(pg, store__whitelist="postgres.public.t,postgres.public.u").start()
    try:
        wait_ready(st, pg)
        pg.query("INSERT INTO t VALUES (1)")
        pg.query("INSERT INTO u VALUES (1)")
        sub = st.subscribe("from=earliest")
        assert len(rows_only(sub.take(4))) == 2
        sub.close()
        pg.query("ALTER PUBLICATION oxbow_teststore DROP TABLE u")
        s = st.wait_status(lambda s: s["status"] == 9, what="publication altered")
        assert "DRC_509:" in s["errMsg"], s
        assert "does not publish table public.u" in s["errMsg"], s
        pg.query("ALTER PUBLICATION oxbow_teststore ADD TABLE u")
        st.wait_status(lambda s: s["status"] == 0, timeout=60, what="normal again")
        pg.query("INSERT INTO u VALUES (2)")
        sub = st.subscribe("from=earliest")
        ids = [(r["table"], r["after"]["id"]) for r in rows_only(sub.take(6, timeout=30))]
        assert ids == [("t", 1), ("u", 1), ("u", 2)], ids
    finally:
        st.cleanup()


def store_then_drop_publication(pg):
    """A store that captured one row, and its publication dropped."""
    pg.query("CREATE TABLE t (id int PRIMARY KEY)")
    st = pg_store(pg).start()
    wait_ready(st, pg)
    pg.query("INSERT INTO t VALUES (1)")
    sub = st.subscribe("from=earliest")
    sub.take(2)
    sub.close()
    pg.query("DROP PUBLICATION oxbow_teststore")
    return st


def test_publication_dropped(postgres):
    pg = postgres
    st = store_then_drop_publication(pg)
    try:
        s = st.wait_status(lambda s: s["status"] == 9, what="publication dropped")
        assert "DRC_509:" in s["errMsg"], s
        assert "oxbow_teststore" in s["errMsg"], s
        # The store does not quietly make a new one (it would miss what
        # committed meanwhile).
        time.sleep(2)
        assert pg.query("SELECT count(*) FROM pg_publication") == [(0,)]
        assert st.status()["status"] == 9
    finally:
        st.cleanup()


def test_publication_recreated(postgres):
    """DROP PUBLICATION then CREATE PUBLICATION again: the walsender cannot
    decode what committed while it was missing (pgoutput reads the
    publication as of each change). The store reports DRC_509 meanwhile and
    recovers by itself once the publication is back, skipping that WAL and
    saying which range it skipped."""
    pg = postgres
    st = store_then_drop_publication(pg)
    try:
        pg.query("INSERT INTO t VALUES (2)")  # committed while it is missing
        s = st.wait_status(lambda s: s["status"] == 9, what="publication dropped")
        assert "DRC_509:" in s["errMsg"], s
        assert "recreate" in s["errMsg"], s
        pg.query("CREATE PUBLICATION oxbow_teststore FOR ALL TABLES")
        pg.query("INSERT INTO t VALUES (3)")
        logf = st.keys["store.dir"] + "/store.log"
        deadline = time.monotonic() + 60
        while "skipped the WAL" not in open(logf).read():
            assert time.monotonic() < deadline, "no recovery: " + open(logf).read()[-3000:]
            time.sleep(0.2)
        st.wait_status(lambda s: s["status"] == 0, timeout=60, what="normal again")
        pg.query("INSERT INTO t VALUES (4)")
        sub = st.subscribe("from=earliest")
        got = []
        while not got or got[-1] != 4:
            r = sub.next(timeout=30)
            assert r is not None, got
            if r["op"] == "insert":
                got.append(r["after"]["id"])
        assert got[0] == 1 and got[-1] == 4 and 2 not in got, got
        log = open(logf).read()
        assert "DRC_509" in log and "dropped and created again" in log, log[-3000:]
    finally:
        st.cleanup()
