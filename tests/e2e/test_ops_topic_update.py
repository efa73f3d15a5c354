"""POST /topic/update: a new white list, a rotated source password and a
retention reach the running store through a restart that loses nothing: every
row of the included table is captured exactly once (compared with SELECT on
the source), rows of a table the new list excludes stop arriving, and the
password never appears in an answer."""

import json
import os
import time
import urllib.request

from oxtest_cm import CM
from oxtest_ops import RowPump, shop


def read_all(port, n_expected, timeout=60):
    """All row records from msgId 1, as (table, id) pairs, once `n_expected`
    rows of shop.orders arrived."""
    got = []
    with urllib.request.urlopen("http://127.0.0.1:%d/v1/subscribe?format=json&msgId=1" % port,
                                timeout=10) as r:
        deadline = time.monotonic() + timeout
        while sum(1 for t, _ in got if t == "orders") < n_expected:
            assert time.monotonic() < deadline, "only %d of %d" % (len(got), n_expected)
            line = r.readline()
            if not line.strip():
                continue
            rec = json.loads(line)
            if rec.get("op") == "insert":
                got.append((rec["table"], rec["after"]["id"]))
    return got


def test_topic_update_restarts_without_loss(mariadb):
    shop(mariadb)
    mariadb.execute_root("CREATE TABLE shop.audit_tmp (id INT AUTO_INCREMENT PRIMARY KEY, x INT)")
    cm = CM()
    try:
        cm.start()
        cm.create_topic(mariadb, topic="orders", whiteList="shop.*")
        name = cm.start_crawler(topic="orders")["name"]
        port = cm.wait_status(name, lambda c: c["status"] == 0)["port"]
        pid1 = cm.store_pid(name)
        mariadb.execute_root("INSERT INTO shop.audit_tmp (x) VALUES (1)")
        newpw = "rotated-Pw-%d" % os.getpid()
        with RowPump(mariadb):
            time.sleep(1)
            mariadb.execute_root("ALTER USER 'ox'@'%%' IDENTIFIED BY '%s'" % newpw)
            st, j = cm.post("/topic/update", topic="orders", whiteList="shop.orders",
                            password=newpw, retention="3600")
            assert st == 200, j
            assert j["topic"] == {"topic": "orders", "whiteList": "shop.orders",
                                  "blackList": "", "retention": 3600}
            assert j["restarting"] == [name]
            assert newpw not in json.dumps(j)
            # The store restarts (a new process) and runs with the new password.
            deadline = time.monotonic() + 30
            while cm.store_pid(name) in (0, pid1):
                assert time.monotonic() < deadline, "store not restarted"
                time.sleep(0.1)
            cm.wait_status(name, lambda c: c["status"] == 0)
            time.sleep(1.5)
        mariadb.execute_root("INSERT INTO shop.audit_tmp (x) VALUES (2)")
        mariadb.execute_root("INSERT INTO shop.orders (note) VALUES ('last')")
        (n,) = mariadb.query("SELECT COUNT(*) FROM shop.orders")[0]
        ids = sorted(r[0] for r in mariadb.query("SELECT id FROM shop.orders"))
        got = read_all(port if cm.detail(name)[1]["crawler"]["port"] == port else
                       cm.detail(name)[1]["crawler"]["port"], n)
        orders = sorted(i for t, i in got if t == "orders")
        assert orders == ids, "lost or repeated rows across the restart"
        # audit_tmp row 1 was captured under shop.*, row 2 is excluded now.
        assert [i for t, i in got if t == "audit_tmp"] == [1]
        with open(os.path.join(cm.store_dir(name), "store.properties")) as f:
            props = f.read()
        assert "store.whitelist=shop.orders\n" in props
        assert "store.clearer.outdated=3600\n" in props
        assert newpw not in props
        st, j = cm.get("/topic/list")
        assert newpw not in json.dumps(j)
        # Bad input changes nothing.
        st, j = cm.post("/topic/update", topic="orders")
        assert st == 400 and "nothing to update" in j["errMsg"]
        st, j = cm.post("/topic/update", topic="orders", password="a\nb")
        assert st == 400
        st, j = cm.post("/topic/update", topic="nosuch", retention="5")
        assert st == 404
        # The change survives a CM restart (it is in the metaDB).
        cm.stop()
        cm.start()
        t = [t for t in cm.topics() if t["topic"] == "orders"][0]
        assert t["whiteList"] == "shop.orders"
    finally:
        cm.cleanup()
