"""The store end to end against a real MariaDB: values of inserts, updates,
deletes and DDL; status shape; checkpoints that resume exactly; filters at
capture and per subscriber; bad requests; `oxbow tail`; the C example;
config errors; SIGHUP; SIGTERM clean stop."""

import os
import re
import signal
import subprocess
import time

import pytest

from oxtest.oxbow import oxbow_bin, run_oxbow, parse_json_lines
from oxtest_store import Store, rows_only


def setup_shop(db):
    db.execute_root(
        "CREATE DATABASE shop",
        "CREATE TABLE shop.t (id INT PRIMARY KEY, name VARCHAR(40), price DECIMAL(10,2), "
        "note TEXT, ts DATETIME(3))",
        "CREATE DATABASE other",
        "CREATE TABLE other.x (id INT PRIMARY KEY, v INT)")


def test_dml_ddl_values_and_status(mariadb, store_factory):
    setup_shop(mariadb)
    s = store_factory()
    st = s.status()
    for k in ("name", "status", "errMsg", "pid", "port", "datasource", "dbIp", "dbIpString",
              "dbPort", "checkpoints", "delay", "recordsPerSec", "bytes", "subscribers",
              "lastMsgId"):
        assert k in st, k
    assert st["status"] == 0
    assert re.match(r"^\[\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\] DRC_500:Store teststore "
                    r"started successfully\n$", st["errMsg"]), st["errMsg"]
    assert st["dbIp"] == 2130706433 and st["dbPort"] == mariadb.port
    assert st["pid"] == s.pid and st["port"] == s.port
    sub = s.subscribe("from=earliest")
    assert sub.status == 200
    mariadb.execute_root(
        "INSERT INTO shop.t VALUES (1,'apple',1.50,'n\u00e9e \"q\"','2024-01-02 03:04:05.678'),"
        "(2,'pear',NULL,NULL,NULL)",
        "UPDATE shop.t SET price=2.25, name='APPLE' WHERE id=1",
        "DELETE FROM shop.t WHERE id=2",
        "ALTER TABLE shop.t ADD COLUMN extra INT")
    recs = sub.take(8)
    ops = [r["op"] for r in recs]
    assert ops == ["insert", "insert", "commit", "update", "commit", "delete", "commit", "ddl"]
    assert recs[0]["after"] == {"id": 1, "name": "apple", "price": "1.50",
                                "note": "n\u00e9e \"q\"", "ts": "2024-01-02 03:04:05.678"}
    assert recs[1]["after"] == {"id": 2, "name": "pear", "price": None, "note": None,
                                "ts": None}
    assert recs[3]["before"]["name"] == "apple" and recs[3]["after"]["name"] == "APPLE"
    assert recs[3]["after"]["price"] == "2.25"
    assert recs[5]["before"]["id"] == 2 and "after" not in recs[5]
    assert "ADD COLUMN extra" in recs[7]["sql"]
    # msgIds are dense, checkpoints carry the source and the msgId.
    assert [r["msgId"] for r in recs] == list(range(1, 9))
    for r in recs:
        f = r["checkpoint"].split(":")
        assert f[0] == "127.0.0.1" and int(f[1]) == mariadb.port
        assert int(f[2]) == r["fileIdx"] and int(f[5]) == r["msgId"]
        assert int(f[4]) == r["timestamp"]
    # A commit's checkpoint offset is the position after the transaction.
    assert int(recs[2]["checkpoint"].split(":")[3]) == recs[2]["nextOffset"]
    st = s.wait_status(lambda x: x["lastMsgId"] == 8, what="lastMsgId 8")
    assert len(st["checkpoints"]) == 2
    assert st["checkpoints"][1]["msgId"] == 8
    assert st["checkpoints"][1]["checkpoint"] == recs[7]["checkpoint"]
    assert st["checkpoints"][0]["msgId"] == 1
    assert st["checkpoints"][0]["checkpoint"] == recs[0]["checkpoint"]
    assert st["subscribers"] == 1
    assert st["bytes"] > 0
    # Resuming with a record's checkpoint continues right after it.
    again = s.subscribe("checkpoint=" + recs[3]["checkpoint"])
    assert [r["msgId"] for r in again.take(4)] == [5, 6, 7, 8]
    again.close()
    # A checkpoint without msgId (fileIdx:offset of a commit) = after that txn.
    f = recs[4]["checkpoint"].split(":")
    bypos = s.subscribe("checkpoint=%s:%s:%s:%s::" % tuple(f[:4]))
    assert [r["op"] for r in bypos.take(2)] == ["delete", "commit"]
    bypos.close()
    sub.close()
    # Delay stays fresh while the source is idle (heartbeats every 0.5 s).
    time.sleep(2.5)
    assert s.status()["delay"] < 1.5


def test_filters_capture_and_subscriber(mariadb, store_factory):
    setup_shop(mariadb)
    mariadb.execute_root("CREATE TABLE shop.secret (id INT PRIMARY KEY)")
    s = store_factory(store__whitelist="shop.*", store__blacklist="shop.secret")
    all_sub = s.subscribe("from=earliest")
    t_only = s.subscribe("from=earliest&filter=shop.t")
    mariadb.execute_root(
        "INSERT INTO other.x VALUES (1, 1)",          # not stored (whitelist)
        "INSERT INTO shop.secret VALUES (1)",         # not stored (blacklist)
        "INSERT INTO shop.t (id, name) VALUES (10, 'a')",
        "BEGIN", "INSERT INTO shop.secret VALUES (2)", "INSERT INTO shop.t (id) VALUES (11)",
        "COMMIT")
    recs = all_sub.take(4)
    assert [(r["op"], r.get("table")) for r in recs] == [
        ("insert", "t"), ("commit", None), ("insert", "t"), ("commit", None)]
    assert [r["after"]["id"] for r in rows_only(recs)] == [10, 11]
    recs_t = t_only.take(4)
    assert [r["msgId"] for r in recs_t] == [r["msgId"] for r in recs]
    # A subscriber filter on a table with no traffic gets nothing at all,
    # not even the commits of other transactions.
    none = s.subscribe("from=earliest&filter=shop.nothing*")
    assert none.next(timeout=1.5) is None
    all_sub.close(), t_only.close(), none.close()
    # Resuming inside a transaction with a filter: the transaction's COMMIT
    # still arrives although the remaining records don't match.
    mariadb.execute_root("CREATE TABLE shop.u (id INT PRIMARY KEY)")
    sub = s.subscribe("from=latest&filter=shop.t")
    mariadb.execute_root("BEGIN", "INSERT INTO shop.t (id) VALUES (20)",
                         "INSERT INTO shop.u VALUES (1)", "COMMIT")
    first = sub.take(2)
    assert [r["op"] for r in first] == ["insert", "commit"]
    sub.close()
    mid = s.subscribe("checkpoint=" + first[0]["checkpoint"] + "&filter=shop.t")
    r = mid.next(timeout=5)
    assert r["op"] == "commit" and r["msgId"] == first[1]["msgId"]
    mid.close()
    # Filtered-out traffic still advances the resume position (empty
    # transactions are recorded at most once a second).
    last = s.status()["lastMsgId"]
    for i in range(5):
        mariadb.execute_root("INSERT INTO other.x VALUES (%d, 0)" % (100 + i))
        time.sleep(0.4)
    st = s.wait_status(lambda x: x["lastMsgId"] > last, what="position record")
    assert st["lastMsgId"] - last <= 3
    cp = st["checkpoints"][1]
    _, pos = mariadb.master_status()
    assert cp["offset"] <= pos


def test_bad_requests(mariadb, store_factory):
    s = store_factory()
    cases = {
        "foo=1": "unknown parameter \"foo\"",
        "checkpoint=::::1663049354:&timestamp=5": "give only one of checkpoint, timestamp",
        "checkpoint=1.2.3:1:1:1:1:1": "field 1 (dbIp)",
        "checkpoint=::x:1::": "field 3 (fileIdx)",
        "checkpoint=:::::": "needs a msgId",
        "timestamp=yesterday": "bad timestamp",
        "msgId=0": "bad msgId",
        "format=xml": "bad format",
        "filter=a,,b": "filter pattern 2 is empty",
        "format=json&format=binary": "given twice",
    }
    for q, needle in cases.items():
        st, body = s.get("/v1/subscribe?" + q)
        assert st == 400, (q, st, body)
        assert body["isSuccess"] is False and needle in body["errMsg"], (q, body)
    st, body = s.get("/v1/nothing")
    assert st == 404
    # A start in the future waits instead of failing.
    sub = s.subscribe("msgId=1000000")
    assert sub.status == 200 and sub.next(timeout=1) is None
    sub.close()


def test_tail_and_example(mariadb, store_factory, tmp_path):
    setup_shop(mariadb)
    s = store_factory()
    mariadb.execute_root("INSERT INTO shop.t (id, name) VALUES (1,'a'),(2,'b'),(3,'c')",
                         "INSERT INTO other.x VALUES (1, 1)")
    s.wait_status(lambda x: x["lastMsgId"] >= 6, what="6 records")
    addr = "127.0.0.1:%d" % s.port
    for fmt in ("json", "binary"):
        out = parse_json_lines(run_oxbow("tail", "--store", addr, "--earliest", "--format", fmt,
                                         "--idle-exit", "1").stdout)
        assert [r["msgId"] for r in out] == [1, 2, 3, 4, 5, 6]
        assert out[1]["after"] == {"id": 2, "name": "b", "price": None, "note": None, "ts": None}
    out = parse_json_lines(run_oxbow("tail", "--store", addr, "--msg-id", "2", "--limit", "2")
                           .stdout)
    assert [r["msgId"] for r in out] == [2, 3]
    out = parse_json_lines(run_oxbow("tail", "--store", addr, "--checkpoint",
                                     out[0]["checkpoint"], "--filter", "other.*",
                                     "--idle-exit", "1").stdout)
    # Resumed inside transaction 1 (after msgId 2): its COMMIT (4) arrives
    # although the filter matches none of its remaining records.
    assert [(r["msgId"], r["op"]) for r in out] == [(4, "commit"), (5, "insert"), (6, "commit")]
    r = run_oxbow("tail", "--store", addr, "--checkpoint", "bogus", check=False)
    assert r.returncode == 1 and b"HTTP 400" in r.stderr and b"bad checkpoint" in r.stderr
    r = run_oxbow("tail", "--store", "127.0.0.1:1", "--earliest", check=False)
    assert r.returncode == 1 and b"connect" in r.stderr
    # The example program resumes from its checkpoint file.
    ex = os.path.join(os.environ.get("OX_BUILD_DIR", "build"), "examples",
                      "oxbow_subscribe_example")
    cpf = str(tmp_path / "cp")
    outs = []
    for _ in range(2):
        p = subprocess.Popen([ex, "127.0.0.1", str(s.port), cpf], stdout=subprocess.PIPE)
        time.sleep(1.0)
        p.send_signal(signal.SIGKILL)
        outs += parse_json_lines(p.communicate()[0])
        mariadb.execute_root("INSERT INTO shop.t (id) VALUES (%d)" % (100 + len(outs)))
    ids = [r["msgId"] for r in outs]
    assert ids == list(range(1, len(ids) + 1)) and len(ids) == 8


def test_config_errors_sighup_sigterm(mariadb, tmp_path):
    s = Store(mariadb, store__nmae="typo")
    try:
        r = run_oxbow("store", "--config", s.config, check=False, timeout=30)
        assert r.returncode == 1
        assert b'unknown key "store.nmae"' in r.stderr
        del s.keys["store.nmae"]
        s.keys["store.fsync"] = "sometimes"
        s.write_config()
        r = run_oxbow("store", "--config", s.config, check=False, timeout=30)
        assert r.returncode == 1 and b'key "store.fsync"' in r.stderr
        s.keys["store.fsync"] = "commit"
        s.write_config()
        assert run_oxbow("store", "--config", s.config, "--check").returncode == 0
        s.start()
        log = os.path.join(s.keys["store.dir"], "store.log")
        os.rename(log, log + ".1")
        os.kill(s.pid, signal.SIGHUP)
        deadline = time.time() + 5
        while not os.path.exists(log) and time.time() < deadline:
            time.sleep(0.05)
        assert "store.log reopened" in open(log).read()
        # A second store on the same directory is refused.
        r = run_oxbow("store", "--config", s.config, check=False, timeout=30)
        assert r.returncode == 1 and b"another store" in r.stderr
        sub = s.subscribe("from=latest")
        mariadb.execute_root("CREATE DATABASE d1")
        assert sub.take(1)[0]["op"] == "ddl"
        t0 = time.monotonic()
        assert s.kill(signal.SIGTERM) == 0
        assert time.monotonic() - t0 < 5
        # The subscriber's stream ended cleanly.
        with pytest.raises(EOFError):
            sub.next(timeout=5)
        assert "stopped cleanly" in open(log).read()
    finally:
        s.cleanup()


def test_bearer_token(mariadb, tmp_path):
    tok = tmp_path / "token"
    tok.write_text("s3cr3t-token\n")
    s = Store(mariadb, store__auth__token__file=str(tok))
    try:
        import http.client
        import json
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        s.proc = None
        from oxtest import procs
        s.proc = procs.spawn([oxbow_bin(), "store", "--config", s.config],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
                c.request("GET", "/v1/status")
                r = c.getresponse()
                break
            except OSError:
                assert time.time() < deadline
                time.sleep(0.05)
        assert r.status == 401 and "bearer token" in json.loads(r.read())["errMsg"]
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        c.request("GET", "/v1/status", headers={"Authorization": "Bearer s3cr3t-token"})
        r = c.getresponse()
        assert r.status == 200 and json.loads(r.read())["name"] == "teststore"
        out = run_oxbow("tail", "--store", "127.0.0.1:%d" % s.port, "--earliest",
                        "--idle-exit", "1", "--token-file", str(tok))
        assert out.returncode == 0
        r = run_oxbow("tail", "--store", "127.0.0.1:%d" % s.port, "--earliest", check=False)
        assert r.returncode == 1 and b"HTTP 401" in r.stderr
    finally:
        s.cleanup()
