"""Exactly once across crashes: `kill -9` the store at least 20 times during
a 100k-row write load while a subscriber that always resumes from the
checkpoint of the last record it received collects the stream. At the end
every row arrived exactly once, in commit order, and applying the changes
reproduces the source table."""

import random
import signal
import threading
import time

import pytest

from oxtest_store import Store

ROWS = 100_000
PER_TXN = 50
KILLS = 20


class Follower(threading.Thread):
    """Subscribes, applies changes to a dict, and on any failure resumes
    from the checkpoint of the last record received."""

    def __init__(self, store):
        super().__init__(daemon=True)
        self.store = store
        self.checkpoint = None
        self.last_msg = 0
        self.inserted = []   # ids in arrival order
        self.table = {}
        self.msg_ids_ok = True
        self.reconnects = 0
        self.stop = False
        self.error = None

    def run(self):
        try:
            while not self.stop:
                q = "checkpoint=" + self.checkpoint if self.checkpoint else "from=earliest"
                try:
                    sub = self.store.subscribe(q, timeout=5)
                except OSError:
                    time.sleep(0.05)
                    continue
                if sub.status != 200:
                    raise AssertionError("subscribe %s -> %s %s" % (q, sub.status, sub.error))
                self.reconnects += 1
                try:
                    while not self.stop:
                        r = sub.next(timeout=1)
                        if r is None:
                            continue
                        self.apply(r)
                except (OSError, EOFError, ValueError):
                    pass
                finally:
                    sub.close()
        except Exception as e:  # surfaced by the test
            self.error = e

    def apply(self, r):
        if r["msgId"] != self.last_msg + 1:
            self.msg_ids_ok = False
        self.last_msg = r["msgId"]
        self.checkpoint = r["checkpoint"]
        if r["op"] == "insert":
            a = r["after"]
            if a["id"] in self.table:
                raise AssertionError("row %d delivered twice" % a["id"])
            self.inserted.append(a["id"])
            self.table[a["id"]] = a["v"]
        elif r["op"] == "update":
            self.table[r["after"]["id"]] = r["after"]["v"]


@pytest.mark.parametrize("resume", ["gtid", "filepos"])
def test_kill9_exactly_once(mariadb, resume):
    mariadb.execute_root("CREATE DATABASE shop",
                         "CREATE TABLE shop.k (id INT PRIMARY KEY, v INT NOT NULL)")
    store = Store(mariadb, store__fsync="interval", store__fsync__interval_ms=5,
                  store__resume=resume)
    store.start()
    follower = Follower(store)
    follower.start()
    done = threading.Event()
    werr = []

    def writer():
        try:
            c = mariadb.conn(autocommit=False)
            cur = c.cursor()
            next_id = 1
            while next_id <= ROWS:
                vals = ",".join("(%d,%d)" % (i, i) for i in range(next_id, next_id + PER_TXN))
                cur.execute("INSERT INTO shop.k VALUES " + vals)
                # An update of an earlier row in the same transaction.
                cur.execute("UPDATE shop.k SET v=v+1 WHERE id=%d" % random.randint(1, next_id))
                c.commit()
                next_id += PER_TXN
                time.sleep(0.006)
            c.close()
        except Exception as e:
            werr.append(e)
        finally:
            done.set()

    w = threading.Thread(target=writer, daemon=True)
    w.start()
    kills = 0
    try:
        while kills < KILLS:
            time.sleep(random.uniform(0.15, 0.5))
            store.kill(signal.SIGKILL)
            kills += 1
            store.start()
        assert not done.is_set(), "the load ended before the %d kills; slow it down" % KILLS
        done.wait(300)
        assert not werr, werr
        deadline = time.monotonic() + 120
        while len(follower.inserted) < ROWS and time.monotonic() < deadline:
            assert follower.error is None, follower.error
            time.sleep(0.2)
        # Let any duplicate show up, then stop.
        time.sleep(1.0)
        follower.stop = True
        follower.join(10)
        assert follower.error is None, follower.error
        assert kills >= KILLS
        assert follower.reconnects > KILLS // 2
        assert len(follower.inserted) == ROWS, (len(follower.inserted), store.log_tail())
        assert follower.inserted == list(range(1, ROWS + 1)), "not in commit order"
        assert follower.msg_ids_ok, "msgIds not dense across restarts"
        src = dict(mariadb.query("SELECT id, v FROM shop.k"))
        assert follower.table == src
        st = store.status()
        assert st["status"] == 0, st
        log = open(store.keys["store.dir"] + "/store.log").read()
        assert log.count("starting (pid") == KILLS + 1
        how = "reading after GTID" if resume == "gtid" else "reading at file index"
        assert log.count(how) >= KILLS - 2, log[-3000:]
    finally:
        follower.stop = True
        store.cleanup()
