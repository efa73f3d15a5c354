"""Account statements never leave the source: a password given in CREATE
USER, ALTER USER, SET PASSWORD, GRANT ... IDENTIFIED BY or CREATE/ALTER
SERVER appears nowhere in what oxbow writes or serves - a store's whole data
directory (log segments, its log file), its subscribers' output, its status
answer, `oxbow decode` and `oxbow capture` output. The store's white/black
lists apply to every record (issue 14: whitelist=shop.t with
blacklist=mysql.*,shop.* stored ALTER USER)."""

import json
import os

from oxtest import parse_json_lines, run_oxbow

PW = "OxZebraSecret4711"

ACCOUNT_STMTS = [
    "CREATE USER 'sec1'@'%%' IDENTIFIED BY '%s_create'" % PW,
    "ALTER USER 'sec1'@'%%' IDENTIFIED BY '%s_alter'" % PW,
    "SET PASSWORD FOR 'sec1'@'%%' = PASSWORD('%s_setpw')" % PW,
    "GRANT SELECT ON shop.* TO 'sec1'@'%%' IDENTIFIED BY '%s_grant'" % PW,
    "CREATE OR REPLACE USER 'sec2'@'localhost' IDENTIFIED BY '%s_replace'" % PW,
    "/*!50000 CREATE USER 'sec3'@'%%' IDENTIFIED BY '%s_exec' */" % PW,
    "SET STATEMENT max_statement_time=60 FOR ALTER USER 'sec3'@'%%' IDENTIFIED BY '%s_stmt'" % PW,
    "CREATE SERVER srv1 FOREIGN DATA WRAPPER mysql OPTIONS (HOST '127.0.0.1', DATABASE 'shop', "
    "USER 'sec1', PASSWORD '%s_server')" % PW,
    "ALTER SERVER srv1 OPTIONS (PASSWORD '%s_server2')" % PW,
    "DROP USER 'sec3'@'%'",
]


def started(s):
    s.wait_status(lambda st: st["status"] == 0 and "started" in st["errMsg"], what="connected")
    return s


def assert_no_secret_in_dir(path):
    found = []
    for root, _, files in os.walk(path):
        for name in files:
            p = os.path.join(root, name)
            try:
                with open(p, "rb") as f:
                    if PW.encode() in f.read():
                        found.append(p)
            except OSError:
                pass
    assert not found, "password found in %s" % found


def test_account_statements_never_stored_or_served(mariadb, store_factory, tmp_dir):
    mariadb.execute_root("CREATE DATABASE shop", "CREATE TABLE shop.t (id INT PRIMARY KEY)")
    plain = started(store_factory())
    listed = started(store_factory(store__whitelist="shop.t",
                                   store__blacklist="mysql.*,shop.*"))
    sub_plain = plain.subscribe("from=earliest")
    sub_listed = listed.subscribe("from=earliest")
    first_file, first_pos = mariadb.master_status()

    mariadb.execute_root(*ACCOUNT_STMTS)
    # Not an account statement, but a password in its text: the FEDERATED
    # connection string (a table option any engine keeps).
    mariadb.execute_root("CREATE TABLE shop.fed (id INT) CONNECTION="
                         "'mysql://sec1:%s_conn@127.0.0.1:1/shop/t'" % PW)
    mariadb.execute_root("INSERT INTO shop.t VALUES (1)", "CREATE TABLE shop.done (id INT)")

    # The unfiltered subscriber gets the redacted CREATE TABLE, the insert,
    # its commit and the marker DDL, and nothing of the account statements
    # (not even a record).
    recs = sub_plain.take(4)
    assert [r["op"] for r in recs] == ["ddl", "insert", "commit", "ddl"]
    assert recs[0]["table"] == "fed" and "CONNECTION='<redacted>'" in recs[0]["sql"]
    assert recs[3]["table"] == "done"
    assert sub_plain.next(timeout=1.5) is None
    for r in recs:
        assert PW not in json.dumps(r)
    # The listed store keeps nothing (shop.* is blacklisted) and serves
    # nothing, but its position moves (position-only records).
    assert sub_listed.next(timeout=1.5) is None
    st = listed.wait_status(lambda st: st["lastMsgId"] >= 1, what="a position record")
    assert PW not in json.dumps(st)
    assert PW not in json.dumps(plain.status())
    sub_plain.close()
    sub_listed.close()

    # `oxbow capture` from before the statements to the end.
    r = run_oxbow("capture", "--host", mariadb.host, "--port", mariadb.port, "--user",
                  mariadb.user, "--server-id", 4343, "--from-file", first_file, "--from-pos",
                  first_pos, "--until-end", env={"OX_SOURCE_PASSWORD": mariadb.password})
    assert PW.encode() not in r.stdout and PW.encode() not in r.stderr
    cap = parse_json_lines(r.stdout)
    acc = [x for x in cap if x.get("kind") == "account"]
    # MariaDB does not binlog CREATE/ALTER SERVER (MySQL does); every other
    # account statement is one record with nothing but its kind.
    assert len(acc) == len(ACCOUNT_STMTS) - 2
    for x in acc:
        assert set(x) == {"op", "kind", "gtid", "file", "fileIdx", "offset", "nextOffset",
                          "timestamp", "serverId"}, x

    # `oxbow decode` of the binlog file.
    mariadb.execute_root("FLUSH BINARY LOGS")
    r = run_oxbow("decode", mariadb.binlog_path(first_file))
    assert PW.encode() not in r.stdout and PW.encode() not in r.stderr
    dec = parse_json_lines(r.stdout)
    assert len([x for x in dec if x.get("kind") == "account"]) >= len(ACCOUNT_STMTS) - 2

    # Nothing on disk: log segments, indexes, checkpoints, the store's log.
    for s in (plain, listed):
        s.kill()
        assert_no_secret_in_dir(s.dir)
