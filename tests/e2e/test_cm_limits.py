"""The CM's HTTP server under idle and oversized clients: thousands of idle
connections (more than select() can watch) leave the API answering, one
address cannot take every slot, silent connections time out, and requests
too large to serve are answered in the API's JSON error shape."""

import json
import resource
import socket
import time

import pytest

from oxtest.servers import raw_http
from oxtest_cm import CM


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < want:
        pytest.fail("RLIMIT_NOFILE hard limit %d < %d: raise it for the test run" % (hard, want))
    if soft == resource.RLIM_INFINITY or soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def idle_connections(port, n, src_ips):
    """Opens n TCP connections to the CM that never send a byte, spread over
    the loopback source addresses src_ips."""
    socks = []
    for i in range(n):
        s = socket.socket()
        s.bind((src_ips[i % len(src_ips)], 0))
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
        socks.append(s)
    return socks


def raw(port, data, timeout=10):
    """Sends raw bytes, returns (status, headers text, body bytes)."""
    return raw_http(port, data, timeout)


def timed_health(cm):
    t0 = time.monotonic()
    st, j = cm.get("/cm/health")
    return st, j, time.monotonic() - t0


@pytest.fixture
def cm_options():
    return {"cm__supervisor": "false", "started": False}  # each test starts it


def test_5000_idle_connections(cm):
    raise_nofile(12000)
    cm.start()
    # The CM takes the hard descriptor limit as its own.
    with open("/proc/%d/limits" % cm.proc.pid) as f:
        line = [l for l in f if l.startswith("Max open files")][0].split()
    assert line[3] == line[4], line
    socks = idle_connections(cm.port, 5000, ["127.0.0.%d" % i for i in range(2, 12)])
    try:
        time.sleep(0.5)
        for _ in range(5):
            st, j, took = timed_health(cm)
            assert st == 200 and j["isSuccess"] is True
            assert took < 2.0, took
        st, j = cm.post("/topic/delete", topic="nope")
        assert st == 404 and j["isSuccess"] is False
    finally:
        for s in socks:
            s.close()


def test_one_address_cannot_take_every_slot(tmp_dir):
    raise_nofile(12000)
    c = CM(cm__supervisor="false", cm__http__max_connections_per_ip=100)
    try:
        c.start()
        socks = idle_connections(c.port, 400, ["127.0.0.2"])
        try:
            time.sleep(0.5)
            # Those beyond the per-address limit were closed by the CM.
            closed = 0
            for s in socks:
                s.settimeout(0.01)
                try:
                    if s.recv(1) == b"":
                        closed += 1
                except (socket.timeout, BlockingIOError):
                    pass
                except ConnectionResetError:
                    closed += 1
            assert closed >= 290, closed
            st, j, took = timed_health(c)
            assert st == 200 and took < 2.0
        finally:
            for s in socks:
                s.close()
    finally:
        c.cleanup()


def test_silent_connection_times_out(tmp_dir):
    c = CM(cm__supervisor="false", cm__http__timeout_s=1)
    try:
        c.start()
        s = socket.create_connection(("127.0.0.1", c.port))
        s.sendall(b"GET /cm/health HTTP/1.1\r\n")  # never finished
        s.settimeout(10)
        t0 = time.monotonic()
        try:
            data = s.recv(1)
        except ConnectionResetError:
            data = b""
        assert data == b"" and time.monotonic() - t0 < 5
        s.close()
    finally:
        c.cleanup()


@pytest.mark.parametrize("size", [100000, 200000, 1 << 20])
@pytest.mark.parametrize("what", ["uri", "header", "lines"])
def test_oversized_request_is_json(cm, what, size):
    """Heads of any size get the API's JSON error, never libmicrohttpd's
    HTML page (which it gives for a head larger than its connection memory)."""
    cm.start()
    if what == "uri":
        req = (b"GET /crawler/detail?crawler=" + b"x" * size +
               b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        want = 414
    elif what == "header":
        req = (b"GET /cm/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"y" * size +
               b"\r\nConnection: close\r\n\r\n")
        want = 431
    else:  # many short header lines
        req = (b"GET /cm/health HTTP/1.1\r\nHost: x\r\n" + b"X: y\r\n" * (size // 6) +
               b"Connection: close\r\n\r\n")
        want = 431
    st, head, body = raw(cm.port, req)
    assert st == want, head
    assert "application/json" in head
    j = json.loads(body)
    assert j["isSuccess"] is False and j["errMsg"]
    st, _, _ = raw(cm.port, b"GET /cm/health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert st == 200


@pytest.mark.parametrize("what", ["uri", "header", "lines"])
def test_largest_allowed_head_is_served(cm, what):
    """A head just within the guard's limits (16 KiB, 100 lines) fits the
    server's connection memory: it is routed, not refused with HTML."""
    cm.start()
    if what == "uri":
        line = b"GET /crawler/detail?crawler=" + b"x" * 16000 + b" HTTP/1.1\r\n"
        req = line + b"Host: x\r\n" + b"X: " + b"y" * (16384 - len(line) - 20) + b"\r\n\r\n"
    elif what == "header":
        req = b"GET /cm/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"y" * 16200 + b"\r\n\r\n"
    else:
        req = b"GET /cm/health HTTP/1.1\r\nHost: x\r\n" + b"X-Header-Line: yyyyyyyy\r\n" * 97 + b"\r\n"
    assert len(req) <= 16384, len(req)
    st, head, body = raw(cm.port, req)
    assert st in (200, 400, 404), head
    assert "application/json" in head
    assert "Connection: close" in head
    json.loads(body)


def test_encoded_nul_in_path_is_refused(cm):
    cm.start()
    st, j = cm.request("GET", "/cm/health%00x")
    assert st == 400 and j["isSuccess"] is False and "NUL" in j["errMsg"]


@pytest.mark.parametrize("target", [b"/cm/health\x00x", b"/cm/hea\x00lth", b"/cm/health?\x00"])
def test_raw_nul_in_target_is_refused(cm, target):
    """libmicrohttpd keeps a raw NUL byte in the request target, which would
    cut the path there (/cm/health\\0x served as /cm/health)."""
    cm.start()
    st, head, body = raw(cm.port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n"
                         b"Connection: close\r\n\r\n")
    assert st == 400, head
    assert "application/json" in head
    j = json.loads(body)
    assert j["isSuccess"] is False and "NUL" in j["errMsg"]
    # A request without one is served as before.
    st, _, _ = raw(cm.port, b"GET /cm/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert st == 200


def test_malformed_requests_log_at_a_bounded_rate(cm):
    cm.start()
    for _ in range(200):
        raw(cm.port, b"GET /cm/health HTTP/1.1\r\nHost: x\r\nbad header line\r\n\r\n")
    time.sleep(1.2)
    raw(cm.port, b"GET /cm/health HTTP/1.1\r\nHost: x\r\nbad header line\r\n\r\n")
    time.sleep(0.3)
    lines = [l for l in cm.log().splitlines() if "oxbow cm: http:" in l]
    assert 1 <= len(lines) <= 15, lines
    assert "suppressed" in lines[-1]
