"""A PostgreSQL store's slot lag on /metrics: `oxbow_source_lag_bytes` and
`oxbow_source_wal_status` on the store's /metrics and, with store/topic/host
labels, on the CM's; both pass
`promtool check metrics`. A large transaction makes the slot really lag
(its confirmed LSN stays before the transaction until the store has made it
durable): the gauge shows it, then falls back once the store has caught up."""

import json
import threading
import time

import pytest

from oxtest_cm import CM
from oxtest_ops import http_text, metric, parse_metrics, promtool_check_metrics
from oxtest_pg import wait_slot_active

ROWS = 400000


def lag_of(text, **labels):
    s = parse_metrics(text)
    got = [v for n, l, v in s if n == "oxbow_source_lag_bytes" and
           all(l.get(k) == x for k, x in labels.items())]
    return got[0] if got else None


def test_slot_lag_on_metrics(postgres):
    pg = postgres
    pg.password = ""
    pg.query("CREATE TABLE big (id int PRIMARY KEY, pad text)")
    cm = CM()
    try:
        cm.start()
        cm.create_topic(pg, topic="pgm", dbType="postgresql", database="postgres")
        name = cm.start_crawler(topic="pgm")["name"]
        d = cm.wait_status(name, lambda c: c["status"] == 0)
        wait_slot_active(pg)
        port = d["port"]
        lab = dict(store=name, topic="pgm", host="127.0.0.1-%d" % cm.sv_port)

        # Scrape both while one large transaction commits and is captured.
        peaks = {"store": 0.0, "cm": 0.0, "slot": 0}
        stop = threading.Event()

        def scrape():
            while not stop.is_set():
                _, _, t = http_text("http://127.0.0.1:%d/metrics" % port)
                v = lag_of(t)
                if v is not None and v > peaks["store"]:
                    peaks["store"] = v
                _, _, t = http_text(cm.url + "/metrics")
                v = lag_of(t, **lab)
                if v is not None and v > peaks["cm"]:
                    peaks["cm"] = v
                time.sleep(0.05)

        th = threading.Thread(target=scrape)
        th.start()
        try:
            before = int(pg.query("SELECT (pg_current_wal_lsn() - '0/0')::bigint")[0][0])
            pg.query("INSERT INTO big SELECT g, repeat('x', 100) FROM generate_series(1, %d) g"
                     % ROWS)
            after = int(pg.query("SELECT (pg_current_wal_lsn() - '0/0')::bigint")[0][0])
            # The slot itself lags behind the committed transaction for a while.
            (slot_lag,) = pg.query("SELECT (pg_current_wal_lsn() - confirmed_flush_lsn)::bigint "
                                   "FROM pg_replication_slots")[0]
            peaks["slot"] = int(slot_lag)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                (n,) = pg.query("SELECT (pg_current_wal_lsn() - confirmed_flush_lsn)::bigint "
                                "FROM pg_replication_slots")[0]
                if int(n) < 1 << 20:
                    break
                time.sleep(0.2)
            else:
                raise AssertionError("slot never caught up")
            time.sleep(3)  # a heartbeat or two, so the CM has the latest status
        finally:
            stop.set()
            th.join()
        txn = after - before
        assert txn > 20 << 20, txn
        # (pgoutput streams a transaction this large in parts, so the slot
        # lags by a part of it, not all of it.)
        assert peaks["slot"] > 4 << 20, peaks
        # The store saw its slot lag by megabytes, and so did the CM's copy
        # (its supervisor reports every second; catching up takes seconds).
        assert peaks["store"] > 4 << 20, (peaks, txn)
        assert peaks["cm"] > 1 << 20, (peaks, txn)

        # Caught up: both figures small again, and both pages well-formed.
        _, _, st_text = http_text("http://127.0.0.1:%d/metrics" % port)
        rc, out = promtool_check_metrics(st_text)
        assert rc == 0, out
        assert 0 <= lag_of(st_text) < 1 << 20, st_text
        assert "# TYPE oxbow_source_lag_bytes gauge" in st_text
        # The slot's wal_status, as the source shows it (0 = reserved).
        (ws,) = pg.query("SELECT wal_status FROM pg_replication_slots")[0]
        assert ws == "reserved"
        assert metric(parse_metrics(st_text), "oxbow_source_wal_status") == 0
        sj = json.loads(http_text("http://127.0.0.1:%d/v1/status" % port)[2])
        assert sj["sourceWalStatus"] == "reserved" and sj["sourceWalStatusCode"] == 0, sj
        deadline = time.monotonic() + 15
        while True:
            _, _, cm_text = http_text(cm.url + "/metrics")
            v = lag_of(cm_text, **lab)
            if (v is not None and v < 1 << 20) or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        rc, out = promtool_check_metrics(cm_text)
        assert rc == 0, out
        s = parse_metrics(cm_text)
        assert 0 <= metric(s, "oxbow_source_lag_bytes", **lab) < 1 << 20
        assert "# TYPE oxbow_source_lag_bytes gauge" in cm_text
        assert metric(s, "oxbow_source_wal_status", **lab) == 0
    finally:
        cm.cleanup()


@pytest.mark.parametrize("postgres", [{"max_wal_size": "32MB", "min_wal_size": "32MB",
                                       "max_slot_wal_keep_size": "64MB"}], indirect=True)
def test_slot_wal_status_to_lost(postgres):
    """A slot held back (an open transaction pins its restart_lsn) while WAL
    grows: wal_status goes extended/unreserved on /metrics as the source
    shows it, and once the server invalidates the slot
    (max_slot_wal_keep_size) the store says so with status 8 (DRC_508)."""
    from oxtest_store import Store
    pg = postgres
    pg.password = ""
    pg.query("CREATE TABLE hold (id int PRIMARY KEY)")
    pg.query("CREATE TABLE fill (id int, pad text)")
    st = Store(pg, source__type="postgresql", source__database="postgres").start()
    holder = None
    try:
        st.wait_status(lambda s: s["status"] == 0 and s.get("sourceWalStatus") == "reserved",
                       what="wal_status reserved")
        holder = pg.conn()
        holder.autocommit = False
        holder.cursor().execute("INSERT INTO hold VALUES (1)")  # open: pins restart_lsn
        seen, src_seen = set(), set()
        deadline = time.monotonic() + 180
        status = None
        while time.monotonic() < deadline:
            # About 2.5 MB of WAL a round, slowly enough for the store's
            # 3 s slot check to see each state the source passes through.
            pg.query("INSERT INTO fill SELECT g, repeat('x', 200) FROM generate_series(1, 10000) g")
            pg.query("CHECKPOINT")
            (ws,) = pg.query("SELECT wal_status FROM pg_replication_slots")[0]
            src_seen.add(ws)
            time.sleep(0.5)
            try:
                s = st.status()
            except OSError:
                continue
            if s.get("sourceWalStatus"):
                seen.add(s["sourceWalStatus"])
            _, _, text = http_text("http://127.0.0.1:%d/metrics" % st.port)
            rc, out = promtool_check_metrics(text)
            assert rc == 0, out
            if s["status"] == 8:
                status = s
                break
        assert status is not None, (seen, src_seen, st.log_tail())
        assert "DRC_508:" in status["errMsg"], status
        assert "invalidated" in status["errMsg"], status
        # On the way the store showed the slot leaving "reserved".
        assert seen & {"extended", "unreserved"}, (seen, src_seen)
    finally:
        if holder is not None:
            holder.close()
        st.cleanup()
