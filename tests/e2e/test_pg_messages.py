"""Logical decoding messages (pg_logical_emit_message) with a PostgreSQL
source (`messages 'true'`): each is a "message" record with its prefix, its
transactional flag and its content bytes as base64, equal to the bytes a
SELECT returns; transactional ones in their transaction (also a streamed
one, and never from a rolled-back subtransaction, streamed or not), the others as a
transaction of their own at their LSN; the store's lists match a message
as DATABASE.PREFIX; a restart serves none twice."""

import base64
import os
import signal
import time

import pytest

from oxtest_ops import http_text, metric, parse_metrics
from oxtest_pg import wait_ready
from oxtest_store import Store

from test_pg_stream import STREAMING, apply, insert_sql, lsn, stream_stats, take_until


def pg_store(pg, **kw):
    pg.password = ""
    return Store(pg, source__type="postgresql", source__database="postgres", **kw)


def content(r):
    return base64.b64decode(r["content"]["base64"])


def end_marker(r):
    return r["op"] == "message" and r["prefix"] == "end"


@pytest.mark.parametrize("postgres", [STREAMING], indirect=True)
def test_messages(postgres):
    pg = postgres
    pg.query("CREATE TABLE s (id int PRIMARY KEY, v text)")
    pg.query("CREATE TABLE blobs (id int PRIMARY KEY, b bytea)")
    pg.query("INSERT INTO blobs VALUES (1, (SELECT string_agg(set_byte('\\x00'::bytea, 0, g), "
             "''::bytea) FROM generate_series(0, 255) g)), (2, convert_to('h\u00e9llo \"x\"\\n', "
             "'UTF8')), (3, ''::bytea)")
    st = pg_store(pg, store__blacklist="postgres.secret*").start()
    try:
        wait_ready(st, pg)
        sub = st.subscribe("from=earliest")
        assert sub.status == 200, sub.error
        # Outside any transaction: its own transaction at its LSN.
        (at,) = pg.query("SELECT (pg_logical_emit_message(false, 'nt', b) - '0/0')::bigint "
                         "FROM blobs WHERE id = 1")[0]
        pg.query("SELECT pg_logical_emit_message(false, 'secret', 'pw')")
        # In a transaction, between its rows.
        c = pg.conn()
        c.autocommit = False
        cur = c.cursor()
        cur.execute("INSERT INTO s VALUES (1, 'a')")
        cur.execute("SELECT pg_logical_emit_message(true, 'tx', b) FROM blobs WHERE id = 2")
        cur.execute("SELECT pg_logical_emit_message(true, 'secret.x', 'pw')")
        cur.execute("INSERT INTO s VALUES (2, 'b')")
        cur.execute("SELECT pg_logical_emit_message(true, 'empty', b) FROM blobs WHERE id = 3")
        c.commit()
        # A rolled-back transaction's message is never served, nor one of a
        # rolled-back subtransaction of an unstreamed transaction.
        cur.execute("SELECT pg_logical_emit_message(true, 'rolledback', 'x')")
        c.rollback()
        cur.execute("INSERT INTO s VALUES (3, 'c')")
        cur.execute("SAVEPOINT p")
        cur.execute("SELECT pg_logical_emit_message(true, 'rolledback', 'x')")
        cur.execute("ROLLBACK TO SAVEPOINT p")
        c.commit()
        # A streamed transaction with a message and a rolled-back savepoint
        # (received again unstreamed: test_streamed_message_in_rolled_back_savepoint).
        cur.execute(insert_sql(100, 2100))
        cur.execute("SELECT pg_logical_emit_message(true, 'big', 'kept')")
        cur.execute("SAVEPOINT p")
        cur.execute(insert_sql(3000, 5000))
        cur.execute("ROLLBACK TO SAVEPOINT p")
        c.commit()
        c.close()
        pg.query("SELECT pg_logical_emit_message(false, 'end', '')")
        recs = take_until(sub, end_marker, timeout=60)
        msgs = [r for r in recs if r["op"] == "message"]
        assert [m["prefix"] for m in msgs] == ["nt", "tx", "empty", "big", "end"], msgs
        blobs = dict(pg.query("SELECT id, b FROM blobs"))
        nt, tx, empty, big = msgs[:4]
        assert content(nt) == bytes(blobs[1]) and nt["transactional"] is False
        assert lsn(nt) == at and lsn(nt, "nextOffset") == at
        assert nt["db"] == "postgres"
        i = recs.index(nt)
        assert [r["op"] for r in recs[i:i + 2]] == ["message", "commit"]
        assert content(tx) == bytes(blobs[2]) and tx["transactional"] is True
        assert content(empty) == b""
        assert content(big) == b"kept"
        j = recs.index(tx)
        assert [r["op"] for r in recs[j - 1:j + 4]] == ["insert", "message", "insert", "message",
                                                         "commit"]
        assert tx["timestamp"] == recs[j + 3]["timestamp"]
        # A restart serves nothing twice.
        st.kill(signal.SIGKILL)
        st.start()
        wait_ready(st, pg)
        pg.query("SELECT pg_logical_emit_message(false, 'end2', '')")
        sub2 = st.subscribe("from=earliest")
        again = take_until(sub2, lambda r: r.get("prefix") == "end2", timeout=60)
        prefixes = [r["prefix"] for r in again if r["op"] == "message"]
        assert prefixes == ["nt", "tx", "empty", "big", "end", "end2"], prefixes
    finally:
        st.cleanup()


def ambiguous_txn(c, lo, n, tag):
    """A streamed transaction with a transactional message in a savepoint
    that is rolled back and another in one that is released, rows in each;
    returns the content of the message that must be served."""
    cur = c.cursor()
    cur.execute(insert_sql(lo, lo + n))                  # > 64kB: streamed
    cur.execute("SAVEPOINT gone")
    cur.execute("SELECT pg_logical_emit_message(true, 'm', 'rolled back %s')" % tag)
    cur.execute(insert_sql(lo + n + 1, lo + n + 500))
    cur.execute("ROLLBACK TO SAVEPOINT gone")
    cur.execute("SAVEPOINT kept")
    cur.execute("SELECT pg_logical_emit_message(true, 'm', 'kept %s')" % tag)
    cur.execute(insert_sql(lo + n + 1000, lo + n + 1500))
    cur.execute("RELEASE SAVEPOINT kept")
    cur.execute("UPDATE s SET v = 'u' || id WHERE id BETWEEN %d AND %d" % (lo, lo + 50))
    return b"kept " + tag.encode()


def check_served(pg, recs, want_msgs):
    table = {}
    for r in recs:
        apply(table, r)
    assert table == dict(pg.query("SELECT id, v FROM s")), "rows differ from SELECT"
    ids = [r["after"]["id"] for r in recs if r["op"] == "insert"]
    assert len(ids) == len(set(ids)), "a row served twice"
    got = [content(r) for r in recs if r["op"] == "message" and r["prefix"] == "m"]
    assert got == want_msgs, got


@pytest.mark.parametrize("postgres", [STREAMING], indirect=True)
def test_streamed_message_in_rolled_back_savepoint(postgres):
    """pgoutput tags a streamed transaction's messages with the top-level
    xid, so the store cannot tell one of a rolled-back savepoint: it has the
    server send that transaction again unstreamed, then streams again."""
    pg = postgres
    pg.query("CREATE TABLE s (id int PRIMARY KEY, v text)")
    st = pg_store(pg, store__fsync="interval", store__fsync__interval_ms=5).start()
    try:
        wait_ready(st, pg)
        sub = st.subscribe("from=earliest")
        assert sub.status == 200, sub.error
        c = pg.conn()
        c.autocommit = False
        want = [ambiguous_txn(c, 1, 2000, "one")]
        c.commit()
        pg.query("SELECT pg_logical_emit_message(false, 'end', '1')")
        recs = take_until(sub, end_marker, timeout=60)
        assert stream_stats(pg) >= 1, "the server did not stream the transaction"
        check_served(pg, recs, want)
        assert st.status()["streamResends"] == 1
        _, _, text = http_text("http://127.0.0.1:%d/metrics" % st.port)
        assert metric(parse_metrics(text), "oxbow_store_source_stream_resends_total") == 1
        # The next large transaction is streamed again.
        time.sleep(1)
        before = stream_stats(pg)
        cur = c.cursor()
        cur.execute(insert_sql(100000, 103000))
        c.commit()
        pg.query("SELECT pg_logical_emit_message(false, 'end', '2')")
        recs += take_until(sub, end_marker, timeout=60)
        deadline = time.monotonic() + 30
        while stream_stats(pg) <= before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert stream_stats(pg) > before, "streaming was not switched back on"
        check_served(pg, recs, want)
        # kill -9 while the server sends an ambiguous transaction again.
        spill = os.path.join(st.keys["store.dir"], "pgstream")
        want.append(ambiguous_txn(c, 200000, 100000, "two"))
        deadline = time.monotonic() + 30
        while not os.listdir(spill) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert os.listdir(spill), "no spill file while the transaction streams"
        c.commit()
        # Its spill file goes when the store asks for it unstreamed.
        deadline = time.monotonic() + 30
        while os.listdir(spill) and time.monotonic() < deadline:
            time.sleep(0.005)
        st.kill(signal.SIGKILL)
        st.start()
        wait_ready(st, pg)
        c.close()
        pg.query("SELECT pg_logical_emit_message(false, 'end', '3')")
        sub2 = st.subscribe("from=earliest")
        assert sub2.status == 200, sub2.error
        all_recs = []
        for _ in range(3):
            all_recs += take_until(sub2, end_marker, timeout=120)
        check_served(pg, all_recs, want)
        # The kill came before the resent transaction was durable: the
        # restarted store had it streamed, and sent unstreamed, again.
        st.wait_status(lambda s: s["streamResends"] == 1, what="one resend after the restart")
        assert os.listdir(spill) == []
    finally:
        st.cleanup()
