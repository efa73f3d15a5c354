"""The CM's whole API, on the SQLite metaDB and again on PostgreSQL 15:
topics, crawler life cycle, listings, repeated and concurrent calls, bad
input (each with a clear error and no change of state), authentication,
persistence across a CM restart, and secrets kept out of every output."""

import json
import os
import stat
import threading
import time
import urllib.parse

import pytest

from oxtest import pid_alive
from oxtest_cm import CM, wait_until


@pytest.fixture(params=["sqlite", "postgresql"])
def metadb_url(request, postgres_factory):
    if request.param == "sqlite":
        return None
    pg = postgres_factory()
    return "postgresql://postgres@127.0.0.1:%d/postgres" % pg.port


@pytest.fixture
def cm_options(metadb_url):
    return {"metadb_url": metadb_url}


def state(cm):
    """Everything a bad request must not change."""
    return json.dumps([cm.topics(), cm.crawlers()], sort_keys=True)


def test_topics(cm, mariadb, metadb_url):
    assert cm.health()["metadb"] == ("postgresql" if metadb_url else "sqlite")
    assert cm.topics() == []
    j = cm.create_topic(mariadb, topic="t1", whiteList="shop.*", blackList="shop.tmp")
    t = j["topic"]
    assert t == {"topic": "t1", "dbType": "mysql", "host": mariadb.host, "port": mariadb.port,
                 "username": mariadb.user, "whiteList": "shop.*", "blackList": "shop.tmp",
                 "crawlers": 0}
    st, j = cm.post("/topic/create", topic="t1", host="127.0.0.1", username="u")
    assert st == 409 and j["isSuccess"] is False and "already exists" in j["errMsg"]
    cm.start_crawler(topic="t1")
    st, j = cm.post("/topic/delete", topic="t1")
    assert st == 409 and "crawler" in j["errMsg"]
    st, j = cm.post("/topic/delete", topic="nosuch")
    assert st == 404 and "unknown topic" in j["errMsg"]
    cm.create_topic(mariadb, topic="t2")
    st, j = cm.post("/topic/delete", topic="t2")
    assert st == 200 and j["isSuccess"] is True
    assert [t["topic"] for t in cm.topics()] == ["t1"]
    assert cm.topics()[0]["crawlers"] == 1


def test_crawler_life_cycle(cm, mariadb):
    cm.create_topic(mariadb, topic="orders")
    # Names count up per topic; the partial checkpoint is accepted (a time
    # the source's binlogs cover: an older one is DRC_502, see
    # test_store_reliability.py).
    a = cm.start_crawler(topic="orders", checkpoint="::::%d:" % int(time.time()), userData="u1")
    b = cm.start_crawler(topic="orders", checkpoint="")
    assert a["name"] == "127.0.0.1-%d:orders-000-0:0000000001" % cm.sv_port
    assert b["name"] == "127.0.0.1-%d:orders-000-0:0000000002" % cm.sv_port
    assert a["port"] != b["port"] and a["port"] >= cm.store_base
    assert a["userData"] == "u1" and a["role"] == "master" and a["location"] == "111"
    cm.wait_status(a["name"], lambda c: c["status"] == 0)
    # Listings.
    names = [c["name"] for c in cm.crawlers()]
    assert names == sorted([a["name"], b["name"]])
    st, j = cm.get("/crawler/list", topic="orders")
    assert st == 200 and len(j["crawlers"]) == 2
    hosts = cm.hosts()
    assert len(hosts) == 1 and hosts[0]["live"] is True
    assert sorted(hosts[0]["crawlers"]) == sorted(names)
    assert hosts[0]["host"] == "127.0.0.1-%d" % cm.sv_port
    # Filters pick fields.
    st, j = cm.detail(a["name"], filters="status,port")
    assert st == 200 and sorted(j["crawler"]) == ["port", "status"]
    st, j = cm.detail(a["name"], filters="status,nosuch")
    assert st == 400 and "nosuch" in j["errMsg"]
    # Stop / stop again / restore / restore again; /crawler/stop = clear.
    st, j = cm.post("/crawler/stop", crawler=a["name"])
    assert st == 200 and j["crawler"]["status"] == 1001
    st, j = cm.post("/crawler/clear", crawler=a["name"])
    assert st == 200 and j["message"] == "already stopped"
    st, j = cm.post("/crawler/restore", crawler=a["name"])
    assert st == 200 and "message" not in j
    st, j = cm.post("/crawler/restore", crawler=a["name"])
    assert st == 200 and j["message"] == "already running"
    # Destroy twice: the second is 404.
    d = cm.store_dir(b["name"])
    assert os.path.isdir(d)
    st, j = cm.post("/crawler/destroy", crawler=b["name"])
    assert st == 200 and j["isSuccess"] is True
    assert not os.path.exists(d)
    st, j = cm.post("/crawler/destroy", crawler=b["name"])
    assert st == 404 and j["isSuccess"] is False
    assert [c["name"] for c in cm.crawlers()] == [a["name"]]


def test_bad_input_changes_nothing(cm, mariadb):
    cm.create_topic(mariadb, topic="orders")
    good = cm.start_crawler(topic="orders")["name"]
    before = state(cm)
    bad = [
        ("POST", "/crawler/start", {}, 400, "missing parameter 'topic'"),
        ("POST", "/crawler/start", {"topic": "orders", "bogus": "1"}, 400, "unknown parameter 'bogus'"),
        ("POST", "/crawler/start", {"topic": "nosuch"}, 404, "unknown topic"),
        ("POST", "/crawler/start", {"topic": "orders", "checkpoint": "1.2.3:x"}, 400, "bad checkpoint"),
        ("POST", "/crawler/start", {"topic": "orders", "checkpoint": "300.1.1.1:1:1:1:1:1"}, 400, "bad checkpoint"),
        ("POST", "/crawler/start", {"topic": "orders", "role": "slave"}, 400, "role must be master"),
        ("POST", "/crawler/start", {"topic": "orders", "type": "pg2store"}, 400, "type must be mysql2store"),
        ("POST", "/crawler/start", {"topic": "orders", "host": "../x"}, 400, "host must be"),
        ("POST", "/crawler/start", {"topic": "orders", "host": "10.9.9.9"}, 404, "no live supervisor"),
        ("POST", "/crawler/start", {"topic": "../etc"}, 400, "topic"),
        ("POST", "/crawler/clear", {}, 400, "missing parameter 'crawler'"),
        ("POST", "/crawler/clear", {"crawler": "../../etc/passwd"}, 400, "crawler name"),
        ("POST", "/crawler/destroy", {"crawler": "127.0.0.1-7100:../x-000-0:0000000001"}, 400, "crawler name"),
        ("POST", "/crawler/restore", {"crawler": "127.0.0.1-7100:orders-000-0:0000000099"}, 404, "unknown crawler"),
        ("POST", "/crawler/destroy", {"crawler": "127.0.0.1-7100:nosuch-000-0:0000000001"}, 404, "unknown crawler"),
        ("GET", "/crawler/detail", {"crawler": "127.0.0.1-7100:orders-000-0:0000000099"}, 404, "unknown crawler"),
        ("GET", "/crawler/detail", {"crawler": good, "extra": "1"}, 400, "unknown parameter"),
        ("POST", "/topic/create", {"topic": "a/b", "host": "h", "username": "u"}, 400, "topic"),
        ("POST", "/topic/create", {"topic": "x", "host": "h;rm", "username": "u"}, 400, "host"),
        ("POST", "/topic/create", {"topic": "x", "host": "h", "username": "u", "port": "70000"}, 400, "port"),
        ("POST", "/topic/create", {"topic": "x", "host": "h", "username": "u", "dbType": "oracle"}, 400, "dbType"),
        ("POST", "/topic/create", {"topic": "x", "host": "h", "username": "u", "password": "a\nb"}, 400, "password"),
        ("POST", "/topic/create", {"topic": "x", "host": "h", "username": "u", "whiteList": "a\nstore.dir=/"}, 400, "whiteList"),
        ("POST", "/topic/delete", {"topic": ".."}, 400, "topic"),
    ]
    for method, path, params, status, text in bad:
        st, j = cm.request(method, path, params=params)
        assert st == status, (path, params, st, j)
        assert j["isSuccess"] is False and text in j["errMsg"], (path, params, j)
    # Raw bodies: bad escapes, duplicate keys, oversized, wrong content type.
    for body, status, text in [
        (b"crawler=%zz", 400, "bad value"),
        (b"crawler=a&crawler=b", 400, "twice"),
        (b"crawler=" + b"x" * 70000, 413, "larger than"),
    ]:
        st, j = cm.request("POST", "/crawler/clear", body=body)
        assert st == status and text in j["errMsg"], (body[:40], st, j)
    st, j = cm.request("POST", "/crawler/clear", body=b'{"crawler":"x"}',
                       headers={"Content-Type": "application/json"})
    assert st == 415
    # Wrong methods and unknown paths.
    for method, path in [("GET", "/crawler/clear"), ("POST", "/crawler/detail"),
                         ("DELETE", "/topic/delete"), ("PUT", "/crawler/start"),
                         ("GET", "/supervisor/heartbeat")]:
        st, j = cm.request(method, path)
        assert st == 405 and "not allowed" in j["errMsg"], (method, path, st, j)
    st, j = cm.get("/nope")
    assert st == 404 and j["isSuccess"] is False
    # The supervisor endpoint needs its token.
    st, j = cm.request("POST", "/supervisor/heartbeat", body=b'{"host":"127.0.0.1","port":1}',
                       headers={"Content-Type": "application/json"})
    assert st == 401
    assert state(cm) == before


def test_concurrent_calls(cm, mariadb):
    concurrent_calls(cm, mariadb)


def test_concurrent_calls_thread_pool(metadb_url, mariadb):
    """The same with cm.http.threads=2: an epoll pool, POST handlers on their
    own threads with the connection suspended."""
    c = CM(metadb_url=metadb_url, cm__http__threads=2)
    try:
        c.start()
        concurrent_calls(c, mariadb)
        st, j = c.post("/crawler/clear", crawler="127.0.0.1-1:x-000-0:0000000001")
        assert st == 404
    finally:
        c.cleanup()


def concurrent_calls(cm, mariadb):
    cm.create_topic(mariadb, topic="orders")
    name = cm.start_crawler(topic="orders")["name"]
    results = []
    lock = threading.Lock()

    def reader():
        for _ in range(20):
            st, j = cm.detail(name)
            st2, j2 = cm.get("/crawler/list")
            with lock:
                results.append((st, j["isSuccess"], st2))

    def toggler(i):
        path = "/crawler/clear" if i % 2 else "/crawler/restore"
        st, j = cm.post(path, crawler=name)
        with lock:
            results.append((st, j["isSuccess"], 200))

    threads = [threading.Thread(target=reader) for _ in range(8)]
    threads += [threading.Thread(target=toggler, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 * 20 + 8
    assert all(r == (200, True, 200) for r in results), [r for r in results if r != (200, True, 200)]
    # End in a known state, then destroy concurrently: one or more succeed,
    # the rest are 404, and the crawler is gone.
    st, j = cm.post("/crawler/restore", crawler=name)
    assert st == 200
    outs = []

    def destroyer():
        st, j = cm.post("/crawler/destroy", crawler=name)
        with lock:
            outs.append(st)

    threads = [threading.Thread(target=destroyer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 200 in outs and set(outs) <= {200, 404}, outs
    assert cm.crawlers() == []
    assert not os.path.exists(cm.store_dir(name))


def test_state_survives_cm_restart(metadb_url, mariadb):
    c = CM(metadb_url=metadb_url)
    try:
        c.start()
        c.create_topic(mariadb, topic="orders")
        a = c.start_crawler(topic="orders")["name"]
        b = c.start_crawler(topic="orders")["name"]
        c.post("/crawler/clear", crawler=b)
        c.stop()
        c.start()
        assert [t["topic"] for t in c.topics()] == ["orders"]
        assert [x["name"] for x in c.crawlers()] == [a, b]
        # The running one is started again; the stopped one stays stopped.
        c.wait_status(a, lambda d: d["status"] == 0)
        st, j = c.detail(b)
        assert st == 200
        assert {x["name"]: x["desired"] for x in c.crawlers()} == {a: "running", b: "stopped"}
        # Subscription ids continue after the restart.
        assert c.start_crawler(topic="orders")["name"].endswith(":0000000003")
    finally:
        c.cleanup()


def test_auth_token_and_secrets(metadb_url, mariadb):
    token = "t0ken-for-the-cm-tests-0123456789"
    c = CM(metadb_url=metadb_url, cm__auth__token=token)
    try:
        c.start()
        c.create_topic(mariadb, topic="orders")
        name = c.start_crawler(topic="orders")["name"]
        st, j = c.request("GET", "/crawler/list", token="")
        assert st == 401 and j["isSuccess"] is False
        st, j = c.request("GET", "/crawler/list", token="wrong-token-wrong-token")
        assert st == 401
        # The password appears in no response, log, argv or store config.
        texts = []
        for path in ["/topic/list", "/crawler/list", "/host/list", "/cm/health"]:
            texts.append(json.dumps(c.get(path)[1]))
        texts.append(json.dumps(c.detail(name)[1]))
        texts.append(c.log())
        # The supervisor reports the pid once the store process is up.
        pid = wait_until(lambda: c.store_pid(name), timeout=30, what="the store's pid")
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            texts.append(f.read().decode(errors="replace"))
        with open("/proc/%d/cmdline" % c.proc.pid, "rb") as f:
            texts.append(f.read().decode(errors="replace"))
        sdir = c.store_dir(name)
        with open(os.path.join(sdir, "store.properties")) as f:
            texts.append(f.read())
        for t in texts:
            assert mariadb.password not in t
        for fn in ["store.properties", "source.password"]:
            assert stat.S_IMODE(os.stat(os.path.join(sdir, fn)).st_mode) == 0o600
        with open(os.path.join(sdir, "source.password")) as f:
            assert f.read() == mariadb.password
    finally:
        c.cleanup()


def test_non_loopback_needs_token(tmp_dir):
    c = CM(cm__listen="0.0.0.0")
    try:
        rc = c.start(expect_fail=True)
        assert rc == 1
        assert "cm.auth.token" in c.log()
    finally:
        c.cleanup()


def test_supervisor_credential_on_each_metadb(cm):
    """Issue (command, straight into the metaDB), use, revoke (API) on SQLite
    and PostgreSQL; the migration that adds ox_sv_credentials ran on both."""
    host = "127.0.0.1-7999"
    out = os.path.join(cm.dir, "h.token")
    r = cm.credential("issue", host, out=out)
    assert r.returncode == 0, r.stderr
    with open(out) as f:
        tok = f.read().strip()
    deadline = time.monotonic() + 10
    while cm.heartbeat(tok, "127.0.0.1", 7999)[0] != 200:
        assert time.monotonic() < deadline, "credential not accepted"
        time.sleep(0.2)
    st, j = cm.post("/host/revoke", host=host)
    assert st == 200
    assert cm.heartbeat(tok, "127.0.0.1", 7999)[0] == 401
    st, j = cm.post("/host/revoke", host="127.0.0.1-99999")
    assert st == 400 and j["isSuccess"] is False
