"""Exactly once across crashes through the CM: a PostgreSQL topic's store,
run by the CM's supervisor, is killed with SIGKILL 20 times under a write
load (the supervisor restarts it); a subscriber that always resumes from the
checkpoint of the last record it received gets every row exactly once, in
commit order, and the applied changes equal the source table."""

import random
import signal
import threading
import time

from oxtest import procs
from oxtest_pg import wait_slot_active
from oxtest_cm import CM
from oxtest_store import Subscription
from test_pg_crash import PgFollower

ROWS = 30_000  # at least; the load goes on until the kills are done
PER_TXN = 50
KILLS = 20


class StoreAt:
    """What the Follower needs of a store: subscribe()."""

    def __init__(self, port):
        self.port = port

    def subscribe(self, query, timeout=10):
        return Subscription(self.port, query, timeout)


def test_kill9_through_cm(postgres):
    pg = postgres
    pg.password = ""
    pg.query("CREATE TABLE k (id int PRIMARY KEY, v int NOT NULL)")
    cm = CM(supervisor__restart__backoff__max_ms="300").start()
    try:
        cm.create_topic(pg, topic="pgk", dbType="postgresql", database="postgres")
        store = cm.start_crawler(topic="pgk")["name"]
        d = cm.wait_status(store, lambda c: c["status"] == 0)
        wait_slot_active(pg)
        follower = PgFollower(StoreAt(d["port"]))
        follower.start()
        done = threading.Event()
        enough = threading.Event()
        werr = []
        written = [0]

        def writer():
            try:
                c = pg.conn()
                c.autocommit = False
                cur = c.cursor()
                next_id = 1
                while next_id <= ROWS or not enough.is_set():
                    cur.execute("INSERT INTO k SELECT g, g FROM generate_series(%d, %d) g"
                                % (next_id, next_id + PER_TXN - 1))
                    cur.execute("UPDATE k SET v = v + 1 WHERE id = %d"
                                % random.randint(1, next_id))
                    c.commit()
                    next_id += PER_TXN
                    written[0] = next_id - 1
                    time.sleep(0.02)
                c.close()
            except Exception as e:
                werr.append(e)
            finally:
                done.set()

        w = threading.Thread(target=writer, daemon=True)
        w.start()
        kills = 0
        while kills < KILLS:
            time.sleep(random.uniform(0.2, 0.5))
            pid = cm.store_pid(store)
            if pid <= 0:
                continue
            procs.kill_pid(pid, signal.SIGKILL, grace=10)
            kills += 1
            deadline = time.monotonic() + 30
            while cm.store_pid(store) in (0, pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        assert not done.is_set(), werr
        enough.set()
        done.wait(300)
        assert not werr, werr
        rows = written[0]
        deadline = time.monotonic() + 120
        while len(follower.inserted) < rows and time.monotonic() < deadline:
            assert follower.error is None, follower.error
            time.sleep(0.2)
        time.sleep(1.0)
        follower.stop = True
        follower.join(10)
        assert follower.error is None, follower.error
        assert len(follower.inserted) == rows, (len(follower.inserted), rows)
        assert follower.inserted == list(range(1, rows + 1)), "not in commit order"
        assert follower.msg_ids_ok, "msgIds not dense across restarts"
        assert follower.table == dict(pg.query("SELECT id, v FROM k"))
        cm.wait_status(store, lambda c: c["status"] == 0)
        sv = [x for x in cm.supervisor_status()["stores"] if x["name"] == store][0]
        assert sv["restarts"] >= KILLS, sv
    finally:
        follower_stop = locals().get("follower")
        if follower_stop is not None:
            follower_stop.stop = True
        cm.cleanup()
