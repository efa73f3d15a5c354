"""pytest fixtures built on oxtest.servers; loaded by tests/e2e/conftest.py.

Every server a fixture starts is stopped by PID and its directory removed at
teardown, also when the test fails.
"""

import shutil
import tempfile

import pytest

from . import procs
from .servers import MariaDB, Postgres


def _mariadb_kwargs(param):
    if param is None:
        return {}
    if isinstance(param, str):
        return {"metadata": param}
    return dict(param)


@pytest.fixture
def mariadb(request):
    """A started MariaDB. Indirect parameter: "FULL"/"MINIMAL" (row metadata)
    or a dict of MariaDB() keyword arguments."""
    m = MariaDB(**_mariadb_kwargs(getattr(request, "param", None)))
    try:
        m.start()
        yield m
    finally:
        m.cleanup()


@pytest.fixture
def mariadb_factory():
    """make(**MariaDB kwargs) -> a started MariaDB; all are cleaned up."""
    made = []

    def make(**kw):
        m = MariaDB(**kw)
        made.append(m)
        return m.start()

    try:
        yield make
    finally:
        for m in made:
            m.cleanup()


@pytest.fixture
def postgres(request):
    """A started PostgreSQL 15 (wal_level=logical). Indirect parameter: a
    dict of extra postgresql.conf settings."""
    p = Postgres(extra_conf=getattr(request, "param", None))
    try:
        p.start()
        yield p
    finally:
        p.cleanup()


@pytest.fixture
def postgres_factory():
    """make(**Postgres kwargs) -> a started Postgres; all are cleaned up."""
    made = []

    def make(**kw):
        p = Postgres(**kw)
        made.append(p)
        return p.start()

    try:
        yield make
    finally:
        for p in made:
            p.cleanup()


@pytest.fixture
def tmp_dir():
    """A private temporary directory, removed after the test."""
    d = tempfile.mkdtemp(prefix="oxtest-")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def store_factory(mariadb):
    """make(**store keys) -> a started `oxbow store` (oxtest_store.Store) on
    the test's MariaDB; keys use "__" for ".". All are cleaned up."""
    from oxtest_store import Store
    made = []

    def make(**keys):
        s = Store(mariadb, **keys)
        made.append(s)
        return s.start()

    try:
        yield make
    finally:
        for s in made:
            s.cleanup()


@pytest.fixture
def cm_options():
    """Keyword arguments for the `cm` fixture's oxtest_cm.CM (keys use "__"
    for "."), plus "started": False for a CM the test starts itself. A test
    module that needs other settings overrides this fixture, not `cm`."""
    return {}


@pytest.fixture
def cm(cm_options):
    """An `oxbow cm` (oxtest_cm.CM) on a private directory, started unless
    cm_options says "started": False; stopped by PID and removed after."""
    from oxtest_cm import CM
    opts = dict(cm_options)
    started = opts.pop("started", True)
    c = CM(**opts)
    try:
        yield c.start() if started else c
    finally:
        c.cleanup()


@pytest.fixture(autouse=True)
def _kill_leftover_processes():
    """Kills, by PID, any process a test spawned and left running."""
    before = procs.snapshot()
    yield
    procs.kill_new(before)
