"""Child processes started by tests, tracked and cleaned up by PID.

Every process a test starts goes through spawn() so that it is registered
here; kill_pid() and kill_all() end processes by their PID (never by name),
first politely (SIGTERM), then with SIGKILL after a grace period. An atexit
hook kills whatever is still registered if the interpreter exits without the
fixtures' teardown (for example on a KeyboardInterrupt).
"""

import atexit
import os
import signal
import subprocess
import time

_live = {}  # pid -> subprocess.Popen
_servers = set()  # pids owned by a server object, which stops them itself


def spawn(argv, server=False, **kw):
    """Starts argv with subprocess.Popen(**kw) and registers it for cleanup.

    Returns the Popen object. The caller may end it with kill_pid(p.pid) or
    leave it to the per-test cleanup (kill_new) and to kill_all() at exit.
    server=True marks a process whose owner object stops it (a fixture's
    database server), so that kill_new() leaves it alone.
    """
    p = subprocess.Popen(argv, **kw)
    _live[p.pid] = p
    if server:
        _servers.add(p.pid)
    return p


def snapshot():
    """The set of registered PIDs now (for kill_new)."""
    return set(_live)


def kill_new(before):
    """Kills registered non-server processes not in the snapshot `before`."""
    for pid in list(_live):
        if pid not in before and pid not in _servers:
            kill_pid(pid, grace=5.0)


def pid_alive(pid):
    """True if a process with this PID exists (and is not a zombie we own)."""
    p = _live.get(pid)
    if p is not None:
        return p.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kill_pid(pid, sig=signal.SIGTERM, grace=10.0):
    """Sends sig to pid, waits up to grace seconds, then SIGKILLs it.

    Returns the exit status if the process was our child, else None. Safe to
    call for a PID that already exited.
    """
    p = _live.pop(pid, None)
    _servers.discard(pid)
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + grace
    if p is not None:
        try:
            return p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return p.wait()
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return None
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return None


def kill_all():
    """Kills every process spawn() started that is still registered."""
    for pid in list(_live):
        kill_pid(pid, grace=5.0)


atexit.register(kill_all)
