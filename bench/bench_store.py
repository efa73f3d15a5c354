#!/usr/bin/python3
"""bench_store.py - the store's benchmarks, each beside its peer in the same
run (run by bench/bench_store.sh; env OX_BUILD_DIR, OX_SOURCE_DIR).

1. Latency, commit issued on the source -> record at a subscriber, p50/p99,
   at 1k and 10k rows/s: `oxbow tail` (binary format) on the store vs a
   `mariadb-binlog --read-from-remote-server --stop-never` reader (peer), both
   following the same private MariaDB at the same time.
2. Catch-up: the RUNBOOK's 340,004-row backlog (200,004 inserts, 100,000
   updates, 40,000 deletes of a 7-column row; bench_decode.py's generator)
   from the source through a fresh store to one subscriber (time from
   starting the store until the subscriber holds all 340,004 rows), vs the
   live helper's bench/zongji_count.js (@vlasky/zongji) over the same range.
3. Fan-out: records/s from the store to 1 and 10 subscribers (binary/json).
4. Peak RSS of the store (VmHWM).
Medians of repeated runs; ratios are ours/peer for times, peer/ours for
rates where lower is better noted explicitly.
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time

SRC = os.environ.get("OX_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("OX_BUILD_DIR") or os.path.join(SRC, "build")
os.environ["OX_BUILD_DIR"] = BUILD
sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))

from oxtest import procs  # noqa: E402
from oxtest.servers import MariaDB  # noqa: E402
from oxtest_store import Store  # noqa: E402

OXBOW = os.path.join(BUILD, "oxbow")
FANOUT = os.path.join(BUILD, "bench", "bench_store_fanout")
REPS = int(os.environ.get("OX_BENCH_REPS", "3"))


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))
    return xs[k]


class LineReader(threading.Thread):
    """Reads a child's stdout; extract(line) -> id or None; stamps arrival."""

    def __init__(self, proc, extract):
        super().__init__(daemon=True)
        self.proc, self.extract = proc, extract
        self.arrival = {}

    def run(self):
        for line in self.proc.stdout:
            i = self.extract(line)
            if i is not None and i not in self.arrival:
                self.arrival[i] = time.perf_counter_ns()


STORE_ID = re.compile(rb'"op":"insert","db":"bench","table":"lat".*?"after":\{"id":(\d+)')
PEER_ID = re.compile(rb"^###   @1=(\d+)")


def store_extract(line):
    m = STORE_ID.search(line)
    return int(m.group(1)) if m else None


class PeerExtract:
    """mariadb-binlog -v prints '### INSERT INTO `bench`.`lat`' then
    '### SET' and '###   @1=ID'."""

    def __init__(self):
        self.armed = False

    def __call__(self, line):
        if line.startswith(b"### INSERT INTO `bench`.`lat`"):
            self.armed = True
            return None
        if self.armed:
            m = PEER_ID.match(line)
            if m:
                self.armed = False
                return int(m.group(1))
        return None


def latency(db, store, rate, secs, base_id):
    f, pos = db.master_status()
    tail = procs.spawn([OXBOW, "tail", "--store", "127.0.0.1:%d" % store.port, "--format",
                        "binary", "--filter", "bench.lat"], stdout=subprocess.PIPE)
    peer = procs.spawn(["stdbuf", "-oL", "mariadb-binlog", "--no-defaults",
                        "--read-from-remote-server", "--stop-never", "--host=127.0.0.1",
                        "--port=%d" % db.port, "--user=" + db.user, "--password=" + db.password,
                        "-v", "--base64-output=decode-rows", "--start-position=%d" % pos, f],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    rs, rp = LineReader(tail, store_extract), LineReader(peer, PeerExtract())
    rs.start(), rp.start()
    time.sleep(1.0)
    per_tick = max(1, rate // 1000)
    ticks = int(secs * rate / per_tick)
    interval = per_tick / rate
    sent = {}
    c = db.conn(autocommit=True)
    cur = c.cursor()
    start = time.perf_counter()
    nid = base_id
    for t in range(ticks):
        target = start + t * interval
        d = target - time.perf_counter()
        if d > 0:
            time.sleep(d)
        ids = range(nid, nid + per_tick)
        stamp = time.perf_counter_ns()
        cur.execute("INSERT INTO bench.lat VALUES " + ",".join("(%d,%d)" % (i, i) for i in ids))
        for i in ids:
            sent[i] = stamp
        nid += per_tick
    achieved = (nid - base_id) / (time.perf_counter() - start)
    c.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (len(rs.arrival) < len(sent) or
                                           len(rp.arrival) < len(sent)):
        time.sleep(0.1)
    procs.kill_pid(tail.pid)
    procs.kill_pid(peer.pid)
    out = {}
    for name, r in (("store", rs), ("peer", rp)):
        lat = [(r.arrival[i] - sent[i]) / 1e6 for i in sent if i in r.arrival]
        out[name] = (pct(lat, 50), pct(lat, 99), len(lat))
    return out, achieved, nid, len(sent)


def make_backlog(db):
    """340,004 row changes of a 7-column row, as in ../shared/RUNBOOK.md.
    Uses bench_decode.py's generator (the live helper's, shared with the
    decode benchmark) when it is there, else an equivalent one. Returns the
    binlog file and position where the backlog starts."""
    db.execute_root("CREATE DATABASE IF NOT EXISTS b",
                    "CREATE TABLE b.t (id INT PRIMARY KEY, a INT, b BIGINT, c VARCHAR(128), "
                    "d DOUBLE, e DATETIME, f DECIMAL(12,2))", "FLUSH BINARY LOGS")
    f, pos = db.master_status()
    try:
        sys.path.insert(0, os.path.join(SRC, "bench"))
        from bench_decode import workload_sql
        sql = workload_sql("t")
    except ImportError:
        out = ["USE b;"]
        for lo in range(1, 200001, 1000):
            out.append("INSERT INTO t SELECT seq, seq %% 1000, seq * 7919, CONCAT('row ', seq), "
                       "seq + 0.5, '2024-01-02 03:04:05', 1.25 FROM seq_%d_to_%d;"
                       % (lo, lo + 999))
        for i in range(200001, 200005):
            out.append("INSERT INTO t VALUES (%d,1,2,'single',1.5,'2024-01-02 03:04:05',1.25);"
                       % i)
        for lo in range(1, 100001, 10000):
            out.append("UPDATE t SET a = a + 1 WHERE id BETWEEN %d AND %d;" % (lo, lo + 9999))
        for lo in range(100001, 140001, 10000):
            out.append("DELETE FROM t WHERE id BETWEEN %d AND %d;" % (lo, lo + 9999))
        sql = "\n".join(out) + "\n"
    db.client(sql, db="b", timeout=600)
    return f, pos


def catchup_store(db, f, pos):
    idx = int(f.rsplit(".", 1)[1])
    s = Store(db, store__start__checkpoint="::%d:%d::" % (idx, pos),
              store__segment__bytes=256 << 20)
    t0 = time.perf_counter()
    sub = procs.spawn([FANOUT, str(s.port), "1", "340004", "binary", "rows"],
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    s.start()
    out, err = sub.communicate(timeout=600)
    dt = time.perf_counter() - t0
    procs._live.pop(sub.pid, None)
    ok = sub.returncode == 0
    hwm = vmhwm(s.pid)
    s.cleanup()
    if not ok:
        raise RuntimeError("catch-up subscriber failed: %s" % err.decode())
    return dt, hwm


def catchup_zongji(db, f, pos, server_id):
    """The live helper's bench/zongji_count.js (@vlasky/zongji) over the same
    backlog: counts decoded rows and exits at 340,004."""
    bench = os.path.join(SRC, "bench")
    js = os.path.join(bench, "zongji_count.js")
    if not os.path.exists(js):
        return None, "bench/zongji_count.js not present"
    if not os.path.exists(os.path.join(bench, "node_modules", "@vlasky", "zongji")):
        if not os.path.exists(os.path.join(bench, "package.json")):
            return None, "bench/package.json not present"
        r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=bench)
        if r.returncode != 0:
            return None, "npm install failed"
    env = dict(os.environ, ZONGJI_PASSWORD=db.password)
    t0 = time.perf_counter()
    r = subprocess.run(["node", js, db.host, str(db.port), db.user, f, str(pos), "340004",
                        str(server_id)], capture_output=True, timeout=600, cwd=bench, env=env)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        return None, "zongji failed: " + r.stderr.decode(errors="replace")[-300:]
    return dt, None


def vmhwm(pid):
    """Peak RSS (VmHWM) in kB; the change log's segments are mmap()ed by
    readers, so this includes shared file pages (see anon_kb)."""
    return _status_kb(pid, "VmHWM:")


def anon_kb(pid):
    """Current anonymous RSS (heap, stacks) in kB: the store's own memory."""
    return _status_kb(pid, "RssAnon:")


def _status_kb(pid, key):
    try:
        with open("/proc/%d/status" % pid) as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def fanout(store, total):
    res = {}
    for n in (1, 10):
        for fmt in ("binary", "json"):
            rates = []
            for _ in range(REPS):
                r = subprocess.run([FANOUT, str(store.port), str(n), str(total), fmt],
                                   capture_output=True, text=True, timeout=600)
                if r.returncode != 0:
                    raise RuntimeError(r.stderr)
                rates.append(float(re.search(r"rec_per_s_total=(\d+)", r.stdout).group(1)))
            res[(n, fmt)] = statistics.median(rates)
    return res


def main():
    db = MariaDB().start()
    try:
        db.execute_root("CREATE DATABASE bench",
                        "CREATE TABLE bench.lat (id INT PRIMARY KEY, v INT)")
        print("-- latency: commit issued -> record at the subscriber (ms), 5 s per rate")
        nid = 1
        policies = os.environ.get("OX_BENCH_FSYNC", "interval,none").split(",")
        for policy in policies:
            store = Store(db, store__fsync=policy, store__fsync__interval_ms=1)
            store.start()
            for rate in (1000, 10000):
                out, achieved, nid, n = latency(db, store, rate, 5, nid)
                (s50, s99, sn), (p50, p99, pn) = out["store"], out["peer"]
                print("  fsync=%-8s %5d rows/s (achieved %.0f, %d rows): oxbow p50 %.2f p99 %.2f "
                      "(%d seen) | mariadb-binlog p50 %.2f p99 %.2f (%d seen) | p99 ratio %.2fx"
                      % (policy, rate, achieved, n, s50, s99, sn, p50, p99, pn,
                         s99 / p99 if p99 else 0))
            if policy != policies[-1]:
                store.cleanup()
        lat_hwm = vmhwm(store.pid)
        store.cleanup()
        if os.environ.get("OX_BENCH_ONLY") == "latency":
            return

        print("-- catch-up: 340,004-row backlog, source -> store -> 1 subscriber (s), median of %d"
              % REPS)
        f, pos = make_backlog(db)
        ours, hwms, zs, why = [], [], [], None
        for k in range(REPS):  # interleaved: the machine is shared and noisy
            dt, hwm = catchup_store(db, f, pos)
            ours.append(dt)
            hwms.append(hwm)
            if why is None:
                dt, why = catchup_zongji(db, f, pos, 4242 + k)
                if dt is not None:
                    zs.append(dt)
        mo = statistics.median(ours)
        if zs:
            mz = statistics.median(zs)
            print("  oxbow %.2f s (%.0f rows/s) | zongji %.2f s (%.0f rows/s) | zongji/oxbow %.1fx"
                  % (mo, 340004 / mo, mz, 340004 / mz, mz / mo))
        else:
            print("  oxbow %.2f s (%.0f rows/s) | zongji: not measured (%s)"
                  % (mo, 340004 / mo, why))

        print("-- fan-out: records/s from the store, median of %d" % REPS)
        store = Store(db, store__start__checkpoint="::%d:%d::" % (int(f.rsplit(".", 1)[1]), pos),
                      store__segment__bytes=256 << 20)
        store.start()
        st = store.wait_status(lambda x: x["lastMsgId"] > 340004 and x["delay"] < 2,
                               timeout=300, what="backlog captured")
        time.sleep(1)
        total = store.status()["lastMsgId"]
        res = fanout(store, total)
        for (n, fmt), rate in sorted(res.items()):
            goal = " (goal 1M rec/s: %.1fx)" % (rate / 1e6) if (n, fmt) == (1, "binary") else ""
            print("  %2d subscriber%s %-6s %10.0f rec/s total, %10.0f each%s"
                  % (n, " " if n == 1 else "s", fmt, rate, rate / n, goal))
        hwm, anon = vmhwm(store.pid), anon_kb(store.pid)
        store.cleanup()
        print("-- peak RSS (VmHWM) of the store: latency run %d kB, catch-up median %d kB, "
              "fan-out run %d kB (of which anonymous at the end: %d kB; the rest is mmap()ed "
              "log segment pages)" % (lat_hwm, statistics.median(hwms), hwm, anon))
    finally:
        db.cleanup()
        procs.kill_all()


if __name__ == "__main__":
    main()
