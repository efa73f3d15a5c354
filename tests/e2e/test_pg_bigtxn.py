"""A 1 GB transaction streams through a PostgreSQL store with its RSS flat:
one INSERT ... SELECT of 1,000,000 rows of 1 kB in one transaction; the
store's RSS is sampled while it writes the transaction and must not grow by
more than 64 MiB over its RSS before the transaction. The server streams the
transaction while it runs (it exceeds logical_decoding_work_mem, 64MB by
default): the store spills it to <store.dir>/pgstream and replays it into
its log at the commit, both through bounded buffers.
OX_PG_BIGTXN_MB sets the size (default 1024)."""

import os
import threading
import time

from oxtest_pg import wait_ready
from oxtest_store import Store

MB = int(os.environ.get("OX_PG_BIGTXN_MB", "1024"))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_one_gigabyte_transaction(postgres):
    pg = postgres
    pg.password = ""
    pg.query("CREATE TABLE big (id int PRIMARY KEY, pad text)")
    st = Store(pg, source__type="postgresql", source__database="postgres",
               store__segment__bytes=str(256 << 20)).start()
    try:
        wait_ready(st, pg)
        time.sleep(1)
        base = rss_kb(st.pid)
        samples = []
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                samples.append(rss_kb(st.pid))
                time.sleep(0.2)

        t = threading.Thread(target=sample, daemon=True)
        t.start()
        rows = MB * 1024
        pg.query("INSERT INTO big SELECT g, repeat(md5(g::text), 31) FROM "
                 "generate_series(1, %d) g" % rows)
        last = st.wait_status(lambda s: s["lastMsgId"] >= rows + 1, timeout=1200,
                              what="the whole transaction stored")
        stop.set()
        t.join(5)
        peak = max(samples)
        print("store RSS before %d kB, peak while streaming %d kB (+%d kB), %d samples, "
              "log %d bytes" % (base, peak, peak - base, len(samples), last["bytes"]))
        assert last["bytes"] >= MB << 20
        streamed = pg.query("SELECT stream_txns FROM pg_stat_replication_slots")
        print("streamed transactions: %s" % streamed)
        assert streamed and streamed[0][0] >= 1, streamed
        assert os.listdir(os.path.join(st.keys["store.dir"], "pgstream")) == []
        assert peak - base < 64 * 1024, (base, peak)
        sub = st.subscribe("from=earliest")
        first = sub.next()
        assert first["op"] == "insert" and first["after"]["id"] == 1
        assert len(first["after"]["pad"]) == 992
    finally:
        st.cleanup()
