"""Hardening against real processes: the limits that protect a live server from one bad
socket, a production process refusing a weak key, and a Socket.IO Redis subscription
that dies or goes deaf.

These start real ``gunicorn -k eventlet`` processes on a migrated PostgreSQL database
(and, for the Redis tests, a redis-server of their own with a small TCP proxy in front
of it, so that a connection can be made to hang) and talk to them with python-socketio
clients over websockets. Every wait is bounded; every process started here is stopped
by its own id.
"""

import contextlib
import itertools
import json
import select
import signal
import socket
import subprocess
import threading
import time
import uuid
from datetime import datetime

import pytest
import redis
import requests
import socketio

from tests.support import services
from tests.support.live import STEP, WAIT, LiveClient, live_clients
from tests.support.rest import RestClient, issue_token, token_answer, token_header
from tests.support.servers import (
    GunicornServer,
    NewUser,
    ServerError,
    free_port,
    http_get,
    migrated_postgres_database,
)


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
    assert "Eventlet is deprecated" not in log, "gunicorn.conf.py silences it"


@pytest.fixture(scope="module")
def database():
    """A migrated PostgreSQL database with three users, for every server in this module."""
    with migrated_postgres_database(NewUser(username, PASSWORD) for username in USERS) as url:
        yield url


@pytest.fixture(scope="module")
def server(database):
    with GunicornServer(database_url=database) as running:
        yield running
        assert_clean_log(running)  # before the server closes: closing drops its log


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


@pytest.mark.server
def test_a_long_address_is_answered_by_the_api_in_json(server):
    """gunicorn refuses a request line over its limit itself, in HTML; the limit is
    gunicorn's highest, so that a long query reaches the API and gets its JSON 400."""
    token = issue_token(server.url, "ann", PASSWORD)
    response = requests.get(
        server.url + "/api/tasks", params={"search": "a" * 6000}, headers=token_header(token), timeout=10
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["errors"]["search"] == ["Enter at most 200 characters."]


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
