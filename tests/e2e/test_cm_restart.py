"""The supervisor restarts a store killed with kill -9, with backoff, and
its subscribers lose nothing: a subscriber that resumes from the checkpoint
of the last record it saw gets every row written before, during and after
the crash, exactly once and in order."""

import json
import os
import signal
import subprocess
import time


from oxtest import pid_alive, run_oxbow


def tail(port, *args):
    r = run_oxbow("tail", "--store", "127.0.0.1:%d" % port, "--format", "json", *args,
                  timeout=120)
    return [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]


def ids(records):
    return [r["after"]["id"] for r in records if r.get("op") == "insert" and r.get("table") == "t"]


def wait_pid_change(cm, name, old, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = cm.store_pid(name)
        if pid and pid != old:
            return pid
        time.sleep(0.05)
    raise AssertionError("store was not restarted:\n" + cm.log())


def test_kill_9_restart_loses_nothing(cm, mariadb):
    mariadb.execute_root("CREATE DATABASE shop", "CREATE TABLE shop.t (id INT PRIMARY KEY)")
    cm.create_topic(mariadb, topic="orders", whiteList="shop.*")
    name = cm.start_crawler(topic="orders")["name"]
    for i in range(0, 50):
        mariadb.execute_root("INSERT INTO shop.t VALUES (%d)" % i)
    d = cm.wait_status(name, lambda c: c["status"] == 0 and c["checkpoints"] and
                       c["checkpoints"][0] and c["checkpoints"][0][1]["msgId"] >= 100)
    port = d["port"]
    # A subscriber reads the first 30 rows and remembers where it stopped.
    first = []
    deadline = time.monotonic() + 30
    while len(ids(first)) < 50 and time.monotonic() < deadline:
        first = tail(port, "--earliest", "--idle-exit", "1")
    got = ids(first)
    assert got == list(range(50))
    cut = next(i for i, r in enumerate(first)
               if r.get("op") == "commit" and ids(first[:i]) == list(range(30)))
    resume = first[cut]["checkpoint"]

    pid1 = cm.store_pid(name)
    os.kill(pid1, signal.SIGKILL)
    # Rows written while the store is down.
    for i in range(50, 80):
        mariadb.execute_root("INSERT INTO shop.t VALUES (%d)" % i)
    pid2 = wait_pid_change(cm, name, pid1)
    assert pid_alive(pid2) and not pid_alive(pid1)
    sv = cm.supervisor_status()
    assert [s["restarts"] for s in sv["stores"] if s["name"] == name] == [1]
    assert "killed by signal 9" in cm.log()
    for i in range(80, 100):
        mariadb.execute_root("INSERT INTO shop.t VALUES (%d)" % i)
    cm.wait_status(name, lambda c: c["status"] == 0 and c["port"] == port)
    # Resuming after record 29 yields 30..99 exactly once, in order.
    deadline = time.monotonic() + 30
    rest = []
    while ids(rest) != list(range(30, 100)) and time.monotonic() < deadline:
        rest = tail(port, "--checkpoint", resume, "--idle-exit", "1")
    assert ids(rest) == list(range(30, 100))
    # And from the start everything is there once.
    assert ids(tail(port, "--earliest", "--idle-exit", "1")) == list(range(100))


def test_crash_loop_backs_off(cm, mariadb):
    """A store that keeps crashing is restarted after growing delays
    (0.5 s, 1 s, 2 s: exponential backoff) and comes back to status 0."""
    cm.create_topic(mariadb, topic="orders")
    name = cm.start_crawler(topic="orders")["name"]
    cm.wait_status(name, lambda c: c["status"] == 0)
    # Kill it three times in a row, each time right after it came back.
    delays = []
    for _ in range(3):
        pid = cm.store_pid(name)
        os.kill(pid, signal.SIGKILL)
        t0 = time.monotonic()
        wait_pid_change(cm, name, pid)
        delays.append(time.monotonic() - t0)
    # Each delay is at least its backoff (plus up to one heartbeat to notice).
    assert delays[0] >= 0.5 and delays[1] >= 1.0 and delays[2] >= 2.0, delays
    assert delays[2] > delays[0] + 0.8, delays
    d = cm.wait_status(name, lambda c: c["status"] == 0)
    assert d["status"] == 0
