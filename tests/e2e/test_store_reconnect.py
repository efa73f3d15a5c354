"""The documented reconnect time is true (docs/store.md, "Source failures"):
after a clean restart of the source, capture resumes (a new row reaches a
subscriber) within RECONNECT_S of the server accepting connections again,
for MariaDB and for PostgreSQL. The store's status says 1 (MariaDB) or 6
(PostgreSQL) while the server is down and 0 once it is back."""

import signal
import time

from oxtest_pg import wait_ready
from oxtest_store import Store, rows_only

RECONNECT_S = 5.0  # the figure docs/store.md promises


def _resumes_within(sub, insert, want):
    """Inserts a row right after the server is back; returns how long the
    subscriber waited for it."""
    t0 = time.monotonic()
    insert()
    recs = sub.take(2, timeout=RECONNECT_S + 10)
    took = time.monotonic() - t0
    assert rows_only(recs)[0]["after"] == want, recs
    return took


def test_mariadb_clean_restart_resumes_within_documented_time(mariadb):
    mariadb.execute_root("CREATE DATABASE shop",
                         "CREATE TABLE shop.r (id INT PRIMARY KEY, v INT)")
    s = Store(mariadb, source__heartbeat__ms=300)
    s.start()
    try:
        sub = s.subscribe("from=earliest")
        mariadb.execute_root("INSERT INTO shop.r VALUES (1, 1)")
        assert [r["op"] for r in sub.take(2)] == ["insert", "commit"]
        mariadb.kill(signal.SIGTERM)  # a clean shutdown
        st = s.wait_status(lambda x: x["status"] == 1, timeout=30, what="status 1")
        assert "DRC_501" in st["errMsg"], st
        # Down long enough that a backoff growing from 1 s would have
        # reached several seconds.
        time.sleep(8)
        mariadb.start()
        st_ = s
        took = _resumes_within(sub, lambda: mariadb.execute_root(
            "INSERT INTO shop.r VALUES (2, 2)"), {"id": 2, "v": 2})
        assert took <= RECONNECT_S, "capture resumed after %.1f s\n%s" % (took, st_.log_tail(3000))
        s.wait_status(lambda x: x["status"] == 0, timeout=5, what="status back to 0")
        assert sub.next(timeout=1) is None, "a row delivered twice"
        sub.close()
    finally:
        s.cleanup()


def test_postgres_clean_restart_resumes_within_documented_time(postgres):
    pg = postgres
    pg.query("CREATE TABLE r (id int PRIMARY KEY)")
    pg.password = ""
    st = Store(pg, source__type="postgresql", source__database="postgres").start()
    try:
        wait_ready(st, pg)
        sub = st.subscribe("from=earliest")
        pg.query("INSERT INTO r VALUES (1)")
        assert rows_only(sub.take(2))[0]["after"] == {"id": 1}
        pg.stop()  # a clean (fast) shutdown
        st.wait_status(lambda x: x["status"] == 6, timeout=30, what="status 6")
        time.sleep(8)
        pg.start()
        st_ = st
        took = _resumes_within(sub, lambda: pg.query("INSERT INTO r VALUES (2)"), {"id": 2})
        assert took <= RECONNECT_S, "capture resumed after %.1f s\n%s" % (took, st_.log_tail(3000))
        st.wait_status(lambda x: x["status"] == 0, timeout=5, what="status back to 0")
        assert sub.next(timeout=1) is None, "a row delivered twice"
        sub.close()
    finally:
        st.cleanup()
