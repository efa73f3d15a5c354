"""The seed's operations guide, command by command, against `oxbow cm`.

CM_URL comes from the seed's awk line on the supervisor's drc.properties;
then the seed's stop (crawler/clear), restart (crawler/restore), status
(crawler/detail) and destroy commands run through bash and curl exactly as
printed in the guide. The state is checked after each one."""

import json
import re
import os
import signal
import time

import pytest

from oxtest import pid_alive
from oxtest_cm import (SEED_DESTROY, SEED_DETAIL, SEED_RESTORE, SEED_STOP, seed_shell,
                       store_status)

# The seed's example response (the crawler/detail shape we must match).
SEED_RESPONSE = json.loads(r'''{
    "crawler":{
        "active":true,
        "cfg":"",
        "checkpoints":[[
            {"checkpoint":"10.10.10.1:1:1663049355:0:1663049354:1","dataSource":"10.10.10.1:1",
             "dbIp":16843009,"dbIpString":"10.10.10.1","dbPort":1,"fileIdx":1663049355,
             "gmt":null,"msgId":1,"offset":0,"timestamp":1663049354},
            {"checkpoint":"10.10.10.1:1:1663295962:662932:1663295962:3940774",
             "dataSource":"10.10.10.1:1","dbIp":16843009,"dbIpString":"10.10.10.1","dbPort":1,
             "fileIdx":1663295962,"gmt":null,"msgId":3940774,"offset":662932,
             "timestamp":1663295962}
        ]],
        "datasource":"10.10.10.1:1",
        "errMsg":"[Fri Sep 16 10:24:07 2022] DRC_500:Store p_4223***_source-000-0.0000000007 started successfully\n",
        "location":"111",
        "name":"10.10.10.1-7104:p_4223****_source-000-0:0000000007",
        "port":17008,
        "role":"master",
        "status":0,
        "userData":""
    },
    "isSuccess":true
}''')


def same_shape(a, b, where="$"):
    """Asserts b has every key of the seed's a, with a's nesting and JSON
    types; b may add keys (issue 9: crawler/detail keeps the seed's shape and
    may add fields)."""
    if a is None or b is None:
        assert a is None and b is None or (a is None) == (b is None), where
        return
    assert type(a) == type(b), "%s: %s vs %s" % (where, type(a), type(b))
    if isinstance(a, dict):
        missing = sorted(set(a) - set(b))
        assert not missing, "%s: seed keys missing: %s" % (where, missing)
        for k in a:
            same_shape(a[k], b[k], where + "." + k)
    elif isinstance(a, list) and a and b:
        assert len(a) == len(b), "%s: %d items vs %d" % (where, len(a), len(b))
        for x, y in zip(a, b):
            same_shape(x, y, where + "[]")


# The fields crawler/detail adds to the seed's, with their JSON types.
ADDED = {"delay": (float,), "rps": (float,), "subscribers": (int,), "restarts": (int,),
         "lastCrash": (str, type(None)), "lastCrashMs": (int,)}


def assert_added(d):
    for k, types in ADDED.items():
        assert k in d, "crawler/detail lacks %s" % k
        assert isinstance(d[k], types) and not isinstance(d[k], bool), (k, d[k])


def test_same_shape_catches_a_missing_or_retyped_seed_key():
    good = json.loads(json.dumps(SEED_RESPONSE))
    good["crawler"]["extra"] = 1
    same_shape(SEED_RESPONSE, good)
    for mutate in (lambda c: c.pop("errMsg"), lambda c: c.update(port="17008"),
                   lambda c: c["checkpoints"][0][0].pop("msgId"),
                   lambda c: c.update(checkpoints=[[]]) or c["checkpoints"][0].append(1)):
        bad = json.loads(json.dumps(SEED_RESPONSE))
        mutate(bad["crawler"])
        with pytest.raises(AssertionError):
            same_shape(SEED_RESPONSE, bad)


def test_seed_commands_verbatim(mariadb, cm):
    mariadb.execute_root("CREATE DATABASE shop",
                         "CREATE TABLE shop.orders (id INT PRIMARY KEY, note VARCHAR(40))")
    cm.create_topic(mariadb, topic="p_4223_source")
    crawler = cm.start_crawler(topic="p_4223_source", userData="seed-test")
    store = crawler["name"]
    assert store.startswith("127.0.0.1-%d:p_4223_source-000-0:" % cm.sv_port)
    assert store.endswith(":0000000001")
    for i in range(5):
        mariadb.execute_root("INSERT INTO shop.orders VALUES (%d, 'n%d')" % (i, i))
    c = cm.wait_status(store, lambda c: c["status"] == 0 and c["checkpoints"] and
                       len(c["checkpoints"][0]) == 2)

    # drc.properties yields the CM URL through the seed's awk line.
    text, cm_url = seed_shell(cm, store, "true")
    assert cm_url == cm.url

    # View the status information of a store.
    out, _ = seed_shell(cm, store, SEED_DETAIL)
    j = json.loads(out)
    same_shape(SEED_RESPONSE, j)
    d = j["crawler"]
    assert_added(d)
    assert d["restarts"] == 0 and d["lastCrash"] is None and d["lastCrashMs"] == 0
    # filters picks the added fields like the seed's.
    f = cm.detail(store, filters="status,restarts,lastCrash")[1]
    assert sorted(f["crawler"]) == ["lastCrash", "restarts", "status"], f
    assert d["active"] is True and d["status"] == 0 and d["role"] == "master"
    assert d["location"] == "111" and d["cfg"] == "" and d["userData"] == "seed-test"
    assert d["name"] == store and d["datasource"] == "%s:%d" % (mariadb.host, mariadb.port)
    # The seed's message names the store "<topic>-000-0.<subId>".
    short = store.split(":", 1)[1].replace(":", ".")
    assert re.match(r"^\[\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\] DRC_500:Store "
                    + re.escape(short) + r" started successfully\n$", d["errMsg"]), d["errMsg"]
    earliest, latest = d["checkpoints"][0]
    assert earliest["dbIpString"] == "127.0.0.1" and earliest["dbIp"] == 2130706433
    assert latest["msgId"] >= earliest["msgId"]
    port = d["port"]
    assert store_status(port)["name"] == store
    pid1 = cm.store_pid(store)
    assert pid1 > 0 and pid_alive(pid1)

    # Stop a store: the process ends, the data and checkpoints stay.
    out, _ = seed_shell(cm, store, SEED_STOP)
    j = json.loads(out)
    assert j["isSuccess"] is True and j["crawler"]["status"] != 0
    deadline = time.monotonic() + 10
    while pid_alive(pid1) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(pid1)
    assert cm.store_pid(store) == 0
    assert os.path.isdir(os.path.join(cm.store_dir(store), "data"))
    d = json.loads(seed_shell(cm, store, SEED_DETAIL)[0])["crawler"]
    assert d["status"] == 1001 and "stopped" in d["errMsg"]
    assert d["checkpoints"][0][1]["msgId"] == latest["msgId"]
    # Stopping again is a defined no-op.
    j = json.loads(seed_shell(cm, store, SEED_STOP)[0])
    assert j["isSuccess"] is True and j["message"] == "already stopped"

    # Rows written while stopped are captured after the restart.
    for i in range(5, 8):
        mariadb.execute_root("INSERT INTO shop.orders VALUES (%d, 'n%d')" % (i, i))

    # Restart a store: from its last checkpoint.
    j = json.loads(seed_shell(cm, store, SEED_RESTORE)[0])
    assert j["isSuccess"] is True
    pid2 = cm.store_pid(store)
    assert pid2 > 0 and pid2 != pid1 and pid_alive(pid2)
    d = cm.wait_status(store, lambda c: c["status"] == 0 and
                       c["checkpoints"][0][1]["msgId"] >= latest["msgId"] + 3)
    assert d["checkpoints"][0][0]["msgId"] == earliest["msgId"]
    j = json.loads(seed_shell(cm, store, SEED_RESTORE)[0])
    assert j["isSuccess"] is True and j["message"] == "already running"

    # Destroy a store: process, data directory and metadata are gone.
    j = json.loads(seed_shell(cm, store, SEED_DESTROY)[0])
    assert j["isSuccess"] is True
    assert not pid_alive(pid2)
    assert not os.path.exists(cm.store_dir(store))
    assert cm.crawlers() == []
    j = json.loads(seed_shell(cm, store, SEED_DETAIL)[0])
    assert j["isSuccess"] is False and "unknown crawler" in j["errMsg"]
    j = json.loads(seed_shell(cm, store, SEED_DESTROY)[0])
    assert j["isSuccess"] is False
    # The password never left the CM through the API or the store's argv/config.
    assert mariadb.password not in cm.log()


def test_detail_shows_a_kill_9_after_the_restart(mariadb, cm):
    """A crash is visible in crawler/detail (restarts, lastCrash) and is not
    replaced by the next "started successfully"."""
    mariadb.execute_root("CREATE DATABASE shop",
                         "CREATE TABLE shop.orders (id INT PRIMARY KEY, note VARCHAR(40))")
    cm.create_topic(mariadb, topic="p_4223_source")
    store = cm.start_crawler(topic="p_4223_source")["name"]
    mariadb.execute_root("INSERT INTO shop.orders VALUES (1, 'a')")
    d = cm.wait_status(store, lambda c: c["status"] == 0)
    assert d["restarts"] == 0 and d["lastCrash"] is None
    pid1 = cm.store_pid(store)
    before_ms = int(time.time() * 1000)
    os.kill(pid1, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pid2 = cm.store_pid(store)
        if pid2 and pid2 != pid1:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("store was not restarted:\n" + cm.log())
    mariadb.execute_root("INSERT INTO shop.orders VALUES (2, 'b')")
    # Running again, errMsg "started successfully", and the crash still shown.
    d = cm.wait_status(store, lambda c: c["status"] == 0 and "started successfully" in c["errMsg"]
                       and c["restarts"] == 1)
    j = json.loads(seed_shell(cm, store, SEED_DETAIL)[0])
    same_shape(SEED_RESPONSE, j)
    d = j["crawler"]
    assert_added(d)
    assert d["status"] == 0 and "started successfully" in d["errMsg"]
    assert d["restarts"] == 1, d
    assert d["lastCrash"] == "killed by signal 9", d
    assert before_ms - 1000 <= d["lastCrashMs"] <= int(time.time() * 1000) + 1000, d
    # Still there later, after more reports (not replaced by a fresh start).
    time.sleep(2.5)
    d = cm.detail(store)[1]["crawler"]
    assert d["status"] == 0 and d["restarts"] == 1 and d["lastCrash"] == "killed by signal 9"
