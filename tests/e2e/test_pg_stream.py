"""Streamed in-progress transactions (pgoutput `streaming 'on'`, PG 14+)
with a PostgreSQL source: with logical_decoding_work_mem at 64kB the server
streams every large transaction while it runs. The store keeps each one in
a spill file until its commit: nothing of it is served before, an aborted
subtransaction's changes and a rolled-back transaction never are, and the
records' positions are those of an unstreamed capture (compared with a
test_decoding slot peeked on the same server). A kill -9 of the store in the
middle of a streamed transaction, and again right after one commits (while
its spill is replayed), still gives every row exactly once."""

import os
import signal
import threading
import time

import pytest

from oxtest_pg import wait_ready
from oxtest_store import Store, rows_only

STREAMING = {"logical_decoding_work_mem": "64kB"}
PAD = "x" * 200


def pg_store(pg, **kw):
    pg.password = ""
    return Store(pg, source__type="postgresql", source__database="postgres", **kw)


def lsn(r, key="offset"):
    return (r["fileIdx"] << 32) | r[key]


def stream_stats(pg):
    v = pg.query("SELECT coalesce(sum(stream_txns), 0)::bigint FROM pg_stat_replication_slots "
                 "WHERE slot_name LIKE 'oxbow_%'")
    return int(v[0][0])


def apply(table, r):
    if r["op"] in ("insert", "update"):
        if r["op"] == "update":
            table.pop(r["before"]["id"], None)
        table[r["after"]["id"]] = r["after"]["v"]
    elif r["op"] == "delete":
        del table[r["before"]["id"]]


def take_until(sub, pred, timeout=120):
    out = []
    while True:
        r = sub.next(timeout=timeout)  # a timed-out subscription cannot go on
        assert r is not None, "no end marker after %d records: %s" % (len(out), out[-3:])
        out.append(r)
        if pred(r):
            return out


def insert_sql(lo, hi):
    return ("INSERT INTO s SELECT g, '%s' || g FROM generate_series(%d, %d) g"
            % (PAD, lo, hi))


@pytest.mark.parametrize("postgres", [STREAMING], indirect=True)
def test_streamed_transactions(postgres):
    pg = postgres
    pg.query("CREATE TABLE s (id int PRIMARY KEY, v text)")
    st = pg_store(pg).start()
    try:
        wait_ready(st, pg)
        # A second, unstreamed view of the same WAL: test_decoding through
        # the SQL interface never streams.
        pg.query("SELECT pg_create_logical_replication_slot('ref', 'test_decoding')")
        sub = st.subscribe("from=earliest")
        assert sub.status == 200, sub.error
        a = pg.conn()
        a.autocommit = False
        ca = a.cursor()
        ca.execute(insert_sql(1, 2000))             # > 64kB: streamed now
        ca.execute("SAVEPOINT p1")
        ca.execute(insert_sql(2001, 4000))
        ca.execute("ROLLBACK TO SAVEPOINT p1")       # an aborted subtransaction
        ca.execute("SAVEPOINT p2")
        ca.execute(insert_sql(4001, 6000))
        ca.execute("SAVEPOINT p3")
        ca.execute("UPDATE s SET v = 'nested' WHERE id BETWEEN 4001 AND 4500")
        ca.execute("ROLLBACK TO SAVEPOINT p3")       # nested in a kept one
        ca.execute("RELEASE SAVEPOINT p2")
        ca.execute("UPDATE s SET v = 'u' || id WHERE id % 7 = 0")
        ca.execute("DELETE FROM s WHERE id % 11 = 0")
        deadline = time.monotonic() + 30
        while stream_stats(pg) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert stream_stats(pg) >= 1, "the server did not stream the transaction"
        # A small transaction committed meanwhile comes first, and nothing
        # of the open one is served before its commit.
        pg.query("INSERT INTO s VALUES (50000, 'small')")
        first = take_until(sub, lambda r: r["op"] == "commit", timeout=30)
        assert [r["after"]["id"] for r in rows_only(first)] == [50000], first[:3]
        peek = st.subscribe("from=earliest")
        early = []
        while True:
            r = peek.next(timeout=2)
            if r is None:
                break
            early.append(r)
        peek.close()
        assert [r["op"] for r in early] == ["insert", "commit"], early[:5]
        a.commit()
        # A streamed transaction rolled back as a whole.
        b = pg.conn()
        b.autocommit = False
        cb = b.cursor()
        cb.execute(insert_sql(10001, 13000))
        cb.execute("UPDATE s SET v = 'gone' WHERE id < 100")
        time.sleep(0.5)
        b.rollback()
        b.close()
        pg.query("INSERT INTO s VALUES (99999, 'end')")
        recs = take_until(sub, lambda r: r.get("after", {}).get("id") == 99999)
        recs += take_until(sub, lambda r: r["op"] == "commit", timeout=10)
        assert stream_stats(pg) >= 2
        table = {50000: "small"}
        for r in recs:
            apply(table, r)
        assert table == dict(pg.query("SELECT id, v FROM s"))
        ids = {r["after"]["id"] for r in rows_only(recs) if "after" in r}
        assert not ids & set(range(2001, 4001)), "an aborted subtransaction was served"
        assert not ids & set(range(10001, 13001)), "a rolled-back transaction was served"
        assert not [r for r in rows_only(recs) if r.get("after", {}).get("v") in
                    ("nested", "gone")]
        # Positions equal those of an unstreamed capture.
        ref = pg.query("SELECT (lsn - '0/0')::bigint, data FROM "
                       "pg_logical_slot_peek_changes('ref', NULL, NULL)")
        ref_rows = [l for l, d in ref if d.startswith("table public.s:")]
        ref_commits = [l for l, d in ref if d.startswith("COMMIT")]
        assert [lsn(r) for r in rows_only(first + recs)] == ref_rows
        commits = [lsn(r, "nextOffset") for r in first + recs if r["op"] == "commit"]
        assert commits == ref_commits, (commits, ref_commits)
        # msgIds stay dense; the spill directory is empty again.
        spill = os.path.join(st.keys["store.dir"], "pgstream")
        assert os.listdir(spill) == []
        a.close()
    finally:
        st.cleanup()


@pytest.mark.parametrize("postgres", [STREAMING], indirect=True)
def test_kill9_during_streamed_transaction(postgres):
    pg = postgres
    pg.query("CREATE TABLE s (id int PRIMARY KEY, v text)")
    st = pg_store(pg, store__fsync="interval", store__fsync__interval_ms=5).start()
    try:
        wait_ready(st, pg)
        pg.query("INSERT INTO s VALUES (0, 'before')")
        st.wait_status(lambda s: s["lastMsgId"] >= 2, what="the first commit stored")
        a = pg.conn()
        a.autocommit = False
        ca = a.cursor()
        for k in range(5):
            ca.execute(insert_sql(k * 2000 + 1, k * 2000 + 2000))
            if k == 1:
                ca.execute("SAVEPOINT p")
            if k == 2:
                ca.execute("ROLLBACK TO SAVEPOINT p")
            time.sleep(0.2)
        spill = os.path.join(st.keys["store.dir"], "pgstream")
        deadline = time.monotonic() + 30
        while not os.listdir(spill) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.listdir(spill), "no spill file while the transaction streams"
        st.kill(signal.SIGKILL)
        st.start()
        ca.execute(insert_sql(20001, 22000))
        a.commit()
        # Kill again right after a streamed transaction commits: while the
        # store still holds its spill (before or during its replay).
        wait_ready(st, pg)
        ca = a.cursor()
        ca.execute(insert_sql(30001, 70000))
        deadline = time.monotonic() + 30
        while not os.listdir(spill) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.listdir(spill), "no spill file while the second transaction streams"
        a.commit()
        held = os.listdir(spill)
        st.kill(signal.SIGKILL)
        print("killed after the commit with spill files %s" % held)
        st.start()
        a.close()
        pg.query("INSERT INTO s VALUES (99999, 'end')")
        sub = st.subscribe("from=earliest")
        assert sub.status == 200, sub.error
        recs = take_until(sub, lambda r: r.get("after", {}).get("id") == 99999)
        ids = [r["after"]["id"] for r in rows_only(recs)]
        assert len(ids) == len(set(ids)), "a row served twice"
        want = [i for (i,) in pg.query("SELECT id FROM s WHERE id <> 99999 ORDER BY id")]
        assert sorted(ids[:-1]) == want
        assert os.listdir(spill) == []
    finally:
        st.cleanup()
