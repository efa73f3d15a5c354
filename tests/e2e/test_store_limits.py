"""The store's HTTP server under silent and slow clients: connections that
never complete a request are closed after store.http.request_timeout_ms,
one address cannot take every slot, and this host (the supervisor's status
polls) always finds a reserved slot."""

import json
import os
import resource
import stat
import socket
import time

import pytest

from oxtest.servers import raw_http
from oxtest_store import Store, Subscription


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < want:
        pytest.fail("RLIMIT_NOFILE hard limit %d < %d" % (hard, want))
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def silent(port, n, src_ips):
    socks = []
    for i in range(n):
        s = socket.socket()
        s.bind((src_ips[i % len(src_ips)], 0))
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
        socks.append(s)
    return socks


def closed_by_peer(s, wait):
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except (socket.timeout, TimeoutError):
        return False
    except ConnectionResetError:
        return True


def timed(fn):
    t0 = time.monotonic()
    v = fn()
    return v, time.monotonic() - t0


@pytest.fixture
def store(mariadb):
    s = Store(mariadb, store__http__request_timeout_ms=1500, store__max_subscribers=20,
              store__max_connections_per_ip=8)
    try:
        yield s.start()
    finally:
        s.cleanup()


def test_silent_sockets_do_not_block(store):
    raise_nofile(4096)
    # 300 silent sockets from many addresses, more than every slot (20 + 16).
    socks = silent(store.port, 300, ["127.0.0.%d" % i for i in range(2, 60)])
    try:
        # This host's status poll gets a reserved slot at once.
        st, took = timed(store.status)
        assert st["status"] == 0 and took < 1.0, took
        # The silent ones are cut after the request timeout...
        time.sleep(2.0)
        assert sum(closed_by_peer(s, 0.01) for s in socks) == 300
        # ...and a subscriber from another address gets in.
        sub, took = timed(lambda: Subscription(store.port, "format=json", timeout=5))
        assert sub.status == 200 and took < 1.0
        sub.close()
    finally:
        for s in socks:
            s.close()


def test_local_flood_does_not_block(mariadb):
    """More silent sockets from 127.0.0.1 (no per-address limit: it is this
    host) than every slot, reserved ones included: the oldest silent one is
    closed to make room, so the status poll and a subscriber get in at once,
    long before the request timeout would free anything."""
    raise_nofile(4096)
    s = Store(mariadb, store__http__request_timeout_ms=30000, store__max_subscribers=20)
    try:
        s.start()
        socks = silent(s.port, 400, ["127.0.0.1"])
        try:
            for _ in range(3):
                st, took = timed(s.status)
                assert st["status"] == 0 and took < 1.0, took
                sub, took = timed(lambda: Subscription(s.port, "format=json", timeout=5))
                assert sub.status == 200 and took < 1.0, took
                sub.close()
            # Those evicted were the oldest; at most every slot stays open.
            time.sleep(0.3)
            assert sum(closed_by_peer(x, 0.01) for x in socks) >= 400 - 40
        finally:
            for x in socks:
                x.close()
    finally:
        s.cleanup()


def test_one_address_is_capped(store):
    socks = silent(store.port, 30, ["127.0.0.2"])
    try:
        time.sleep(0.3)
        # Only max_connections_per_ip (8) were taken; the rest closed at once.
        assert sum(closed_by_peer(s, 0.01) for s in socks) >= 22
        sub, took = timed(lambda: Subscription(store.port, "format=json", timeout=5))
        assert sub.status == 200 and took < 1.0
        sub.close()
    finally:
        for s in socks:
            s.close()


def test_trickled_request_is_cut(store):
    s = socket.create_connection(("127.0.0.1", store.port))
    t0 = time.monotonic()
    try:
        for ch in b"GET /v1/status HTTP/1.1\r\nX-Slow: " + b"a" * 50:
            s.sendall(bytes([ch]))
            time.sleep(0.1)
            if time.monotonic() - t0 > 10:
                break
    except (BrokenPipeError, ConnectionResetError):
        pass
    took = time.monotonic() - t0
    assert took < 3.5, took
    assert closed_by_peer(s, 2)
    s.close()
    # A complete request on a kept-alive connection is not cut while idle
    # less than the timeout, and a long subscription is never cut.
    sub = Subscription(store.port, "format=json", timeout=5)
    assert sub.status == 200
    time.sleep(2.5)
    assert store.status()["status"] == 0
    assert sub.next(timeout=4) is None  # keepalives only; the stream is alive
    sub.close()


@pytest.mark.parametrize("target", ["/v1/status%00x", "/v1/subscribe?format=json%00",
                                    "/v1/subscribe?filter=shop.%00orders",
                                    "/v1/subscribe?filter=shop.orders%00"])
def test_encoded_nul_is_refused(store, target):
    st, body = store.get(target)
    assert st == 400, (st, body)
    assert body["isSuccess"] is False and "NUL" in body["errMsg"]
    # The connection's next request is judged on its own.
    assert store.get("/v1/status")[0] == 200


@pytest.mark.parametrize("target", [b"/v1/status\x00x", b"/v1/subscribe?format=json\x00"])
def test_raw_nul_is_refused(store, target):
    """A raw NUL byte in the request target would cut it there."""
    st, head, body = raw_http(store.port, b"GET " + target +
                              b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert st == 400, head
    j = json.loads(body)
    assert j["isSuccess"] is False and "NUL" in j["errMsg"]
    assert store.get("/v1/status")[0] == 200


def test_private_modes_in_an_existing_dir(mariadb):
    s = Store(mariadb)
    data = s.keys["store.dir"]
    os.makedirs(data, mode=0o755)
    os.chmod(data, 0o755)
    try:
        s.start()
        s.wait_status(lambda x: x["status"] == 0, what="running")
        log = os.path.join(data, "log")
        assert stat.S_IMODE(os.stat(log).st_mode) == 0o700
        names = os.listdir(log)
        assert names
        for n in names:
            assert stat.S_IMODE(os.stat(os.path.join(log, n)).st_mode) == 0o600, n
    finally:
        s.cleanup()
