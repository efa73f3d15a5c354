"""Live capture from a private MariaDB over the replication protocol.

`oxbow capture` is started from file:pos, from a GTID position and from a
timestamp; it sends heartbeats on an idle source, survives a server restart
without losing or repeating a row, reads column names from
information_schema when TABLE_MAP has none, and fails with one clear error
each for: wrong password, missing privileges, binlog_format=STATEMENT, a
purged binlog, and an unreachable port.
"""

import collections
import subprocess
import threading
import time

import pymysql
import pytest

from oxtest import JsonLineReader, free_port, parse_json_lines, run_oxbow, spawn_oxbow

ROWS = ("insert", "update", "delete")


def cap_args(m, *extra, user=None):
    return ["capture", "--host", m.host, "--port", m.port, "--user", user or m.user,
            "--server-id", 4242] + list(extra)


def capture(m, *extra, user=None, password=None, check=True, timeout=120):
    """Runs `oxbow capture ... --until-end` and returns (records, result)."""
    env = {"OX_SOURCE_PASSWORD": m.password if password is None else password}
    r = run_oxbow(*cap_args(m, "--until-end", *extra, user=user), env=env, check=check,
                  timeout=timeout)
    return parse_json_lines(r.stdout), r


def rows_of(recs, table=None):
    return [r for r in recs if r["op"] in ROWS and (table is None or r["table"] == table)]


def ids(recs, table="t"):
    return [r["after"]["id"] for r in rows_of(recs, table) if r["op"] == "insert"]


def setup_table(m, db="live", table="t"):
    m.query("CREATE DATABASE IF NOT EXISTS " + db)
    m.query("CREATE TABLE %s.%s (id INT PRIMARY KEY, v VARCHAR(64)) ENGINE=InnoDB" % (db, table))


def insert_txn(m, first, n, db="live", table="t"):
    c = m.root_conn(autocommit=False)
    try:
        with c.cursor() as cur:
            for i in range(first, first + n):
                cur.execute("INSERT INTO %s.%s VALUES (%%s, %%s)" % (db, table), (i, "v%d" % i))
        c.commit()
    finally:
        c.close()


def test_from_start_and_from_filepos(mariadb):
    first_file = mariadb.binlogs()[0][0]
    setup_table(mariadb)
    insert_txn(mariadb, 1, 3)
    f, pos = mariadb.master_status()
    insert_txn(mariadb, 10, 2)
    mariadb.query("UPDATE live.t SET v='x' WHERE id=10")
    mariadb.query("DELETE FROM live.t WHERE id=11")

    recs, _ = capture(mariadb, "--from-file", first_file, "--from-pos", 4)
    assert ids(recs) == [1, 2, 3, 10, 11]
    ops = [r["op"] for r in rows_of(recs)]
    assert ops == ["insert"] * 5 + ["update", "delete"]
    ddl = [r for r in recs if r["op"] == "ddl"]
    assert any("CREATE TABLE" in r.get("sql", "") for r in ddl)
    # Every transaction is framed, and commits carry the resume position.
    commits = [r for r in recs if r["op"] == "commit"]
    assert len(commits) == len([r for r in recs if r["op"] == "begin"]) >= 4
    assert all(c["nextOffset"] > c["offset"] for c in commits)

    recs2, _ = capture(mariadb, "--from-file", f, "--from-pos", pos)
    assert ids(recs2) == [10, 11]
    assert [r["op"] for r in rows_of(recs2)] == ["insert", "insert", "update", "delete"]
    upd = rows_of(recs2)[2]
    assert upd["before"] == {"id": 10, "v": "v10"} and upd["after"] == {"id": 10, "v": "x"}
    assert upd["pk"] == ["id"]
    # Positions of the live stream match the file's.
    assert recs2[0]["file"] == f and recs2[0]["offset"] >= pos
    # The checkpoint form: file index + offset (resume after the first commit).
    c1 = [r for r in recs2 if r["op"] == "commit"][0]
    recs3, _ = capture(mariadb, "--from-file-idx", c1["fileIdx"], "--from-pos", c1["nextOffset"])
    assert [r["op"] for r in rows_of(recs3)] == ["update", "delete"]
    _, r = capture(mariadb, "--from-file-idx", 999, check=False)
    assert r.returncode == 1 and b"OX_ENOENT" in r.stderr and b"file index 999" in r.stderr
    _, r = capture(mariadb, "--from-file", f, "--from-pos", 1 << 30, check=False)
    assert r.returncode == 1 and b"OX_ERANGE" in r.stderr and b"beyond the end" in r.stderr


def test_from_gtid(mariadb):
    setup_table(mariadb)
    insert_txn(mariadb, 1, 2)
    gtid = mariadb.query("SELECT @@gtid_binlog_pos")[0][0]
    domain, server, seq = gtid.split("-")
    insert_txn(mariadb, 5, 2)
    insert_txn(mariadb, 7, 1)
    recs, _ = capture(mariadb, "--from-gtid", gtid)
    assert ids(recs) == [5, 6, 7]
    begins = [r for r in recs if r["op"] == "begin"]
    assert begins[0]["gtid"] == "%s-%s-%d" % (domain, server, int(seq) + 1)
    # A GTID the server never had is refused, not silently replaced.
    _, r = capture(mariadb, "--from-gtid", "0-1-999999", check=False)
    assert r.returncode == 1
    assert b"OX_E" in r.stderr


def test_from_timestamp(mariadb):
    setup_table(mariadb)
    insert_txn(mariadb, 1, 1)
    mariadb.query("FLUSH BINARY LOGS")
    insert_txn(mariadb, 2, 1)
    time.sleep(1.1)
    t1 = int(time.time())
    while int(time.time()) == t1 - 1:
        time.sleep(0.05)
    mariadb.query("FLUSH BINARY LOGS")
    insert_txn(mariadb, 3, 1)
    mariadb.query("FLUSH BINARY LOGS")
    insert_txn(mariadb, 4, 1)
    time.sleep(1.1)
    t2 = int(time.time()) + 1
    while int(time.time()) < t2:
        time.sleep(0.05)
    insert_txn(mariadb, 5, 1)  # same binlog file as 4: the scan finds it inside the file
    assert len(mariadb.binlogs()) >= 4

    recs, _ = capture(mariadb, "--from-timestamp", t1)
    assert ids(recs) == [3, 4, 5]
    recs, _ = capture(mariadb, "--from-timestamp", t2)
    assert ids(recs) == [5]
    # A time before the oldest binlog fails with that binlog's start time
    # rather than silently starting later (issue 8 item 5).
    recs, r = capture(mariadb, "--from-timestamp", 1000, check=False)
    assert r.returncode != 0 and ids(recs) == []
    err = r.stderr.decode()
    assert "before the oldest binlog the source has" in err, err
    assert mariadb.binlogs()[0][0] in err, err
    recs, _ = capture(mariadb, "--from-timestamp", int(time.time()) + 3600)
    assert ids(recs) == []


def test_heartbeat_on_idle_source(mariadb):
    setup_table(mariadb)
    env = {"OX_SOURCE_PASSWORD": mariadb.password}
    p = spawn_oxbow(*cap_args(mariadb, "--heartbeat-ms", 500), env=env)
    rd = JsonLineReader(p)
    # The first one also waits for process start and connection (slow on a
    # loaded machine); the period is checked by the second one below.
    hb, seen = rd.wait_for(lambda r: r["op"] == "heartbeat", timeout=10.0)
    assert hb is not None, "no heartbeat within 10 s: %r" % seen
    # The heartbeat carries the source's current time, not 0.
    assert abs(hb["timestamp"] - time.time()) <= 2
    # Heartbeats every 0.5 s: the next one well within 2 s.
    hb2, _ = rd.wait_for(lambda r: r["op"] == "heartbeat", timeout=2.0)
    assert hb2 is not None and hb2["timestamp"] >= hb["timestamp"]
    # Registered as a replica with its server id (COM_REGISTER_SLAVE).
    hosts = mariadb.query("SHOW SLAVE HOSTS")
    assert [h for h in hosts if h[0] == 4242 and h[1] == "oxbow"], hosts
    # Data still flows after heartbeats.
    insert_txn(mariadb, 1, 1)
    r, _ = rd.wait_for(lambda r: r["op"] == "insert", timeout=5.0)
    assert r is not None and r["after"]["id"] == 1
    p.terminate()
    assert p.wait(timeout=10) == 0


def test_read_ahead_events_delivered_at_once(mariadb):
    """One socket read brings several events, which libmariadb keeps in its
    read-ahead buffer where poll() cannot see them (ox_mysql_dump.c reads the
    pinned private fields for this). They are delivered at once, not when the
    next bytes arrive on the wire: here a heartbeat 30 s later."""
    setup_table(mariadb)
    env = {"OX_SOURCE_PASSWORD": mariadb.password}
    (file, pos) = mariadb.query("SHOW MASTER STATUS")[0][:2]
    p = spawn_oxbow(*cap_args(mariadb, "--heartbeat-ms", 30000, "--from-file", file,
                              "--from-pos", pos), env=env)
    try:
        rd = JsonLineReader(p)
        insert_txn(mariadb, 1, 1)  # connected and streaming (start-up may be slow)
        r, seen = rd.wait_for(lambda r: r["op"] == "insert", timeout=20.0)
        assert r is not None and r["after"]["id"] == 1, seen
        # A burst of small autocommit transactions: many events per segment.
        c = mariadb.root_conn()
        with c.cursor() as cur:
            for i in range(2, 202):
                cur.execute("INSERT INTO live.t VALUES (%s, %s)", (i, "v%d" % i))
        c.close()
        want = set(range(2, 202))
        got = set()
        deadline = time.monotonic() + 8.0
        while got != want and time.monotonic() < deadline:
            r, _ = rd.wait_for(lambda r: r["op"] == "insert", timeout=deadline - time.monotonic())
            if r is None:
                break
            got.add(r["after"]["id"])
        assert got == want, "missing after 8 s (heartbeat 30 s): %s" % sorted(want - got)[:10]
        assert [row[0] for row in mariadb.query("SELECT COUNT(*) FROM live.t")] == [201]
    finally:
        p.terminate()
        p.wait(timeout=10)


@pytest.mark.parametrize("mariadb", ["FULL", "MINIMAL"], indirect=True)
def test_restart_mid_stream_no_loss_no_duplicates(mariadb):
    setup_table(mariadb)
    first_file = mariadb.binlogs()[0][0]
    env = {"OX_SOURCE_PASSWORD": mariadb.password}
    p = spawn_oxbow(*cap_args(mariadb, "--from-file", first_file, "--heartbeat-ms", 300),
                    env=env)
    rd = JsonLineReader(p)
    stop = threading.Event()
    next_id = [1]

    def writer():
        # Transactions of 50 rows (with a 2 KB value each, so that a
        # transaction spans many packets) until told to stop; errors while
        # the server is down are retried, and the table decides what
        # committed.
        while not stop.is_set():
            try:
                c = mariadb.conn(autocommit=False, connect_timeout=2)
            except Exception:
                time.sleep(0.1)
                continue
            try:
                with c.cursor() as cur:
                    while not stop.is_set():
                        base = next_id[0]
                        cur.executemany("INSERT INTO live.t VALUES (%s, %s)",
                                        [(i, "x" * 60) for i in range(base, base + 50)])
                        c.commit()
                        next_id[0] = base + 50
            except Exception:
                next_id[0] += 50  # outcome unknown: never reuse these ids
                time.sleep(0.1)
            finally:
                try:
                    c.close()
                except Exception:
                    pass

    w = threading.Thread(target=writer, daemon=True)
    w.start()
    r, _ = rd.wait_for(lambda r: r["op"] == "insert" and r["after"]["id"] > 500, timeout=30)
    assert r is not None
    old_pid = mariadb.pid
    mariadb.restart()  # SIGKILL by PID, then start on the same datadir and port
    assert mariadb.pid != old_pid
    time.sleep(1.5)
    stop.set()
    w.join(timeout=30)
    truth = sorted(x[0] for x in mariadb.query("SELECT id FROM live.t"))
    assert len(truth) > 500
    deadline = time.monotonic() + 60
    have = sum(1 for x in rd.records if x["op"] == "insert")
    while have < len(truth) and time.monotonic() < deadline:
        r = rd.get(0.5)
        if r is not None and r["op"] == "insert":
            have += 1
    assert p.poll() is None, "capture exited: %s" % p.stderr.read().decode(errors="replace")
    p.terminate()
    p.wait(timeout=10)
    while rd.get(0.2) is not None:
        pass
    assert b"reconnected (1)" in p.stderr.read()
    inserted = [x["after"]["id"] for x in rd.records if x["op"] == "insert"]
    assert not [x for x in rd.records if x["op"] == "reset"]
    dups = sorted(i for i, n in collections.Counter(inserted).items() if n > 1)
    assert dups == [], "duplicated rows: %r" % dups[:10]
    missing = sorted(set(truth) - set(inserted))
    assert missing == [], "lost rows: %r" % missing[:10]
    assert sorted(inserted) == truth


class CuttingProxy:
    """A TCP proxy to the server that cuts its FIRST connection after
    `cut_after` bytes from the server (in the middle of a transaction);
    later connections pass through."""

    def __init__(self, port, cut_after):
        import socket
        self.target = port
        self.cut_after = cut_after
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        self.conns = 0
        self.cut = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import socket
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            self.conns += 1
            u = socket.create_connection(("127.0.0.1", self.target))
            limit = self.cut_after if self.conns == 1 else None
            threading.Thread(target=self._pump, args=(u, c, limit), daemon=True).start()
            threading.Thread(target=self._pump, args=(c, u, None), daemon=True).start()

    def _pump(self, src, dst, limit):
        import socket
        n = 0
        try:
            while True:
                b = src.recv(65536)
                if not b:
                    break
                if limit is not None and n + len(b) >= limit:
                    dst.sendall(b[:max(0, limit - n)])
                    self.cut.set()
                    break
                n += len(b)
                dst.sendall(b)
        except OSError:
            pass
        for sck in (src, dst):
            try:
                sck.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sck.close()

    def close(self):
        self.lsock.close()


def test_connection_cut_mid_transaction_resumes_exactly(mariadb):
    setup_table(mariadb)
    insert_txn(mariadb, 1, 5)
    # One transaction of 4000 inserts and 4000 updates (~1 MB of binlog): a
    # cut at half the binlog lands inside it.
    c = mariadb.root_conn(autocommit=False)
    with c.cursor() as cur:
        cur.executemany("INSERT INTO live.t VALUES (%s, %s)",
                        [(i, "y" * 60) for i in range(100, 4100)])
        cur.execute("UPDATE live.t SET v = REPEAT('z', 64) WHERE id >= 100")
    c.commit()
    c.close()
    insert_txn(mariadb, 5000, 5)
    total = sum(size for _, size in mariadb.binlogs())
    proxy = CuttingProxy(mariadb.port, cut_after=total // 2)
    try:
        class Via:
            host = "127.0.0.1"
            port = proxy.port
            user = mariadb.user
            password = mariadb.password
        first_file = mariadb.binlogs()[0][0]
        recs, r = capture(Via, "--from-file", first_file, "--heartbeat-ms", 300)
    finally:
        proxy.close()
    assert proxy.cut.is_set() and proxy.conns >= 2
    assert b"reconnected (1)" in r.stderr
    assert b"connection lost inside a transaction" in r.stderr
    got = ids(recs)
    assert got == list(range(1, 6)) + list(range(100, 4100)) + list(range(5000, 5005))
    assert len([x for x in rows_of(recs) if x["op"] == "update"]) == 4000
    assert len([x for x in recs if x["op"] == "begin"]) == len(
        [x for x in recs if x["op"] == "commit"])


@pytest.mark.parametrize("mariadb", ["MINIMAL"], indirect=True)
def test_minimal_metadata_names_from_information_schema(mariadb):
    setup_table(mariadb)
    env = {"OX_SOURCE_PASSWORD": mariadb.password}
    p = spawn_oxbow(*cap_args(mariadb, "--heartbeat-ms", 500), env=env)
    rd = JsonLineReader(p)
    time.sleep(0.5)
    insert_txn(mariadb, 1, 1)
    r, _ = rd.wait_for(lambda r: r["op"] == "insert", timeout=10)
    assert r["after"] == {"id": 1, "v": "v1"} and r["pk"] == ["id"]
    mariadb.query("ALTER TABLE live.t ADD COLUMN w INT NOT NULL DEFAULT 7")
    insert_txn_w = "INSERT INTO live.t VALUES (2, 'v2', 8)"
    mariadb.query(insert_txn_w)
    r, _ = rd.wait_for(lambda r: r["op"] == "insert", timeout=10)
    assert r["after"] == {"id": 2, "v": "v2", "w": 8}
    mariadb.query("ALTER TABLE live.t DROP COLUMN v")
    mariadb.query("UPDATE live.t SET w = 9 WHERE id = 2")
    r, _ = rd.wait_for(lambda r: r["op"] == "update", timeout=10)
    assert r["before"] == {"id": 2, "w": 8} and r["after"] == {"id": 2, "w": 9}
    p.terminate()
    p.wait(timeout=10)

    # Catching up over events older than the DDL: information_schema shows
    # the current table (2 columns), the first event had 2 columns too but
    # the second had 3, which must fall back to positional names instead of
    # being mislabelled.
    first_file = mariadb.binlogs()[0][0]
    recs, _ = capture(mariadb, "--from-file", first_file)
    rows = rows_of(recs)
    assert rows[1]["after"] == {"@1": 2, "@2": "v2", "@3": 8}
    assert rows[2]["after"] == {"id": 2, "w": 9}


def expect_error(m, code, *needles, extra=(), user=None, password=None):
    recs, r = capture(m, *extra, user=user, password=password, check=False, timeout=60)
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 1, err
    assert code in err, err
    for n in needles:
        assert n.lower() in err.lower(), err
    return err


def test_error_wrong_password(mariadb):
    expect_error(mariadb, "OX_EAUTH", "authentication failed", "'ox'", password="nope")


def test_error_missing_privileges(mariadb):
    mariadb.query("CREATE USER 'noclient'@'%' IDENTIFIED BY 'pw'")
    mariadb.query("GRANT SELECT ON *.* TO 'noclient'@'%'")
    mariadb.query("CREATE USER 'noslave'@'%' IDENTIFIED BY 'pw'")
    mariadb.query("GRANT SELECT, REPLICATION CLIENT ON *.* TO 'noslave'@'%'")
    e = expect_error(mariadb, "OX_EPERM", "missing privilege", "REPLICATION CLIENT",
                     user="noclient", password="pw")
    assert "REPLICATION SLAVE" in e
    e = expect_error(mariadb, "OX_EPERM", "missing privilege", "REPLICATION SLAVE",
                     user="noslave", password="pw")


@pytest.mark.parametrize("mariadb", ["MINIMAL"], indirect=True)
def test_error_no_select_with_minimal_metadata(mariadb):
    mariadb.query("CREATE USER 'noselect'@'%' IDENTIFIED BY 'pw'")
    mariadb.query("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'noselect'@'%'")
    expect_error(mariadb, "OX_EPERM", "SELECT", "information_schema", user="noselect",
                 password="pw")


@pytest.mark.parametrize("mariadb", [{"binlog_format": "STATEMENT"}], indirect=True)
def test_error_statement_binlog_format(mariadb):
    expect_error(mariadb, "OX_ECONFIG", "binlog_format is STATEMENT", "ROW")


def test_error_purged_binlog(mariadb):
    setup_table(mariadb)
    insert_txn(mariadb, 1, 1)
    first = mariadb.binlogs()[0][0]
    gtid = mariadb.query("SELECT @@gtid_binlog_pos")[0][0]
    mariadb.query("FLUSH BINARY LOGS")
    mariadb.query("FLUSH BINARY LOGS")
    last = mariadb.binlogs()[-1][0]
    # A binlog is purged only once the engines no longer need it for crash
    # recovery (its binlog checkpoint): retry for a while.
    deadline = time.monotonic() + 20
    while mariadb.binlogs()[0][0] != last and time.monotonic() < deadline:
        mariadb.query("PURGE BINARY LOGS TO '%s'" % last)
        time.sleep(0.2)
    assert mariadb.binlogs()[0][0] == last
    expect_error(mariadb, "OX_EGONE", "purged", first, extra=("--from-file", first))
    # A GTID position inside the purged files: the server's 1236.
    d, s, n = gtid.split("-")
    expect_error(mariadb, "OX_EGONE", "purged", extra=("--from-gtid", "%s-%s-%d" % (d, s, int(n) - 1)))


def test_error_unreachable_port(tmp_dir):
    class Nowhere:
        host = "127.0.0.1"
        port = free_port()
        user = "ox"
        password = "x"
    t0 = time.monotonic()
    expect_error(Nowhere, "OX_ECONN", "cannot connect", "127.0.0.1:%d" % Nowhere.port)
    assert time.monotonic() - t0 < 30


def make_certs(d):
    """A throwaway CA and a server certificate for 127.0.0.1 (openssl)."""
    import os

    def ossl(*a):
        subprocess.run(["openssl"] + list(a), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    ca, cak = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
    crt, key, csr = (os.path.join(d, n) for n in ("server.pem", "server.key", "server.csr"))
    ext = os.path.join(d, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", cak, "-out", ca,
         "-days", "2", "-subj", "/CN=oxtest-ca")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
         "-subj", "/CN=127.0.0.1")
    ossl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", cak, "-CAcreateserial", "-out", crt,
         "-days", "2", "-extfile", ext)
    return ca, crt, key


def test_tls(mariadb_factory, tmp_dir):
    import os
    ca, crt, key = make_certs(tmp_dir)
    m = mariadb_factory(extra_args=["--ssl-ca=" + ca, "--ssl-cert=" + crt, "--ssl-key=" + key])
    m.query("CREATE USER 'tlsonly'@'%' IDENTIFIED BY 'pw' REQUIRE SSL")
    m.query("GRANT ALL PRIVILEGES ON *.* TO 'tlsonly'@'%'")
    setup_table(m)
    insert_txn(m, 1, 3)
    first = m.binlogs()[0][0]
    recs, r = capture(m, "--from-file", first, "--tls-ca", ca, "--tls-required", user="tlsonly",
                      password="pw")
    assert ids(recs) == [1, 2, 3]
    # The session really was encrypted: this user cannot log in without TLS.
    recs, r = capture(m, "--from-file", first, user="tlsonly", password="pw", check=False)
    assert r.returncode == 1 and b"OX_EAUTH" in r.stderr
    # A CA that did not sign the server's certificate is refused.
    other = os.path.join(tmp_dir, "other")
    os.mkdir(other)
    other_ca, _, _ = make_certs(other)
    e = expect_error(m, "OX_ECONN", "TLS", extra=("--from-file", first, "--tls-ca", other_ca,
                                                  "--tls-required"), user="tlsonly",
                     password="pw")
    # Live over TLS: heartbeats and rows arrive (reads on a TLS connection
    # are bounded by the heartbeat, not by poll()).
    p = spawn_oxbow(*cap_args(m, "--heartbeat-ms", 300, "--tls-ca", ca, "--tls-required",
                              user="tlsonly"), env={"OX_SOURCE_PASSWORD": "pw"})
    rd = JsonLineReader(p)
    hb, seen = rd.wait_for(lambda x: x["op"] == "heartbeat", timeout=3)
    assert hb is not None, seen
    insert_txn(m, 10, 1)
    row, _ = rd.wait_for(lambda x: x["op"] == "insert", timeout=5)
    assert row is not None and row["after"]["id"] == 10
    p.terminate()
    assert p.wait(timeout=10) == 0


def test_password_never_on_argv(mariadb):
    r = run_oxbow("capture", "--host", mariadb.host, "--port", mariadb.port, "--user", "ox",
                  "--password", "oxpw", check=False)
    assert r.returncode == 2
    assert b"password-file" in r.stderr
