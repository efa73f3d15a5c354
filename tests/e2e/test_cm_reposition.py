"""POST /crawler/reposition (issue 9): a stopped store whose resume position
was purged from the source (DRC_502) is moved to the source's current
position without losing its retained log: subscribers still read the old
records from msgId 1, new rows follow with msgIds continuing, the schema
history is snapshot again at the new position (a column added in the purged
stretch is known), and a later restart resumes after the store's own last
record, not at the reposition point again."""

import json
import os
import time

import pytest

from oxtest import run_oxbow


def tail(port):
    r = run_oxbow("tail", "--store", "127.0.0.1:%d" % port, "--format", "json", "--earliest",
                  "--idle-exit", "1", timeout=120)
    return [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]


def rows(records):
    return [r for r in records if r.get("op") == "insert" and r.get("table") == "t"]


def read_until(port, pred, timeout=30, why=lambda: ""):
    deadline = time.monotonic() + timeout
    recs = []
    while time.monotonic() < deadline:
        recs = tail(port)
        if pred(recs):
            return recs
        time.sleep(0.2)
    raise AssertionError("records never matched; last: %s\n%s" % (recs[-5:], why()))


def store_log(cm, name):
    return open(os.path.join(cm.store_dir(name), "data", "store.log")).read()


def msg_ids(records):
    return [int(r["checkpoint"].rsplit(":", 1)[1]) for r in records]


# MINIMAL row metadata: column names come from the schema history, so a
# history not reset at the new position would decode the new rows wrongly.
@pytest.mark.parametrize("mariadb", ["MINIMAL"], indirect=True)
def test_reposition_after_drc_502_keeps_the_log(cm, mariadb):
    mariadb.execute_root("CREATE DATABASE shop",
                         "CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(10))")
    cm.create_topic(mariadb, topic="orders", whiteList="shop.*")
    f0, p0 = mariadb.master_status()
    name = cm.start_crawler(topic="orders",
                            checkpoint="::%d:%d::" % (int(f0.rsplit(".", 1)[1]), p0))["name"]
    for i in range(10):
        mariadb.execute_root("INSERT INTO shop.t VALUES (%d, 'v%d')" % (i, i))
    d = cm.wait_status(name, lambda c: c["status"] == 0)
    port = d["port"]
    old = read_until(port, lambda r: len(rows(r)) == 10, why=lambda: store_log(cm, name))
    assert [r["after"]["id"] for r in rows(old)] == list(range(10))
    old_ids = msg_ids(old)
    assert old_ids[0] == 1 and old_ids == list(range(1, len(old_ids) + 1)), old_ids
    last_old = old_ids[-1]

    # While it is stopped the source moves on (a column is added, rows
    # written) and purges everything the store has not read: DRC_502.
    assert cm.post("/crawler/clear", crawler=name)[0] == 200
    mariadb.execute_root("ALTER TABLE shop.t ADD COLUMN note VARCHAR(20) AFTER id",
                         "INSERT INTO shop.t VALUES (10, 'lost', 'v10')", "FLUSH BINARY LOGS",
                         "FLUSH BINARY LOGS")
    # The server keeps a binlog its (closing) dump thread still reads: retry.
    deadline = time.monotonic() + 20
    while len(mariadb.binlogs()) > 1 and time.monotonic() < deadline:
        mariadb.execute_root("PURGE BINARY LOGS TO '%s'" % mariadb.binlogs()[-1][0])
        time.sleep(0.2)
    assert len(mariadb.binlogs()) == 1, mariadb.binlogs()
    assert cm.post("/crawler/restore", crawler=name)[0] == 200
    try:
        d = cm.wait_status(name, lambda c: c["status"] == 2)
    except AssertionError:
        raise AssertionError(store_log(cm, name))
    assert "DRC_502" in d["errMsg"], d

    # Refused while it runs, and for a bad or foreign checkpoint.
    f, pos = mariadb.master_status()
    cp = "::%d:%d::" % (int(f.rsplit(".", 1)[1]), pos)
    st, j = cm.post("/crawler/reposition", crawler=name, checkpoint=cp)
    assert st == 409 and "not stopped" in j["errMsg"], j
    assert cm.post("/crawler/clear", crawler=name)[0] == 200
    assert cm.post("/crawler/reposition", crawler=name)[0] == 400
    assert cm.post("/crawler/reposition", crawler=name, checkpoint="::::x:")[0] == 400
    assert cm.post("/crawler/reposition", crawler=name, checkpoint="::::::")[0] == 400
    st, j = cm.post("/crawler/reposition", crawler=name,
                    checkpoint="10.9.9.9:%d:1:4::" % mariadb.port)
    assert st == 400 and "source" in j["errMsg"], j
    assert cm.post("/crawler/reposition", crawler="127.0.0.1-1:nope-000-0:0000000001",
                   checkpoint=cp)[0] == 404

    # Move it to the source's current position.
    st, j = cm.post("/crawler/reposition", crawler=name,
                    checkpoint="127.0.0.1:%d%s" % (mariadb.port, cp[1:]))
    assert st == 200 and j["isSuccess"] is True, j
    assert "repositioned" in j["message"] and j["crawler"]["status"] == 1001, j
    st, j = cm.post("/crawler/reposition", crawler=name,
                    checkpoint="127.0.0.1:%d%s" % (mariadb.port, cp[1:]))
    assert st == 409 and "already" in j["errMsg"], j
    audit = [(a["action"], a["target"], a["result"]) for a in cm.get("/audit/list")[1]["audit"]]
    assert ("/crawler/reposition", name, 200) in audit and \
        ("/crawler/reposition", name, 409) in audit, audit

    # The new start position is in the metaDB: it survives a CM restart.
    cm.stop()
    cm.start()
    cm.wait_status(name, lambda c: c["status"] == 1001)

    # Restored: status 0, the old records still there from msgId 1, the new
    # rows after them with msgIds continuing, decoded with the new column.
    assert cm.post("/crawler/restore", crawler=name)[0] == 200
    cm.wait_status(name, lambda c: c["status"] == 0)
    for i in range(100, 105):
        mariadb.execute_root("INSERT INTO shop.t VALUES (%d, 'n%d', 'v%d')" % (i, i, i))
    recs = read_until(port, lambda r: len(rows(r)) >= 15, why=lambda: store_log(cm, name))
    ids = msg_ids(recs)
    assert ids[0] == 1 and ids == list(range(1, len(ids) + 1)), ids
    assert ids[-1] > last_old
    got = rows(recs)
    assert [r["after"]["id"] for r in got] == list(range(10)) + list(range(100, 105))
    assert recs[:len(old)] == old
    src = mariadb.query("SELECT id, note, v FROM shop.t WHERE id >= 100 ORDER BY id")
    assert [[str(r["after"]["id"]), r["after"]["note"], r["after"]["v"]] for r in got[10:]] == \
        [list(map(str, r)) for r in src], (got[10:], src)
    assert all(r.get("schema") != "unknown" for r in got[10:]), got[10:]
    d = cm.detail(name)[1]["crawler"]
    assert d["checkpoints"][0][0]["msgId"] == 1 and d["checkpoints"][0][1]["msgId"] == ids[-1]
    log = store_log(cm, name)
    assert "reposition: the start position changed" in log and "schema history" in log

    # A later stop and restore resumes after its own last record: nothing
    # is captured twice.
    assert cm.post("/crawler/clear", crawler=name)[0] == 200
    mariadb.execute_root("INSERT INTO shop.t VALUES (200, 'x', 'y')")
    assert cm.post("/crawler/restore", crawler=name)[0] == 200
    cm.wait_status(name, lambda c: c["status"] == 0)
    recs = read_until(port, lambda r: len(rows(r)) >= 16)
    time.sleep(1)
    recs = tail(port)
    assert [r["after"]["id"] for r in rows(recs)] == list(range(10)) + \
        list(range(100, 105)) + [200]
    ids = msg_ids(recs)
    assert ids == list(range(1, len(ids) + 1)), ids
