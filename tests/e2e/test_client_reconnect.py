"""Subscribers that reconnect by themselves (docs/protocol.md, "Reconnecting
subscribers"): while a writer inserts N rows, the store is killed -9 and
restarted several times, once on another port; `oxbow tail --reconnect`
(two --store URLs) and the example program (--reconnect URL,URL) print
every row exactly once and in order, as SELECT on the source shows them. A
plain `oxbow tail` (no --reconnect) dies with the first kill, which is what
makes this test fail without the reconnect mode. A second test finds the
store through the CM's crawler/detail."""

import itertools
import os
import signal
import threading
import time

from oxtest import procs
from oxtest.oxbow import oxbow_bin, parse_json_lines
from oxtest.servers import free_port
from oxtest_store import Store
from test_cm_restart import wait_pid_change

N = 300
_priming_ids = itertools.count()


def _example_bin():
    return os.path.join(os.path.dirname(oxbow_bin()), "examples", "oxbow_subscribe_example")


def _spawn(argv, tmp_path, tag):
    out, err = str(tmp_path / (tag + ".out")), str(tmp_path / (tag + ".err"))
    with open(out, "wb") as o, open(err, "wb") as e:
        p = procs.spawn(argv, stdout=o, stderr=e)
    return p, out, err


def _records(path):
    """Complete JSON lines printed so far (a last partial line is left)."""
    with open(path, "rb") as f:
        data = f.read()
    return parse_json_lines(data[:data.rfind(b"\n") + 1])


def _inserted_ids(recs):
    """Ids of the writer's rows (the priming rows have ids below 1)."""
    return [r["after"]["id"] for r in recs if r.get("op") == "insert" and r["after"]["id"] > 0]


def _prime(db, path, timeout=30):
    """Inserts rows with ids 0, -1, ... until the subscriber prints one: then
    the store captures and the subscriber follows, and the writer's rows
    cannot fall before the store's start position."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.execute_root("INSERT INTO shop.r VALUES (%d, 0)" % -next(_priming_ids))
        t = time.monotonic() + 2
        while time.monotonic() < t:
            if any(r.get("op") == "insert" for r in _records(path)):
                return
            time.sleep(0.1)
    raise AssertionError("the subscriber printed no row")


def _wait_rows(path, n, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(_inserted_ids(_records(path))) >= n:
            return
        time.sleep(0.2)


def _writer(db, n, pause):
    def run():
        c = db.root_conn()
        try:
            with c.cursor() as cur:
                for i in range(1, n + 1):
                    cur.execute("INSERT INTO shop.r VALUES (%d, %d)" % (i, i * 7))
                    time.sleep(pause)
        finally:
            c.close()
    t = threading.Thread(target=run)
    t.start()
    return t


def _check_exactly_once(path, want, what, err_path):
    recs = _records(path)
    ids = _inserted_ids(recs)
    with open(err_path, errors="replace") as f:
        err = f.read()[-3000:]
    assert ids == want, "%s: %d rows, first wrong at %s; its stderr:\n%s" % (
        what, len(ids), next((i for i, (a, b) in enumerate(zip(ids, want)) if a != b), len(ids)),
        err)
    msg_ids = [r["msgId"] for r in recs]
    assert msg_ids == sorted(set(msg_ids)), what + ": a record twice or out of order"
    assert msg_ids == list(range(msg_ids[0], msg_ids[0] + len(msg_ids))), what + ": a gap"
    assert [r["after"]["v"] for r in recs
            if r.get("op") == "insert" and r["after"]["id"] > 0] == [i * 7 for i in want]


def test_tail_and_example_survive_kills_and_a_move(mariadb, tmp_path):
    mariadb.execute_root("CREATE DATABASE shop", "CREATE TABLE shop.r (id INT PRIMARY KEY, v INT)")
    s = Store(mariadb, source__heartbeat__ms=300)
    s.start()
    port1, port2 = s.port, free_port()
    urls = ["http://127.0.0.1:%d" % port1, "http://127.0.0.1:%d" % port2]
    procs_ = []
    try:
        tail, tail_out, tail_err = _spawn(
            [oxbow_bin(), "tail", "--reconnect", "--store", urls[0], "--store", urls[1],
             "--earliest"], tmp_path, "tail")
        plain, plain_out, plain_err = _spawn(
            [oxbow_bin(), "tail", "--store", "127.0.0.1:%d" % port1, "--earliest"], tmp_path,
            "plain")
        ex, ex_out, ex_err = _spawn(
            [_example_bin(), "--reconnect", ",".join(urls), str(tmp_path / "cp")], tmp_path, "ex")
        procs_ = [tail, plain, ex]
        _prime(mariadb, tail_out)
        _prime(mariadb, ex_out)
        _prime(mariadb, plain_out)
        w = _writer(mariadb, N, 0.02)
        for i in range(4):
            time.sleep(1.2)
            s.kill(signal.SIGKILL)
            time.sleep(0.3)
            if i == 2:  # the store moves: only the second URL reaches it
                s.port = port2
                s.keys["store.port"] = str(port2)
                s.write_config()
            s.start()
        w.join()
        want = [r[0] for r in mariadb.query("SELECT id FROM shop.r WHERE id > 0 ORDER BY id")]
        assert want == list(range(1, N + 1))
        _wait_rows(tail_out, N)
        _wait_rows(ex_out, N)
        time.sleep(1)  # anything extra (a duplicate) would show up here
        _check_exactly_once(tail_out, want, "oxbow tail --reconnect", tail_err)
        _check_exactly_once(ex_out, want, "the example", ex_err)
        lines = open(tail_err).read().splitlines()
        assert len([ln for ln in lines if "reconnected to" in ln]) >= 4, lines
        assert any("reconnected to 127.0.0.1:%d" % port2 in ln for ln in lines), lines
        assert tail.poll() is None and ex.poll() is None
        # Without --reconnect the first kill ends the stream with an error.
        assert plain.wait(timeout=10) == 1
        assert "closed the connection" in open(plain_err).read()
        assert len(_inserted_ids(_records(plain_out))) < N
    finally:
        for p in procs_:
            procs.kill_pid(p.pid, sig=signal.SIGTERM)
        s.cleanup()


def test_tail_finds_the_store_through_the_cm(cm, mariadb, tmp_path):
    """No store URL at all: `--cm URL --crawler NAME` asks crawler/detail
    where the store is, before the first connection and after each kill."""
    mariadb.execute_root("CREATE DATABASE shop", "CREATE TABLE shop.r (id INT PRIMARY KEY, v INT)")
    cm.create_topic(mariadb, topic="orders", whiteList="shop.*")
    name = cm.start_crawler(topic="orders")["name"]
    cm.wait_status(name, lambda c: c["status"] == 0)
    tail, tail_out, tail_err = _spawn(
        [oxbow_bin(), "tail", "--reconnect", "--cm", cm.url, "--crawler", name, "--earliest"],
        tmp_path, "tail")
    try:
        _prime(mariadb, tail_out)
        n = 150
        w = _writer(mariadb, n, 0.03)
        for _ in range(2):
            time.sleep(1.2)
            pid = cm.store_pid(name)
            os.kill(pid, signal.SIGKILL)
            wait_pid_change(cm, name, pid)
        w.join()
        want = [r[0] for r in mariadb.query("SELECT id FROM shop.r WHERE id > 0 ORDER BY id")]
        assert want == list(range(1, n + 1))
        _wait_rows(tail_out, n)
        time.sleep(1)
        _check_exactly_once(tail_out, want, "oxbow tail --cm", tail_err)
        lines = [ln for ln in open(tail_err).read().splitlines() if "reconnected to" in ln]
        assert len(lines) >= 2 and all("(from CM 127.0.0.1:" in ln for ln in lines), lines
    finally:
        procs.kill_pid(tail.pid, sig=signal.SIGTERM)
