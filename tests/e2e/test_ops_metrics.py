"""GET /metrics on a store and on the CM: the Prometheus text format passes
`promtool check metrics`, and the figures are the real ones (records and
bytes captured, records sent to a subscriber, delay, log size, subscribers,
HTTP requests by route and code, metaDB write latency, and the CM's copy of
each store's figures with store, topic and host labels)."""

import json
import time
import urllib.request

from oxtest_cm import CM
from oxtest_ops import (RowPump, http_text, metric, parse_metrics, promtool_check_metrics,
                        shop)

CT = "text/plain; version=0.0.4; charset=utf-8"


def test_store_and_cm_metrics(mariadb):
    shop(mariadb)
    cm = CM()
    try:
        cm.start()
        cm.create_topic(mariadb, topic="orders")
        name = cm.start_crawler(topic="orders")["name"]
        d = cm.wait_status(name, lambda c: c["status"] == 0)
        port = d["port"]
        with RowPump(mariadb) as pump:
            time.sleep(1.5)
        n = pump.n
        (count,) = mariadb.query("SELECT COUNT(*) FROM shop.orders")[0]
        assert count == n and n > 5
        # A subscriber reads everything, so records sent is known.
        with urllib.request.urlopen("http://127.0.0.1:%d/v1/subscribe?format=json&msgId=1"
                                    % port, timeout=10) as r:
            got = 0
            deadline = time.monotonic() + 30
            while got < n:
                assert time.monotonic() < deadline, "only %d of %d rows arrived" % (got, n)
                line = r.readline()
                assert line, "stream ended after %d" % got
                got += b'"op":"insert"' in line
            st, ct, text = http_text("http://127.0.0.1:%d/metrics" % port)
        assert st == 200 and ct == CT
        rc, out = promtool_check_metrics(text)
        assert rc == 0, out
        s = parse_metrics(text)
        assert metric(s, "oxbow_store_info", store=name) == 1
        assert metric(s, "oxbow_store_status_code") == 0
        captured = metric(s, "oxbow_store_records_captured_total")
        assert captured >= n  # every INSERT, plus its COMMIT record
        assert metric(s, "oxbow_store_captured_bytes_total") > captured
        assert metric(s, "oxbow_store_records_sent_total") >= n
        assert metric(s, "oxbow_store_subscriber_records_sent_total", subscriber="1") >= n
        assert metric(s, "oxbow_store_subscribers") == 1
        # The status lists the subscriber with its position and lag.
        with urllib.request.urlopen("http://127.0.0.1:%d/v1/status" % port, timeout=10) as r2:
            sl = json.loads(r2.read())["subscriberList"]
        assert len(sl) == 1 and sl[0]["id"] == 1 and sl[0]["peer"].startswith("127.0.0.1:")
        assert sl[0]["sent"] >= n and sl[0]["position"] >= n and sl[0]["lagRecords"] >= 0
        assert metric(s, "oxbow_store_log_size_bytes") > 0
        assert metric(s, "oxbow_store_log_segments") >= 1
        assert 0 <= metric(s, "oxbow_store_delay_seconds") < 60
        assert abs(metric(s, "oxbow_store_last_event_timestamp_seconds") - time.time()) < 60
        assert metric(s, "oxbow_store_log_first_event_timestamp_seconds") > 1e9
        assert metric(s, "oxbow_store_source_reconnects_total") == 0
        assert metric(s, "oxbow_store_source_stream_resends_total") == 0
        # Requests count when they complete: the closed subscription too, once
        # the store notices (at its next keepalive, within 3 s).
        http_text("http://127.0.0.1:%d/nosuch" % port)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            s = parse_metrics(http_text("http://127.0.0.1:%d/metrics" % port)[2])
            if metric(s, "oxbow_store_subscribers") == 0:
                break
            time.sleep(0.2)
        assert metric(s, "oxbow_http_requests_total", route="/v1/subscribe", code="200") == 1
        assert metric(s, "oxbow_http_requests_total", route="other", code="404") == 1
        assert metric(s, "oxbow_http_requests_total", route="/metrics", code="200") >= 1

        # The CM: its own figures and the store's with labels, once the
        # supervisor has reported the store's status after the rows.
        deadline = time.monotonic() + 15
        while True:
            st, ct, text = http_text(cm.url + "/metrics")
            assert st == 200 and ct == CT, text
            s = parse_metrics(text)
            lab = dict(store=name, topic="orders", host="127.0.0.1-%d" % cm.sv_port)
            if metric(s, "oxbow_store_records_captured_total", **lab) >= n or \
                    time.monotonic() > deadline:
                break
            time.sleep(0.2)
        rc, out = promtool_check_metrics(text)
        assert rc == 0, out
        assert metric(s, "oxbow_store_records_captured_total", **lab) >= n
        assert metric(s, "oxbow_store_up", **lab) == 1
        assert metric(s, "oxbow_store_desired_running", **lab) == 1
        assert metric(s, "oxbow_store_status_code", **lab) == 0
        assert metric(s, "oxbow_store_restarts_total", **lab) == 0
        assert metric(s, "oxbow_store_log_size_bytes", **lab) > 0
        assert metric(s, "oxbow_cm_active") == 1
        assert metric(s, "oxbow_cm_host_up", host=lab["host"]) == 1
        assert metric(s, "oxbow_cm_metadb_write_duration_seconds_count") > 0
        assert metric(s, "oxbow_cm_metadb_write_duration_seconds_bucket", le="+Inf") == \
            metric(s, "oxbow_cm_metadb_write_duration_seconds_count")
        assert metric(s, "oxbow_http_requests_total", route="/crawler/start", code="200") == 1
        assert metric(s, "oxbow_http_requests_total", route="/supervisor/heartbeat",
                      code="200") > 0

        # Paused: down, not desired, status 1001; counters of a stopped store read 0.
        st, j = cm.post("/crawler/clear", crawler=name)
        assert st == 200, j
        s = parse_metrics(http_text(cm.url + "/metrics")[2])
        assert metric(s, "oxbow_store_up", **lab) == 0
        assert metric(s, "oxbow_store_desired_running", **lab) == 0
        assert metric(s, "oxbow_store_status_code", **lab) == 1001
        st, j = cm.post("/crawler/destroy", crawler=name)
        assert st == 200, j
        s = parse_metrics(http_text(cm.url + "/metrics")[2])
        assert not [x for x in s if x[1].get("store") == name]
    finally:
        cm.cleanup()


def test_metrics_escape_and_token(mariadb):
    """Label values are escaped; with a token, /metrics needs it."""
    cm = CM(cm__auth__token="t0ken-for-metrics-test")
    try:
        cm.start()
        st, _, text = http_text(cm.url + "/metrics")
        assert st == 401
        st, _, text = http_text(cm.url + "/metrics", token=cm.token)
        assert st == 200
        rc, out = promtool_check_metrics(text)
        assert rc == 0, out
    finally:
        cm.cleanup()


def test_crash_is_visible(mariadb):
    """A store killed with SIGKILL is restarted by its supervisor; the CM keeps
    the restart count and the crash cause (crawler/history, /metrics), not
    only a fresh "started successfully"."""
    import os
    import signal
    shop(mariadb)
    cm = CM()
    try:
        cm.start()
        cm.create_topic(mariadb, topic="orders")
        name = cm.start_crawler(topic="orders")["name"]
        cm.wait_status(name, lambda c: c["status"] == 0)
        pid = cm.store_pid(name)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while True:
            st, h = cm.get("/crawler/history", crawler=name)
            assert st == 200, h
            if h["info"]["restarts"] >= 1 and cm.store_pid(name) not in (0, pid):
                break
            assert time.monotonic() < deadline, h
            time.sleep(0.2)
        assert "signal 9" in h["info"]["lastCrash"] or "killed" in h["info"]["lastCrash"], h
        assert h["info"]["lastCrashMs"] > 0
        cm.wait_status(name, lambda c: c["status"] == 0)
        s = parse_metrics(http_text(cm.url + "/metrics")[2])
        assert metric(s, "oxbow_store_restarts_total", store=name) >= 1
        # Still there once the store runs again.
        st, h = cm.get("/crawler/history", crawler=name)
        assert h["info"]["lastCrash"]
    finally:
        cm.cleanup()
