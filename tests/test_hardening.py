"""Hardening: login throttling, security headers, cross-origin access, production
configuration checks, and the limits that protect a live server from one bad socket.

The first parts run in process against the test app. The ``server`` parts start
real ``gunicorn -k eventlet`` processes on a migrated PostgreSQL database (and,
for the Redis tests, a redis-server of their own with a small TCP proxy in
front of it, so that a connection can be made to hang) and talk to them with
python-socketio clients over websockets. Every wait is bounded; every process
started here is stopped by its own id.
"""

import contextlib
import itertools
import json
import re
import secrets
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime

import pytest
import redis
import requests
import socketio

from app import create_app
from app.security import InsecureConfiguration
from config import ProductionConfig, TestingConfig
from tests.socket_helpers import Socket
from tests.support import services
from tests.support.live import STEP, WAIT, LiveClient, live_clients
from tests.support.rest import RestClient, basic_header, issue_token, token_answer, token_header
from tests.support.servers import (
    ROOT,
    GunicornServer,
    NewUser,
    ServerError,
    app_environment,
    free_port,
    http_get,
    migrated_postgres_database,
)

TOO_MANY = "Too many failed logins; wait before trying again."


# --- 1. Login throttling ----------------------------------------------------------------


@pytest.fixture
def throttled(app, make_user):
    """Small limits, so a test can reach them: 3 failures per username, 6 per address."""
    app.config["LOGIN_FAILURES_PER_USERNAME"] = "3 per minute"
    app.config["LOGIN_FAILURES_PER_ADDRESS"] = "6 per minute"
    for username in ("alice", "bob"):
        make_user(username, password=f"{username} password")
    return app


def login(client, username, password, address, form=False):
    credentials = {"username": username, "password": password}
    body = {"data": credentials} if form else {"json": credentials}
    return client.post("/api/token", environ_base={"REMOTE_ADDR": address}, **body)


def assert_throttled(response):
    assert response.status_code == 429, response.get_data(as_text=True)
    assert response.get_json() == {"message": TOO_MANY}
    retry_after = response.headers.get("Retry-After")
    assert retry_after is not None and retry_after.isdigit(), dict(response.headers)
    assert 0 < int(retry_after) <= 60
    assert_security_headers(response)


def test_failed_logins_for_one_username_are_throttled_from_any_address(client, throttled):
    # Three failures, each from another address, one of them as a form body.
    assert login(client, "alice", "guess 1", "10.0.1.1").status_code == 401
    assert login(client, "alice", "guess 2", "10.0.1.2", form=True).status_code == 401
    assert login(client, "alice", "guess 3", "10.0.1.3").status_code == 401

    # Now alice's account refuses every password attempt for a while, even the right one,
    # through either way of presenting it, and whatever the case of the username.
    assert_throttled(login(client, "alice", "guess 4", "10.0.1.4"))
    assert_throttled(login(client, "alice", "alice password", "10.0.1.5"))
    assert_throttled(login(client, "ALICE", "guess 5", "10.0.1.6"))
    assert_throttled(client.get("/api/users", headers=basic_header("alice", "alice password")))

    # Another user logs in from the very same addresses.
    for address in ("10.0.1.1", "10.0.1.4"):
        response = login(client, "bob", "bob password", address)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert (
            client.get("/api/users/bob", headers=token_header(response.get_json()["token"])).status_code
            == 200
        )


def test_failed_logins_from_one_address_are_throttled_for_any_username(client, throttled, make_token):
    for number in range(6):  # six different usernames: no account reaches its own limit
        assert login(client, f"nobody{number}", "guess", "10.0.2.1").status_code == 401

    assert_throttled(login(client, "nobody9", "guess", "10.0.2.1"))
    assert_throttled(login(client, "bob", "bob password", "10.0.2.1"))

    # bob logs in from elsewhere; tokens keep working from the throttled address (only
    # password attempts are throttled).
    response = login(client, "bob", "bob password", "10.0.2.2")
    assert response.status_code == 200
    token = response.get_json()["token"]
    answer = client.get("/api/users", headers=token_header(token), environ_base={"REMOTE_ADDR": "10.0.2.1"})
    assert answer.status_code == 200


def test_http_basic_failures_count_with_token_failures(client, throttled):
    """Basic authentication is accepted on every route: guessing through it is throttled too."""
    for _ in range(2):
        response = client.get(
            "/api/sprints", headers=basic_header("alice", "guess"), environ_base={"REMOTE_ADDR": "10.0.3.1"}
        )
        assert response.status_code == 401
    assert login(client, "alice", "guess", "10.0.3.2").status_code == 401

    assert_throttled(login(client, "alice", "alice password", "10.0.3.3"))
    assert_throttled(client.get("/api/sprints", headers=basic_header("alice", "alice password")))
    assert client.get("/api/sprints", headers=basic_header("bob", "bob password")).status_code == 200


def test_successful_logins_are_not_counted(client, throttled):
    for _ in range(10):
        assert login(client, "bob", "bob password", "10.0.4.1").status_code == 200
        assert client.get("/api/users", headers=basic_header("bob", "bob password")).status_code == 200


# --- 2. Security headers ----------------------------------------------------------------


def csp_directives(response):
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"no Content-Security-Policy on {response.status_code} {dict(response.headers)}"
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_security_headers(response):
    csp = csp_directives(response)
    assert csp["default-src"] == ["'self'"]
    script = csp.get("script-src", csp["default-src"])
    for unsafe in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"):
        assert unsafe not in script, csp
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin")
    assert response.headers.get("X-Frame-Options") == "DENY"


@pytest.mark.parametrize(
    ("method", "url", "credentials", "status", "extra"),
    [
        ("get", "/", False, 200, {}),
        ("get", "/api/docs", False, 200, {}),
        ("get", "/api/swagger.json", False, 200, {}),
        ("get", "/healthz", False, 200, {}),
        ("get", "/api/sprints", True, 200, {}),
        ("post", "/api/sprints", True, 201, {"json": {"name": "Headers", "end": "2099-01-01"}}),
        ("get", "/api/sprints", False, 401, {}),
        ("get", "/api/sprints/4242", True, 404, {}),
        ("get", "/no/such/page", False, 404, {}),
        ("post", "/api/users", True, 405, {"json": {}}),
        ("delete", "/api/sprints", True, 405, {}),
        ("post", "/api/sprints", True, 400, {"data": "{not json", "content_type": "application/json"}),
        (
            "post",
            "/api/sprints",
            True,
            413,
            {"data": "x" * (1024 * 1024 + 1), "content_type": "application/json"},
        ),
        ("post", "/api/sprints", True, 415, {"data": "name=x", "content_type": "text/plain"}),
    ],
)
def test_every_answer_carries_the_security_headers(client, headers, method, url, credentials, status, extra):
    response = getattr(client, method)(url, headers=headers if credentials else {}, **extra)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert_security_headers(response)
    if status >= 400 and url.startswith("/api/"):
        assert response.is_json and "message" in response.get_json()


@pytest.mark.parametrize("url", ["/", "/api/docs"])
def test_pages_need_no_inline_script_or_style(client, url):
    """The policy forbids inline script and style; the pages must not depend on them."""
    html = client.get(url).get_data(as_text=True)
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert re.findall(r"<style\b", html) == []
    assert re.findall(r"\son[a-z]+\s*=", html) == []  # no onclick= and the like
    assert "javascript:" not in html


# --- 3. Cross-origin access -------------------------------------------------------------

ALLOWED = "https://board.example.com"


@pytest.fixture
def cors_client(app, database_uri):
    """A client of an app that allows one other origin (the ``app`` fixture empties the tables)."""
    cors_app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=database_uri, CORS_ALLOWED_ORIGINS=[ALLOWED])
    yield cors_app.test_client()
    cors_app.extensions["realtime"].stop()


def test_an_allowed_origin_may_call_the_api(cors_client, headers):
    response = cors_client.get("/api/sprints", headers={**headers, "Origin": ALLOWED})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Origin" in response.headers.get("Vary", "")
    assert {"ETag", "Location", "Retry-After"} <= set(
        response.headers["Access-Control-Expose-Headers"].replace(" ", "").split(",")
    )
    assert "Access-Control-Allow-Credentials" not in response.headers  # tokens, never cookies
    # Errors are readable by that origin too.
    unauthorized = cors_client.get("/api/sprints", headers={"Origin": ALLOWED})
    assert unauthorized.status_code == 401
    assert unauthorized.headers["Access-Control-Allow-Origin"] == ALLOWED

    # The preflight for a conditional PATCH needs no credentials and names what is allowed.
    preflight = cors_client.options(
        "/api/sprints/1",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, content-type, if-match",
        },
    )
    assert preflight.status_code in (200, 204)
    assert preflight.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "PATCH" in preflight.headers["Access-Control-Allow-Methods"]
    allowed_headers = preflight.headers["Access-Control-Allow-Headers"].lower()
    assert {"authorization", "content-type", "if-match"} <= set(allowed_headers.replace(" ", "").split(","))


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "null",
        "http://board.example.com",  # another scheme
        "https://board.example.com:8443",  # another port
        "https://board.example.com.evil.example",  # a prefix match would let this in
        "https://evil.example/https://board.example.com",
    ],
)
def test_a_foreign_origin_gets_no_cross_origin_access(cors_client, headers, origin):
    response = cors_client.get("/api/sprints", headers={**headers, "Origin": origin})
    assert response.status_code == 200  # answered, but a browser will not let the page read it
    assert not any(name.startswith("Access-Control-") for name, _ in response.headers.items())
    preflight = cors_client.options(
        "/api/sprints", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_cross_origin_access_is_for_the_api_only_and_off_by_default(cors_client, client, headers):
    assert "Access-Control-Allow-Origin" not in cors_client.get("/", headers={"Origin": ALLOWED}).headers
    assert (
        "Access-Control-Allow-Origin" not in cors_client.get("/healthz", headers={"Origin": ALLOWED}).headers
    )
    # The default configuration allows no other origin at all.
    response = client.get("/api/sprints", headers={**headers, "Origin": ALLOWED})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


# --- 3b. Socket limits, in process -------------------------------------------------------


def test_a_subscribe_flood_is_cut_and_the_socket_may_go_on_later(app, make_sprint, alice, make_token):
    """In process: ``subscribe`` is limited per socket to bursts of 10, then 5 a second."""
    sprint = make_sprint()
    socket_ = Socket(app, make_token(alice))
    try:
        acks = [socket_.subscribe(sprint) for _ in range(30)]
        accepted = [ack for ack in acks if ack.get("ok") is True]
        refused = [ack for ack in acks if ack.get("ok") is False]
        assert acks[:10] == accepted[:10] and len(accepted) >= 10, acks
        assert len(accepted) < 20 and refused, acks
        assert {ack["error"] for ack in refused} == {"Too many requests; slow down."}
        time.sleep(0.5)
        assert socket_.subscribe(sprint)["ok"] is True
    finally:
        socket_.disconnect()


# --- 4. Production configuration ----------------------------------------------------------

STRONG_KEY = secrets.token_urlsafe(48)
REFUSED_SETTINGS = [
    pytest.param({"SECRET_KEY": None}, "SECRET_KEY must be set in production", id="missing key"),
    pytest.param({"SECRET_KEY": ""}, "SECRET_KEY must be set in production", id="empty key"),
    pytest.param({"SECRET_KEY": "changeme"}, "SECRET_KEY is too weak", id="well-known key"),
    pytest.param({"SECRET_KEY": "testing-secret-key"}, "SECRET_KEY is too weak", id="the test suite's key"),
    pytest.param({"SECRET_KEY": "Sh0rt-but-R4ndom!"}, "SECRET_KEY is too weak", id="short key"),
    pytest.param({"SECRET_KEY": "ab" * 32}, "SECRET_KEY is too weak", id="repetitive key"),
    pytest.param(
        {"SECRET_KEY": STRONG_KEY, "CORS_ALLOWED_ORIGINS": ["*"]}, "CORS_ALLOWED_ORIGINS=*", id="any origin"
    ),
    pytest.param(
        {"SECRET_KEY": STRONG_KEY, "CORS_ALLOWED_ORIGINS": [ALLOWED, "*"]},
        "CORS_ALLOWED_ORIGINS=*",
        id="any origin among others",
    ),
]
# Settings that would otherwise come from the environment of the test run.
PRODUCTION_OVERRIDES = {"SOCKETIO_ASYNC_MODE": "threading", "REDIS_URL": None, "CORS_ALLOWED_ORIGINS": []}


@pytest.mark.parametrize(("settings", "reason"), REFUSED_SETTINGS)
def test_production_refuses_unsafe_settings(database_uri, settings, reason):
    with pytest.raises(InsecureConfiguration, match=re.escape(reason)) as refusal:
        create_app(
            ProductionConfig, SQLALCHEMY_DATABASE_URI=database_uri, **{**PRODUCTION_OVERRIDES, **settings}
        )
    assert len(str(refusal.value)) > len(reason) + 20, "the message should also say what to do"


def test_production_starts_with_a_strong_key(database_uri):
    app = create_app(
        ProductionConfig,
        SQLALCHEMY_DATABASE_URI=database_uri,
        **{**PRODUCTION_OVERRIDES, "SECRET_KEY": STRONG_KEY, "CORS_ALLOWED_ORIGINS": [ALLOWED]},
    )
    try:
        assert app.config["SECRET_KEY"] == STRONG_KEY
        assert app.test_client().get("/healthz").status_code == 200
    finally:
        app.extensions["realtime"].stop()


def _import_wsgi(tmp_path, secret_key, env=None):
    """``import wsgi`` in a fresh interpreter with APP_ENV=production, as gunicorn would."""
    database_url = "sqlite:///" + str(tmp_path / "production.sqlite3")
    environment = app_environment(database_url, secret_key=secret_key)
    environment.pop("CORS_ALLOWED_ORIGINS", None)
    environment.update({"APP_ENV": "production", **(env or {})})
    return subprocess.run(
        [sys.executable, "-c", "import wsgi; print('started', wsgi.app.config['PRODUCTION'])"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("secret_key", "env", "reason"),
    [
        pytest.param(None, {}, "SECRET_KEY must be set in production", id="missing key"),
        pytest.param("changeme", {}, "SECRET_KEY is too weak", id="weak key"),
        pytest.param(STRONG_KEY, {"CORS_ALLOWED_ORIGINS": "*"}, "CORS_ALLOWED_ORIGINS=*", id="any origin"),
    ],
)
@pytest.mark.slow
def test_production_process_refuses_to_start_and_says_why(tmp_path, secret_key, env, reason):
    result = _import_wsgi(tmp_path, secret_key, env)
    assert result.returncode != 0, result.stdout
    assert "InsecureConfiguration" in result.stderr
    assert reason in result.stderr, result.stderr[-2000:]
    assert "started" not in result.stdout


@pytest.mark.slow
def test_production_process_starts_with_a_strong_key(tmp_path):
    result = _import_wsgi(tmp_path, STRONG_KEY, {"CORS_ALLOWED_ORIGINS": ALLOWED})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "started True"


@pytest.mark.server
def test_gunicorn_does_not_serve_with_a_weak_key_in_production(tmp_path):
    server = GunicornServer(
        database_url="sqlite:///" + str(tmp_path / "refused.sqlite3"),
        secret_key="changeme",
        env={"APP_ENV": "production"},
        startup_timeout=30,
    )
    try:
        with pytest.raises(ServerError) as refusal:
            server.start()
        assert "SECRET_KEY is too weak" in str(refusal.value)
    finally:
        server.close()


# --- 5. Real servers: one bad socket among good ones ----------------------------------------

PASSWORD = "hardening password"
USERS = ("ann", "ben", "cat")


@pytest.fixture
def live():
    with live_clients() as connect:
        yield connect


def new_board(rest, tasks=1):
    sprint = rest.sprint("Hardening")["id"]
    return sprint, [rest.task(f"T{n}", sprint)["id"] for n in range(tasks)]


def assert_clean_log(server):
    log = server.log()
    assert "Traceback" not in log, log[-5000:]


@pytest.fixture(scope="module")
def database():
    """A migrated PostgreSQL database with three users, for every server in this module."""
    with migrated_postgres_database(NewUser(username, PASSWORD) for username in USERS) as url:
        yield url


@pytest.fixture(scope="module")
def server(database):
    with GunicornServer(database_url=database) as running:
        yield running
    assert_clean_log(running)


@pytest.mark.server
def test_an_oversized_socket_message_closes_that_socket_only(server, live):
    rest = RestClient.signed_in(server.url, "ann", PASSWORD)
    board, (task,) = new_board(rest)
    ben = issue_token(server.url, "ben", PASSWORD)
    sender = live(server, ben, "sender", subscribe=board)
    bystander = live(server, ben, "bystander", subscribe=board)

    # Just under the limit (64 KB): an ordinary refusal, and the socket stays.
    ack = sender.call("hint", {"task": task, "action": "x" * 60_000})
    assert ack["ok"] is False
    assert sender.sio.connected

    # Over it: the server closes that socket.
    sender.sio.emit("hint", {"task": task, "action": "x" * 70_000})
    assert sender.disconnected.wait(WAIT), "the socket that sent 70 KB is still open"

    # The other socket on the same server and board is untouched and still gets changes.
    assert bystander.sio.connected and not bystander.disconnected.is_set()
    renamed = rest.call("PATCH", f"/api/tasks/{task}", 200, {"name": "After the big message"})
    _, change = bystander.wait_for("change", lambda c: c["id"] == task and c["action"] == "update")
    assert change["body"] == renamed
    assert bystander.call("hint", {"task": task, "action": "drop"}) == {"ok": True}
    assert http_get(server.url + "/healthz")[0] == 200
    # And the user may simply connect again.
    assert live(server, ben, "sender again", subscribe=board).sio.connected


FLOOD_RATE = 1000  # hints a second from one socket: a hundred times what it may send


@pytest.mark.server
def test_a_hint_flood_is_cut_without_delaying_other_sockets(server, live):
    rest = RestClient.signed_in(server.url, "ann", PASSWORD)
    board, (task, other_task) = new_board(rest, tasks=2)
    cat = issue_token(server.url, "cat", PASSWORD)
    flooder = live(server, cat, "flooder", subscribe=board)
    watcher = live(server, issue_token(server.url, "ben", PASSWORD), "watcher", subscribe=board)

    acks, stop, sent = [], threading.Event(), itertools.count(1)
    hint = {"task": task, "action": "dragstart"}

    def flood():
        started = time.monotonic()
        while not stop.is_set() and flooder.sio.connected:
            number = next(sent)
            with contextlib.suppress(socketio.exceptions.SocketIOError):
                flooder.sio.emit("hint", hint, callback=acks.append)
            ahead = started + number / FLOOD_RATE - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)

    thread = threading.Thread(target=flood, daemon=True)
    started = time.monotonic()
    thread.start()
    latencies = []
    try:
        time.sleep(0.3)  # the flood is under way
        for number in range(5):
            before = time.monotonic()
            rest.call("PATCH", f"/api/tasks/{other_task}", 200, {"order": number + 1})
            index, _ = watcher.wait_for(
                "change", lambda c, n=number: c["id"] == other_task and c["body"]["order"] == n + 1
            )
            latencies.append(watcher.arrival(index) - before)
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(10)
    flood_seconds = time.monotonic() - started

    # A socket that goes on sending far past its limits is disconnected, within a second.
    assert flooder.disconnected.wait(WAIT), "the flooding socket is still connected"
    assert flooder.disconnected_at - (time.time() - (time.monotonic() - started)) < 1.0
    # Meanwhile every write reached the other socket within a second.
    assert max(latencies) < 1.0, latencies

    # Until then a burst of 20 and 10 a second went through and the rest was refused (the
    # acks of the last ones are lost with the socket); only accepted hints were relayed.
    accepted = [ack for ack in acks if ack == {"ok": True}]
    refused = [ack for ack in acks if ack.get("ok") is False]
    assert len(accepted) + len(refused) == len(acks), acks[:5]
    assert {ack["error"] for ack in refused} <= {"Too many hints; slow down."}
    time.sleep(0.5)
    relayed = [hint for _, hint in watcher.find("hint") if hint["action"] == "dragstart"]
    assert len(accepted) <= len(relayed) <= 20 + 10 * flood_seconds + 5, (
        len(accepted),
        len(relayed),
        acks[:3],
    )
    assert watcher.sio.connected and not watcher.disconnected.is_set()

    # The user is not locked out: a new socket's hints go through.
    again = live(server, cat, "flooder again", subscribe=board)
    assert again.call("hint", {"task": task, "action": "drop"}) == {"ok": True}
    watcher.wait_for("hint", lambda h: h["action"] == "drop")


@pytest.mark.server
def test_a_socket_is_disconnected_soon_after_its_token_expires(database, live):
    with GunicornServer(database_url=database, env={"TOKEN_TTL": "5", "HOUSEKEEPING_INTERVAL": "1"}) as short:
        board, _ = new_board(RestClient.signed_in(short.url, "ann", PASSWORD))
        first = token_answer(short.url, "ben", PASSWORD)
        early = live(short, first["token"], "first token", subscribe=board)
        time.sleep(2.5)
        second = token_answer(short.url, "ben", PASSWORD)
        late = live(short, second["token"], "second token", subscribe=board)

        first_expiry = datetime.fromisoformat(first["expires"]).timestamp()
        second_expiry = datetime.fromisoformat(second["expires"]).timestamp()
        assert early.disconnected.wait(first_expiry - time.time() + 4), (
            "not disconnected after the token expired"
        )
        assert first_expiry - 0.5 <= early.disconnected_at <= first_expiry + 3.0, (
            early.disconnected_at - first_expiry
        )
        # Only that token's socket: the one opened with a later token stays, until its own expiry.
        assert late.sio.connected and not late.disconnected.is_set()
        assert late.disconnected.wait(second_expiry - time.time() + 4)
        assert second_expiry - 0.5 <= late.disconnected_at <= second_expiry + 3.0

        # The expired token opens nothing any more.
        refused = LiveClient("expired token")
        with pytest.raises(socketio.exceptions.ConnectionError):
            refused.connect(short.url, first["token"])
        assert "token" in refused.connect_errors[0]["message"]
        assert (
            requests.get(
                short.url + "/api/users", headers=token_header(first["token"]), timeout=10
            ).status_code
            == 401
        )
    assert_clean_log(short)


# --- 6. Real servers: a Socket.IO Redis subscription that dies or goes deaf -----------------


class RedisProxy:
    """A TCP proxy in front of Redis. ``freeze_subscribers()`` makes every connection that
    has subscribed so far hang: it stays open, but nothing Redis sends reaches the client,
    as with a half-open connection. New connections are forwarded normally."""

    def __init__(self, redis_port):
        self.target = ("127.0.0.1", redis_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.connections = []
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                if self.stopped.is_set():
                    return
                continue
            state = {"client": client, "upstream": upstream, "subscriber": False, "frozen": False}
            with self.lock:
                self.connections.append(state)
            threading.Thread(target=self._pump, args=(state,), daemon=True).start()

    def _pump(self, state):
        client, upstream = state["client"], state["upstream"]
        try:
            while not self.stopped.is_set():
                readable, _, _ = select.select([client, upstream], [], [], 0.2)
                for end in readable:
                    data = end.recv(65536)
                    if not data:
                        return
                    if end is client:
                        state["subscriber"] |= b"SUBSCRIBE" in data.upper()
                        upstream.sendall(data)
                    elif not state["frozen"]:
                        client.sendall(data)
        except OSError:
            return
        finally:
            client.close()
            upstream.close()

    def freeze_subscribers(self):
        with self.lock:
            frozen = [state for state in self.connections if state["subscriber"]]
            for state in frozen:
                state["frozen"] = True
            return len(frozen)

    def close(self):
        self.stopped.set()
        self.listener.close()


@pytest.fixture(scope="module")
def own_redis():
    """A redis-server of our own (the shared one is never disturbed), on a free port."""
    port = free_port()
    try:
        process = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    except FileNotFoundError:
        services.missing("redis-server is not installed")
    client = redis.Redis(port=port, socket_connect_timeout=1)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        yield client
    finally:
        client.close()
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture(scope="module")
def pair(database, own_redis):
    """Servers A and B with HOUSEKEEPING_INTERVAL=1, on our Redis through the proxy."""
    proxy = RedisProxy(own_redis.connection_pool.connection_kwargs["port"])
    env = {"HOUSEKEEPING_INTERVAL": "1", "REDIS_PREFIX": f"hardening-{uuid.uuid4().hex[:8]}"}
    a = GunicornServer(database_url=database, redis_url=proxy.url, env=env)
    b = GunicornServer(database_url=database, redis_url=proxy.url, env=env)
    try:
        a.start()
        b.start()
        yield a, b, proxy
    finally:
        a.close()
        b.close()
        proxy.close()
    for server in (a, b):
        assert_clean_log(server)


def _hinting_pair(pair, live):
    a, b, _ = pair
    rest = RestClient.signed_in(a.url, "ann", PASSWORD)
    board, (task,) = new_board(rest)
    ann = live(a, issue_token(a.url, "ann", PASSWORD), "ann on A", subscribe=board)
    ben = live(b, issue_token(b.url, "ben", PASSWORD), "ben on B", subscribe=board)
    return ann, ben, task


def _hints_get_through(sender, receiver, task, timeout):
    """Send a hint every 0.25 s until the receiver (on the other process) gets one; the seconds it took."""
    started = time.monotonic()
    before = len(receiver.find("hint"))
    while time.monotonic() - started < timeout:
        assert sender.call("hint", {"task": task, "action": "dragstart"}) == {"ok": True}
        deadline = time.monotonic() + 0.25
        while time.monotonic() < deadline:
            if len(receiver.find("hint")) > before:
                return time.monotonic() - started
            time.sleep(STEP)
    raise AssertionError(f"no hint from {sender.label} reached {receiver.label} within {timeout} s")


def _health(server):
    status, body = http_get(server.url + "/healthz", timeout=2)
    return status, json.loads(body) if status else body


@pytest.mark.server
def test_killed_redis_subscriptions_are_restored(pair, own_redis, live):
    a, b, _ = pair
    ann, ben, task = _hinting_pair(pair, live)
    _hints_get_through(ann, ben, task, timeout=WAIT)
    _hints_get_through(ben, ann, task, timeout=WAIT)

    killed = own_redis.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    assert killed >= 2, killed  # at least each process's Socket.IO listener

    assert _hints_get_through(ann, ben, task, timeout=10) < 10
    assert _hints_get_through(ben, ann, task, timeout=10) < 10
    for server in (a, b):
        assert _health(server) == (200, {"status": "ok", "db": "ok", "redis": "ok"})
    subscribed = own_redis.execute_command("PUBSUB", "NUMSUB", f"{a.env['REDIS_PREFIX']}:socketio")
    assert subscribed[1] >= 2, subscribed


@pytest.mark.server
def test_a_deaf_redis_subscription_is_reported_and_restored(pair, live):
    """The listener's connection hangs without an error (python-socketio issue 1581's kind of
    silence): /healthz names it within a few seconds and the listener is restarted."""
    a, b, proxy = pair
    ann, ben, task = _hinting_pair(pair, live)
    _hints_get_through(ann, ben, task, timeout=WAIT)

    assert proxy.freeze_subscribers() >= 2
    frozen_at = time.monotonic()
    reported = {}
    deadline = frozen_at + 15
    while len(reported) < 2 and time.monotonic() < deadline:
        for name, server in (("A", a), ("B", b)):
            status, body = _health(server)
            if status == 503 and name not in reported:
                assert body["redis"] == "error: listener silent", body
                reported[name] = time.monotonic() - frozen_at
        time.sleep(0.1)
    assert set(reported) == {"A", "B"}, f"/healthz never reported the deaf listener: {reported}"

    # Hints go between the processes again, both ways, and health is back.
    assert _hints_get_through(ann, ben, task, timeout=10) < 10
    assert _hints_get_through(ben, ann, task, timeout=10) < 10
    deadline = time.monotonic() + 5
    while any(_health(server)[0] != 200 for server in (a, b)):
        assert time.monotonic() < deadline, [_health(server) for server in (a, b)]
        time.sleep(0.1)
    assert "Socket.IO Redis listener silent; resubscribing" in a.log()
