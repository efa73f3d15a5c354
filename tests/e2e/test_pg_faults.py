"""Faults of a PostgreSQL source, each with its status code and message:
wal_level not logical (3), a user without REPLICATION (3), the slot dropped
behind the store's back (2), and a source restart or a killed primary,
which the store rides through (1 then 0) without losing or repeating a row."""

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
        s = st.wait_status(lambda s: s["status"] == 3, what="refused")
        assert "wal_level is replica" in s["errMsg"] and "wal_level=logical" in s["errMsg"], s
    finally:
        st.cleanup()


def test_missing_replication_privilege(postgres):
    postgres.query("CREATE ROLE norep LOGIN")
    st = pg_store(postgres, source__user="norep").start()
    try:
        s = st.wait_status(lambda s: s["status"] == 3, what="refused")
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
        s = st.wait_status(lambda s: s["status"] == 2, what="source lost")
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
        st.wait_status(lambda s: s["status"] == 1, what="source down")
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
