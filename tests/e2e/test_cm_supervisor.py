"""A stand-alone `oxbow supervisor` (a second "host") next to the CM's
in-process one: registration with the supervisor token, drc.properties,
placing a store on it with `host`, host loss when it dies (its stores keep
running), and recovery when it comes back (it adopts them)."""

import json
import os
import signal
import subprocess
import time

import pytest

from oxtest import pid_alive, procs
from oxtest.oxbow import oxbow_bin
from oxtest.servers import free_port
from oxtest_cm import CM, SEED_CM_URL, SEED_DRC, Supervisor
from oxtest_cm import wait_until as wait


@pytest.fixture
def cm_options():
    return {"cm__host__lost_ms": 2000}


def test_standalone_supervisor(cm, mariadb):
    local_token = os.path.join(cm.data, "supervisor.token")
    assert os.stat(local_token).st_mode & 0o777 == 0o600
    # A supervisor with a wrong token is refused and never registers.
    bad_token = os.path.join(cm.dir, "bad.token")
    with open(bad_token, "w") as f:
        f.write("not-the-token-not-the-token\n")
    bad = Supervisor(cm, bad_token).start()
    time.sleep(1.5)
    assert bad.host_id not in [h["host"] for h in cm.hosts()]
    assert "unreachable (HTTP 401)" in bad.log()
    procs.kill_pid(bad.proc.pid)
    # The CM host's own credential is not this host's either.
    bad = Supervisor(cm, local_token).start()
    time.sleep(1.5)
    assert bad.host_id not in [h["host"] for h in cm.hosts()]
    assert "HTTP 403" in bad.log()
    procs.kill_pid(bad.proc.pid)

    token = os.path.join(cm.dir, "sv2.token")
    sv = Supervisor(cm, token)
    r = cm.credential("issue", sv.host_id, out=token)
    assert r.returncode == 0, r.stderr
    assert os.stat(token).st_mode & 0o777 == 0o600
    sv.start()
    wait(lambda: sv.host_id in [h["host"] for h in cm.hosts()], what="registration")
    # Its drc.properties gives the CM URL through the seed's awk line.
    drc = os.path.join(sv.dir, "package", "config", "drc.properties")
    r = subprocess.run(["bash", "-c", SEED_CM_URL.replace(SEED_DRC, drc) + '; echo "$CM_URL"'],
                       stdout=subprocess.PIPE, check=True)
    assert r.stdout.decode().strip() == cm.url

    cm.create_topic(mariadb, topic="orders")
    c = cm.start_crawler(topic="orders", host=sv.host_id)
    name = c["name"]
    assert name.startswith(sv.host_id + ":orders-000-0:")
    assert c["port"] >= cm.store_base + 500
    assert os.path.isdir(os.path.join(sv.dir, "stores", name, "data"))
    cm.wait_status(name, lambda d: d["status"] == 0)
    with urllib_get(sv.port) as st:
        pid = [s["pid"] for s in st["stores"] if s["name"] == name][0]
    assert pid_alive(pid)

    # The supervisor dies: its store keeps running and the CM reports the
    # host lost.
    procs.kill_pid(sv.proc.pid, sig=signal.SIGKILL)
    d = cm.wait_status(name, lambda d: d["status"] == 1004, timeout=10)
    assert pid_alive(pid)
    assert "not reporting" in d["errMsg"]
    assert [h["live"] for h in cm.hosts() if h["host"] == sv.host_id] == [False]
    # New stores go to live hosts only.
    st, j = cm.post("/crawler/start", topic="orders", host=sv.host_id)
    assert st == 404 and "no live supervisor" in j["errMsg"]

    # It comes back and adopts the store (the same process).
    sv.start()
    cm.wait_status(name, lambda d: d["status"] == 0, timeout=30)
    assert sv.store_pid(name) == pid
    assert "adopted it" in sv.log()
    assert [h["live"] for h in cm.hosts() if h["host"] == sv.host_id] == [True]
    st, j = cm.post("/crawler/destroy", crawler=name)
    assert st == 200
    assert not os.path.exists(os.path.join(sv.dir, "stores", name))
    procs.kill_pid(sv.proc.pid)


class urllib_get:
    def __init__(self, port):
        self.port = port

    def __enter__(self):
        import urllib.request
        with urllib.request.urlopen("http://127.0.0.1:%d/v1/status" % self.port,
                                    timeout=10) as r:
            return json.loads(r.read())

    def __exit__(self, *a):
        return False


def test_store_listen_off_loopback_needs_token(tmp_dir):
    cfg = os.path.join(tmp_dir, "sv.properties")
    with open(cfg, "w") as f:
        f.write("supervisor.port=%d\nsupervisor.dir=%s\nsupervisor.store.listen=0.0.0.0\n"
                % (free_port(), os.path.join(tmp_dir, "sv")))
    r = subprocess.run([oxbow_bin(), "supervisor", "--cm", "http://127.0.0.1:1", "--config", cfg],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert r.returncode == 1
    assert b"supervisor.store.token.file" in r.stderr
    r = subprocess.run([oxbow_bin(), "supervisor", "--config", cfg], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    assert r.returncode == 1 and b"--cm URL" in r.stderr


def test_supervisor_reports_only_its_own_stores(cm, mariadb):
    """A supervisor (here a fake one speaking the protocol) cannot change or
    destroy another host's store, and gets only its own stores' config."""
    tf = os.path.join(cm.dir, "fake.token")
    r = cm.credential("issue", "127.0.0.1-1", out=tf)
    assert r.returncode == 0, r.stderr
    with open(tf) as f:
        token = f.read().strip()
    cm.create_topic(mariadb, topic="orders")
    name = cm.start_crawler(topic="orders")["name"]
    st, j = cm.post("/crawler/clear", crawler=name)
    assert st == 200
    before = cm.detail(name)[1]["crawler"]
    fake = {"host": "127.0.0.1", "port": 1, "gen": 0, "waitMs": 0,
            "stores": [{"name": name, "state": "destroyed", "port": 1, "pid": 0,
                        "restarts": 0, "error": "", "status": None},
                       {"name": name, "state": "running", "port": 2, "pid": 0,
                        "restarts": 0, "error": "",
                        "status": {"status": 0, "errMsg": "forged", "checkpoints": []}}]}
    st, j = cm.request("POST", "/supervisor/heartbeat", body=json.dumps(fake).encode(),
                       headers={"Content-Type": "application/json"}, token=token)
    assert st == 200 and j["hostId"] == "127.0.0.1-1" and j["stores"] == []
    after = cm.detail(name)[1]["crawler"]
    assert after["status"] == before["status"] == 1001 and after["port"] == before["port"]
    assert name in [c["name"] for c in cm.crawlers()]
    # Malformed heartbeats are refused.
    for body in [b"{", b'{"host":"x","port":1}', b'{"host":"127.0.0.1","port":70000}']:
        st, j = cm.request("POST", "/supervisor/heartbeat", body=body,
                           headers={"Content-Type": "application/json"}, token=token)
        assert st == 400 and j["isSuccess"] is False


def read_token(path):
    with open(path) as f:
        return f.read().strip()


def test_api_token_is_not_a_supervisor_credential(mariadb):
    """With cm.auth.token set, the API token cannot heartbeat as any host (it
    used to be the supervisors' token and so got every source password)."""
    api = "api-token-for-the-sv-tests-0123456789"
    c = CM(cm__auth__token=api)
    try:
        c.start()
        c.create_topic(mariadb, topic="orders")
        name = c.start_crawler(topic="orders")["name"]
        c.wait_status(name, lambda d: d["status"] == 0)
        host = c.hosts()[0]["host"]
        ip, port = host.rsplit("-", 1)
        st, j = c.heartbeat(api, ip, int(port))
        assert st == 401 and j["isSuccess"] is False, j
        assert mariadb.password not in json.dumps(j)
        # This host's own credential gets its stores, password included.
        st, j = c.heartbeat(read_token(os.path.join(c.data, "supervisor.token")), ip, int(port))
        assert st == 200 and [s["name"] for s in j["stores"]] == [name]
        assert j["stores"][0]["source"]["password"] == mariadb.password
        # The supervisor credential is no API token either.
        st, j = c.request("GET", "/crawler/list",
                          token=read_token(os.path.join(c.data, "supervisor.token")))
        assert st == 401
    finally:
        c.cleanup()


def test_credential_is_for_one_host_and_revocable(cm, mariadb):
    cm.create_topic(mariadb, topic="orders")
    name = cm.start_crawler(topic="orders")["name"]
    local = cm.hosts()[0]["host"]
    lip, lport = local.rsplit("-", 1)
    other = "127.0.0.1-%d" % free_port()
    tf = os.path.join(cm.dir, "other.token")
    r = cm.credential("issue", other, out=tf)
    assert r.returncode == 0, r.stderr
    tok = read_token(tf)
    assert len(tok) >= 32 and tok not in r.stderr.decode() + r.stdout.decode()
    # Only its hash is in the metaDB.
    with open(os.path.join(cm.data, "metadb.sqlite"), "rb") as f:
        assert tok.encode() not in f.read()
    oip, oport = other.rsplit("-", 1)
    # A running CM picks the new credential up within a second or so.
    st, j = wait(lambda: (lambda r: r if r[0] == 200 else None)(cm.heartbeat(tok, oip, int(oport))),
                 timeout=10, what="credential accepted")
    assert j["hostId"] == other and j["stores"] == []
    kinds = {h["host"]: h["credential"] for h in cm.hosts()}
    assert kinds == {local: "local", other: "issued"}, kinds
    # It cannot pass for the host that runs the store.
    st, j = cm.heartbeat(tok, lip, int(lport))
    assert st == 403 and mariadb.password not in json.dumps(j)
    assert name not in json.dumps(j)
    # One credential per host: issuing again needs a revoke first.
    tf2 = os.path.join(cm.dir, "other2.token")
    r = cm.credential("issue", other, out=tf2)
    assert r.returncode == 1 and b"revoke it first" in r.stderr and not os.path.exists(tf2)
    # Bad host ids are refused before anything is written.
    r = cm.credential("issue", "not-a-host", out=tf2)
    assert r.returncode == 1 and not os.path.exists(tf2)
    # Revoked through the API: refused at once.
    st, j = cm.post("/host/revoke", host=other)
    assert st == 200 and j["host"] == other
    st, j = cm.heartbeat(tok, oip, int(oport))
    assert st == 401
    st, j = cm.post("/host/revoke", host=other)
    assert st == 404 and j["isSuccess"] is False
    assert [h["credential"] for h in cm.hosts() if h["host"] == other] == ["none"]
    # Revoked with the command: refused within the refresh interval.
    r = cm.credential("issue", other, out=tf2)
    assert r.returncode == 0, r.stderr
    tok2 = read_token(tf2)
    wait(lambda: cm.heartbeat(tok2, oip, int(oport))[0] == 200, timeout=10, what="accepted")
    r = cm.credential("revoke", other)
    assert r.returncode == 0, r.stderr
    wait(lambda: cm.heartbeat(tok2, oip, int(oport))[0] == 401, timeout=20, what="revoked")


def test_supervisor_status_token_and_off_loopback_warning(tmp_dir):
    tok = os.path.join(tmp_dir, "status.token")
    with open(tok, "w") as f:
        f.write("status-token-0123456789abcdef\n")
    os.chmod(tok, 0o600)
    c = CM(supervisor__status__token__file=tok, supervisor__listen="0.0.0.0")
    try:
        c.start()
        import urllib.error
        import urllib.request
        url = "http://127.0.0.1:%d/v1/status" % c.sv_port
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(url, timeout=10)
        assert e.value.code == 401
        assert json.loads(e.value.read())["isSuccess"] is False
        req = urllib.request.Request(url, headers={"Authorization":
                                                   "Bearer status-token-0123456789abcdef"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert "stores" in json.loads(r.read())
        assert "not on loopback" in c.log()
    finally:
        c.cleanup()
    c = CM(supervisor__listen="0.0.0.0")
    try:
        c.start()
        assert "supervisor.status.token.file" in c.log()
        assert c.supervisor_status()["stores"] == []
    finally:
        c.cleanup()
