"""Helpers for the operations tests (metrics, alerts, console): fetch and
parse Prometheus text, run promtool, run a private Prometheus server, and
make rows flow through a store. Built on the shared oxtest harness; every
process is spawned through oxtest.procs and stopped by PID."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request

from oxtest import procs
from oxtest.servers import free_port

PROMTOOL = "/usr/bin/promtool"
PROMETHEUS = "/usr/bin/prometheus"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def http_text(url, token=None, timeout=10):
    """GET url; returns (status, content type, text)."""
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode(errors="replace")


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """[(name, {label: value}, float)] of every sample line."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        labels = {k: v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
                  for k, v in _LABEL.findall(m.group(3) or "")}
        out.append((m.group(1), labels, float(m.group(4))))
    return out


def metric(samples, name, **labels):
    """The value of the one sample of `name` whose labels include `labels`."""
    got = [v for n, l, v in samples if n == name and all(l.get(k) == x for k, x in labels.items())]
    assert len(got) == 1, "%s%s: %d samples" % (name, labels, len(got))
    return got[0]


def promtool_check_metrics(text):
    """Runs `promtool check metrics` on text; returns (returncode, output)."""
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace")


class RowPump:
    """Inserts rows into shop.orders in a background thread until stopped,
    so that a store has records per second to show."""

    def __init__(self, mariadb, table="shop.orders", every=0.05):
        self.mariadb, self.table, self.every = mariadb, table, every
        self.stop_ev = threading.Event()
        self.n = 0
        self.t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        c = self.mariadb.root_conn()
        try:
            with c.cursor() as cur:
                while not self.stop_ev.is_set():
                    self.n += 1
                    cur.execute("INSERT INTO %s (note) VALUES ('pump %d')" % (self.table, self.n))
                    time.sleep(self.every)
        finally:
            c.close()

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop_ev.set()
        self.t.join(timeout=10)


def shop(mariadb):
    mariadb.execute_root("CREATE DATABASE IF NOT EXISTS shop",
                         "CREATE TABLE IF NOT EXISTS shop.orders "
                         "(id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(40))")


class Prometheus:
    """A private Prometheus server on loopback scraping the given targets
    ([(job, host:port)]) every second, evaluating docs/alerts.yml."""

    def __init__(self, targets, rules=os.path.join(ROOT, "docs", "alerts.yml"), token=None):
        self.dir = tempfile.mkdtemp(prefix="oxtest-prom-")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc = None
        shutil.copy(rules, os.path.join(self.dir, "alerts.yml"))
        jobs = []
        for job, target in targets:
            jobs.append("  - job_name: %s\n    scrape_interval: 1s\n"
                        "    static_configs:\n      - targets: ['%s']\n" % (job, target))
            if token:
                jobs[-1] += "    authorization:\n      credentials: '%s'\n" % token
        with open(os.path.join(self.dir, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "rule_files:\n  - alerts.yml\nscrape_configs:\n" + "".join(jobs))

    def start(self, timeout=60):
        log = open(os.path.join(self.dir, "prometheus.log"), "ab")
        self.proc = procs.spawn([PROMETHEUS, "--config.file=" + os.path.join(self.dir,
                                                                            "prometheus.yml"),
                                 "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
                                 "--web.listen-address=127.0.0.1:%d" % self.port,
                                 "--web.enable-lifecycle=false" if False else "--log.level=warn"],
                                stdout=log, stderr=log, cwd=self.dir)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("prometheus exited:\n" + self.log())
            try:
                if http_text(self.url + "/-/ready", timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("prometheus not ready:\n" + self.log())

    def log(self):
        try:
            with open(os.path.join(self.dir, "prometheus.log"), errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def api(self, path):
        st, _, text = http_text(self.url + path)
        assert st == 200, text
        return json.loads(text)["data"]

    def alerts(self):
        return self.api("/api/v1/alerts")["alerts"]

    def targets_up(self):
        return [t for t in self.api("/api/v1/targets")["activeTargets"] if t["health"] == "up"]

    def cleanup(self):
        if self.proc is not None:
            procs.kill_pid(self.proc.pid)
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


CONSOLE_DIR = os.path.join(ROOT, "tests", "e2e", "console")
SHOTS = os.path.join(ROOT, "build", "console-screenshots")


class Browser:
    """Headless Debian chromium, driven by tests/e2e/console/drive.mjs
    (puppeteer-core from the lockfile; scripts/deps.sh runs npm ci). One
    command per call; a failed command raises with the browser's message."""

    def __init__(self):
        if not os.path.isdir(os.path.join(CONSOLE_DIR, "node_modules", "puppeteer-core")):
            raise RuntimeError("run `npm ci` in tests/e2e/console (scripts/deps.sh does)")
        self.dir = tempfile.mkdtemp(prefix="oxtest-chromium-")
        self.proc = procs.spawn(["node", os.path.join(CONSOLE_DIR, "drive.mjs"), self.dir],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=open(os.path.join(self.dir, "driver.log"), "wb"),
                                cwd=CONSOLE_DIR)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("browser did not start:\n" + self.log())
        self.chromium_pid = json.loads(line)["pid"]

    def log(self):
        try:
            with open(os.path.join(self.dir, "driver.log"), errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def cmd(self, op, **kw):
        kw["op"] = op
        self.proc.stdin.write((json.dumps(kw) + "\n").encode())
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("driver exited:\n" + self.log())
        r = json.loads(line)
        if not r["ok"]:
            raise AssertionError("%s %s: %s" % (op, kw, r["error"]))
        return r["value"]

    def shot(self, name):
        os.makedirs(SHOTS, exist_ok=True)
        return self.cmd("screenshot", path=os.path.join(SHOTS, name + ".png"))

    def cleanup(self):
        try:
            if self.proc.poll() is None:
                self.proc.stdin.write(b'{"op":"close"}\n')
                self.proc.stdin.flush()
                self.proc.wait(timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            pass
        if self.proc.poll() is None:
            procs.kill_pid(self.proc.pid)
        if procs.pid_alive(self.chromium_pid):
            procs.kill_pid(self.chromium_pid)
        shutil.rmtree(self.dir, ignore_errors=True)
