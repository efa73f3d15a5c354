"""oxtest: the end-to-end test harness shared by every oxbow e2e test.

Import what you need from here (the API is small and kept stable):

  servers:  MariaDB(metadata=, binlog_format=, server_id=, extra_args=),
            Postgres(extra_conf=), free_port(),
            raw_http(port, data, timeout=) -> (status, head, body)
  oxbow:    oxbow_bin(), run_oxbow(*args, input=, env=, timeout=, check=),
            JsonLineReader(proc): .get(timeout), .wait_for(pred, timeout),
            oxbow_json(*args), spawn_oxbow(*args), parse_json_lines(data)
  procs:    spawn(argv, **popen_kw), kill_pid(pid, sig=, grace=), kill_all(),
            pid_alive(pid)

pytest fixtures (registered by tests/e2e/conftest.py, defined in
oxtest/fixtures.py):

  mariadb          a started MariaDB (FULL row metadata; parametrize
                   indirectly with "FULL"/"MINIMAL" or a dict of MariaDB()
                   keyword arguments), cleaned up after the test
  mariadb_factory  make(**MariaDB kwargs) -> started MariaDB; all cleaned up
  postgres         a started PostgreSQL 15 with wal_level=logical
  postgres_factory make(**Postgres kwargs) -> started Postgres
  tmp_dir          a private temporary directory removed afterwards
"""

from .oxbow import (JsonLineReader, oxbow_bin, oxbow_json, parse_json_lines, run_oxbow,
                    spawn_oxbow)
from .procs import kill_all, kill_pid, pid_alive, spawn
from .servers import MariaDB, Postgres, free_port

__all__ = [
    "MariaDB", "Postgres", "free_port", "JsonLineReader", "oxbow_bin", "oxbow_json", "parse_json_lines",
    "run_oxbow", "spawn_oxbow", "spawn", "kill_pid", "kill_all", "pid_alive",
]
