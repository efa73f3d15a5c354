"""The seed's commands verbatim against a PostgreSQL store: a topic with
dbType=postgresql and database=NAME, then the guide's status, stop, restart
and destroy commands through bash and curl. The store's replication slot and
publication are created with the store, kept across stop/restart, and
dropped by destroy."""

import json
import os
import re
import time


from oxtest import pid_alive
from oxtest_pg import wait_slot_active
from oxtest_cm import SEED_DESTROY, SEED_DETAIL, SEED_RESTORE, SEED_STOP, seed_shell
from test_cm_seed import SEED_RESPONSE, same_shape


def slots(pg):
    return pg.query("SELECT slot_name FROM pg_replication_slots")


def test_topic_parameters(postgres, cm):
    st, j = cm.post("/topic/create", topic="t1", dbType="postgresql", host=postgres.host,
                    port=str(postgres.port), username="postgres", password="")
    assert st == 400 and "database" in j["errMsg"], j
    st, j = cm.post("/topic/create", topic="t1", dbType="postgresql", host=postgres.host,
                    port=str(postgres.port), username="postgres", password="",
                    database="a;b")
    assert st == 400, j
    st, j = cm.post("/topic/create", topic="t1", dbType="mysql", host=postgres.host,
                    username="postgres", password="", database="x")
    assert st == 400, j
    st, j = cm.post("/topic/create", topic="t1", dbType="postgresql", host=postgres.host,
                    username="postgres", password="", database="shop")
    assert st == 200 and j["topic"]["port"] == 5432 and j["topic"]["database"] == "shop", j


def test_seed_commands_verbatim_pg(postgres, cm):
    pg = postgres
    pg.password = ""
    pg.query("CREATE DATABASE shop")
    pg.query("CREATE TABLE orders (id int PRIMARY KEY, note varchar(40))", dbname="shop")
    cm.create_topic(pg, topic="p_4223_source", dbType="postgresql", database="shop")
    crawler = cm.start_crawler(topic="p_4223_source", userData="seed-test")
    store = crawler["name"]
    assert store.endswith(":0000000001")
    c = cm.wait_status(store, lambda c: c["status"] == 0)
    wait_slot_active(pg)
    assert len(slots(pg)) == 1
    for i in range(5):
        pg.query("INSERT INTO orders VALUES (%d, 'n%d')" % (i, i), dbname="shop")
    c = cm.wait_status(store, lambda c: c["status"] == 0 and c["checkpoints"] and
                       len(c["checkpoints"][0]) == 2 and c["checkpoints"][0][1]["msgId"] >= 10)

    # The slot's lag and wal_status (extra fields of a PostgreSQL store).
    cm.wait_status(store, lambda c: "sourceWalStatus" in c and "sourceLagBytes" in c)
    out, _ = seed_shell(cm, store, SEED_DETAIL)
    j = json.loads(out)
    same_shape(SEED_RESPONSE, j)
    d = j["crawler"]
    assert d["sourceWalStatus"] == "reserved", d
    assert isinstance(d["sourceLagBytes"], int) and 0 <= d["sourceLagBytes"] < 1 << 30, d
    st, f = cm.detail(store, filters="sourceLagBytes,sourceWalStatus")
    assert st == 200 and set(f["crawler"]) == {"sourceLagBytes", "sourceWalStatus"}, f
    assert d["active"] is True and d["status"] == 0 and d["userData"] == "seed-test"
    assert d["datasource"] == "%s:%d" % (pg.host, pg.port)
    short = store.split(":", 1)[1].replace(":", ".")
    assert re.search(re.escape(short) + r" started successfully\n$", d["errMsg"]), d["errMsg"]
    earliest, latest = d["checkpoints"][0]
    # fileIdx:offset are the two halves of the commit's end LSN.
    lsn = (latest["fileIdx"] << 32) | latest["offset"]
    cur = int(pg.query("SELECT (pg_current_wal_lsn() - '0/0')::bigint")[0][0])
    assert 0 < lsn <= cur
    pid1 = cm.store_pid(store)

    out, _ = seed_shell(cm, store, SEED_STOP)
    assert json.loads(out)["isSuccess"] is True
    deadline = time.monotonic() + 10
    while pid_alive(pid1) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(pid1)
    assert len(slots(pg)) == 1, "the slot is kept while the store is stopped"
    for i in range(5, 8):
        pg.query("INSERT INTO orders VALUES (%d, 'n%d')" % (i, i), dbname="shop")

    j = json.loads(seed_shell(cm, store, SEED_RESTORE)[0])
    assert j["isSuccess"] is True
    d = cm.wait_status(store, lambda c: c["status"] == 0 and
                       c["checkpoints"][0][1]["msgId"] >= latest["msgId"] + 6)
    assert d["checkpoints"][0][0]["msgId"] == earliest["msgId"]
    assert len(slots(pg)) == 1

    j = json.loads(seed_shell(cm, store, SEED_DESTROY)[0])
    assert j["isSuccess"] is True
    assert not os.path.exists(cm.store_dir(store))
    deadline = time.monotonic() + 10
    while slots(pg) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert slots(pg) == [], "destroy drops the store's slot"
    assert pg.query("SELECT pubname FROM pg_publication", dbname="shop") == []
    j = json.loads(seed_shell(cm, store, SEED_DETAIL)[0])
    assert j["isSuccess"] is False
