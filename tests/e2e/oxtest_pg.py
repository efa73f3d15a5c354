"""Helpers for the PostgreSQL store tests."""

import time


def wait_slot_active(pg, slot=None, timeout=60):
    """Waits until a replication slot (any, or `slot`) is streaming: the
    store's status says 0 from its start, before capture has connected, and
    a store on a new slot captures what commits after the slot exists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = pg.query("SELECT slot_name FROM pg_replication_slots WHERE active")
        if any(slot is None or r[0] == slot for r in rows):
            return
        time.sleep(0.05)
    raise AssertionError("no active replication slot %s after %d s" % (slot or "", timeout))


def wait_ready(st, pg, slot=None):
    """Store status 0 and its slot streaming."""
    st.wait_status(lambda s: s["status"] == 0, what="normal")
    wait_slot_active(pg, slot)
