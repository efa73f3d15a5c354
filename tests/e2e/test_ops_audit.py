"""The audit log: every state-changing API call (when, from where, what,
result) is a row in the metaDB, on SQLite and on PostgreSQL, read back
through GET /audit/list; secrets in the request never reach it."""

import pytest

from oxtest_cm import CM


@pytest.fixture(params=["sqlite", "postgresql"])
def metadb_url(request, postgres_factory):
    if request.param == "sqlite":
        return None
    pg = postgres_factory()
    return "postgresql://postgres@127.0.0.1:%d/postgres" % pg.port


def test_audit_log(mariadb, metadb_url):
    cm = CM(metadb_url=metadb_url)
    try:
        cm.start()
        cm.create_topic(mariadb, topic="orders")
        name = cm.start_crawler(topic="orders")["name"]
        assert cm.post("/crawler/clear", crawler=name)[0] == 200
        assert cm.post("/crawler/clear", crawler="bad name")[0] == 400
        assert cm.post("/crawler/destroy", crawler=name)[0] == 200
        st, j = cm.get("/audit/list")
        assert st == 200, j
        rows = [(a["action"], a["target"], a["result"]) for a in j["audit"]]
        assert rows == [("/crawler/destroy", name, 200), ("/crawler/clear", "bad name", 400),
                        ("/crawler/clear", name, 200), ("/crawler/start", "orders", 200),
                        ("/topic/create", "orders", 200)], rows
        assert all(a["remote"].startswith("127.0.0.1:") for a in j["audit"])
        assert all(a["at"] > 1.6e12 for a in j["audit"])
        assert mariadb.password not in str(j)
        st, j = cm.get("/audit/list", limit="2")
        assert st == 200 and len(j["audit"]) == 2
        assert cm.get("/audit/list", limit="0")[0] == 400
        # The rows survive a CM restart (they are in the metaDB).
        cm.stop()
        cm.start()
        st, j = cm.get("/audit/list")
        assert len(j["audit"]) == 5
    finally:
        cm.cleanup()
