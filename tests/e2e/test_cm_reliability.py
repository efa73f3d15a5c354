"""CM and supervisor reliability (issue 14 items 6, 8, 9, 10): the SQLite
metaDB's shared memory cannot take the CM down, an empty metaDB next to
existing stores is refused, ports are unique per host and checked, and a
store that stops answering leaves "starting"."""

import os
import signal
import subprocess
import time

import pytest

from oxtest import pid_alive, procs
from oxtest_cm import CM, store_status


@pytest.fixture
def cm():
    c = CM()
    try:
        yield c.start()
    finally:
        c.cleanup()


def wait(pred, timeout=30, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(what + " not reached")


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
