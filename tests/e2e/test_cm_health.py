"""crawler.active follows the seed: false when the CM's metaDB writes fail,
when they are slow, or when the CM's and the metaDB's clocks disagree. Each
cause is provoked for real: a stopped PostgreSQL, a pg_sleep trigger on the
heartbeat table, and the test-only clock offset (cm.test.clock_offset_ms);
plus the test-only SQLite delay (cm.test.metadb_delay_ms)."""

import time

import pytest

from oxtest_cm import CM


def pg_url(pg):
    return "postgresql://postgres@127.0.0.1:%d/postgres" % pg.port


def active(cm, name):
    st, j = cm.detail(name, filters="active")
    assert st == 200, j
    return j["crawler"]["active"]


def wait_active(cm, name, want, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if active(cm, name) is want:
            return
        time.sleep(0.1)
    raise AssertionError("active never became %s; health %s" % (want, cm.health()))


@pytest.fixture
def pg_cm(postgres, mariadb):
    c = CM(metadb_url=pg_url(postgres))
    try:
        c.start()
        c.create_topic(mariadb, topic="orders")
        c.name = c.start_crawler(topic="orders")["name"]
        yield c, postgres
    finally:
        c.cleanup()


def test_active_false_while_metadb_down(pg_cm):
    cm, pg = pg_cm
    wait_active(cm, cm.name, True)
    pg.kill()  # immediate shutdown: every write now fails
    wait_active(cm, cm.name, False)
    h = cm.health()
    assert h["writeOk"] is False
    # Changes are refused with a clear error while the metaDB is down ...
    st, j = cm.post("/topic/create", topic="other", host="127.0.0.1", username="u")
    assert st == 503 and "metaDB write failed" in j["errMsg"]
    # ... reads still answer (from the CM's view, flagged untrustworthy).
    st, j = cm.detail(cm.name)
    assert st == 200 and j["crawler"]["active"] is False
    pg.start()
    wait_active(cm, cm.name, True, timeout=30)
    assert [t["topic"] for t in cm.topics()] == ["orders"]
    st, j = cm.post("/topic/create", topic="other", host="127.0.0.1", username="u")
    assert st == 200


def test_active_false_while_metadb_slow(pg_cm):
    cm, pg = pg_cm
    wait_active(cm, cm.name, True)
    pg.query("CREATE FUNCTION ox_slow() RETURNS trigger LANGUAGE plpgsql AS "
             "$$ BEGIN PERFORM pg_sleep(1.2); RETURN NEW; END $$")
    pg.query("CREATE TRIGGER ox_slow BEFORE INSERT OR UPDATE ON ox_cm_heartbeat "
             "FOR EACH ROW EXECUTE FUNCTION ox_slow()")
    wait_active(cm, cm.name, False)
    assert cm.health()["writeMs"] > 500
    pg.query("DROP TRIGGER ox_slow ON ox_cm_heartbeat")
    wait_active(cm, cm.name, True)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_active_false_on_clock_skew(backend, postgres_factory, mariadb):
    url = pg_url(postgres_factory()) if backend == "postgresql" else None
    c = CM(metadb_url=url, cm__test__clock_offset_ms=10000)
    try:
        c.start()
        c.create_topic(mariadb, topic="orders")
        name = c.start_crawler(topic="orders")["name"]
        wait_active(c, name, False)
        h = c.health()
        assert h["writeOk"] is True and 9000 < h["skewMs"] < 11000, h
    finally:
        c.cleanup()
    # Without the offset the clocks agree and active is true.
    c = CM(metadb_url=url)
    try:
        c.start()
        c.create_topic(mariadb, topic="orders2")
        name = c.start_crawler(topic="orders2")["name"]
        wait_active(c, name, True)
        assert abs(c.health()["skewMs"]) < 1000
    finally:
        c.cleanup()


def test_active_false_when_sqlite_slow(mariadb):
    c = CM(cm__test__metadb_delay_ms=200, cm__health__slow_ms=300)
    try:
        c.start()
        c.create_topic(mariadb, topic="orders")
        name = c.start_crawler(topic="orders")["name"]
        wait_active(c, name, False)
        assert c.health()["writeMs"] > 300
    finally:
        c.cleanup()
