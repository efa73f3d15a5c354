"""Helpers for the store's end-to-end tests: run `oxbow store`, read its
status, subscribe over HTTP. Built on the shared oxtest harness (processes
are spawned through oxtest.procs and stopped by PID)."""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from oxtest import procs
from oxtest.oxbow import oxbow_bin
from oxtest.servers import free_port


class Store:
    """One `oxbow store` process on a private directory.

    Store(mariadb, **keys) writes store.properties (extra keys override the
    defaults) and start() spawns the daemon and waits until /v1/status
    answers. kill(sig) ends it by PID; start() again reuses dir and port.
    """

    def __init__(self, db, name="teststore", **keys):
        self.db = db
        self.dir = tempfile.mkdtemp(prefix="oxtest-store-")
        self.port = free_port()
        self.name = name
        self.pwfile = os.path.join(self.dir, "pw")
        with open(self.pwfile, "w") as f:
            f.write(db.password + "\n")
        self.keys = {
            "store.name": name,
            "store.dir": os.path.join(self.dir, "data"),
            "store.port": str(self.port),
            "source.host": db.host,
            "source.port": str(db.port),
            "source.user": db.user,
            "source.password.file": self.pwfile,
            "source.heartbeat.ms": "500",
            "store.start.checkpoint": "",
            "store.fsync": "interval",
        }
        self.keys.update({k.replace("__", "."): str(v) for k, v in keys.items()})
        self.config = os.path.join(self.dir, "store.properties")
        self.write_config()
        self.proc = None
        self.stderr_path = os.path.join(self.dir, "stderr")

    def write_config(self):
        with open(self.config, "w") as f:
            for k, v in self.keys.items():
                f.write("%s=%s\n" % (k, v))
        os.chmod(self.config, 0o600)

    def start(self, timeout=30):
        try:
            log_start = os.path.getsize(os.path.join(self.keys["store.dir"], "store.log"))
        except OSError:
            log_start = 0
        err = open(self.stderr_path, "ab")
        self.proc = procs.spawn([oxbow_bin(), "store", "--config", self.config],
                                stdout=subprocess.DEVNULL, stderr=err)
        err.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("oxbow store exited %s:\n%s" % (self.proc.returncode,
                                                                   self.log_tail()))
            try:
                self.status()
                self._wait_capture(deadline, log_start)
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("store not answering:\n" + self.log_tail())
                time.sleep(0.05)

    def _wait_capture(self, deadline, log_start):
        """Waits (without failing) until capture is connected to the source
        or the status reports a source error: a store answers before its
        capture has connected (it first reads the source's schema), and rows
        written in between would be before its start position."""
        log = os.path.join(self.keys["store.dir"], "store.log")
        while time.monotonic() < deadline:
            try:
                with open(log, "rb") as f:
                    f.seek(log_start)
                    if b"capture: connected" in f.read():
                        return
            except OSError:
                pass
            try:
                if self.status().get("status", 0) != 0:
                    return
            except OSError:
                return
            time.sleep(0.02)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def kill(self, sig=signal.SIGKILL, grace=30.0):
        """Ends the store by PID; returns its exit status."""
        if self.proc is None:
            return None
        rc = procs.kill_pid(self.proc.pid, sig=sig, grace=grace)
        self.proc = None
        return rc

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, n=6000):
        out = ""
        for p in (os.path.join(self.keys["store.dir"], "store.log"), self.stderr_path):
            try:
                with open(p, "rb") as f:
                    out += "== %s ==\n%s\n" % (p, f.read()[-n:].decode(errors="replace"))
            except OSError:
                pass
        return out

    def get(self, path, timeout=10):
        """(status, parsed JSON body) of a GET."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request("GET", path)
            r = c.getresponse()
            body = r.read()
            return r.status, json.loads(body) if body.strip() else None
        finally:
            c.close()

    def status(self):
        st, body = self.get("/v1/status")
        assert st == 200, body
        return body

    def wait_status(self, pred, timeout=30, what="condition"):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.status()
                if pred(last):
                    return last
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("store status never met %s; last: %s\n%s"
                             % (what, last, self.log_tail()))

    def subscribe(self, query, timeout=10):
        return Subscription(self.port, query, timeout)


class Subscription:
    """A raw JSON-lines subscription (GET /v1/subscribe?query) on its own
    socket, so that tests see exactly what the store sends."""

    def __init__(self, port, query, timeout=10):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.conn.request("GET", "/v1/subscribe?" + query)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.error = None
        if self.status != 200:
            self.error = json.loads(self.resp.read())

    def next(self, timeout=10):
        """The next record (dict), skipping keepalives; None on timeout."""
        self.conn.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.resp.readline()
            except (socket.timeout, TimeoutError):
                return None
            if not line:
                raise EOFError("stream ended")
            if line.strip():
                return json.loads(line)
            if time.monotonic() > deadline:
                return None

    def take(self, n, timeout=30):
        """Exactly n records (or AssertionError)."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            left = deadline - time.monotonic()
            r = self.next(max(0.1, left)) if left > 0 else None
            if r is None:
                raise AssertionError("got %d of %d records: %s" % (len(out), n, out[-3:]))
            out.append(r)
        return out

    def close(self):
        try:
            self.conn.close()
        except OSError:
            pass


def rows_only(records):
    """Records that are row changes (not commit records)."""
    return [r for r in records if r.get("op") in ("insert", "update", "delete")]
