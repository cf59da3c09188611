"""Hardening, in process: login throttling, security headers, cross-origin access,
production configuration checks, and socket limits. Their counterparts against real
processes are in ``tests/system/test_hardening_servers.py``.
"""

import json
import re
import secrets
import time

import pytest
from flask import request
from flask_socketio import Namespace

from app import create_app, socketio
from app.realtime.limits import REFUSAL_BUDGET, SocketLimits
from app.security import InsecureConfiguration
from config import ProductionConfig, TestingConfig
from tests.socket_helpers import Socket
from tests.support import services
from tests.support.rest import basic_header, token_header
from tests.support.servers import (
    app_environment,
    run_python,
    run_python_code,
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


# In a process of its own: the limiter is one object per process, and what earlier tests
# did to it (an unreachable Redis sends it to its fallback for a while) would carry over.
FORGETFUL_LOGINS = """
import json, sys
from app import create_app
from config import TestingConfig

storage, prefix, database = sys.argv[1:]
app = create_app(
    TestingConfig,
    SQLALCHEMY_DATABASE_URI=database,
    RATELIMIT_STORAGE_URI=storage,
    RATELIMIT_KEY_PREFIX=prefix,
    LOGIN_FAILURES_PER_USERNAME="3 per minute",
)
client = app.test_client()


def login(body, address):
    return client.post(
        "/api/token", data=body, content_type="application/json", environ_base={"REMOTE_ADDR": address}
    ).status_code


def password(text):
    return json.dumps({"username": "alice", "password": text})


statuses = [login(password("guess 1"), "10.0.2.1"), login(password("guess 2"), "10.0.2.2")]
statuses.append(login("{" + " " * TestingConfig.MAX_CONTENT_LENGTH + "}", "10.0.2.3"))  # too large to read
statuses += [login(password("guess 3"), "10.0.2.4"), login(password("alice password"), "10.0.2.5")]
print(json.dumps(statuses))
app.extensions["realtime"].stop()
"""


@pytest.mark.slow
@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_a_body_too_large_to_read_does_not_make_the_throttle_forget(throttled, database_uri, storage):
    """Counted in memory (no Redis), or in Redis with memory as the fallback while Redis is
    unreachable: a request whose body cannot be read must not switch counting elsewhere."""
    if storage == "redis":
        services.require_redis()
    uri = services.REDIS_URL if storage == "redis" else "memory://"
    prefix = f"test-limits-{secrets.token_hex(8)}"
    result = run_python(database_uri, "-c", FORGETFUL_LOGINS, uri, prefix, database_uri)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == [401, 401, 413, 401, 429]


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
HANDSHAKE = "/socket.io/?EIO=4&transport=polling"  # Engine.IO's first request


@pytest.fixture
def configured_client(database_uri):
    """``configured_client(**settings)``: a client of an app with those settings."""
    apps = []

    def make(**settings):
        apps.append(create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=database_uri, **settings))
        return apps[-1].test_client()

    yield make
    for made in apps:
        made.extensions["realtime"].stop()


@pytest.fixture
def cors_client(app, configured_client):
    """A client of an app that allows one other origin (the ``app`` fixture empties the tables)."""
    return configured_client(CORS_ALLOWED_ORIGINS=[ALLOWED])


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


def test_sockets_behind_a_tls_proxy_are_same_origin_by_the_forwarded_scheme(configured_client):
    """Socket.IO's requests pass the trusted proxies' headers too: the page served at
    https://board.example.org opens its socket through the proxy as a same-origin one."""
    client = configured_client(TRUSTED_PROXIES=1, CORS_ALLOWED_ORIGINS=[ALLOWED])
    behind_proxy = {"Host": "board.example.org", "X-Forwarded-Proto": "https", "X-Forwarded-For": "10.1.1.1"}
    own = client.get(HANDSHAKE, headers={**behind_proxy, "Origin": "https://board.example.org"})
    assert own.status_code == 200 and b'"sid"' in own.data
    assert client.get(HANDSHAKE, headers={**behind_proxy, "Origin": ALLOWED}).status_code == 200
    foreign = client.get(HANDSHAKE, headers={**behind_proxy, "Origin": "https://evil.example"})
    assert foreign.status_code == 400


def test_socket_requests_must_name_a_trusted_host_too(configured_client):
    """A page on a host name that resolves to the server (DNS rebinding) is same-origin by
    its own Host header; the host check refuses it before Engine.IO's origin check."""
    client = configured_client(TRUSTED_HOSTS=["board.example.org"])
    rebound = client.get(HANDSHAKE, headers={"Host": "evil.example", "Origin": "http://evil.example"})
    assert rebound.status_code == 400
    assert rebound.json == {"message": "This site is not served under that host name."}
    own = client.get(HANDSHAKE, headers={"Host": "board.example.org", "Origin": "http://board.example.org"})
    assert own.status_code == 200 and b'"sid"' in own.data


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
    return run_python_code("import wsgi; print('started', wsgi.app.config['PRODUCTION'])", environment)


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


# --- 5. Refusals add up; forwarded addresses ------------------------------------------------

ATTACK_LIMITS = {"LOGIN_FAILURES_PER_USERNAME": "5 per minute", "LOGIN_FAILURES_PER_ADDRESS": "8 per minute"}


class LimitedNamespace(Namespace):
    """A namespace whose one event may be sent once a second."""

    limits = SocketLimits(knock=(1, 1, "Knock less."))

    def on_knock(self, data=None):
        return self.limits.check("knock", request.sid) or {"ok": True}

    def on_disconnect(self, reason=None):
        self.limits.forget(request.sid)


def test_a_socket_that_keeps_being_refused_is_disconnected(app):
    socketio.on_namespace(LimitedNamespace("/limited"))
    client = socketio.test_client(app, namespace="/limited")
    acks = [client.emit("knock", namespace="/limited", callback=True) for _ in range(3)]
    assert acks == [
        {"ok": True},
        {"ok": False, "error": "Knock less."},
        {"ok": False, "error": "Knock less."},
    ]
    assert client.is_connected("/limited")  # refused, not yet cut

    # The refusal budget refills as time passes: keep knocking, faster than it refills,
    # until the socket is cut (a burst's worth, and more when the machine is slow).
    rate, burst = REFUSAL_BUDGET
    for _ in range(10 * burst):
        if not client.is_connected("/limited"):
            break
        client.emit("knock", namespace="/limited", callback=True)
    assert not client.is_connected("/limited")


def test_a_board_socket_refused_past_its_budget_is_disconnected_from_inside_its_event(app, alice, make_token):
    """The disconnect comes from inside the refused event's handler, which holds the socket's
    turn: the disconnect must not wait for a turn of its own."""
    socket_ = Socket(app, make_token(alice))
    try:
        rate, burst = REFUSAL_BUDGET
        for _ in range(10 * burst):
            if not socket_.connected:
                break
            socket_.emit("hint", {"task": "not a task"})
        assert not socket_.connected
        assert app.extensions["realtime"].turns._queues == {}
    finally:
        if socket_.connected:
            socket_.disconnect()


def test_forwarded_addresses_are_ignored_unless_proxies_are_trusted(app, database_uri):
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=database_uri, **ATTACK_LIMITS, TRUSTED_PROXIES=0)
    try:
        client = app.test_client()
        statuses = [
            client.post(
                "/api/token",
                json={"username": f"someone-{number}", "password": "guess"},
                headers={"X-Forwarded-For": f"10.9.9.{number}"},
            ).status_code
            for number in range(9)
        ]
        assert statuses == [401] * 8 + [429]  # one address: the proxy's
    finally:
        app.extensions["realtime"].stop()
