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
