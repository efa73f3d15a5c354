"""CM and supervisor reliability (issue 14 items 6, 8, 9, 10): the SQLite
metaDB's shared memory cannot take the CM down, an empty metaDB next to
existing stores is refused, ports are unique per host and checked, and a
store that stops answering leaves "starting"."""

import errno
import os
import signal
import socket
import subprocess
import time


from oxtest import pid_alive, procs
from oxtest_cm import CM, store_status
from oxtest_cm import wait_until as wait


def test_sqlite_shm_cannot_kill_cm(cm, mariadb):
    """Item 8: SQLite's -shm is mmapped; truncating it under a running CM
    used to kill the CM with SIGBUS (exit 135) and every store with it. The
    metaDB uses a rollback journal: no shared memory, nothing to break, and
    an online backup still works."""
    cm.create_topic(mariadb, topic="orders")
    name = cm.start_crawler(topic="orders")["name"]
    cm.wait_status(name, lambda c: c["status"] == 0)
    spid = cm.store_pid(name)
    shm = os.path.join(cm.data, "metadb.sqlite-shm")
    if os.path.exists(shm):
        os.truncate(shm, 0)
    for i in range(5):
        cm.create_topic(mariadb, topic="t%d" % i)
    time.sleep(1.5)  # health rounds and heartbeats write the metaDB too
    assert cm.proc.poll() is None, "CM died (exit %s):\n%s" % (cm.proc.returncode, cm.log())
    assert pid_alive(spid)
    assert len(cm.topics()) == 6
    assert not os.path.exists(shm)
    backup = os.path.join(cm.dir, "backup.sqlite")
    r = subprocess.run(["sqlite3", os.path.join(cm.data, "metadb.sqlite"),
                        ".backup %s" % backup], stderr=subprocess.PIPE, timeout=60)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["sqlite3", backup, "SELECT count(*) FROM ox_topics"],
                       stdout=subprocess.PIPE, timeout=60)
    assert r.stdout.strip() == b"6"


def test_sqlite_second_cm_on_same_metadb_refused(cm, mariadb):
    """Item 8: the metaDB is held exclusively; a second CM on the same file
    fails with a clear message instead of sharing (and corrupting) it."""
    other = CM(cm__data__dir=cm.data, metadb__url=os.path.join(cm.data, "metadb.sqlite"),
               cm__supervisor="false")
    try:
        rc = other.start(expect_fail=True, timeout=60)
        assert rc != 0
        assert "is in use by another process" in other.log(), other.log()
    finally:
        other.cleanup()
    assert cm.proc.poll() is None


def test_hung_store_reported_and_restarted(mariadb):
    """Item 10: a store stopped with SIGSTOP used to show 1002 "starting"
    forever. The supervisor reports it unresponsive (1007) within
    supervisor.store.unresponsive_ms, then kills and restarts it."""
    c = CM(supervisor__store__unresponsive_ms=2000,
           supervisor__store__unresponsive__kill_ms=4000)
    try:
        c.start()
        c.create_topic(mariadb, topic="orders")
        name = c.start_crawler(topic="orders")["name"]
        c.wait_status(name, lambda x: x["status"] == 0)
        pid = c.store_pid(name)
        os.kill(pid, signal.SIGSTOP)
        t0 = time.monotonic()
        d = c.wait_status(name, lambda x: x["status"] == 1007, timeout=15)
        assert time.monotonic() - t0 < 6
        assert "DRC_1007" in d["errMsg"] and "not answering" in d["errMsg"], d
        # Killed and restarted: a new process answers with status 0.
        d = c.wait_status(name, lambda x: x["status"] == 0 and c.store_pid(name) not in (0, pid),
                          timeout=30)
        assert not pid_alive(pid)
        assert "stopped answering its status" in c.log() or "killing it" in c.log()
    finally:
        c.cleanup()


def test_ports_unique_per_host_and_checked(cm, mariadb):
    """Item 6: the supervisor reused the port of a leftover store.properties
    although a running store held it; the second store crash-looped on
    "cannot listen" while detail showed the first store's status and port.
    Ports now come from the metaDB (unique per host), a port held by another
    process is reported and replaced, and a status only counts if the port
    answers with the store's own name and pid."""
    cm.create_topic(mariadb, topic="orders")
    a = cm.start_crawler(topic="orders")
    a = cm.wait_status(a["name"], lambda c: c["status"] == 0)
    # Crawler 2's directory left over with crawler 1's port in it.
    b_name = a["name"][:-1] + "2"
    bdir = cm.store_dir(b_name)
    os.makedirs(bdir)
    with open(os.path.join(bdir, "store.properties"), "w") as f:
        f.write("store.port=%d\n" % a["port"])
    # A foreign process holds the next port the CM would allocate.
    # (If another process on this machine already holds it, that is the
    # same situation: the port is in use by something that is not a store.)
    foreign = socket.socket()
    try:
        foreign.bind(("127.0.0.1", a["port"] + 1))
        foreign.listen(1)
    except OSError as e:
        if e.errno != errno.EADDRINUSE:
            raise
    try:
        b = cm.start_crawler(topic="orders")
        assert b["name"] == b_name
        b = cm.wait_status(b_name, lambda c: c["status"] == 0, timeout=40)
        assert b["port"] not in (a["port"], a["port"] + 1), (a, b)
        assert store_status(b["port"])["name"] == b_name
        assert store_status(b["port"])["pid"] == cm.store_pid(b_name)
        assert "in use by another process" in cm.log()
    finally:
        foreign.close()
    # The metaDB enforces it: one port per host.
    r = subprocess.run(["sqlite3", os.path.join(cm.data, "metadb.sqlite"),
                        "SELECT sql FROM sqlite_master WHERE name='ox_crawlers_host_port'"],
                       stdout=subprocess.PIPE, timeout=60)
    assert b"UNIQUE" in r.stdout.upper()
    ports = [c["port"] for c in cm.crawlers()]
    assert len(set(ports)) == len(ports)


def test_empty_metadb_next_to_stores_refused(mariadb):
    """Item 9: a 0-byte or missing metadb.sqlite was silently a new, empty
    metaDB while store directories existed; a new crawler then reused an old
    directory with its old log."""
    c = CM()
    try:
        c.start()
        c.create_topic(mariadb, topic="orders", whiteList="shop.*")
        name = c.start_crawler(topic="orders")["name"]
        c.wait_status(name, lambda x: x["status"] == 0)
        c.stop()
        mdb = os.path.join(c.data, "metadb.sqlite")
        for damage in ("truncate", "remove"):
            if damage == "truncate":
                os.truncate(mdb, 0)
            else:
                os.remove(mdb)
            rc = c.start(expect_fail=True, timeout=60)
            assert rc != 0, c.log()
            log = c.log()
            assert "the metaDB is empty" in log and "Restore it from a backup" in log, log
            assert "cm.metadb.empty.ok=true" in log
        # Going on anyway: the old directory is never reused by the new
        # crawler that gets the same name.
        old_files = sorted(os.listdir(os.path.join(c.store_dir(name), "data")))
        c.keys["cm.metadb.empty.ok"] = "true"
        c.start()
        c.create_topic(mariadb, topic="orders", whiteList="other.*")
        again = c.start_crawler(topic="orders")["name"]
        assert again == name
        d = c.wait_status(name, lambda x: x["status"] == 1006, timeout=30)
        assert "belongs to another crawler" in d["errMsg"], d
        assert sorted(os.listdir(os.path.join(c.store_dir(name), "data"))) == old_files
    finally:
        c.cleanup()


def test_crawler_start_before_oldest_binlog(cm, mariadb):
    """Issue 8 item 5: crawler/start with checkpoint=::::T: before the oldest
    binlog answered status 0 and started later, silently."""
    cm.create_topic(mariadb, topic="orders")
    t = int(time.time()) - 86400
    st, j = cm.post("/crawler/start", topic="orders", checkpoint="::::%d:" % t)
    assert st == 200 and j["isSuccess"], j
    d = cm.wait_status(j["crawler"]["name"], lambda c: c["status"] == 2)
    assert "DRC_502" in d["errMsg"] and "before the oldest binlog" in d["errMsg"], d


def test_cm_crash_does_not_take_stores_down(mariadb):
    """Item 8: a CM that dies (SIGBUS then, SIGKILL here) took every store
    of its in-process supervisor with it. The stores keep running and
    serving, and the restarted CM adopts them instead of starting others."""
    mariadb.execute_root("CREATE DATABASE shop", "CREATE TABLE shop.t (id INT PRIMARY KEY)")
    c = CM()
    try:
        c.start()
        c.create_topic(mariadb, topic="orders", whiteList="shop.*")
        name = c.start_crawler(topic="orders")["name"]
        d = c.wait_status(name, lambda x: x["status"] == 0)
        pid = c.store_pid(name)
        c.stop(sig=signal.SIGKILL)
        assert pid_alive(pid)
        for i in range(5):
            mariadb.execute_root("INSERT INTO shop.t VALUES (%d)" % i)
        wait(lambda: store_status(d["port"])["lastMsgId"] >= 10, what="capture without the CM")
        c.start()
        d2 = c.wait_status(name, lambda x: x["status"] == 0 and x["checkpoints"] and
                           x["checkpoints"][0] and x["checkpoints"][0][1]["msgId"] >= 10)
        assert d2["port"] == d["port"]
        assert c.store_pid(name) == pid
        assert "adopted it" in c.log()
        # A clean stop of the CM leaves them too; with supervisor.stop.stores
        # it stops them (test_outlive.py covers the clean stop in full).
        c.keys["supervisor.stop.stores"] = "true"
        c.stop()
        assert pid_alive(pid)
        c.start()
        c.wait_status(name, lambda x: x["status"] == 0)
        assert c.store_pid(name) == pid
        c.stop()
        wait(lambda: not pid_alive(pid), timeout=30, what="store stopped with the CM")
    finally:
        c.cleanup()


def test_empty_metadb_adopts_store_directories(mariadb):
    """Item 9, the other way on: cm.metadb.adopt=true rebuilds a lost
    metaDB from the store directories; each store runs again in its own
    directory with its log, and new names do not collide with old ones."""
    mariadb.execute_root("CREATE DATABASE shop", "CREATE TABLE shop.t (id INT PRIMARY KEY)")
    c = CM()
    try:
        c.start()
        c.create_topic(mariadb, topic="orders", whiteList="shop.*")
        name = c.start_crawler(topic="orders")["name"]
        for i in range(3):
            mariadb.execute_root("INSERT INTO shop.t VALUES (%d)" % i)
        d = c.wait_status(name, lambda x: x["status"] == 0 and x["checkpoints"] and
                          x["checkpoints"][0] and x["checkpoints"][0][1]["msgId"] >= 6)
        c.stop()
        os.remove(os.path.join(c.data, "metadb.sqlite"))
        c.keys["cm.metadb.adopt"] = "true"
        c.start()
        topics = c.topics()
        assert [t["topic"] if "topic" in t else t.get("name") for t in topics] == ["orders"], topics
        d2 = c.wait_status(name, lambda x: x["status"] == 0 and x["checkpoints"] and
                           x["checkpoints"][0] and x["checkpoints"][0][1]["msgId"] >= 6)
        assert d2["port"] == d["port"]
        assert d2["checkpoints"][0][0]["msgId"] == 1  # its old log, not a new one
        assert "belongs to another crawler" not in c.log()
        mariadb.execute_root("INSERT INTO shop.t VALUES (3)")
        c.wait_status(name, lambda x: x["checkpoints"][0][1]["msgId"] >= 8)
        b = c.start_crawler(topic="orders")["name"]
        assert b != name and b.endswith("0000000002")
    finally:
        c.cleanup()
