"""The source going away: a MariaDB restart (crash) is ridden out without
loss or duplicates; an unreachable source shows in status/errMsg while the
store keeps serving what it holds, and capture recovers when it returns; a
wrong password is reported as such."""

import signal
import time

from oxtest_store import Store, rows_only


def test_source_restart_and_unreachable(mariadb):
    mariadb.execute_root("CREATE DATABASE shop",
                         "CREATE TABLE shop.s (id INT PRIMARY KEY, v INT)")
    s = Store(mariadb, source__heartbeat__ms=300)
    s.start()
    try:
        sub = s.subscribe("from=earliest")
        mariadb.execute_root("INSERT INTO shop.s VALUES (1, 1)")
        assert [r["op"] for r in sub.take(2)] == ["insert", "commit"]
        # Crash and restart the source: capture reconnects by itself.
        mariadb.restart(signal.SIGKILL)
        mariadb.execute_root("INSERT INTO shop.s VALUES (2, 2)")
        recs = sub.take(2, timeout=60)
        assert rows_only(recs)[0]["after"] == {"id": 2, "v": 2}
        # Source down for a while: status says so, the store keeps serving.
        mariadb.kill(signal.SIGKILL)
        st = s.wait_status(lambda x: x["status"] == 1, timeout=30, what="status 1")
        assert "DRC_501" in st["errMsg"] and str(mariadb.port) in st["errMsg"], st["errMsg"]
        # The source reports the link down at once; the delay then grows.
        st = s.wait_status(lambda x: x["delay"] >= 1.0, timeout=10, what="delay growing")
        assert st["status"] == 1, st
        old = s.subscribe("from=earliest")
        assert [r["msgId"] for r in old.take(4)] == [1, 2, 3, 4]
        old.close()
        time.sleep(2)
        mariadb.start()
        mariadb.execute_root("INSERT INTO shop.s VALUES (3, 3)")
        recs = sub.take(2, timeout=90)
        assert rows_only(recs)[0]["after"] == {"id": 3, "v": 3}
        st = s.wait_status(lambda x: x["status"] == 0, timeout=30, what="status back to 0")
        assert "DRC_500" in st["errMsg"]
        assert st["lastMsgId"] == 6
        ids = [r[0] for r in mariadb.query("SELECT id FROM shop.s ORDER BY id")]
        assert ids == [1, 2, 3]
        sub.close()
    finally:
        s.cleanup()


def test_wrong_password_reported(mariadb, tmp_path):
    s = Store(mariadb)
    with open(s.pwfile, "w") as f:
        f.write("Xq7-secret\n")
    s.start()
    try:
        st = s.wait_status(lambda x: x["status"] != 0, timeout=30, what="an error status")
        assert st["status"] == 3, st
        assert "DRC_503" in st["errMsg"] and "auth" in st["errMsg"].lower(), st["errMsg"]
        assert "Xq7-secret" not in st["errMsg"]  # never the password itself
    finally:
        s.cleanup()


def test_purged_binlog_reported(mariadb):
    """The store's resume position was purged from the source while it was
    down: status 2 / DRC_502 with a clear errMsg, the store keeps serving."""
    mariadb.execute_root("CREATE DATABASE shop", "CREATE TABLE shop.p (id INT PRIMARY KEY)")
    s = Store(mariadb, store__resume="filepos")
    s.start()
    try:
        mariadb.execute_root("INSERT INTO shop.p VALUES (1)")
        s.wait_status(lambda x: x["lastMsgId"] == 2, what="2 records")
        s.kill(signal.SIGTERM)
        mariadb.execute_root("INSERT INTO shop.p VALUES (2)", "FLUSH BINARY LOGS",
                             "INSERT INTO shop.p VALUES (3)", "FLUSH BINARY LOGS")
        last = mariadb.binlogs()[-1][0]
        mariadb.execute_root("PURGE BINARY LOGS TO '%s'" % last)
        s.start()
        st = s.wait_status(lambda x: x["status"] == 2, timeout=30, what="status 2")
        assert "DRC_502" in st["errMsg"], st["errMsg"]
        sub = s.subscribe("from=earliest")
        assert [r["msgId"] for r in sub.take(2)] == [1, 2]
        sub.close()
    finally:
        s.cleanup()


def test_tls_to_the_source(mariadb_factory, tmp_dir):
    """source.tls.ca/source.tls.required in a store's config: a user that
    may only log in over TLS is captured; without the keys it is refused."""
    from test_mysql_live import make_certs
    ca, crt, key = make_certs(tmp_dir)
    m = mariadb_factory(extra_args=["--ssl-ca=" + ca, "--ssl-cert=" + crt, "--ssl-key=" + key])
    m.execute_root("CREATE USER 'tlsonly'@'%' IDENTIFIED BY 'pw' REQUIRE SSL",
                   "GRANT ALL PRIVILEGES ON *.* TO 'tlsonly'@'%'",
                   "CREATE DATABASE shop", "CREATE TABLE shop.t (id INT PRIMARY KEY)")
    stores = []
    try:
        for tls in (True, False):
            keys = {"source__user": "tlsonly"}
            if tls:
                keys.update(source__tls__ca=ca, source__tls__required="true")
            s = Store(m, **keys)
            stores.append(s)
            with open(s.pwfile, "w") as f:
                f.write("pw\n")
            s.start()
        s_tls, s_plain = stores
        s_tls.wait_status(lambda x: x["status"] == 0, what="capturing over TLS")
        sub = s_tls.subscribe("from=earliest")
        m.execute_root("INSERT INTO shop.t VALUES (7)")
        assert rows_only(sub.take(2))[0]["after"] == {"id": 7}
        sub.close()
        st = s_plain.wait_status(lambda x: x["status"] == 3, what="refused without TLS")
        assert "DRC_503" in st["errMsg"], st
    finally:
        for s in stores:
            s.cleanup()
