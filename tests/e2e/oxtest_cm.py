"""Helpers for the Cluster Manager's end-to-end tests: run `oxbow cm` (with
its in-process supervisor) on private ports and directories, call its API,
and find the store processes it runs. Built on the shared oxtest harness:
every process is spawned through oxtest.procs and stopped by PID."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from oxtest import procs
from oxtest.oxbow import oxbow_bin
from oxtest.servers import free_port

# The seed's commands, copied verbatim from the operations guide. Only the
# drc.properties path (the seed's /home/ds/supervisor/package/config/...) is
# replaced with the test's supervisor directory, and STORE with the real name,
# as the guide says to.
SEED_CM_URL = ("CM_URL=`awk -F= '$0 ~/cm\\.url/ {print $2}' "
               "/home/ds/supervisor/package/config/drc.properties "
               "| sed 's/^[ \\t]*//;s/[ \\t]*$//'`")
SEED_STOP = 'curl "${CM_URL}/crawler/clear" -d "crawler=${STORE}"'
SEED_RESTORE = 'curl "${CM_URL}/crawler/restore" -d "crawler=${STORE}"'
SEED_DETAIL = 'curl "${CM_URL}/crawler/detail?filters=&crawler=${STORE}"'
SEED_DESTROY = 'curl "${CM_URL}/crawler/destroy" -d "crawler=${STORE}"'
SEED_DRC = "/home/ds/supervisor/package/config/drc.properties"


def seed_shell(cm, store, command):
    """Runs the seed's CM_URL line and `command` in one bash, as the guide
    does; returns (stdout text, the CM_URL bash computed)."""
    script = "\n".join([
        SEED_CM_URL.replace(SEED_DRC, cm.drc_path),
        "STORE=%s" % store,
        command,
        'echo; echo "CM_URL=${CM_URL}"',
    ])
    r = subprocess.run(["bash", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    out = r.stdout.decode()
    body, _, tail = out.rpartition("\nCM_URL=")
    return body.strip(), tail.strip()


class CM:
    """One `oxbow cm` on 127.0.0.1 with its in-process supervisor.

    CM(metadb_url=None, **keys) writes cm.properties (keys with '__' for '.')
    into a private directory; start() spawns it and waits for /cm/health.
    """

    def __init__(self, metadb_url=None, **keys):
        self.dir = tempfile.mkdtemp(prefix="oxtest-cm-")
        self.port = free_port()
        self.sv_port = free_port()
        self.store_base = 20000 + (os.getpid() * 37 + self.port) % 30000
        self.data = os.path.join(self.dir, "data")
        self.keys = {
            "cm.port": str(self.port),
            "cm.data.dir": self.data,
            "cm.location": "111",
            "cm.apply.wait_ms": "20000",
            "supervisor.port": str(self.sv_port),
            "supervisor.store.port.base": str(self.store_base),
            "supervisor.heartbeat.ms": "500",
        }
        if metadb_url:
            self.keys["metadb.url"] = metadb_url
        self.keys.update({k.replace("__", "."): str(v) for k, v in keys.items()})
        self.config = os.path.join(self.dir, "cm.properties")
        self.url = "http://127.0.0.1:%d" % self.port
        self.log_path = os.path.join(self.dir, "cm.log")
        self.proc = None
        self.token = self.keys.get("cm.auth.token")

    @property
    def drc_path(self):
        return os.path.join(self.data, "supervisor", "package", "config", "drc.properties")

    @property
    def stores_dir(self):
        return os.path.join(self.data, "supervisor", "stores")

    def write_config(self):
        with open(self.config, "w") as f:
            for k, v in self.keys.items():
                f.write("%s=%s\n" % (k, v))
        os.chmod(self.config, 0o600)

    def start(self, timeout=30, expect_fail=False):
        self.write_config()
        log = open(self.log_path, "ab")
        self.proc = procs.spawn([oxbow_bin(), "cm", "--config", self.config],
                                stdout=log, stderr=log)
        log.close()
        if expect_fail:
            self.proc.wait(timeout=timeout)
            return self.proc.returncode
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("oxbow cm exited %s:\n%s" % (self.proc.returncode, self.log()))
            try:
                st, _ = self.get("/cm/health")
                if st == 200 and (self.keys.get("cm.supervisor") == "false" or self.hosts()):
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("oxbow cm not ready:\n" + self.log())
            time.sleep(0.05)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM):
        if self.proc is not None:
            procs.kill_pid(self.proc.pid, sig=sig, grace=30.0)
            self.proc = None

    def own_store_pids(self):
        """PIDs of store processes whose configuration lies in this CM's
        private directory: stores outlive the CM and their supervisor (by
        design), so a test must not leave them running."""
        return store_pids_under(self.dir)

    def cleanup(self):
        self.stop()
        for pid in self.own_store_pids():
            procs.kill_pid(pid, sig=signal.SIGKILL, grace=5.0)
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- HTTP ---------------------------------------------------------------
    def request(self, method, path, params=None, body=None, headers=None, token=None):
        """Returns (HTTP status, parsed JSON body or raw text)."""
        url = self.url + path
        data = None
        if method == "GET" and params:
            url += "?" + urllib.parse.urlencode(params)
        elif params is not None:
            data = urllib.parse.urlencode(params).encode()
        if body is not None:
            data = body
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None and "Content-Type" not in (headers or {}):
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        tok = token if token is not None else self.token
        if tok:
            req.add_header("Authorization", "Bearer " + tok)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                raw = r.read()
                status = r.status
        except urllib.error.HTTPError as e:
            raw = e.read()
            status = e.code
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    def get(self, path, **params):
        return self.request("GET", path, params=params or None)

    def post(self, path, **params):
        return self.request("POST", path, params=params)

    # --- conveniences -------------------------------------------------------
    def hosts(self):
        st, j = self.get("/host/list")
        return j["hosts"] if st == 200 else []

    def crawlers(self):
        st, j = self.get("/crawler/list")
        assert st == 200, j
        return j["crawlers"]

    def topics(self):
        st, j = self.get("/topic/list")
        assert st == 200, j
        return j["topics"]

    def detail(self, name, filters=""):
        return self.get("/crawler/detail", filters=filters, crawler=name)

    def health(self):
        return self.get("/cm/health")[1]

    def create_topic(self, db, topic="orders", **extra):
        params = dict(topic=topic, dbType="mysql", host=db.host, port=str(db.port),
                      username=db.user, password=db.password)
        params.update(extra)
        st, j = self.post("/topic/create", **params)
        assert st == 200 and j["isSuccess"], j
        return j

    def start_crawler(self, topic="orders", **extra):
        st, j = self.post("/crawler/start", topic=topic, **extra)
        assert st == 200 and j["isSuccess"], j
        return j["crawler"]

    def wait_status(self, name, pred, timeout=30):
        """Polls detail until pred(crawler) holds; returns the crawler."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            st, j = self.detail(name)
            if st == 200:
                last = j["crawler"]
                if pred(last):
                    return last
            time.sleep(0.1)
        raise AssertionError("condition not reached for %s; last detail %s" % (name, last))

    def wait_health(self, pred, timeout=30):
        deadline = time.monotonic() + timeout
        h = None
        while time.monotonic() < deadline:
            h = self.health()
            if pred(h):
                return h
            time.sleep(0.1)
        raise AssertionError("health condition not reached; last %s" % h)

    def supervisor_status(self):
        import urllib.request as u
        with u.urlopen("http://127.0.0.1:%d/v1/status" % self.sv_port, timeout=10) as r:
            return json.loads(r.read())

    def store_pid(self, name):
        for s in self.supervisor_status()["stores"]:
            if s["name"] == name:
                return s["pid"]
        return 0

    def credential(self, action, host, out=None):
        """Runs `oxbow cm --issue-supervisor-credential HOST --out FILE` (or
        --revoke-...) against this CM's config; returns the CompletedProcess."""
        args = [oxbow_bin(), "cm", "--config", self.config, "--%s-supervisor-credential" % action,
                host]
        if out is not None:
            args += ["--out", out]
        return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)

    def heartbeat(self, token, host, port, stores=None):
        """One fake supervisor heartbeat (no long poll); returns (status, json)."""
        body = {"host": host, "port": port, "gen": 0, "waitMs": 0, "stores": stores or []}
        return self.request("POST", "/supervisor/heartbeat", body=json.dumps(body).encode(),
                            headers={"Content-Type": "application/json"}, token=token)

    def store_dir(self, name):
        return os.path.join(self.stores_dir, name)


class Supervisor:
    """A stand-alone `oxbow supervisor` (a second "host") reporting to `cm`,
    its directory under the CM's private directory (so CM.cleanup() ends
    its stores too). Give it a credential file: cm.credential("issue", ...)."""

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

    def start(self, *extra_args):
        log = open(self.log_path, "ab")
        self.proc = procs.spawn([oxbow_bin(), "supervisor", "--cm", self.cm.url, "--config",
                                 self.config] + list(extra_args), stdout=log, stderr=log)
        log.close()
        return self

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    @property
    def host_id(self):
        return "127.0.0.1-%d" % self.port

    def status(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/v1/status" % self.port,
                                    timeout=10) as r:
            return json.loads(r.read())

    def store_pid(self, name):
        """The pid this supervisor reports for store `name` (0 if none)."""
        try:
            stores = self.status()["stores"]
        except OSError:
            return 0
        return ([s["pid"] for s in stores if s["name"] == name] or [0])[0]


def wait_until(pred, timeout=30, what="condition"):
    """pred()'s first true value within timeout seconds, else AssertionError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(what + " not reached")


def store_pids_under(directory):
    """PIDs of `oxbow store --config FILE` processes whose FILE lies under
    `directory` (stores outlive a stopped or killed CM or supervisor)."""
    pids = []
    prefix = os.path.abspath(directory).encode() + b"/"
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if len(argv) > 3 and argv[1] == b"store" and argv[3].startswith(prefix):
            pids.append(int(d))
    return pids


def store_status(port):
    """GET the store's own /v1/status."""
    with urllib.request.urlopen("http://127.0.0.1:%d/v1/status" % port, timeout=10) as r:
        return json.loads(r.read())
