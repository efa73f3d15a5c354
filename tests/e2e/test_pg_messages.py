"""Logical decoding messages (pg_logical_emit_message) with a PostgreSQL
source (`messages 'true'`): each is a "message" record with its prefix, its
transactional flag and its content bytes as base64, equal to the bytes a
SELECT returns; transactional ones in their transaction (also a streamed
one, and never from a rolled-back subtransaction), the others as a
transaction of their own at their LSN; the store's lists match a message
as DATABASE.PREFIX; a restart serves none twice."""

import base64
import signal

import pytest

from oxtest_pg import wait_ready
from oxtest_store import Store

from test_pg_stream import STREAMING, insert_sql, lsn, take_until


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
        # A streamed transaction with a message (a message of a rolled-back
        # subtransaction of a streamed transaction is a documented
        # limitation: pgoutput tags it with the top-level xid).
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
