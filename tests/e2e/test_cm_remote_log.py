"""The console's store log (GET /crawler/log) for a store on another host:
the CM reads the tail from that host's supervisor (GET /v1/log on its status
port, with the per-start token the supervisor sends in its authenticated
heartbeat), and the supervisor serves logs to no one without a token."""

import json
import os
import urllib.error
import urllib.request

import pytest

from oxtest import procs
from test_cm_supervisor import Supervisor, wait

STATUS_TOKEN = "status-token-for-the-log-test-0123"


@pytest.fixture
def cm_options():
    # Its in-process supervisor is off: every store is on "another host".
    return {"cm__supervisor": "false"}


def sv_get(port, path, token=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path))
    if token is not None:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def test_log_of_a_store_on_another_host(cm, mariadb):
    token = os.path.join(cm.dir, "sv2.token")
    sv = Supervisor(cm, token)
    r = cm.credential("issue", sv.host_id, out=token)
    assert r.returncode == 0, r.stderr
    status_token = os.path.join(cm.dir, "status.token")
    with open(status_token, "w") as f:
        f.write(STATUS_TOKEN + "\n")
    os.chmod(status_token, 0o600)
    with open(sv.config, "a") as f:
        f.write("supervisor.status.token.file=%s\n" % status_token)
    sv.start()
    try:
        wait(lambda: sv.host_id in [h["host"] for h in cm.hosts()], what="registration")
        cm.create_topic(mariadb, topic="orders")
        name = cm.start_crawler(topic="orders", host=sv.host_id)["name"]
        cm.wait_status(name, lambda d: d["status"] == 0)

        # The CM reads it through the supervisor.
        st, j = cm.get("/crawler/log", crawler=name)
        assert st == 200, j
        assert j["crawler"] == name and j["file"] == "store"
        assert "started successfully" in j["log"]
        st, j = cm.get("/crawler/log", crawler=name, lines="1")
        assert st == 200 and j["log"].count("\n") <= 1 and j["log"].strip()
        st, j = cm.get("/crawler/log", crawler=name, file="console")
        assert st == 200 and j["file"] == "console"
        st, j = cm.get("/crawler/log", crawler=name, lines="10001")
        assert st == 400
        # Bad or unknown names never reach a path.
        st, j = cm.get("/crawler/log", crawler="../../etc/passwd")
        assert st in (400, 404) and j["isSuccess"] is False
        st, j = cm.get("/crawler/log", crawler=sv.host_id + ":orders-000-0:0000000099")
        assert st == 404
        # The per-start log token never shows in the API.
        st, j = cm.get("/host/list")
        assert "logToken" not in json.dumps(j)

        # The supervisor itself: no token, a wrong one -> 401.
        path = "/v1/log?store=%s&lines=5" % urllib.request.quote(name)
        assert sv_get(sv.port, path)[0] == 401
        assert sv_get(sv.port, path, token="wrong-token-wrong-token-wrong")[0] == 401
        st, text = sv_get(sv.port, path, token=STATUS_TOKEN)
        assert st == 200 and "started successfully" in text
        assert len(text.splitlines()) <= 5
        for bad in ["..%2F..%2Fetc", ".hidden", "a%2Fb", ""]:
            st, _ = sv_get(sv.port, "/v1/log?store=" + bad, token=STATUS_TOKEN)
            assert st == 400, bad
        for lines in ["0", "10001", "x", ""]:
            st, _ = sv_get(sv.port, "/v1/log?store=%s&lines=%s" % (urllib.request.quote(name),
                                                                    lines), token=STATUS_TOKEN)
            assert st == 400, lines
        st, _ = sv_get(sv.port, "/v1/log?store=no-such-store", token=STATUS_TOKEN)
        assert st == 404

        # Its host gone, the CM says so instead of hanging.
        procs.kill_pid(sv.proc.pid)
        st, j = cm.get("/crawler/log", crawler=name)
        assert st == 404 and "did not answer" in j["errMsg"], j
        # Restarted, it has a new log token; its heartbeat brings it to the CM.
        sv.start()
        wait(lambda: cm.get("/crawler/log", crawler=name)[0] == 200, what="log after restart")
        st, j = cm.get("/crawler/log", crawler=name)
        assert "started successfully" in j["log"]
    finally:
        procs.kill_pid(sv.proc.pid)
