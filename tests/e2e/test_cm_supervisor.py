"""A stand-alone `oxbow supervisor` (a second "host") next to the CM's
in-process one: registration with the supervisor token, drc.properties,
placing a store on it with `host`, host loss when it dies (its stores die
with it), and recovery when it comes back."""

import json
import os
import signal
import subprocess
import time

import pytest

from oxtest import pid_alive, procs
from oxtest.oxbow import oxbow_bin
from oxtest.servers import free_port
from oxtest_cm import CM, SEED_CM_URL, SEED_DRC


class Supervisor:
    def __init__(self, cm, token_file):
        self.dir = os.path.join(cm.dir, "sv2")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.cm = cm
        self.config = os.path.join(self.dir, "supervisor.properties")
        with open(self.config, "w") as f:
            f.write("supervisor.port=%d\nsupervisor.dir=%s\nsupervisor.cm.token.file=%s\n"
                    "supervisor.store.port.base=%d\nsupervisor.heartbeat.ms=300\n"
                    % (self.port, self.dir, token_file, cm.store_base + 500))
        self.log_path = os.path.join(self.dir, "supervisor.log")
        self.proc = None

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = procs.spawn([oxbow_bin(), "supervisor", "--cm", self.cm.url, "--config",
                                 self.config], stdout=log, stderr=log)
        log.close()
        return self

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    @property
    def host_id(self):
        return "127.0.0.1-%d" % self.port


def wait(pred, timeout=30, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(what + " not reached")


@pytest.fixture
def cm():
    c = CM(cm__host__lost_ms=2000)
    try:
        yield c.start()
    finally:
        c.cleanup()


def test_standalone_supervisor(cm, mariadb):
    token = os.path.join(cm.data, "supervisor.token")
    assert os.stat(token).st_mode & 0o777 == 0o600
    # A supervisor with a wrong token is refused and never registers.
    bad_token = os.path.join(cm.dir, "bad.token")
    with open(bad_token, "w") as f:
        f.write("not-the-token-not-the-token\n")
    bad = Supervisor(cm, bad_token).start()
    time.sleep(1.5)
    assert bad.host_id not in [h["host"] for h in cm.hosts()]
    assert "unreachable (HTTP 401)" in bad.log()
    procs.kill_pid(bad.proc.pid)

    sv = Supervisor(cm, token).start()
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

    # The host dies: its store dies with it and the CM reports the host lost.
    procs.kill_pid(sv.proc.pid, sig=signal.SIGKILL)
    wait(lambda: not pid_alive(pid), timeout=10, what="store exit with its supervisor")
    d = cm.wait_status(name, lambda d: d["status"] == 1004, timeout=10)
    assert "not reporting" in d["errMsg"]
    assert [h["live"] for h in cm.hosts() if h["host"] == sv.host_id] == [False]
    # New stores go to live hosts only.
    st, j = cm.post("/crawler/start", topic="orders", host=sv.host_id)
    assert st == 404 and "no live supervisor" in j["errMsg"]

    # It comes back and starts the store again from its data.
    sv.start()
    cm.wait_status(name, lambda d: d["status"] == 0, timeout=30)
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
    with open(os.path.join(cm.data, "supervisor.token")) as f:
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
