"""Store reliability: a start before what the source or the store still has
fails loudly instead of starting later (issue 8 item 5), a dead source is
noticed in about one heartbeat and a full disk recovers by itself (issue 14
items 10 and 7)."""

import os
import subprocess
import time

from oxtest_store import Store, rows_only


def test_start_timestamp_before_oldest_binlog(mariadb):
    """crawler/start with checkpoint=::::T: where T is older than the oldest
    binlog used to start at the oldest binlog with status 0."""
    mariadb.execute_root("CREATE DATABASE shop", "CREATE TABLE shop.t (id INT PRIMARY KEY)",
                         "INSERT INTO shop.t VALUES (1)")
    t_old = int(time.time()) - 3600
    s = Store(mariadb, store__start__checkpoint="::::%d:" % t_old)
    s.start()
    try:
        st = s.wait_status(lambda x: x["status"] != 0 and "DRC_502" in x["errMsg"], timeout=30,
                           what="DRC_502")
        assert st["status"] == 2
        assert "before the oldest binlog the source has" in st["errMsg"], st
        oldest = mariadb.binlogs()[0][0]
        assert oldest in st["errMsg"], st
        assert st["lastMsgId"] == 0
    finally:
        s.cleanup()
    # A time inside the binlogs starts there, with status 0.
    time.sleep(2)  # the fixture's server (and its oldest binlog) is seconds old
    t_in = int(time.time())
    mariadb.execute_root("INSERT INTO shop.t VALUES (2)")
    s = Store(mariadb, store__start__checkpoint="::::%d:" % t_in)
    s.start()
    try:
        st = s.wait_status(lambda x: x["status"] == 0 and x["lastMsgId"] >= 2, timeout=30,
                           what="capture from the timestamp")
        assert "started successfully" in st["errMsg"]
    finally:
        s.cleanup()


def test_subscriber_timestamp_before_first_record_410(mariadb):
    """A subscriber's timestamp= before the store's first record used to get
    the stream from that first record, silently missing what came before."""
    mariadb.execute_root("CREATE DATABASE shop", "CREATE TABLE shop.t (id INT PRIMARY KEY)")
    s = Store(mariadb)
    s.start()
    try:
        s.wait_status(lambda x: x["status"] == 0, what="status 0")
        mariadb.execute_root("INSERT INTO shop.t VALUES (1)", "INSERT INTO shop.t VALUES (2)")
        st = s.wait_status(lambda x: x["lastMsgId"] >= 4, what="4 records")
        t_first = st["checkpoints"][0]["timestamp"]
        for q in ("timestamp=%d" % (t_first - 10), "checkpoint=::::%d:" % (t_first - 10)):
            sub = s.subscribe(q)  # not s.get: a 200 here is an endless stream
            code, body = sub.status, sub.error
            sub.close()
            assert code == 410, (q, code, body)
            assert body["errMsg"].startswith(
                "Invalid start time, shall within store's data keep time"), body
            assert "before the store's first record" in body["errMsg"], body
        sub = s.subscribe("timestamp=%d" % t_first)
        assert sub.status == 200
        got = rows_only(sub.take(4))
        assert [r["after"]["id"] for r in got] == [1, 2]
        sub.close()
    finally:
        s.cleanup()


def test_killed_source_noticed_in_about_one_heartbeat(mariadb):
    """Item 10: a kill -9ed source was noticed only after 5 s of silence;
    with source.heartbeat.ms=500 the store shows status 1 within about one
    heartbeat plus margin (1.5 s), measured here with the status poll."""
    s = Store(mariadb, source__heartbeat__ms=500)
    s.start()
    try:
        s.wait_status(lambda x: x["status"] == 0 and "started" in x["errMsg"], what="status 0")
        time.sleep(1.0)
        # The binlog connection has TCP keepalive, timed from the heartbeat.
        out = subprocess.run(["ss", "-tnpo", "state", "established", "dport",
                              "= :%d" % mariadb.port], stdout=subprocess.PIPE,
                             timeout=30).stdout.decode()
        mine = [l for l in out.splitlines() if "pid=%d," % s.pid in l]
        assert mine and all("keepalive" in l for l in mine), out
        t0 = time.monotonic()
        mariadb.kill()
        s.wait_status(lambda x: x["status"] == 1, timeout=20, what="status 1")
        took = time.monotonic() - t0
        assert took < 2.5, "dead source noticed after %.2f s" % took
    finally:
        s.cleanup()


def test_disk_full_recovers_by_itself(mariadb, tmp_dir):
    """Issue 14 item 7: after ENOSPC (status 4, DRC_504) freeing space left
    the store logging "reopen it to recover" forever. It now retries, cuts
    the log back to its last durable transaction, re-reads the source from
    there, and every row arrives exactly once."""
    mnt = os.path.join(tmp_dir, "small")
    os.makedirs(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", mnt], check=True)
    s = None
    try:
        mariadb.execute_root("CREATE DATABASE shop",
                             "CREATE TABLE shop.t (id INT PRIMARY KEY, pad VARCHAR(3000))")
        s = Store(mariadb, store__dir=os.path.join(mnt, "data"),
                  store__segment__bytes=1048576)
        s.start()
        s.wait_status(lambda x: x["status"] == 0, what="status 0")
        pad = "p" * 2000
        for i in range(50):
            mariadb.execute_root("INSERT INTO shop.t VALUES (%d, '%s')" % (i, pad))
        s.wait_status(lambda x: x["lastMsgId"] >= 100, what="100 records")
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        for i in range(50, 150):
            mariadb.execute_root("INSERT INTO shop.t VALUES (%d, '%s')" % (i, pad))
        st = s.wait_status(lambda x: x["status"] == 4, timeout=30, what="status 4")
        assert "DRC_504" in st["errMsg"]
        time.sleep(2)
        assert s.status()["status"] == 4
        os.remove(filler)
        s.wait_status(lambda x: x["status"] == 0 and x["lastMsgId"] == 300, timeout=90,
                      what="recovery with all 300 records")
        assert "writable again" in s.log_tail(20000)
        want = [r[0] for r in mariadb.query("SELECT id FROM shop.t ORDER BY id")]
        assert want == list(range(150))
        sub = s.subscribe("from=earliest")
        recs = sub.take(300)
        sub.close()
        assert [r["msgId"] for r in recs] == list(range(1, 301))
        assert [r["after"]["id"] for r in rows_only(recs)] == want
        assert all(r["after"]["pad"] == pad for r in rows_only(recs))
    finally:
        if s is not None:
            s.cleanup()
        subprocess.run(["umount", "-l", mnt])
