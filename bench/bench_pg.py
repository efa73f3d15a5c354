#!/usr/bin/python3
"""bench_pg.py - catch-up from PostgreSQL, beside its peers in the same run
(run by bench/bench_pg.sh; env OX_BUILD_DIR, OX_SOURCE_DIR, OX_BENCH_REPS).

The MySQL bench's 340,004-change backlog (200,004 inserts in 204
transactions, 100,000 updates and 40,000 deletes of a 7-column row) is
written to a private PostgreSQL 15 after every consumer's slot was created,
then each consumer reads it from its slot:

- oxbow: a fresh store on its own slot (pgoutput), time from starting the
  store until its first subscriber (bench_store_fanout, binary) holds all
  340,004 row changes;
- pg_recvlogical + test_decoding, writing to /dev/null, until --endpos;
- pg_recvlogical + pgoutput (proto_version 1, the same publication),
  writing to /dev/null, until --endpos.

Goal (issue 10): oxbow at least 1.5x faster than pg_recvlogical +
test_decoding and within 1.2x of pg_recvlogical + pgoutput. Medians of
OX_BENCH_REPS runs (default 3), interleaved.

Each run also reports the CPU time of the walsender serving the slot (from
/proc, sampled every 50 ms while the consumer runs): decoding is the
server's work and bounds every consumer, so the walsenders' ratio is the
most any consumer of pgoutput can gain over test_decoding.
"""

import os
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
from oxtest.servers import Postgres  # noqa: E402
from oxtest_store import Store  # noqa: E402

FANOUT = os.path.join(BUILD, "bench", "bench_store_fanout")
RECVLOGICAL = os.path.join(Postgres.BIN, "pg_recvlogical")
REPS = int(os.environ.get("OX_BENCH_REPS", "3"))
CHANGES = 340004


def make_backlog(pg):
    pg.query("CREATE TABLE t (id int PRIMARY KEY, a int, b bigint, c varchar(128), "
             "d float8, e timestamp, f numeric(12,2))")
    c = pg.conn()
    cur = c.cursor()
    for lo in range(1, 200001, 1000):
        cur.execute("INSERT INTO t SELECT g, g %% 1000, g * 7919, 'row ' || g, g + 0.5, "
                    "'2024-01-02 03:04:05', 1.25 FROM generate_series(%d, %d) g"
                    % (lo, lo + 999))
    for i in range(200001, 200005):
        cur.execute("INSERT INTO t VALUES (%d,1,2,'single',1.5,'2024-01-02 03:04:05',1.25)" % i)
    for lo in range(1, 100001, 10000):
        cur.execute("UPDATE t SET a = a + 1 WHERE id BETWEEN %d AND %d" % (lo, lo + 9999))
    for lo in range(100001, 140001, 10000):
        cur.execute("DELETE FROM t WHERE id BETWEEN %d AND %d" % (lo, lo + 9999))
    c.close()
    return pg.query("SELECT pg_current_wal_lsn()::text")[0][0]


class WalsenderCpu:
    """Samples the CPU time (user + system, s) of the walsender holding
    `slot` until stopped; .seconds is the last sample (None if never seen)."""

    def __init__(self, pg, slot):
        self.pg, self.slot, self.seconds = pg, slot, None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self):
        c = self.pg.conn()
        pid = None
        try:
            while not self.stop.is_set():
                if pid is None:
                    with c.cursor() as cur:
                        cur.execute("SELECT active_pid FROM pg_replication_slots "
                                    "WHERE slot_name = %s", (self.slot,))
                        pid = cur.fetchone()[0]
                if pid is not None:
                    try:
                        with open("/proc/%d/stat" % pid) as f:
                            x = f.read().rsplit(")", 1)[1].split()
                        self.seconds = (int(x[11]) + int(x[12])) / os.sysconf("SC_CLK_TCK")
                    except OSError:
                        pass
                self.stop.wait(0.05)
        finally:
            c.close()

    def done(self):
        self.stop.set()
        self.thread.join()
        return self.seconds


def catchup_oxbow(pg, slot):
    s = Store(pg, source__type="postgresql", source__database="postgres", source__slot=slot,
              source__publication="benchpub", store__segment__bytes=256 << 20)
    ws = WalsenderCpu(pg, slot)
    t0 = time.perf_counter()
    sub = procs.spawn([FANOUT, str(s.port), "1", str(CHANGES), "binary", "rows"],
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    s.start()
    out, err = sub.communicate(timeout=900)
    dt = time.perf_counter() - t0
    cpu = ws.done()
    procs._live.pop(sub.pid, None)
    ok = sub.returncode == 0
    s.cleanup()
    if not ok:
        raise RuntimeError("oxbow catch-up subscriber failed: %s" % err.decode())
    return dt, cpu


def catchup_recvlogical(pg, slot, endpos, pgoutput):
    argv = [RECVLOGICAL, "-h", pg.host, "-p", str(pg.port), "-U", "postgres", "-d", "postgres",
            "--slot", slot, "--start", "--endpos", endpos, "--no-loop", "-f", "/dev/null"]
    if pgoutput:
        argv += ["-o", "proto_version=1", "-o", "publication_names=benchpub"]
    ws = WalsenderCpu(pg, slot)
    t0 = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900)
    dt = time.perf_counter() - t0
    cpu = ws.done()
    if r.returncode != 0:
        raise RuntimeError("pg_recvlogical failed: %s" % r.stderr.decode())
    return dt, cpu


def main():
    pg = Postgres(extra_conf={"max_replication_slots": "40", "max_wal_senders": "40"})
    try:
        pg.start()
        pg.password = ""
        pg.query("CREATE PUBLICATION benchpub FOR ALL TABLES")
        for k in range(REPS):
            pg.query("SELECT pg_create_logical_replication_slot('ox_%d', 'pgoutput')" % k)
            pg.query("SELECT pg_create_logical_replication_slot('td_%d', 'test_decoding')" % k)
            pg.query("SELECT pg_create_logical_replication_slot('po_%d', 'pgoutput')" % k)
        t0 = time.perf_counter()
        endpos = make_backlog(pg)
        print("-- PostgreSQL catch-up: %d-change backlog written in %.1f s (end %s); median of %d"
              % (CHANGES, time.perf_counter() - t0, endpos, REPS))
        ours, td, po = [], [], []
        for k in range(REPS):  # interleaved: the machine is shared and noisy
            ours.append(catchup_oxbow(pg, "ox_%d" % k))
            td.append(catchup_recvlogical(pg, "td_%d" % k, endpos, False))
            po.append(catchup_recvlogical(pg, "po_%d" % k, endpos, True))
        med = [statistics.median(x[0] for x in runs) for runs in (ours, td, po)]
        cpus = [[x[1] for x in runs if x[1] is not None] for runs in (ours, td, po)]
        wc = [statistics.median(c) if c else float("nan") for c in cpus]
        mo, mt, mp = med
        print("  oxbow store -> 1 subscriber %.2f s (%.0f changes/s)" % (mo, CHANGES / mo))
        print("  pg_recvlogical + test_decoding -> /dev/null %.2f s | test_decoding/oxbow %.2fx "
              "(goal >= 1.5x)" % (mt, mt / mo))
        print("  pg_recvlogical + pgoutput -> /dev/null %.2f s | oxbow/pgoutput %.2fx "
              "(goal <= 1.2x)" % (mp, mo / mp))
        print("  walsender CPU: oxbow's %.2f s, test_decoding's %.2f s, pgoutput's %.2f s | "
              "test_decoding/oxbow %.2fx (the server's share of the gap)"
              % (wc[0], wc[1], wc[2], wc[1] / wc[0]))
    finally:
        pg.cleanup()


if __name__ == "__main__":
    main()
