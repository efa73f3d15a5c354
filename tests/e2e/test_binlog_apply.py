"""Second oracle: apply oxbow's decoded change stream to an empty server and
compare CHECKSUM TABLE with the source.

The every-type workload (binlog_workload.py) runs on a source MariaDB; its
binlog is decoded by `oxbow decode` (and, for the live path, captured by
`oxbow capture`). A second, empty MariaDB then replays the records: `ddl`
records of database `dt` as they are (this creates the schema and performs
the mid-stream ALTERs), `begin`/`commit` as transactions, and every row
change as a parameterised INSERT, UPDATE or DELETE built from the before and
after images (UPDATE/DELETE find the row by its primary key, or by all
columns for a table without one). Values go back as the JSON gives them:
numbers, decimal and temporal strings (the session uses time_zone '+00:00'
since TIMESTAMPs are UTC, and sql_mode '' for zero dates), text, base64
bytes, ENUM/SET names or indexes, BIT numbers. Positional column names
("@N", MINIMAL metadata offline) are resolved against the target table's
current columns. If any value were decoded wrongly, a checksum would differ.
"""

import base64

import pytest

import binlog_workload as W
from oxtest import parse_json_lines, run_oxbow


def target_columns(cur, table):
    """(column names in order, primary-key column names) of the target."""
    cur.execute("SELECT COLUMN_NAME, COLUMN_KEY FROM information_schema.COLUMNS WHERE "
                "TABLE_SCHEMA=%s AND TABLE_NAME=%s ORDER BY ORDINAL_POSITION", (W.DB, table))
    rows = cur.fetchall()
    return [r[0] for r in rows], [r[0] for r in rows if r[1] == "PRI"]


def param(v):
    if isinstance(v, dict):
        return base64.b64decode(v["base64"])
    return v


def resolve(cols, img):
    """[(column name, value)] for an image whose keys may be "@N"."""
    out = []
    for k, v in img.items():
        name = cols[int(k[1:]) - 1] if k.startswith("@") else k
        out.append((name, param(v)))
    return out


def where_clause(rec, cols, tpk, before):
    """WHERE text, its parameters and a LIMIT: by the record's primary key,
    else the target table's (MINIMAL metadata has none), else all columns."""
    pk = rec.get("pk")
    if pk:
        pkn = [cols[int(k[1:]) - 1] if k.startswith("@") else k for k in pk]
        assert pkn == tpk, (pkn, tpk)
    else:
        pk = pkn = tpk
    if pk:
        items = [(n, v) for n, v in before if n in pkn]
        assert len(items) == len(pkn)
    else:
        items = before
    sql = " AND ".join("`%s` <=> %%s" % n for n, _ in items)
    return sql, [v for _, v in items], "" if pk else " LIMIT 1"


def apply_stream(target, recs):
    from pymysql.constants import CLIENT
    c = target.root_conn(autocommit=False, client_flag=CLIENT.FOUND_ROWS)
    applied = 0
    with c.cursor() as cur:
        cur.execute("SET sql_mode=''")
        cur.execute("SET time_zone='+00:00'")
        colcache = {}
        for r in recs:
            op = r["op"]
            if op == "ddl":
                if r.get("db") != W.DB:
                    continue
                try:
                    cur.execute("USE `%s`" % W.DB)
                except Exception:
                    pass  # CREATE DATABASE itself
                cur.execute(r["sql"])
                colcache.clear()
                continue
            if op == "begin":
                c.begin()
                continue
            if op == "commit":
                c.commit()
                continue
            if op not in ("insert", "update", "delete") or r["db"] != W.DB:
                continue
            t = r["table"]
            if t not in colcache:
                colcache[t] = target_columns(cur, t)
            cols, tpk = colcache[t]
            if op == "insert":
                after = resolve(cols, r["after"])
                cur.execute("INSERT INTO `%s`.`%s` (%s) VALUES (%s)" % (
                    W.DB, t, ", ".join("`%s`" % n for n, _ in after),
                    ", ".join(["%s"] * len(after))), [v for _, v in after])
            elif op == "update":
                before, after = resolve(cols, r["before"]), resolve(cols, r["after"])
                w, wv, lim = where_clause(r, cols, tpk, before)
                n = cur.execute("UPDATE `%s`.`%s` SET %s WHERE %s%s" % (
                    W.DB, t, ", ".join("`%s` = %%s" % n for n, _ in after), w, lim),
                    [v for _, v in after] + wv)
                assert n == 1, (r, n)
            else:
                before = resolve(cols, r["before"])
                w, wv, lim = where_clause(r, cols, tpk, before)
                n = cur.execute("DELETE FROM `%s`.`%s` WHERE %s%s" % (W.DB, t, w, lim), wv)
                assert n == 1, r
            applied += 1
    c.commit()
    c.close()
    return applied


def checksums(m):
    return {t: m.query("CHECKSUM TABLE `%s`.`%s` EXTENDED" % (W.DB, t))[0][1] for t in W.TABLES}


def counts(m):
    return {t: m.query("SELECT COUNT(*) FROM `%s`.`%s`" % (W.DB, t))[0][0] for t in W.TABLES}


@pytest.mark.parametrize("metadata", ["FULL", "MINIMAL"])
@pytest.mark.parametrize("path", ["decode", "capture"])
def test_apply_decoded_stream_reproduces_tables(mariadb_factory, metadata, path):
    src = mariadb_factory(metadata=metadata)
    src.client(W.sql_text())
    src.query("FLUSH BINARY LOGS")
    if path == "decode":
        out = run_oxbow("decode", *[src.binlog_path(n) for n, _ in src.binlogs()]).stdout
    else:
        out = run_oxbow("capture", "--host", src.host, "--port", src.port, "--user", src.user,
                        "--server-id", 99, "--from-file", src.binlogs()[0][0], "--until-end",
                        env={"OX_SOURCE_PASSWORD": src.password}).stdout
    recs = parse_json_lines(out)
    dst = mariadb_factory(metadata=metadata, server_id=2)
    applied = apply_stream(dst, recs)
    assert applied > 300
    assert counts(dst) == counts(src)
    want = checksums(src)
    assert all(v is not None for v in want.values())
    assert checksums(dst) == want
