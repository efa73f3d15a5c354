"""bench_decode.py - binlog decoding and live capture against peers, same run.

Driven by bench_decode.sh (bench/run.sh exports OX_BUILD_DIR, OX_SOURCE_DIR).
Starts a private MariaDB (binlog_row_metadata=FULL) with the e2e harness,
generates the RUNBOOK workload into its own binlog file (340,004 row changes
of a 7-column row: 200,004 inserts in multi-row INSERTs, 100,000 updates and
40,000 deletes by id range, so each row change is one row of a rows event),
and a second file with the workload twice (for the memory check). Then, each
the median of OX_BENCH_RUNS (5) runs, interleaved:

  oxbow decode FILE >/dev/null
      vs mariadb-binlog -v --base64-output=decode-rows FILE >/dev/null
  oxbow capture ... --from-file FILE --limit 340004 >/dev/null (live, decoded
      to JSON and counted) vs node zongji_count.js (@vlasky/zongji, counts the
      rows it decoded and exits at 340,004)
  mariadb-binlog --read-from-remote-server --raw FILE (the server's raw dump
      of the same file into a temp dir: the physical limit of live capture)

and the peak RSS (getrusage ru_maxrss) of oxbow decode for the file and for
the file twice as big. Prints a table: ours, the peer's, the ratio.
"""

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get("OX_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("OX_BUILD_DIR") or os.path.join(SRC, "build")
RUNS = int(os.environ.get("OX_BENCH_RUNS", "5"))
OXBOW = os.path.join(BUILD, "oxbow")
BENCH = os.path.join(SRC, "bench")
sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))

from oxtest import MariaDB  # noqa: E402

N_INS, N_UPD, N_DEL = 200004, 100000, 40000
TOTAL = N_INS + N_UPD + N_DEL


def workload_sql(table, copies=1):
    """The workload as SQL text for the mariadb client."""
    out = ["USE b;"]
    for k in range(copies):
        base = k * 1000000
        pad = "x" * 40
        for t in range(20):  # 20 transactions of 10 INSERTs of 1000 rows
            out.append("BEGIN;")
            for s in range(10):
                first = base + t * 10000 + s * 1000 + 1
                rows = ",".join(
                    "(%d,%d,%d,'row %d %s',%d.5,'2024-01-02 03:04:05',%d.25)"
                    % (i, i % 1000, i * 7919, i, pad, i, i % 100000)
                    for i in range(first, first + 1000))
                out.append("INSERT INTO %s VALUES %s;" % (table, rows))
            out.append("COMMIT;")
        for i in range(200001, 200005):  # 4 single-row transactions
            out.append("INSERT INTO %s VALUES (%d,1,2,'single %s',1.5,'2024-01-02 03:04:05',"
                       "1.25);" % (table, base + i, pad))
        for u in range(10):  # 100,000 updates, 10,000 rows per statement
            lo = base + u * 10000 + 1
            out.append("UPDATE %s SET a = a + 1, c = CONCAT('upd ', id, ' %s') WHERE id "
                       "BETWEEN %d AND %d;" % (table, pad, lo, lo + 9999))
        for d in range(4):  # 40,000 deletes
            lo = base + 100001 + d * 10000
            out.append("DELETE FROM %s WHERE id BETWEEN %d AND %d;" % (table, lo, lo + 9999))
    return "\n".join(out) + "\n"


def timed(argv, env=None):
    """(wall seconds, CPU seconds user+sys) of one run of argv (stdout to
    /dev/null). CPU time is reported too because the machine is shared:
    under load, wall time includes waiting for a core."""
    e = dict(os.environ)
    if env:
        e.update(env)
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=e)
    dt = time.perf_counter() - t0
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (argv[0], r.returncode, r.stderr[-2000:]))
    return dt, (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)


def peak_rss_kib(argv, work):
    """Peak RSS of argv, measured by /usr/bin/time (a small parent, so that
    this big Python process's own pages are not counted)."""
    out = os.path.join(work, "rss")
    subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out] + argv, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    with open(out) as f:
        return int(f.read().split()[-1])


def load(m, sql, work):
    """Feeds SQL text to the mariadb client through a file."""
    path = os.path.join(work, "load.sql")
    with open(path, "w") as f:
        f.write(sql)
    del sql
    with open(path, "rb") as f:
        subprocess.run(["mariadb", "--no-defaults", "-S", m.sock, "-uroot"], stdin=f, check=True)
    os.unlink(path)


def count_rows(argv, env=None):
    e = dict(os.environ)
    if env:
        e.update(env)
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, check=True)
    n = 0
    for line in r.stdout.splitlines():
        if line.startswith((b'{"op":"insert"', b'{"op":"update"', b'{"op":"delete"')):
            n += 1
    return n


def main():
    if not os.path.exists(os.path.join(BENCH, "node_modules", "@vlasky", "zongji")):
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=BENCH,
                       check=True)
    m = MariaDB(metadata="FULL", extra_args=["--max-binlog-size=1G", "--sync-binlog=0",
                                             "--innodb-flush-log-at-trx-commit=0",
                                             "--innodb-buffer-pool-size=512M"])
    work = tempfile.mkdtemp(prefix="oxbench-decode-")
    try:
        m.start()
        t0 = time.perf_counter()
        m.client("CREATE DATABASE b; USE b; "
                 "CREATE TABLE t (id INT PRIMARY KEY, a INT, b BIGINT, c VARCHAR(128), "
                 "d DOUBLE, e DATETIME, f DECIMAL(12,2)) ENGINE=InnoDB; "
                 "CREATE TABLE t2 LIKE t; FLUSH BINARY LOGS;")
        load(m, workload_sql("t"), work)
        m.query("FLUSH BINARY LOGS")
        load(m, workload_sql("t2", copies=2), work)
        m.query("FLUSH BINARY LOGS")
        gen = time.perf_counter() - t0
        logs = m.binlogs()
        f1, size1 = logs[-3]
        f2, size2 = logs[-2]
        p1, p2 = m.binlog_path(f1), m.binlog_path(f2)
        env = {"OX_SOURCE_PASSWORD": m.password, "ZONGJI_PASSWORD": m.password}

        # Correctness first: every tool sees all 340,004 row changes.
        n_dec = count_rows([OXBOW, "decode", p1])
        n_cap = count_rows([OXBOW, "capture", "--host", m.host, "--port", str(m.port), "--user",
                            m.user, "--server-id", "501", "--from-file", f1, "--from-pos", "4",
                            "--limit", str(TOTAL)], env)
        assert n_dec == TOTAL and n_cap == TOTAL, (n_dec, n_cap)

        cmds = {
            "decode": [OXBOW, "decode", p1],
            "mariadb-binlog": ["mariadb-binlog", "--no-defaults", "-v",
                               "--base64-output=decode-rows", p1],
            "capture": [OXBOW, "capture", "--host", m.host, "--port", str(m.port), "--user",
                        m.user, "--server-id", "502", "--from-file", f1, "--from-pos", "4",
                        "--limit", str(TOTAL)],
            "zongji": ["node", os.path.join(BENCH, "zongji_count.js"), m.host, str(m.port),
                       m.user, f1, "4", str(TOTAL), "503"],
            "raw-dump": ["mariadb-binlog", "--no-defaults", "--read-from-remote-server", "--raw",
                         "--host=" + m.host, "--port=%d" % m.port, "--user=" + m.user,
                         "--password=" + m.password, "--result-file=" + work + "/", f1],
        }
        times = {k: [] for k in cmds}
        cpus = {k: [] for k in cmds}
        rss1, rss2 = [], []
        for _ in range(RUNS):
            for k, argv in cmds.items():
                wall, cpu = timed(argv, env)
                times[k].append(wall)
                cpus[k].append(cpu)
            rss1.append(peak_rss_kib([OXBOW, "decode", p1], work))
            rss2.append(peak_rss_kib([OXBOW, "decode", p2], work))
        raw_file = os.path.join(work, f1)
        assert os.path.getsize(raw_file) == size1, (os.path.getsize(raw_file), size1)
        med = {k: statistics.median(v) for k, v in times.items()}
        cpu = {k: statistics.median(v) for k, v in cpus.items()}
        mb = size1 / 1e6
        print("binlog %s: %.1f MB, %d row changes (%d inserts, %d updates, %d deletes); "
              "generated in %.0f s; load average %.1f" % (f1, mb, TOTAL, N_INS, N_UPD, N_DEL, gen,
                                                          os.getloadavg()[0]))
        print("medians of %d runs, same run, same machine: wall seconds (CPU seconds of the "
              "client process)" % RUNS)
        print("  %-32s %15s %15s %13s   %s" % ("", "oxbow", "peer", "ratio wall(cpu)", "peer"))
        row = "  %-32s %6.3f (%6.3f) %6.3f (%6.3f) %6.1fx (%4.1fx)   %s"
        for name, ours, peer, label in (
                ("decode file -> /dev/null", "decode", "mariadb-binlog",
                 "mariadb-binlog -v --base64-output=decode-rows (bar 5x, goal 10x)"),
                ("live capture, decoded+counted", "capture", "zongji", "@vlasky/zongji (bar 5x)")):
            print(row % (name, med[ours], cpu[ours], med[peer], cpu[peer], med[peer] / med[ours],
                         cpu[peer] / max(cpu[ours], 1e-9), label))
        print("  %-32s %6.3f (%6.3f) %31s" % ("server raw dump (physical limit)", med["raw-dump"],
                                              cpu["raw-dump"],
                                              "mariadb-binlog --read-from-remote-server --raw"))
        print("  oxbow decode: %.0f MB/s, %.0f row changes/s; capture: %.0f row changes/s, "
              "%.2fx the raw dump's time" % (mb / med["decode"], TOTAL / med["decode"],
                                             TOTAL / med["capture"], med["capture"] / med["raw-dump"]))
        print("  zongji: %.2fx the raw dump's time; mariadb-binlog decode: %.0f MB/s"
              % (med["zongji"] / med["raw-dump"], mb / med["mariadb-binlog"]))
        r1, r2 = statistics.median(rss1) / 1024, statistics.median(rss2) / 1024
        print("  peak RSS of oxbow decode: %.1f MiB for %.0f MB, %.1f MiB for %.0f MB (x%.2f "
              "for x%.1f the input)" % (r1, mb, r2, size2 / 1e6, r2 / r1, size2 / size1))
    finally:
        m.cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
