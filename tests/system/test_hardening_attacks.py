"""Attacks on a production-like process, black-box: one test per finding of the second
hardening round (docs/security.md, "Attacks"), each against a real ``gunicorn -k
eventlet`` process with ``APP_ENV=production`` on a migrated PostgreSQL database.

The module's server trusts one proxy, so each test speaks from addresses of its own
(``X-Forwarded-For``) and the login limits of one test never reach another's.
"""

import base64
import contextlib
import json
import secrets
import socket
import statistics
import threading
import time
import uuid

import pytest
import requests
import websocket

from tests.support.rest import basic_header, issue_token
from tests.support.servers import GunicornServer, NewUser, migrated_postgres_database

PASSWORD = "attack password"
ALLOWED = "https://board.example.com"
LIMITS = {"LOGIN_FAILURES_PER_USERNAME": "5 per minute", "LOGIN_FAILURES_PER_ADDRESS": "8 per minute"}
SETTINGS = {
    "APP_ENV": "production",
    "CORS_ALLOWED_ORIGINS": ALLOWED,
    "TRUSTED_PROXIES": "1",
    "REQUEST_BODY_TIMEOUT": "2",
    "SOCKET_CONNECT_TIMEOUT": "2",
    **LIMITS,
}


def production_server(database, worker=None):
    return GunicornServer(
        database_url=database, secret_key=secrets.token_urlsafe(48), env=SETTINGS, worker=worker
    )


@pytest.fixture(scope="module")
def database():
    with migrated_postgres_database(NewUser(username, PASSWORD) for username in ("ann", "ben")) as url:
        yield url


@pytest.fixture(scope="module")
def server(database):
    with production_server(database) as running:
        yield running
    log = running.log()
    assert "Traceback" not in log, log[-5000:]
    assert "socket shutdown error" not in log, log[-5000:]


def client_address():
    """An address of this test's own, as the trusted proxy would report it."""
    return {
        "X-Forwarded-For": f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    }


def token_of(server, username, headers=None):
    return issue_token(server.url, username, PASSWORD, headers=headers or client_address())


def healthz_seconds(server):
    started = time.monotonic()
    assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
    return time.monotonic() - started


# --- 1. Password guessing -----------------------------------------------------------------


@pytest.mark.server
def test_guessing_through_basic_on_token_revocation_is_throttled_and_tells_nothing(server):
    address = client_address()

    def revoke_with(password):
        return requests.delete(
            server.url + "/api/token", headers={**address, **basic_header("ben", password)}, timeout=10
        )

    right, wrong = revoke_with(PASSWORD), revoke_with("guess 1")
    assert right.status_code == wrong.status_code == 401
    assert right.json() == wrong.json()
    assert right.headers["WWW-Authenticate"] == wrong.headers["WWW-Authenticate"]

    for number in range(2, 6):  # ben's limit is 5 failures, counted with the other ways in
        assert revoke_with(f"guess {number}").status_code == 401
    throttled = [revoke_with("guess 6"), revoke_with(PASSWORD)]
    throttled.append(
        requests.post(
            server.url + "/api/token",
            json={"username": "ben", "password": PASSWORD},
            headers=address,
            timeout=10,
        )
    )
    for response in throttled:
        assert response.status_code == 429, response.text
        assert response.json() == {"message": "Too many failed logins; wait before trying again."}


@pytest.mark.server
def test_password_hashing_does_not_stall_the_process(server):
    """Guessers with fresh usernames and addresses (never throttled, each guess is hashed)
    slow /healthz down by tens of milliseconds, not by the time of the queued hashes."""
    stop = threading.Event()

    def guess():
        session = requests.Session()
        while not stop.is_set():
            headers = {**client_address(), **basic_header(f"nobody-{uuid.uuid4().hex[:8]}", "guess")}
            assert session.get(server.url + "/api/users", headers=headers, timeout=30).status_code == 401

    guessers = [threading.Thread(target=guess, daemon=True) for _ in range(6)]
    for thread in guessers:
        thread.start()
    try:
        time.sleep(0.5)
        latencies = []
        for _ in range(20):
            latencies.append(healthz_seconds(server))
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in guessers:
            thread.join(30)
    assert statistics.median(latencies) < 0.15, latencies
    assert max(latencies) < 1.0, latencies


# --- 2. Connections held without logging in -----------------------------------------------


def wait_closed(sock, timeout):
    """Everything the server sent until it closed ``sock``; fails if it did not within ``timeout``."""
    sock.settimeout(timeout)
    received = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"still open after {timeout} s; received {received[:200]!r}")


def assert_slow_clients_are_cut(server):
    host, port = server.url.removeprefix("http://").split(":")
    with (
        socket.create_connection((host, int(port))) as body_never_sent,
        socket.create_connection((host, int(port))) as headers_never_finished,
    ):
        started = time.monotonic()
        body_never_sent.sendall(
            b"POST /api/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n"
        )
        headers_never_finished.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        assert healthz_seconds(server) < 1.0
        answer = wait_closed(body_never_sent, 6)
        assert 1.5 < time.monotonic() - started < 6
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), answer
        assert json.loads(body) == {"message": "The request body did not arrive within 2 seconds."}
        wait_closed(headers_never_finished, 6)


@pytest.mark.server
def test_slow_bodies_and_sockets_that_never_connect_are_cut(server):
    assert_slow_clients_are_cut(server)

    # An Engine.IO connection that never sends the Socket.IO connect packet is closed.
    silent = websocket.create_connection(
        server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    )
    assert silent.recv().startswith("0")
    started = time.monotonic()
    with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError)):
        while time.monotonic() - started < 8:
            if silent.recv() in ("", None):
                raise ConnectionError
    assert 1.5 < time.monotonic() - started < 6
    silent.close()


@pytest.mark.server
def test_slow_bodies_are_cut_and_passwords_checked_under_the_gevent_worker_too(database):
    with production_server(database, worker="gevent") as gevent_server:
        assert_slow_clients_are_cut(gevent_server)
        assert token_of(gevent_server, "ann")  # a password hashed in gevent's threadpool


# --- 4. One authenticated socket against its process ----------------------------------------


def raw_socket(server, token):
    ws = websocket.create_connection(
        server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    )
    assert ws.recv().startswith("0")
    ws.send("40" + json.dumps({"token": token}))
    assert ws.recv().startswith("40")
    return ws


def closed_within(ws, timeout, send=None):
    """Keep calling ``send`` (if any) until the server closes ``ws``; the seconds it took."""
    started = time.monotonic()
    ws.settimeout(0.05)
    with contextlib.suppress(OSError, websocket.WebSocketConnectionClosedException):
        while time.monotonic() - started < timeout:
            if send is not None:
                send()
            with contextlib.suppress(websocket.WebSocketTimeoutException):
                if ws.recv() == "":
                    break
        else:
            raise AssertionError(f"the socket is still open after {timeout} s")
    return time.monotonic() - started


@pytest.mark.server
def test_a_flooding_socket_or_a_binary_packet_is_cut_and_refused_posts_are_answered(server):
    token = token_of(server, "ann")
    flooder = raw_socket(server, token)
    hint = "42" + json.dumps(["hint", {"task": 1, "action": "dragstart"}])
    assert closed_within(flooder, 5, send=lambda: [flooder.send(hint) for _ in range(100)]) < 5
    assert healthz_seconds(server) < 1.0

    binary = raw_socket(server, token)
    binary.send("451-" + json.dumps(["hint", {"_placeholder": True, "num": 0}]))
    assert closed_within(binary, 5, send=lambda: binary.send_binary(b"\x00" * 60_000)) < 5

    nested = raw_socket(server, token)
    nested.send("42" + "[" * 5000 + "]" * 5000)
    assert closed_within(nested, 5) < 5

    # Long-polling: a POST over the 64 KB message limit is answered, not left hanging.
    opened = requests.get(server.url + "/socket.io/?EIO=4&transport=polling", timeout=5)
    sid = json.loads(opened.text[1:])["sid"]
    url = f"{server.url}/socket.io/?EIO=4&transport=polling&sid={sid}"
    for size in (70_000, 2_000_000):
        refused = requests.post(url, data="4" + "x" * size, timeout=5)
        assert refused.status_code == 413, refused.text
    # A REST body over 1 MB is refused by the app, in its shape and with its headers.
    too_large = requests.post(
        server.url + "/api/token",
        data=b"x" * (1024 * 1024 + 1),
        headers={"Content-Type": "application/json", **client_address()},
        timeout=10,
    )
    assert too_large.status_code == 413
    assert too_large.json() == {"message": "The request body is larger than 1 MB."}
    assert "Content-Security-Policy" in too_large.headers

    # The user is not locked out: a well-behaved socket connects and is answered.
    polite = raw_socket(server, token)
    polite.send("421" + json.dumps(["unsubscribe", {"sprint": 1}]))
    answer = polite.recv()
    assert answer.startswith("431") and json.loads(answer[3:]) == [{"ok": True}], answer
    polite.close()


# --- 6. Malformed text and pathological JSON before login -----------------------------------


@pytest.mark.server
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/token", '{"username": "\\ud800", "password": "x"}'),
        ("/api/token", '{"username": "ann", "password": "\\udfff"}'),
        ("/api/token", "[" * 5000 + "]" * 5000),
        ("/api/token", '{"username": ' * 3000 + "1" + "}" * 3000),
        ("/api/sprints", '{"name": "\\ud800", "end": "2099-01-01"}'),
        ("/api/sprints", "[" * 5000 + "]" * 5000),
    ],
    ids=[
        "surrogate username",
        "surrogate password",
        "5000 deep",
        "3000 deep objects",
        "surrogate name",
        "deep",
    ],
)
def test_malformed_text_and_pathological_json_are_400(server, path, body):
    headers = {"Content-Type": "application/json", **client_address()}
    if path != "/api/token":
        headers["Authorization"] = f"Token {token_of(server, 'ann')}"
    response = requests.post(server.url + path, data=body.encode(), headers=headers, timeout=10)
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"message"}
    # Invalid UTF-8 in HTTP Basic credentials is a failed login, not an error.
    garbled = "Basic " + base64.b64encode(b"\xed\xa0\x80:\xff").decode()
    assert (
        requests.get(server.url + "/api/users", headers={"Authorization": garbled}, timeout=10).status_code
        == 401
    )


@pytest.mark.server
def test_a_socket_token_that_is_not_text_is_refused_like_a_wrong_one(server):
    ws = websocket.create_connection(
        server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    )
    assert ws.recv().startswith("0")
    ws.send('40{"token": "\\ud800"}')
    answer = ws.recv()
    assert answer.startswith("44") and json.loads(answer[2:]) == {"message": "A valid API token is required."}
    ws.close()


# --- 7. Proxy awareness ------------------------------------------------------------------


@pytest.mark.server
def test_behind_a_trusted_proxy_each_client_has_its_own_address_limit(server):
    guesser, other = client_address(), client_address()
    for number in range(8):  # eight usernames: only the address limit is reached
        response = requests.post(
            server.url + "/api/token",
            json={"username": f"someone-{number}", "password": "guess"},
            headers=guesser,
            timeout=10,
        )
        assert response.status_code == 401
    assert (
        requests.post(
            server.url + "/api/token",
            json={"username": "ann", "password": PASSWORD},
            headers=guesser,
            timeout=10,
        ).status_code
        == 429
    )
    assert token_of(server, "ann", headers=other)


# --- 8. Headers -------------------------------------------------------------------------------


@pytest.mark.server
def test_production_headers_pin_transport_and_connections(server):
    response = requests.get(server.url + "/", timeout=10)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    directives = dict(
        part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";")
    )
    connect = directives["connect-src"].split()
    assert "ws:" not in connect and "wss:" not in connect
    own = [origin for origin in connect if origin.startswith("ws://")]
    assert len(own) == 1 and own[0].startswith("ws://127.0.0.1:"), connect  # the page's own origin
    assert set(connect) - set(own) == {"'self'", ALLOWED, ALLOWED.replace("https", "wss")}

    # A websocket closes without leaving a line in the log (checked when the server stops).
    raw_socket(server, token_of(server, "ann")).close()
