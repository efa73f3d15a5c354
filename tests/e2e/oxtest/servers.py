"""Private MariaDB and PostgreSQL 15 servers for end-to-end tests.

Each server lives in its own mktemp directory, listens on 127.0.0.1 on a free
port (chosen by binding port 0), is stopped by PID and has its directory
removed by cleanup(), which the fixtures call at teardown even when a test
fails. The recipes follow /work/shared/RUNBOOK.md.
"""

import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from . import procs

HOST = "127.0.0.1"


# Ports for the servers the tests start come from below the kernel's
# ephemeral range (ip_local_port_range, 32768-60999 by default): a port the
# kernel hands out by itself can be taken by any outgoing connection of a
# parallel test between the moment it is picked and the moment a server
# binds it.
_PORT_LO, _PORT_HI = 20000, 32000


def free_port():
    """Returns a TCP port on 127.0.0.1 that was free a moment ago, outside
    the ephemeral range."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(_PORT_LO, _PORT_HI)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free TCP port in %d-%d" % (_PORT_LO, _PORT_HI))


def _tail(path, n=4000):
    try:
        with open(path, "rb") as f:
            data = f.read()
        return data[-n:].decode("utf-8", "replace")
    except OSError:
        return ""


class MariaDB:
    """A private mariadbd with the binary log on.

    MariaDB(metadata="FULL" | "MINIMAL", binlog_format="ROW", server_id=1,
            extra_args=()).start() installs a fresh data directory and starts
    the server. Attributes: host, port, sock, dir, datadir, pid, user and
    password (an account 'ox' with every privilege, usable over TCP), and
    binlog_basename (binlog files are datadir/mysql-bin.NNNNNN).

    Root can connect over the unix socket without a password (root_conn()).
    """

    def __init__(self, metadata="FULL", binlog_format="ROW", server_id=1, extra_args=()):
        self.metadata = metadata
        self.binlog_format = binlog_format
        self.server_id = server_id
        self.extra_args = list(extra_args)
        self.dir = tempfile.mkdtemp(prefix="oxtest-mariadb-")
        self.datadir = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "sock")
        self.log = os.path.join(self.dir, "mariadbd.log")
        # A private tmpdir: bootstraps running in parallel in a shared /tmp
        # were seen to trip over each other's temporary tables.
        self.tmpdir = os.path.join(self.dir, "tmp")
        os.mkdir(self.tmpdir)
        self.host = HOST
        self.port = free_port()
        self.user = "ox"
        self.password = "oxpw"
        self.binlog_basename = os.path.join(self.datadir, "mysql-bin")
        self.proc = None
        self._installed = False

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self, timeout=60):
        """Installs the data directory (first time only) and starts mariadbd
        on the same port and datadir; returns self when it accepts queries."""
        if not self._installed:
            for attempt in range(3):
                r = subprocess.run(
                    ["mariadb-install-db", "--no-defaults", "--datadir=" + self.datadir,
                     "--user=root", "--auth-root-authentication-method=normal",
                     "--tmpdir=" + self.tmpdir],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                if r.returncode == 0:
                    break
                # Seen under heavy parallel load: retry on a clean directory.
                shutil.rmtree(self.datadir, ignore_errors=True)
                time.sleep(0.5)
            else:
                raise RuntimeError("mariadb-install-db failed:\n" +
                                   r.stdout.decode(errors="replace")[-3000:])
        argv = ["mariadbd", "--no-defaults", "--datadir=" + self.datadir, "--user=root",
                "--socket=" + self.sock, "--port=%d" % self.port, "--tmpdir=" + self.tmpdir,
                "--bind-address=" + HOST,
                "--log-bin=" + self.binlog_basename, "--server-id=%d" % self.server_id,
                "--binlog-format=" + self.binlog_format,
                "--binlog-row-metadata=" + self.metadata,
                "--log-error=" + self.log, "--innodb-buffer-pool-size=64M",
                "--innodb-log-file-size=64M", "--max-allowed-packet=256M",
                "--skip-name-resolve", "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci"] + self.extra_args
        self.proc = procs.spawn(argv, server=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("mariadbd exited with %s:\n%s"
                                   % (self.proc.returncode, _tail(self.log)))
            try:
                c = self.root_conn()
                c.close()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise RuntimeError("mariadbd not ready after %ds:\n%s"
                                       % (timeout, _tail(self.log)))
                time.sleep(0.1)
        if not self._installed:
            self._installed = True
            self.execute_root(
                "CREATE USER 'ox'@'%%' IDENTIFIED BY '%s'" % self.password,
                "GRANT ALL PRIVILEGES ON *.* TO 'ox'@'%' WITH GRANT OPTION")
        return self

    def kill(self, sig=signal.SIGKILL):
        """Ends the server by PID (SIGKILL by default: a crash) and waits."""
        if self.proc is not None:
            procs.kill_pid(self.proc.pid, sig=sig, grace=30.0)
            self.proc = None

    def stop(self):
        """Clean shutdown by PID (SIGTERM)."""
        self.kill(signal.SIGTERM)

    def restart(self, sig=signal.SIGKILL):
        """kill(sig) then start() again on the same datadir and port."""
        self.kill(sig)
        return self.start()

    def cleanup(self):
        """Stops the server and removes its directory. Idempotent."""
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def root_conn(self, **kw):
        """A new pymysql connection as root over the unix socket."""
        import pymysql
        kw.setdefault("autocommit", True)
        kw.setdefault("charset", "utf8mb4")
        return pymysql.connect(unix_socket=self.sock, user="root", **kw)

    def conn(self, user=None, password=None, **kw):
        """A new pymysql connection over TCP (default user 'ox')."""
        import pymysql
        kw.setdefault("autocommit", True)
        kw.setdefault("charset", "utf8mb4")
        return pymysql.connect(host=self.host, port=self.port, user=user or self.user,
                               password=self.password if password is None else password, **kw)

    def execute_root(self, *stmts):
        """Runs statements as root; returns the rows of the last one."""
        c = self.root_conn()
        try:
            rows = None
            with c.cursor() as cur:
                for s in stmts:
                    cur.execute(s)
                    rows = cur.fetchall()
            return rows
        finally:
            c.close()

    def query(self, sql, args=None):
        """Runs one statement as root; returns all rows (tuples)."""
        c = self.root_conn()
        try:
            with c.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall()
        finally:
            c.close()

    def client(self, sql, db=None, timeout=600):
        """Feeds SQL text to the `mariadb` command-line client as root (fast
        for big generated workloads). Raises on failure."""
        argv = ["mariadb", "--no-defaults", "--default-character-set=utf8mb4", "-S", self.sock,
                "-uroot"]
        if db:
            argv.append(db)
        r = subprocess.run(argv, input=sql.encode() if isinstance(sql, str) else sql,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("mariadb client failed: " + r.stderr.decode(errors="replace"))
        return r.stdout.decode(errors="replace")

    def binlogs(self):
        """[(name, size)] from SHOW BINARY LOGS."""
        return [(r[0], int(r[1])) for r in self.query("SHOW BINARY LOGS")]

    def binlog_path(self, name):
        return os.path.join(self.datadir, name)

    def master_status(self):
        """(file, position) of the current end of the binlog."""
        r = self.query("SHOW MASTER STATUS")
        return r[0][0], int(r[0][1])


class Postgres:
    """A private PostgreSQL 15 with wal_level=logical, run as user postgres.

    Postgres(extra_conf={...}).start(). Attributes: host, port, dir, datadir,
    sockdir, user ("postgres", trust auth), dsn (libpq keyword string).
    """

    BIN = "/usr/lib/postgresql/15/bin"

    def __init__(self, extra_conf=None):
        self.dir = tempfile.mkdtemp(prefix="oxtest-pg-")
        os.chmod(self.dir, 0o755)
        shutil.chown(self.dir, "postgres")
        self.datadir = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "log")
        self.sockdir = self.dir
        self.host = HOST
        self.port = free_port()
        self.user = "postgres"
        self.extra_conf = dict(extra_conf or {})
        self._installed = False

    @property
    def dsn(self):
        return "host=%s port=%d user=%s dbname=postgres" % (self.host, self.port, self.user)

    def _run_pg(self, *argv, check=True):
        return subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(self.BIN, argv[0])]
                              + list(argv[1:]), check=check, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)

    @property
    def pid(self):
        """The postmaster's PID from postmaster.pid, or None."""
        try:
            with open(os.path.join(self.datadir, "postmaster.pid")) as f:
                return int(f.readline().strip())
        except (OSError, ValueError):
            return None

    def start(self, timeout=60):
        """initdb (first time only) and start; returns self when ready."""
        if not self._installed:
            self._run_pg("initdb", "-D", self.datadir, "-A", "trust", "-E", "UTF8",
                         "--locale=C.UTF-8")
            self._installed = True
        opts = ["-c wal_level=logical", "-c port=%d" % self.port,
                "-c listen_addresses=" + HOST, "-c unix_socket_directories=" + self.sockdir,
                "-c max_wal_senders=10", "-c max_replication_slots=10", "-c fsync=off"]
        opts += ["-c %s=%s" % (k, v) for k, v in self.extra_conf.items()]
        r = self._run_pg("pg_ctl", "-D", self.datadir, "-l", self.log, "-w", "-t",
                         str(timeout), "-o", " ".join(opts), "start", check=False)
        if r.returncode != 0:
            raise RuntimeError("postgres failed to start:\n%s\n%s"
                               % (r.stderr.decode(errors="replace"), _tail(self.log)))
        return self

    def kill(self, sig=signal.SIGQUIT):
        """Ends the postmaster by PID (SIGQUIT: immediate shutdown) and waits
        for it to exit."""
        pid = self.pid
        if pid is not None:
            procs.kill_pid(pid, sig=sig, grace=30.0)

    def stop(self):
        """Fast clean shutdown by PID (SIGINT)."""
        self.kill(signal.SIGINT)

    def restart(self):
        self.kill()
        return self.start()

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def conn(self, dbname="postgres", **kw):
        """A new psycopg2 connection (autocommit) over TCP."""
        import psycopg2
        c = psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname=dbname, **kw)
        c.autocommit = True
        return c

    def query(self, sql, args=None, dbname="postgres"):
        """Runs one statement; returns all rows (or [] if none)."""
        c = self.conn(dbname)
        try:
            with c.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall() if cur.description else []
        finally:
            c.close()


def raw_http(port, data, timeout=10):
    """Sends raw bytes to 127.0.0.1:port (requests no HTTP client would
    send: NUL bytes, oversized heads) and reads until the server closes.
    Returns (status, head text, body bytes); status 0 if no answer came."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        buf = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    head, _, body = buf.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head else 0
    return status, head.decode(errors="replace"), body
