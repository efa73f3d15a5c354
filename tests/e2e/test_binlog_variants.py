"""Differential test on MariaDB settings that the main diff test leaves out.

test_binlog_diff.py checks every column type with full row images. This
file runs the same every-type workload (binlog_workload.py) on servers that
write the binlog differently, decodes it with `oxbow decode` and with
`mariadb-binlog -vv --base64-output=decode-rows`, and compares every value
that both print:

  - log_bin_compress=ON: MariaDB's compressed QUERY and rows events;
  - binlog_row_image=MINIMAL: before images hold the key only, update after
    images the changed columns only;
  - binlog_row_image=NOBLOB: BLOB/TEXT columns left out when unchanged;
  - XA transactions (XA START ... XA PREPARE, then XA COMMIT) and the STOP
    event a clean shutdown writes.

Partial images are compared column by column by index: these servers run
with binlog_row_metadata=MINIMAL, so offline decoding names columns "@N" by
their position in the table, as mariadb-binlog does, and a column missing
from an image must be missing from both.
"""

import re
import subprocess

import pytest

from oxtest import parse_json_lines, run_oxbow
from test_binlog_diff import ROW_OPS, parse_mariadb_binlog, run_workload, value_matches

VARIANTS = {
    "compressed": ["--log-bin-compress=ON", "--log-bin-compress-min-len=10"],
    "row-image-minimal": ["--binlog-row-image=MINIMAL"],
    "row-image-noblob": ["--binlog-row-image=NOBLOB"],
}


def compare_indexed(ours, theirs, table, where):
    assert ours is not None and theirs is not None, where
    assert all(re.fullmatch(r"@\d+", k) for k in ours), (where, list(ours))
    got = {int(k[1:]) for k in ours}
    assert got == set(theirs), "%s: columns %s vs mariadb-binlog %s" % (
        where, sorted(got), sorted(theirs))
    for idx, (tv, typ, is_null) in theirs.items():
        v = ours["@%d" % idx]
        if is_null:
            assert v is None, "%s @%d: expected NULL, got %r" % (where, idx, v)
        else:
            assert value_matches(v, tv, typ, table, "@%d" % idx), \
                "%s @%d (%s): oxbow %r vs mariadb-binlog %r" % (where, idx, typ, v, tv[:80])
    return len(theirs)


def compare(ours_recs, theirs_rows):
    ours_rows = [r for r in ours_recs if r["op"] in ROW_OPS]
    assert len(ours_rows) == len(theirs_rows)
    nvals = 0
    for n, (o, (op, db, table, before, after)) in enumerate(zip(ours_rows, theirs_rows)):
        where = "row change #%d (%s %s.%s)" % (n, op, db, table)
        assert (o["op"], o["db"], o["table"]) == (op, db, table), where
        for key, img in (("before", before), ("after", after)):
            if img is None:
                assert key not in o, where
            else:
                nvals += compare_indexed(o[key], img, table, where + " " + key)
    return len(ours_rows), nvals


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variant_matches_mariadb_binlog(mariadb_factory, variant):
    m = mariadb_factory(metadata="MINIMAL", extra_args=VARIANTS[variant])
    paths = run_workload(m)
    r = run_oxbow("decode", *paths)
    ours = parse_json_lines(r.stdout)
    nrows, nvals = compare(ours, parse_mariadb_binlog(paths, indexed=True))
    assert nrows > 300 and nvals > 1000
    updates = [o for o in ours if o["op"] == "update"]
    if variant == "row-image-minimal":
        # Partial images really are partial: some update has fewer columns
        # in its before image than the table has.
        assert any(len(u["before"]) < len(u["after"]) or len(u["before"]) == 1
                   for u in updates)
    if variant == "compressed":
        # The server did compress: MariaDB's compressed event types are in
        # the file (QUERY_COMPRESSED 165, *_ROWS_COMPRESSED 166-171).
        seen = set()
        for p in paths:
            out = subprocess.run(["mariadb-binlog", "--no-defaults", "--hexdump", p],
                                 stdout=subprocess.PIPE, check=True).stdout
            seen |= set(re.findall(rb"(Query_compressed|\w+_rows_compressed)", out,
                                   flags=re.I))
        assert seen, "no compressed events were written"
        ddl = [o["sql"] for o in ours if o["op"] == "ddl" and "sql" in o]  # account: no text
        assert any("ADD COLUMN extra" in s for s in ddl)


def test_xa_and_stop_event(mariadb_factory):
    m = mariadb_factory(metadata="FULL")
    m.execute_root("CREATE DATABASE xa", "CREATE TABLE xa.t (id INT PRIMARY KEY, v VARCHAR(10))")
    m.client("XA START 'x1'; INSERT INTO xa.t VALUES (1,'one'),(2,'two'); XA END 'x1';"
             "XA PREPARE 'x1'; XA COMMIT 'x1';"
             "XA START 'x2'; INSERT INTO xa.t VALUES (3,'three'); XA END 'x2';"
             "XA PREPARE 'x2'; XA ROLLBACK 'x2';"
             "INSERT INTO xa.t VALUES (4,'four');", db="xa")
    paths = [m.binlog_path(name) for name, _ in m.binlogs()]
    m.stop()  # a clean shutdown ends the binlog with a STOP event
    r = run_oxbow("decode", *paths)
    ours = parse_json_lines(r.stdout)
    rows = [(o["op"], o["after"]["id"]) for o in ours if o["op"] in ROW_OPS]
    theirs = [(op, int(after[0][0])) for op, db, t, before, after in
              parse_mariadb_binlog(paths)]
    assert rows == theirs
    # XA as docs/records.md says: each prepared group ends in a commit with
    # "XA PREPARE", and the later XA COMMIT / XA ROLLBACK (with the xid in
    # hex: x1 = X'7831') follows as its own record, after the group's rows.
    assert rows == [("insert", 1), ("insert", 2), ("insert", 3), ("insert", 4)]
    prepares = [i for i, o in enumerate(ours) if o["op"] == "commit" and
                (o.get("sql") or "").upper().startswith("XA PREPARE")]
    assert len(prepares) == 2
    ends = [(i, o["sql"].upper()) for i, o in enumerate(ours)
            if (o.get("sql") or "").upper().startswith(("XA COMMIT", "XA ROLLBACK"))]
    assert [e for _, e in ends][0].startswith("XA COMMIT X'7831'")
    assert [e for _, e in ends][1].startswith("XA ROLLBACK X'7832'")
    assert prepares[0] < ends[0][0] < prepares[1] < ends[1][0]
    row3 = next(i for i, o in enumerate(ours) if o["op"] == "insert" and o["after"]["id"] == 3)
    assert ends[0][0] < row3 < prepares[1]
