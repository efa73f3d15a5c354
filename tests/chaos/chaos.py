#!/usr/bin/python3
"""chaos.py - the chaos campaign behind `make chaos` (docs/operations.md).

A private MariaDB, `oxbow cm` (SQLite metaDB, no in-process supervisor) and a
stand-alone `oxbow supervisor` whose directory (and so the store's change log)
lives on a small private tmpfs. One topic and one store. Then, for
CHAOS_MINUTES (at least until every fault has been injected its minimum
number of times):

  writer      inserts sequence-numbered rows into chaos.t in transactions of
              1-5 rows over one connection, reconnecting after source faults
  subscriber  `oxbow tail --format json`, restarted whenever it ends, resuming
              from the checkpoint of the last COMMIT it received; rows are
              delivered at their COMMIT, a partial transaction is discarded
  prober      polls the store, CM and supervisor ports every 100 ms and keeps
              each one's longest stretch without an HTTP answer
  faults      in random order: kill -9 of the store (>= 100), of the
              supervisor and of the CM, source restart and source kill -9,
              disk full on the tmpfs (ballast file, then removed), metaDB
              locked by another process (BEGIN EXCLUSIVE) and read-only
              (chattr +i), idle-connection floods on each port (>= 10 each)

At the end the writer stops, the subscriber catches up, and the rows the
subscriber received are compared with SELECT seq FROM chaos.t on the source:
rows written, received, lost, duplicated, out of order. Exit status 1 if any
of the last three is not 0, or if the campaign could not run to its end.

What the driver does in place of an operator is counted and printed, never
hidden: when the store does not recover from a full disk by itself within
CHAOS_RECOVER_S seconds, it is cleared and restored through the CM API (as
docs/operations.md tells operators to) and the line "operator actions" says
how often that was needed.

Run as root (tmpfs mount, chattr). Every process is started through
oxtest.procs and ended by PID; the tmpfs is unmounted and chattr undone in
`finally`, also on Ctrl-C or SIGTERM.
"""

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))

from oxtest import procs  # noqa: E402
from oxtest.oxbow import oxbow_bin  # noqa: E402
from oxtest.servers import MariaDB  # noqa: E402
from oxtest_cm import CM, store_pids_under  # noqa: E402

TOPIC = "chaos"


def log(msg):
    sys.stdout.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stdout.flush()


def http_get(port, path, timeout=1.0):
    """(status, parsed JSON or None); raises OSError when nothing answers."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
            raw, st = r.read(), r.status
    except urllib.error.HTTPError as e:
        raw, st = e.read(), e.code
    try:
        return st, json.loads(raw)
    except ValueError:
        return st, None


def wait(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            v = pred()
        except Exception:
            v = None
        if v:
            return v
        time.sleep(0.1)
    raise RuntimeError("%s not reached in %ds" % (what, timeout))


def compare(rows, received):
    """(lost, duplicated, out of order, not in the source) of the sequence
    numbers `received` (in delivery order) against the source's `rows`."""
    want = set(rows)
    seen, dup, ooo, hi = set(), 0, 0, 0
    for s in received:
        if s in seen:
            dup += 1
            continue
        seen.add(s)
        if s < hi:
            ooo += 1
        hi = max(hi, s)
    return len(want - seen), dup, ooo, len(seen - want)


def self_check():
    """The verdict can fail: known-bad deliveries give the expected counts."""
    assert compare([1, 2, 3], [1, 2, 3]) == (0, 0, 0, 0)
    assert compare([1, 2, 3], [1, 3]) == (1, 0, 0, 0)
    assert compare([1, 2, 3], [1, 2, 2, 3]) == (0, 1, 0, 0)
    assert compare([1, 2, 3], [1, 3, 2]) == (0, 0, 1, 0)
    assert compare([1, 2], [1, 2, 9]) == (0, 0, 0, 1)
    print("chaos.py --self-check: ok")


# --- the pieces under test ----------------------------------------------------

class Supervisor:
    """A stand-alone `oxbow supervisor` on the CM's supervisor port, its
    directory on the tmpfs. The driver restarts it after a kill, as init
    would."""

    def __init__(self, cm, sv_dir):
        self.cm = cm
        self.dir = sv_dir
        self.port = cm.sv_port
        os.makedirs(self.dir, exist_ok=True)
        self.config = os.path.join(cm.dir, "supervisor.properties")
        with open(self.config, "w") as f:
            f.write("supervisor.port=%d\nsupervisor.dir=%s\nsupervisor.cm.token.file=%s\n"
                    "supervisor.store.port.base=%d\nsupervisor.heartbeat.ms=300\n"
                    "supervisor.restart.backoff.max_ms=1000\n"
                    % (self.port, self.dir, os.path.join(cm.data, "supervisor.token"),
                       cm.store_base))
        self.log_path = os.path.join(cm.dir, "supervisor.log")
        self.proc = None

    def start(self):
        with open(self.log_path, "ab") as lf:
            self.proc = procs.spawn([oxbow_bin(), "supervisor", "--cm", self.cm.url,
                                     "--config", self.config], stdout=lf, stderr=lf)
        return self

    def kill9(self):
        if self.proc is not None:
            procs.kill_pid(self.proc.pid, sig=signal.SIGKILL, grace=10.0)
            self.proc = None

    def store_pid(self, name):
        st, j = http_get(self.port, "/v1/status")
        for s in (j or {}).get("stores", []):
            if s.get("name") == name:
                return s.get("pid") or 0
        return 0


class Writer(threading.Thread):
    """Sequence-numbered rows in transactions; the source's own SELECT at the
    end is the truth, so a transaction cut by a source fault needs no
    bookkeeping here (its rows are either in chaos.t or not)."""

    def __init__(self, db):
        super().__init__(daemon=True)
        self.db = db
        self.stop = threading.Event()
        self.next_seq = 1
        self.tx_ok = 0
        self.tx_failed = 0
        self.error = None

    def run(self):
        conn = None
        rnd = random.Random(7)
        while not self.stop.is_set():
            try:
                if conn is None:
                    conn = self.db.conn(autocommit=False, connect_timeout=2, read_timeout=10,
                                        write_timeout=10)
                n = rnd.randint(1, 5)
                first = self.next_seq
                self.next_seq += n  # never reused, committed or not
                with conn.cursor() as cur:
                    for s in range(first, first + n):
                        cur.execute("INSERT INTO chaos.t (seq, v) VALUES (%s, %s)",
                                    (s, "row-%d-%s" % (s, "x" * (s % 40))))
                conn.commit()
                self.tx_ok += 1
                time.sleep(0.005)
            except Exception:
                self.tx_failed += 1
                try:
                    if conn is not None:
                        conn.close()
                except Exception:
                    pass
                conn = None
                time.sleep(0.2)
        if conn is not None:
            conn.close()


class Subscriber(threading.Thread):
    """`oxbow tail` from the last COMMIT's checkpoint, restarted when it ends."""

    def __init__(self, port_fn):
        super().__init__(daemon=True)
        self.port_fn = port_fn
        self.stop = threading.Event()
        self.received = []  # seqs in delivery order
        self.checkpoint = None
        self.reconnects = 0
        self.errors = {}  # last error lines the store sent, by text
        self.proc = None
        self.lock = threading.Lock()

    def run(self):
        while not self.stop.is_set():
            port = self.port_fn()
            args = [oxbow_bin(), "tail", "--store", "127.0.0.1:%d" % port, "--format", "json"]
            args += ["--checkpoint", self.checkpoint] if self.checkpoint else ["--earliest"]
            p = procs.spawn(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            self.proc = p
            pending = []
            for line in p.stdout:
                if not line.strip():
                    continue
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                op = r.get("op")
                if op == "insert" and r.get("table") == "t":
                    pending.append(int(r["after"]["seq"]))
                elif op == "commit":
                    with self.lock:
                        self.received.extend(pending)
                        self.checkpoint = r["checkpoint"]
                    pending = []
                elif "errMsg" in r and r.get("isSuccess") is False:
                    k = r["errMsg"][:120]
                    self.errors[k] = self.errors.get(k, 0) + 1
                if self.stop.is_set():
                    break
            procs.kill_pid(p.pid, grace=2.0)
            self.proc = None
            if not self.stop.is_set():
                self.reconnects += 1
                time.sleep(0.2)

    def halt(self):
        self.stop.set()
        p = self.proc
        if p is not None:
            procs.kill_pid(p.pid, grace=2.0)


class Prober(threading.Thread):
    """Longest stretch without an HTTP answer, per port."""

    def __init__(self, ports):
        super().__init__(daemon=True)
        self.ports = ports  # label -> (port_fn, path)
        self.stop = threading.Event()
        self.longest = {k: 0.0 for k in ports}
        self.longest_during = {k: "" for k in ports}
        self.down_since = {}
        self.down_during = {}
        self.current = "setup"  # the fault being injected (set by the campaign)

    def run(self):
        while not self.stop.is_set():
            for label, (port_fn, path) in self.ports.items():
                now = time.monotonic()
                try:
                    http_get(port_fn(), path, timeout=1.0)
                    up = True
                except Exception:
                    up = False
                if up:
                    since = self.down_since.pop(label, None)
                    if since is not None:
                        self.note(label, now - since)
                elif label not in self.down_since:
                    self.down_since[label] = now
                    self.down_during[label] = self.current
            time.sleep(0.1)

    def note(self, label, dur):
        if dur > self.longest[label]:
            self.longest[label] = dur
            self.longest_during[label] = self.down_during.get(label, "")

    def finish(self):
        self.stop.set()
        now = time.monotonic()
        for label, since in list(self.down_since.items()):
            self.note(label, now - since)


# --- the campaign ---------------------------------------------------------------

class Campaign:
    def __init__(self, args):
        self.args = args
        self.rnd = random.Random(args.seed)
        self.faults = {}
        self.operator = {}
        self.notes = []
        self.mnt = None
        self.immutable = []
        self.db = self.cm = self.sv = None
        self.writer = self.sub = self.prober = None
        self.store_name = None
        self.store_port = 0
        self.lockers = []
        self.mdb_seen = {}  # metaDB fault kind -> times the CM reported active=false
        self.mdb_back = {}  # metaDB fault kind -> longest wait for active=true after it

    # setup -----------------------------------------------------------------
    def setup(self):
        self.mnt = tempfile.mkdtemp(prefix="oxchaos-tmpfs-")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm,mode=0700" % self.args.tmpfs_mb,
                        "tmpfs", self.mnt], check=True)
        log("tmpfs %s (%d MiB) for the supervisor and store directories"
            % (self.mnt, self.args.tmpfs_mb))
        self.db = MariaDB()  # assigned before start: cleanup() removes it on failure
        self.db.start()
        self.db.execute_root("CREATE DATABASE chaos",
                             "CREATE TABLE chaos.t (seq BIGINT PRIMARY KEY, v VARCHAR(80))")
        log("MariaDB on port %d (pid %d)" % (self.db.port, self.db.pid))
        self.cm = CM(cm__supervisor="false", cm__host__lost_ms="3000")
        self.cm.start()
        self.metadb = os.path.join(self.cm.data, "metadb.sqlite")
        log("CM on port %d, metaDB %s" % (self.cm.port, self.metadb))
        self.sv = Supervisor(self.cm, os.path.join(self.mnt, "sv")).start()
        wait(lambda: self.cm.hosts(), 30, "supervisor registration")
        self.cm.create_topic(self.db, topic=TOPIC, whiteList="chaos.*")
        self.store_name = self.cm.start_crawler(topic=TOPIC)["name"]
        d = self.cm.wait_status(self.store_name, lambda c: c["status"] == 0, timeout=60)
        self.store_port = d["port"]
        log("store %s on port %d" % (self.store_name, self.store_port))
        self.writer = Writer(self.db)
        self.writer.start()
        self.sub = Subscriber(lambda: self.store_port)
        self.sub.start()
        self.prober = Prober({
            "store": (lambda: self.store_port, "/v1/status"),
            "cm": (lambda: self.cm.port, "/cm/health"),
            "supervisor": (lambda: self.sv.port, "/v1/status"),
        })
        self.prober.start()

    # helpers ---------------------------------------------------------------
    def count(self, kind):
        self.faults[kind] = self.faults.get(kind, 0) + 1

    def store_status(self):
        st, j = http_get(self.store_port, "/v1/status", timeout=2.0)
        return j.get("status") if st == 200 and j else None

    def store_pid(self):
        try:
            return self.sv.store_pid(self.store_name)
        except Exception:
            return 0

    def ensure_up(self, timeout=60):
        """Everything the driver plays init for is running again."""
        if self.sv.proc is None or self.sv.proc.poll() is not None:
            self.sv.start()
        if self.cm.proc is None or self.cm.proc.poll() is not None:
            self.cm.start(timeout=timeout)
        wait(lambda: self.store_pid(), timeout, "store running")

    def clear_restore(self, why):
        """The operator's way back (docs/operations.md): crawler/clear, then
        crawler/restore; counted under operator actions."""
        self.operator[why] = self.operator.get(why, 0) + 1
        st, j = self.cm.post("/crawler/clear", crawler=self.store_name)
        if st != 200:
            self.notes.append("clear after %s: HTTP %s %s" % (why, st, j))
        st, j = self.cm.post("/crawler/restore", crawler=self.store_name)
        if st != 200:
            self.notes.append("restore after %s: HTTP %s %s" % (why, st, j))
        wait(lambda: self.store_status() == 0, 90, "store status 0 after clear+restore")

    def await_store_ok(self, why):
        """Waits for the store to be normal by itself; else clear+restore."""
        try:
            wait(lambda: self.store_status() == 0, self.args.recover_s,
                 "store recovery after " + why)
        except RuntimeError:
            st = None
            try:
                st = self.store_status()
            except Exception:
                pass
            log("  store not normal %ds after %s (status %s): clear+restore"
                % (self.args.recover_s, why, st))
            self.clear_restore(why)

    # faults ------------------------------------------------------------------
    def f_store_kill(self):
        pid = wait(lambda: self.store_pid(), 60, "store running")
        os.kill(pid, signal.SIGKILL)
        self.count("store kill -9")

    def f_supervisor_kill(self):
        self.sv.kill9()
        self.count("supervisor kill -9")
        time.sleep(self.rnd.uniform(0.2, 2.0))
        self.sv.start()

    def f_cm_kill(self):
        self.cm.stop(sig=signal.SIGKILL)
        self.count("cm kill -9")
        time.sleep(self.rnd.uniform(0.2, 2.0))
        self.cm.start(timeout=60)

    def f_source_restart(self):
        self.db.restart(sig=signal.SIGTERM)
        self.count("source restart")

    def f_source_kill(self):
        self.db.restart(sig=signal.SIGKILL)
        self.count("source kill -9")

    def f_disk_full(self):
        ballast = os.path.join(self.mnt, "ballast")
        chunk = b"\0" * (1 << 20)
        with open(ballast, "wb") as f:
            try:
                while True:
                    f.write(chunk)
                    f.flush()
            except OSError:
                pass
        self.count("disk full")
        time.sleep(self.rnd.uniform(2.0, 5.0))
        os.unlink(ballast)
        self.await_store_ok("disk full")

    def f_metadb_locked(self):
        code = ("import sqlite3,sys,time\n"
                "c=sqlite3.connect(sys.argv[1],timeout=30,isolation_level=None)\n"
                "c.execute('BEGIN EXCLUSIVE')\nprint('locked',flush=True)\ntime.sleep(3600)\n")
        p = procs.spawn([sys.executable, "-c", code, self.metadb], stdout=subprocess.PIPE)
        self.lockers.append(p.pid)
        p.stdout.readline()
        self.count("metaDB locked")
        self.hold_metadb_fault("locked", self.rnd.uniform(2.0, 6.0))
        procs.kill_pid(p.pid, sig=signal.SIGKILL, grace=5.0)
        self.lockers.remove(p.pid)
        self.await_cm_active("locked")

    def f_metadb_readonly(self):
        files = [f for f in (self.metadb, self.metadb + "-wal", self.metadb + "-shm")
                 if os.path.exists(f) and not f.endswith("-shm")]
        for f in files:
            subprocess.run(["chattr", "+i", f], check=True)
            self.immutable.append(f)
        self.count("metaDB read-only")
        self.hold_metadb_fault("read-only", self.rnd.uniform(2.0, 6.0))
        self.undo_immutable()
        self.await_cm_active("read-only")

    def cm_active(self):
        st, j = http_get(self.cm.port, "/cm/health", timeout=2.0)
        return bool(st == 200 and j and j.get("active"))

    def hold_metadb_fault(self, kind, seconds):
        """Holds a metaDB fault; notes whether the CM said active=false."""
        end = time.monotonic() + seconds
        seen = False
        while time.monotonic() < end:
            try:
                seen = seen or not self.cm_active()
            except Exception:
                pass
            time.sleep(0.2)
        k = "metaDB " + kind
        self.mdb_seen[k] = self.mdb_seen.get(k, 0) + (1 if seen else 0)

    def await_cm_active(self, kind):
        t0 = time.monotonic()
        try:
            wait(self.cm_active, 60, "CM active after metaDB " + kind)
        except RuntimeError as e:
            self.notes.append(str(e))
            return
        k = "metaDB " + kind
        self.mdb_back[k] = max(self.mdb_back.get(k, 0.0), time.monotonic() - t0)

    def undo_immutable(self):
        for f in list(self.immutable):
            subprocess.run(["chattr", "-i", f], check=False)
            self.immutable.remove(f)

    def flood(self, label, port):
        socks = []
        for _ in range(self.args.flood_conns):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(0.5)
            try:
                s.connect(("127.0.0.1", port))
                socks.append(s)
            except OSError:
                s.close()
        self.count("idle flood " + label)
        time.sleep(self.rnd.uniform(3.0, 6.0))
        for s in socks:
            s.close()

    def f_flood_store(self):
        self.flood("store", self.store_port)

    def f_flood_cm(self):
        self.flood("cm", self.cm.port)

    def f_flood_supervisor(self):
        self.flood("supervisor", self.sv.port)

    # the loop ------------------------------------------------------------------
    def plan(self):
        a = self.args
        p = [self.f_store_kill] * a.store_kills
        for f in (self.f_supervisor_kill, self.f_cm_kill, self.f_source_restart,
                  self.f_source_kill, self.f_disk_full, self.f_metadb_locked,
                  self.f_metadb_readonly, self.f_flood_store, self.f_flood_cm,
                  self.f_flood_supervisor):
            p += [f] * a.each
        self.rnd.shuffle(p)
        return p

    def run(self):
        plan = self.plan()
        start = time.monotonic()
        budget = self.args.minutes * 60.0
        log("campaign: %d faults over about %d minutes (seed %d)"
            % (len(plan), self.args.minutes, self.args.seed))
        for i, f in enumerate(plan):
            # Pace the faults over the time budget, with jitter.
            due = start + budget * i / len(plan) + self.rnd.uniform(0, budget / len(plan) / 2)
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
            name = f.__name__[2:]
            self.prober.current = name
            try:
                self.ensure_up()
                f()
            except Exception as e:
                self.notes.append("%s #%d: %s" % (name, i, e))
                log("  fault %s failed: %s" % (name, e))
            if i % 10 == 9:
                log("%d/%d faults; written seq < %d, received %d rows, subscriber reconnects %d"
                    % (i + 1, len(plan), self.writer.next_seq, len(self.sub.received),
                       self.sub.reconnects))
        # Whatever we injected last, bring everything back, then quiesce.
        self.prober.current = "recovery at the end"
        self.ensure_up(timeout=120)
        self.await_store_ok("the end of the campaign")
        while time.monotonic() - start < budget:
            time.sleep(1)

    def finish(self):
        self.writer.stop.set()
        self.writer.join(timeout=30)
        rows = [r[0] for r in self.db.query("SELECT seq FROM chaos.t ORDER BY seq")]
        want = set(rows)  # the source's own SELECT is the truth
        # Let the subscriber catch up: every written row, or 120 s without progress.
        last, last_change = -1, time.monotonic()
        while True:
            with self.sub.lock:
                got = set(self.sub.received)
                n = len(self.sub.received)
            if want <= got:
                break
            if n != last:
                last, last_change = n, time.monotonic()
            if time.monotonic() - last_change > 120:
                self.notes.append("subscriber made no progress for 120 s at the end")
                break
            time.sleep(0.5)
        self.sub.halt()
        self.prober.finish()
        received = list(self.sub.received)
        return (rows, received) + compare(rows, received)

    def report(self, rows, received, lost, dup, ooo, extra, wall):
        print()
        print("make chaos: %.1f minutes, seed %d, tmpfs %d MiB, %d idle connections per flood"
              % (wall / 60, self.args.seed, self.args.tmpfs_mb, self.args.flood_conns))
        print("rows written (SELECT on the source): %d in %d transactions (%d cut by faults)"
              % (len(rows), self.writer.tx_ok, self.writer.tx_failed))
        print("rows received:                        %d (subscriber reconnects: %d)"
              % (len(received), self.sub.reconnects))
        print("lost: %d   duplicated: %d   out of order: %d   not in the source: %d"
              % (lost, dup, ooo, extra))
        print("faults injected:")
        for k in sorted(self.faults):
            print("  %-22s %d" % (k, self.faults[k]))
        for k in sorted(self.mdb_back):
            print("%s: the CM reported active=false during %d of %d; active again within %.1f s"
                  % (k, self.mdb_seen.get(k, 0), self.faults.get(k, 0), self.mdb_back[k]))
        print("operator actions (clear+restore through the CM API): %s"
              % (", ".join("%s: %d" % kv for kv in sorted(self.operator.items())) or "none"))
        print("longest unavailability (no HTTP answer):")
        for k, v in self.prober.longest.items():
            port = {"store": self.store_port, "cm": self.cm.port, "supervisor": self.sv.port}[k]
            during = self.prober.longest_during[k]
            print("  %-10s port %-5d %5.1f s%s" % (k, port, v,
                                                  "  (began during: %s)" % during if v else ""))
        if self.sub.errors:
            print("errors the store sent to the subscriber:")
            for k, v in sorted(self.sub.errors.items()):
                print("  %d x %s" % (v, k))
        if self.notes:
            print("notes:")
            for n in self.notes[:40]:
                print("  " + n)
        ok = lost == 0 and dup == 0 and ooo == 0 and extra == 0
        print("make chaos: %s" % ("PASSED (0 lost, 0 duplicated, 0 out of order)" if ok
                                  else "FAILED"))
        return ok

    def cleanup(self):
        for t in (self.writer, self.prober):
            if t is not None:
                t.stop.set()
        if self.sub is not None:
            self.sub.halt()
        self.undo_immutable()
        for pid in list(self.lockers):
            procs.kill_pid(pid, sig=signal.SIGKILL, grace=5.0)
        if self.sv is not None:
            self.sv.kill9()
        if self.cm is not None:
            self.cm.cleanup()
        procs.kill_all()
        if self.mnt is not None:
            # Stores outlive their supervisor (docs/operations.md): end them by PID.
            for pid in store_pids_under(self.mnt):
                procs.kill_pid(pid, sig=signal.SIGKILL, grace=5.0)
        if self.db is not None:
            self.db.cleanup()
        if self.mnt is not None:
            for _ in range(10):
                if subprocess.run(["umount", self.mnt]).returncode == 0:
                    break
                time.sleep(1)
            try:
                os.rmdir(self.mnt)
            except OSError as e:
                print("chaos: cannot remove %s: %s" % (self.mnt, e), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--minutes", type=float, default=float(os.environ.get("CHAOS_MINUTES", 10)))
    ap.add_argument("--store-kills", type=int, default=int(os.environ.get("CHAOS_STORE_KILLS", 100)))
    ap.add_argument("--each", type=int, default=int(os.environ.get("CHAOS_EACH", 10)),
                    help="injections of every other fault kind")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("CHAOS_SEED", int(time.time()))))
    ap.add_argument("--tmpfs-mb", type=int, default=256)
    ap.add_argument("--flood-conns", type=int, default=300)
    ap.add_argument("--recover-s", type=int, default=int(os.environ.get("CHAOS_RECOVER_S", 20)),
                    help="seconds a store gets to recover from a full disk by itself")
    ap.add_argument("--self-check", action="store_true",
                    help="only check the lost/duplicated/out-of-order verdict on known data")
    args = ap.parse_args()
    if args.self_check:
        self_check()
        return 0
    os.environ["OX_BUILD_DIR"] = os.path.abspath(args.build)
    if os.geteuid() != 0:
        print("make chaos: needs root (tmpfs mount, chattr)", file=sys.stderr)
        return 2

    def on_term(sig, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_term)

    c = Campaign(args)
    t0 = time.monotonic()
    ok = False
    try:
        c.setup()
        c.run()
        res = c.finish()
        ok = c.report(*res, wall=time.monotonic() - t0)
    except KeyboardInterrupt:
        print("make chaos: interrupted", file=sys.stderr)
    except Exception as e:
        import traceback
        traceback.print_exc()
        print("make chaos: the campaign could not run to its end: %s" % e, file=sys.stderr)
        if c.cm is not None:
            sys.stderr.write("--- cm log tail ---\n" + c.cm.log()[-3000:] + "\n")
    finally:
        c.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
