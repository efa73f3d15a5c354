"""Exactly once across crashes with a PostgreSQL source: `kill -9` the store
20 times during a write load while a subscriber that always resumes from the
checkpoint of the last record it received collects the stream. Every row
arrives exactly once, in commit order; applying the changes reproduces the
source table; and the slot's confirmed LSN never passes what the store had
made durable (no delivered commit ends between the store's durable resume
point and the slot's confirmed position at any kill)."""

import random
import re
import signal
import threading
import time

from oxtest_pg import wait_ready
from oxtest_store import Store
from test_store_crash import Follower

ROWS = 60_000
PER_TXN = 50
KILLS = 20


class PgFollower(Follower):
    """Follower that also keeps (end LSN, msgId) of every commit."""

    def __init__(self, store):
        super().__init__(store)
        self.commits = []

    def apply(self, r):
        super().apply(r)
        if r["op"] == "commit":
            self.commits.append((r["fileIdx"] << 32) | r["nextOffset"])


def confirmed_lsn(pg):
    v = pg.query("SELECT (confirmed_flush_lsn - '0/0')::bigint FROM pg_replication_slots")
    return int(v[0][0])


def test_kill9_exactly_once(postgres):
    pg = postgres
    pg.password = ""
    pg.query("CREATE TABLE k (id int PRIMARY KEY, v int NOT NULL)")
    store = Store(pg, source__type="postgresql", source__database="postgres",
                  store__fsync="interval", store__fsync__interval_ms=5)
    store.start()
    wait_ready(store, pg)
    follower = PgFollower(store)
    follower.start()
    done = threading.Event()
    werr = []

    def writer():
        try:
            c = pg.conn()
            c.autocommit = False
            cur = c.cursor()
            next_id = 1
            while next_id <= ROWS:
                vals = ",".join("(%d,%d)" % (i, i) for i in range(next_id, next_id + PER_TXN))
                cur.execute("INSERT INTO k VALUES " + vals)
                cur.execute("UPDATE k SET v=v+1 WHERE id=%d" % random.randint(1, next_id))
                c.commit()
                next_id += PER_TXN
                time.sleep(0.01)
            c.close()
        except Exception as e:
            werr.append(e)
        finally:
            done.set()

    w = threading.Thread(target=writer, daemon=True)
    w.start()
    kills = 0
    confirmed_at_kill = []
    try:
        while kills < KILLS:
            time.sleep(random.uniform(0.15, 0.5))
            store.kill(signal.SIGKILL)
            kills += 1
            confirmed_at_kill.append(confirmed_lsn(pg))
            store.start()
        assert not done.is_set(), "the load ended before the %d kills; slow it down" % KILLS
        done.wait(300)
        assert not werr, werr
        deadline = time.monotonic() + 120
        while len(follower.inserted) < ROWS and time.monotonic() < deadline:
            assert follower.error is None, follower.error
            time.sleep(0.2)
        time.sleep(1.0)
        follower.stop = True
        follower.join(10)
        assert follower.error is None, follower.error
        assert len(follower.inserted) == ROWS, (len(follower.inserted), store.log_tail())
        assert follower.inserted == list(range(1, ROWS + 1)), "not in commit order"
        assert follower.msg_ids_ok, "msgIds not dense across restarts"
        src = dict(pg.query("SELECT id, v FROM k"))
        assert follower.table == src
        st = store.status()
        assert st["status"] == 0, st
        log = open(store.keys["store.dir"] + "/store.log").read()
        assert log.count("starting (pid") == KILLS + 1
        # Each start after kill i (the log's chunk i+1) reads from its log's
        # durable end: the slot must not have been confirmed past it.
        chunks = log.split("starting (pid")[2:]
        assert len(chunks) == KILLS
        checked = 0
        for c, chunk in zip(confirmed_at_kill, chunks):
            m = re.search(r"reading at file index (\d+) offset (\d+)", chunk)
            if not m:
                continue  # killed before its first commit was stored
            r = (int(m.group(1)) << 32) | int(m.group(2))
            lost = [e for e in follower.commits if r < e <= c]
            assert not lost, "slot confirmed %x past durable %x over commits %s\n%s" % (
                c, r, lost[:3], chunk[:2000])
            checked += 1
        assert checked >= KILLS - 2
    finally:
        follower.stop = True
        store.cleanup()
