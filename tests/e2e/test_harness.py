"""Self-test of the oxtest harness: servers start, answer, and are cleaned up."""
import os

import pytest

from oxtest import MariaDB, pid_alive


@pytest.mark.parametrize("mariadb", ["FULL", "MINIMAL"], indirect=True)
def test_mariadb_fixture(mariadb):
    assert mariadb.query("SELECT @@binlog_row_metadata")[0][0] == mariadb.metadata
    assert mariadb.query("SELECT @@binlog_format")[0][0] == "ROW"
    c = mariadb.conn()
    with c.cursor() as cur:
        cur.execute("SELECT CURRENT_USER()")
        assert cur.fetchone()[0].startswith("ox@")
    c.close()
    assert mariadb.binlogs()


def test_mariadb_restart_and_cleanup():
    m = MariaDB()
    try:
        m.start()
        m.query("CREATE DATABASE keepme")
        pid = m.pid
        m.restart()
        assert not pid_alive(pid)
        assert ("keepme",) in m.query("SHOW DATABASES")
    finally:
        m.cleanup()
    assert not os.path.exists(m.dir)


def test_postgres_fixture(postgres):
    assert postgres.query("SHOW wal_level")[0][0] == "logical"
    pid = postgres.pid
    assert pid and pid_alive(pid)
