"""Issue 13, "processes that outlive each other": a store keeps capturing
and serving while its supervisor or the CM is down or restarting, and the
restarted supervisor adopts it (same pid, same port) instead of killing it
or starting a second copy. A writer inserts numbered rows throughout and a
subscriber, connected to the store the whole time, must see every row
exactly once and in order, as SELECT shows them on the source."""

import os
import signal
import threading
import time

from oxtest import pid_alive, procs
from oxtest_cm import CM, Supervisor, store_status
from oxtest_cm import wait_until as wait
from oxtest_store import Subscription


class Writer(threading.Thread):
    """Inserts ids 1, 2, ... into shop.t (autocommit) until stopped."""

    def __init__(self, mariadb):
        super().__init__(daemon=True)
        self.conn = mariadb.root_conn()
        self.conn.autocommit(True)
        self.done = threading.Event()
        self.written = 0

    def run(self):
        with self.conn.cursor() as cur:
            while not self.done.is_set():
                cur.execute("INSERT INTO shop.t VALUES (%s)", (self.written + 1,))
                self.written += 1
                time.sleep(0.02)

    def stop(self):
        self.done.set()
        self.join(30)
        self.conn.close()


class Subscriber(threading.Thread):
    """One subscription from the earliest record, kept open throughout; it
    collects the ids of the rows inserted into t."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.sub = Subscription(port, "from=earliest", timeout=60)
        assert self.sub.status == 200, self.sub.error
        self.ids = []
        self.error = None
        self.done = threading.Event()

    def run(self):
        try:
            while not self.done.is_set():
                # A socket that timed out cannot be read again: wait longer
                # than the store's keepalive period.
                r = self.sub.next(timeout=30)
                if r is not None and r.get("op") == "insert" and r.get("table") == "t":
                    self.ids.append(int(r["after"]["id"]))
        except Exception as e:  # reported by the test, never swallowed
            self.error = e

    def grows(self, by, timeout=30, what="rows"):
        n = len(self.ids)
        wait(lambda: self.error is not None or len(self.ids) >= n + by, timeout, what)
        assert self.error is None, self.error

    def stop(self):
        self.done.set()
        self.join(30)
        self.sub.close()


def finish(mariadb, writer, sub):
    """Stops the writer; the subscriber must then hold exactly the rows
    SELECT shows, once each and in order."""
    writer.stop()
    want = [r[0] for r in mariadb.query("SELECT id FROM shop.t ORDER BY id")]
    assert want == list(range(1, writer.written + 1))
    wait(lambda: sub.error is not None or len(sub.ids) >= len(want), 60, "all rows received")
    time.sleep(1)  # nothing more (no duplicate) may follow
    sub.stop()
    assert sub.error is None, sub.error
    assert sub.ids == want, (len(sub.ids), len(want))


def cleanup(cm, *threads):
    for t in threads:
        if t is not None:
            t.stop()
    cm.cleanup()


def running(pid):
    """pid is a live process, not a zombie: a store whose supervisor died
    belongs to init, which may reap it late."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def reported_pid(sv, name):
    """The pid a (CM's or stand-alone) supervisor reports, 0 while it is
    not listening yet."""
    try:
        return sv.store_pid(name)
    except OSError:
        return 0


def setup_source(mariadb):
    mariadb.execute_root("CREATE DATABASE shop", "CREATE TABLE shop.t (id INT PRIMARY KEY)")


def test_cm_clean_stop_leaves_stores_serving(mariadb):
    """SIGTERM of the single-node `oxbow cm` (in-process supervisor) used to
    stop every store of the host."""
    setup_source(mariadb)
    c = CM()
    writer = sub = None
    try:
        c.start()
        c.create_topic(mariadb, topic="orders", whiteList="shop.*")
        name = c.start_crawler(topic="orders")["name"]
        d = c.wait_status(name, lambda x: x["status"] == 0)
        pid, port = c.store_pid(name), d["port"]
        sub = Subscriber(port)
        sub.start()
        writer = Writer(mariadb)
        writer.start()
        sub.grows(5)

        c.stop()  # SIGTERM, waits for the CM to exit
        assert pid_alive(pid), "the store died with the CM:\n" + c.log()
        sub.grows(20, what="rows while the CM is down")
        st = store_status(port)
        assert st["name"] == name and st["pid"] == pid

        c.start()  # the same metaDB and supervisor directory
        d2 = c.wait_status(name, lambda x: x["status"] == 0)
        assert d2["port"] == port
        wait(lambda: reported_pid(c, name) == pid, what="adopted, the same pid")
        assert "adopted it" in c.log()
        assert "leaving store %s (pid %d" % (name, pid) in c.log()
        sub.grows(5)
        finish(mariadb, writer, sub)
        writer = sub = None

        # The explicit way to stop the stores with the CM.
        c.stop()
        c.keys["supervisor.stop.stores"] = "true"
        c.start()
        c.wait_status(name, lambda x: x["status"] == 0)
        wait(lambda: reported_pid(c, name) == pid, what="adopted, the same pid")
        c.stop()
        wait(lambda: not pid_alive(pid), 30, "store stopped with the CM")
    finally:
        cleanup(c, writer, sub)


def test_standalone_supervisor_kill_and_stop_leave_stores(mariadb):
    """A stand-alone `oxbow supervisor` killed (-9) or stopped (SIGTERM) used
    to take its stores with it; the restart started them again."""
    setup_source(mariadb)
    c = CM(cm__host__lost_ms="2000")
    writer = sub = None
    try:
        c.start()
        token = os.path.join(c.dir, "sv2.token")
        sv = Supervisor(c, token)
        r = c.credential("issue", sv.host_id, out=token)
        assert r.returncode == 0, r.stderr
        sv.start()
        wait(lambda: sv.host_id in [h["host"] for h in c.hosts()], what="registration")
        c.create_topic(mariadb, topic="orders", whiteList="shop.*")
        name = c.start_crawler(topic="orders", host=sv.host_id)["name"]
        d = c.wait_status(name, lambda x: x["status"] == 0)
        pid, port = sv.store_pid(name), d["port"]
        assert pid > 0
        sub = Subscriber(port)
        sub.start()
        writer = Writer(mariadb)
        writer.start()
        sub.grows(5)

        for sig in (signal.SIGKILL, signal.SIGTERM):
            procs.kill_pid(sv.proc.pid, sig=sig, grace=30.0)
            assert pid_alive(pid), "the store died with its supervisor (%s):\n%s" % (
                sig, sv.log())
            c.wait_status(name, lambda x: x["status"] == 1004, timeout=15)
            sub.grows(20, what="rows while the supervisor is down (%s)" % sig)
            sv.start()
            d2 = c.wait_status(name, lambda x: x["status"] == 0)
            assert d2["port"] == port
            wait(lambda: sv.store_pid(name) == pid, what="adopted, the same pid")
            assert sv.log().count("adopted it") == (1 if sig == signal.SIGKILL else 2)
            assert store_status(port)["pid"] == pid
            sub.grows(5)
        finish(mariadb, writer, sub)
        writer = sub = None

        # --stop-stores: a clean stop takes the stores down too.
        procs.kill_pid(sv.proc.pid)
        sv.start("--stop-stores")
        c.wait_status(name, lambda x: x["status"] == 0)
        wait(lambda: sv.store_pid(name) == pid, what="adopted, the same pid")
        procs.kill_pid(sv.proc.pid)
        wait(lambda: not pid_alive(pid), 30, "store stopped with the supervisor")
    finally:
        cleanup(c, writer, sub)


def test_adopted_store_restarts_when_its_topic_changed(mariadb):
    """A topic/update while the stand-alone supervisor is down: the store
    it left running has the old whitelist, so the restarted supervisor
    restarts it with the new one instead of adopting it as it is."""
    setup_source(mariadb)
    c = CM(cm__host__lost_ms="2000")
    try:
        c.start()
        token = os.path.join(c.dir, "sv2.token")
        sv = Supervisor(c, token)
        assert c.credential("issue", sv.host_id, out=token).returncode == 0
        sv.start()
        wait(lambda: sv.host_id in [h["host"] for h in c.hosts()], what="registration")
        c.create_topic(mariadb, topic="orders", whiteList="shop.*")
        name = c.start_crawler(topic="orders", host=sv.host_id)["name"]
        c.wait_status(name, lambda x: x["status"] == 0)
        pid = wait(lambda: reported_pid(sv, name), what="store pid")
        procs.kill_pid(sv.proc.pid, sig=signal.SIGKILL)
        st, j = c.post("/topic/update", topic="orders", whiteList="shop.t")
        assert st == 200, j
        assert pid_alive(pid)
        sv.start()
        wait(lambda: reported_pid(sv, name) not in (0, pid), what="restarted store")
        c.wait_status(name, lambda x: x["status"] == 0)
        assert not running(pid)
        assert "configuration changed" in sv.log()
        with open(os.path.join(sv.dir, "stores", name, "store.properties")) as f:
            assert "store.whitelist=shop.t\n" in f.read()
    finally:
        c.cleanup()
