"""Running oxbow subcommands from tests.

The binary is $OXBOW_BIN (set by ctest), else $OX_BUILD_DIR/oxbow, else
build/oxbow in the source tree. Long-running subcommands go through
spawn_oxbow(), which registers the process for cleanup by PID.
"""

import json
import os
import subprocess

from . import procs

SOURCE_DIR = os.environ.get(
    "OX_SOURCE_DIR",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def oxbow_bin():
    """Path of the oxbow executable under test."""
    b = os.environ.get("OXBOW_BIN")
    if b:
        return b
    d = os.environ.get("OX_BUILD_DIR")
    if d:
        return os.path.join(d, "oxbow")
    return os.path.join(SOURCE_DIR, "build", "oxbow")


def run_oxbow(*args, input=None, env=None, timeout=300, check=True):
    """Runs `oxbow ARGS...` to completion; returns subprocess.CompletedProcess
    with bytes stdout/stderr. With check=True a non-zero exit raises
    AssertionError carrying stderr."""
    e = dict(os.environ)
    if env:
        e.update(env)
    r = subprocess.run([oxbow_bin()] + [str(a) for a in args], input=input, env=e,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("oxbow %s exited %d:\n%s" % (
            " ".join(map(str, args)), r.returncode, r.stderr.decode(errors="replace")))
    return r


def parse_json_lines(data):
    """Parses one JSON object per line (bytes or str); returns a list."""
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    return [json.loads(line) for line in data.splitlines() if line.strip()]


def oxbow_json(*args, **kw):
    """run_oxbow(...) and parse its stdout as JSON lines."""
    return parse_json_lines(run_oxbow(*args, **kw).stdout)


def spawn_oxbow(*args, env=None, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw):
    """Starts `oxbow ARGS...` in the background (registered with procs for
    cleanup by PID); returns the Popen object."""
    e = dict(os.environ)
    if env:
        e.update(env)
    return procs.spawn([oxbow_bin()] + [str(a) for a in args], env=e, stdout=stdout,
                       stderr=stderr, **kw)


class JsonLineReader:
    """Reads a spawned process's stdout on a background thread, one JSON
    object per line. get(timeout) returns the next record or None on
    timeout; wait_for(pred, timeout) collects records until pred(record) is
    true and returns (matched_record_or_None, records_seen)."""

    def __init__(self, proc):
        import queue
        import threading
        self.proc = proc
        self.q = queue.Queue()
        self.records = []
        self._t = threading.Thread(target=self._pump, daemon=True)
        self._t.start()

    def _pump(self):
        for line in self.proc.stdout:
            if line.strip():
                self.q.put(json.loads(line))
        self.q.put(None)

    def get(self, timeout):
        import queue
        try:
            r = self.q.get(timeout=timeout)
        except queue.Empty:
            return None
        if r is not None:
            self.records.append(r)
        return r

    def wait_for(self, pred, timeout):
        import time
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None, seen
            r = self.get(left)
            if r is None:
                if self.proc.poll() is not None and self.q.empty():
                    return None, seen
                continue
            seen.append(r)
            if pred(r):
                return r, seen
