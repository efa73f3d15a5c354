"""docs/alerts.yml: `promtool check rules` and the unit tests in
tests/prometheus/alerts_test.yml pass (and fail when a threshold is
changed); then a real Prometheus server (Debian's package, on loopback in a
private directory) scrapes the CM and a store and the OxbowStoreNotRunning
alert really fires when the store is paused with crawler/clear, and clears
when it runs again."""

import os
import shutil
import subprocess
import tempfile
import time

from oxtest_cm import CM
from oxtest_ops import PROMTOOL, ROOT, Prometheus, RowPump, shop

RULES = os.path.join(ROOT, "docs", "alerts.yml")
TESTS = os.path.join(ROOT, "tests", "prometheus", "alerts_test.yml")


def promtool(*args, cwd=None):
    r = subprocess.run([PROMTOOL] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=120, cwd=cwd)
    return r.returncode, r.stdout.decode(errors="replace")


def test_rules_check_and_unit_tests():
    rc, out = promtool("check", "rules", RULES)
    assert rc == 0 and "SUCCESS: 7 rules found" in out, out
    rc, out = promtool("test", "rules", TESTS)
    assert rc == 0 and "SUCCESS" in out, out
    # The unit tests can fail: a changed delay threshold breaks them.
    d = tempfile.mkdtemp(prefix="oxtest-rules-")
    try:
        os.makedirs(os.path.join(d, "docs"))
        os.makedirs(os.path.join(d, "tests", "prometheus"))
        with open(RULES) as f:
            text = f.read()
        assert "> 300" in text
        with open(os.path.join(d, "docs", "alerts.yml"), "w") as f:
            f.write(text.replace("> 300", "> 500"))
        shutil.copy(TESTS, os.path.join(d, "tests", "prometheus"))
        rc, out = promtool("test", "rules", os.path.join(d, "tests", "prometheus",
                                                         "alerts_test.yml"))
        assert rc != 0 and "OxbowStoreDelayHigh" in out, out
    finally:
        shutil.rmtree(d, ignore_errors=True)


def firing(prom, alert, store):
    return [a for a in prom.alerts() if a["labels"].get("alertname") == alert and
            a["labels"].get("store") == store and a["state"] == "firing"]


def test_prometheus_fires_when_store_paused(mariadb):
    shop(mariadb)
    cm = CM()
    prom = None
    try:
        cm.start()
        cm.create_topic(mariadb, topic="orders")
        name = cm.start_crawler(topic="orders")["name"]
        port = cm.wait_status(name, lambda c: c["status"] == 0)["port"]
        prom = Prometheus([("oxbow-cm", "127.0.0.1:%d" % cm.port),
                           ("oxbow-store", "127.0.0.1:%d" % port)]).start()
        with RowPump(mariadb):
            deadline = time.monotonic() + 60
            while len(prom.targets_up()) < 2:
                assert time.monotonic() < deadline, prom.api("/api/v1/targets")
                time.sleep(0.5)
            # Both targets are scraped and the store's figures arrive labelled.
            q = prom.api("/api/v1/query?query=oxbow_store_up")["result"]
            assert [r["metric"]["store"] for r in q] == [name], q
            assert q[0]["value"][1] == "1"
        assert not firing(prom, "OxbowStoreNotRunning", name)

        st, j = cm.post("/crawler/clear", crawler=name)
        assert st == 200 and j["crawler"]["status"] == 1001, j
        t0 = time.monotonic()
        deadline = t0 + 120
        while not firing(prom, "OxbowStoreNotRunning", name):
            assert time.monotonic() < deadline, (prom.alerts(), prom.log())
            time.sleep(1)
        took = time.monotonic() - t0
        assert took >= 25, "fired before its 30 s `for`: %.1f s" % took
        a = firing(prom, "OxbowStoreNotRunning", name)[0]
        assert a["labels"]["severity"] == "critical" and a["labels"]["topic"] == "orders"
        assert a["annotations"]["summary"] == \
            "Store %s of topic orders is not running" % name

        st, j = cm.post("/crawler/restore", crawler=name)
        assert st == 200, j
        deadline = time.monotonic() + 60
        while firing(prom, "OxbowStoreNotRunning", name):
            assert time.monotonic() < deadline, prom.alerts()
            time.sleep(1)
    finally:
        if prom is not None:
            prom.cleanup()
        cm.cleanup()


def test_cm_alert_list_sets_and_clears(mariadb):
    """The CM's own alerts (GET /alert/list, the console's Alerts page): a
    paused store raises OxbowStoreNotRunning with its start time, which keeps
    while the condition holds and clears when the store runs again."""
    cm = CM()
    try:
        cm.start()
        cm.create_topic(mariadb, topic="orders")
        name = cm.start_crawler(topic="orders")["name"]
        cm.wait_status(name, lambda c: c["status"] == 0)
        assert cm.get("/alert/list")[1]["alerts"] == []
        t0 = time.time() * 1000
        assert cm.post("/crawler/clear", crawler=name)[0] == 200

        def not_running():
            return [a for a in cm.get("/alert/list")[1]["alerts"]
                    if a["alert"] == "OxbowStoreNotRunning" and a["subject"] == name]
        deadline = time.monotonic() + 10
        while not not_running():
            assert time.monotonic() < deadline
            time.sleep(0.2)
        a = not_running()[0]
        assert a["severity"] == "warning" and "1001" in a["message"]  # paused on purpose
        assert t0 - 2000 <= a["since"] <= time.time() * 1000
        time.sleep(1.5)
        assert not_running()[0]["since"] == a["since"]
        assert cm.post("/crawler/restore", crawler=name)[0] == 200
        deadline = time.monotonic() + 10
        while not_running():
            assert time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        cm.cleanup()
