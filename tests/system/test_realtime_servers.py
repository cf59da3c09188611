"""Live updates across real server processes: two gunicorn processes (A and B)
on one PostgreSQL database and one Redis, with python-socketio clients talking
to them over websockets.

A change committed anywhere (a REST request on either process, a ``flask``
command, a script using the models) must reach the subscribed sockets of every
process, and only those; hints and presence go between the processes; refused
connections stay refused on both; a process whose Redis is down still answers
writes at once and still delivers; ``subscribe`` with ``since`` replays what a
client missed.

Every wait is bounded polling. That something did *not* arrive is shown with a
sentinel: a later message that does reach the same socket, delivered by the
same process after the unwanted one would have been.
"""

import itertools
import json
import socket
import threading
import time
import uuid
from types import SimpleNamespace

import pytest
import redis
import socketio
import sqlalchemy as sa

from tests.support import services
from tests.support.live import STEP, WAIT, LiveClient, live_clients
from tests.support.rest import RestClient, issue_token
from tests.support.servers import (
    GunicornServer,
    NewUser,
    create_user,
    flask_command,
    free_port,
    http_get,
    migrated_postgres_database,
    run_python,
)

pytestmark = pytest.mark.server

USERS = ("ann", "ben", "cat")
PASSWORD = "realtime-servers"


# --- Socket.IO clients --------------------------------------------------------------


def refusal(url, auth=None, headers=None):
    """Connect, expecting to be refused: returns the Socket.IO refusal's data (None
    when the connection was refused before Socket.IO, as for a foreign origin)."""
    client = LiveClient()
    try:
        client.connect(url, auth=auth, headers=headers)
    except socketio.exceptions.ConnectionError:
        return client.connect_errors[0] if client.connect_errors else None
    finally:
        client.close()
    raise AssertionError(f"the connection to {url} with auth={auth!r} headers={headers!r} was accepted")


@pytest.fixture
def live():
    """``live(server, token, subscribe=sprint)`` → a connected LiveClient; closed after the test."""
    with live_clients() as connect:
        yield connect


class News:
    """A subscriber to the Redis channel on which every process announces its commits."""

    def __init__(self, redis_url, prefix):
        self.client = redis.Redis.from_url(redis_url, socket_connect_timeout=1)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(f"{prefix}:log")
        self.pubsub.get_message(timeout=1)  # the confirmation: subscribed from here on

    def arrived(self, timeout=WAIT):
        """Whether an announcement arrives (or has arrived) within ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pubsub.get_message(timeout=STEP) is not None:
                return True
        return False

    def drain(self):
        while self.pubsub.get_message(timeout=0) is not None:
            pass

    def close(self):
        self.pubsub.close()
        self.client.close()


# --- Servers ----------------------------------------------------------------------------


def _start_all(servers):
    """Start servers side by side (each waits for its own health check)."""
    errors = []

    def start(server):
        try:
            server.start()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=start, args=(server,)) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        for server in servers:
            server.close()
        raise errors[0]


def _delete_keys(prefix):
    client = redis.Redis.from_url(services.REDIS_URL, socket_connect_timeout=1)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(scope="module")
def cluster():
    """Servers A and B on one fresh migrated database, one Redis and one REDIS_PREFIX."""
    services.require_redis()
    prefix = f"test-realtime-{uuid.uuid4().hex[:12]}"
    env = {"REDIS_PREFIX": prefix}
    with migrated_postgres_database(NewUser(username, PASSWORD) for username in USERS) as database_url:
        a = GunicornServer(database_url=database_url, redis_url=services.REDIS_URL, env=env)
        b = GunicornServer(database_url=database_url, redis_url=services.REDIS_URL, env=env)
        _start_all([a, b])
        try:
            tokens = {username: issue_token(a.url, username, PASSWORD) for username in USERS}
            yield SimpleNamespace(
                a=a,
                b=b,
                database_url=database_url,
                redis_url=services.REDIS_URL,
                prefix=prefix,
                env=env,
                tokens=tokens,
                api=lambda server, username="ann": RestClient(server.url, tokens[username]),
            )
        finally:
            a.close()
            b.close()
            _delete_keys(prefix)
    for server in (a, b):
        log = server.log()
        assert "Traceback" not in log, log[-5000:]


# --- 1. REST writes through either process ----------------------------------------------


def test_rest_writes_reach_their_boards_on_both_processes(cluster, live):
    api_a, api_b = cluster.api(cluster.a), cluster.api(cluster.b, "ben")
    x = api_a.sprint("Board X")["id"]
    y = api_a.sprint("Board Y")["id"]
    token = cluster.tokens["cat"]
    x_a = live(cluster.a, token, subscribe=x, label="X on A")
    x_b = live(cluster.b, token, subscribe=x, label="X on B")
    y_a = live(cluster.a, token, subscribe=y, label="Y on A")
    y_b = live(cluster.b, token, subscribe=y, label="Y on B")
    lobby_a = live(cluster.a, token, label="lobby on A")
    lobby_b = live(cluster.b, token, label="lobby on B")
    boards = (x_a, x_b, y_a, y_b)

    # A write through A, then one through B: both reach board X on both processes.
    task = api_a.task("Written through A", x)
    renamed = api_b.patch("tasks", task["id"], {"name": "Renamed through B"})
    for client in (x_a, x_b):
        added = client.wait_change("task", task["id"], "add")
        assert added["body"] == task
        assert added["actor"] == "ann"
        updated = client.wait_change("task", task["id"], "update")
        assert updated["body"] == renamed
        assert updated["actor"] == "ben"
        assert updated["seq"] > added["seq"]

    # Board Y saw none of them: its own change (the sentinel) arrives, and nothing of X before it.
    sentinel = api_b.task("Sentinel on Y", y)
    for client in (y_a, y_b):
        assert client.wait_change("task", sentinel["id"], "add")["body"] == sentinel
        assert client.changes("task", {task["id"]}) == []

    # A task moved from X to Y reaches both boards; a backlog task reaches every board.
    moving = api_a.task("Moving", x)
    moved = api_b.patch("tasks", moving["id"], {"sprint": y})
    backlog = api_a.task("In the backlog", None)
    for client in boards:
        assert client.wait_change("task", moving["id"], "update")["body"] == moved
        assert client.wait_change("task", backlog["id"], "add")["body"] == backlog
    assert moved["sprint"] == y

    # Sprint changes reach the lobby (and the sprint's board), on both processes.
    sprint = api_b.patch("sprints", x, {"name": "Board X, renamed"})
    added_sprint = api_a.sprint("Added while watching")
    for client in (lobby_a, lobby_b, x_a, x_b):
        assert client.wait_change("sprint", x, "update")["body"] == sprint
    for client in (lobby_a, lobby_b):
        assert client.wait_change("sprint", added_sprint["id"], "add")["body"] == added_sprint
        # The lobby gets no task changes: they were all committed before these sprint changes.
        assert client.changes("task") == []


# --- 2. The CLI and scripts -------------------------------------------------------------

SCRIPT = """
import json
import sys

from app import create_app, db
from app.models import Task

sprint_id = int(sys.argv[1])
app = create_app()
with app.app_context():
    first = Task(name="Added by a script", sprint_id=sprint_id)
    db.session.add(first)
    db.session.commit()
    undone = Task(name="Rolled back by a script", sprint_id=sprint_id)
    db.session.add(undone)
    db.session.flush()
    undone_id = undone.id
    db.session.rollback()
    last = Task(name="Added after the rollback", sprint_id=sprint_id)
    db.session.add(last)
    db.session.commit()
    print(json.dumps({"first": first.id, "undone": undone_id, "last": last.id}))
"""


@pytest.fixture
def news(cluster):
    news = News(cluster.redis_url, cluster.prefix)
    yield news
    news.close()


def test_cli_and_script_changes_reach_both_processes(cluster, live, news, tmp_path):
    sprint = cluster.api(cluster.a).sprint("Scripted")["id"]
    assert news.arrived(), "server A did not announce its commit on Redis"
    on_a = live(cluster.a, cluster.tokens["ann"], subscribe=sprint, label="board on A")
    on_b = live(cluster.b, cluster.tokens["ben"], subscribe=sprint, label="board on B")
    lobby_b = live(cluster.b, cluster.tokens["cat"], label="lobby on B")
    news.drain()

    # The processes would find these changes on their next poll of the log anyway; that the
    # command and the script announced them on Redis is checked on its own.
    flask_command(
        "create-user",
        "dora",
        "--password",
        PASSWORD,
        "--full-name",
        "Dora Doe",
        database_url=cluster.database_url,
        redis_url=cluster.redis_url,
        env=cluster.env,
    )
    assert news.arrived(), "the flask command exited without announcing its commit on Redis"
    news.drain()
    dora = cluster.api(cluster.a).get("users", "dora")
    for client in (on_a, on_b, lobby_b):
        change = client.wait_change("user", dora["id"], "add")
        assert change["body"]["username"] == "dora"
        assert change["body"]["full_name"] == "Dora Doe"
        assert change["actor"] is None

    script = tmp_path / "add_tasks.py"
    script.write_text(SCRIPT)
    result = run_python(
        cluster.database_url, str(script), str(sprint), redis_url=cluster.redis_url, env=cluster.env
    )
    assert result.returncode == 0, result.stderr
    assert news.arrived(), "the script exited without announcing its commits on Redis"
    ids = json.loads(result.stdout.strip().splitlines()[-1])
    for client in (on_a, on_b):
        first = client.wait_change("task", ids["first"], "add")
        last = client.wait_change("task", ids["last"], "add")
        assert first["body"]["name"] == "Added by a script"
        assert first["body"]["sprint"] == sprint
        assert last["body"]["name"] == "Added after the rollback"
        assert first["seq"] < last["seq"]
        # The rolled-back task was flushed (it had an id) but never committed: no change told of it.
        assert client.changes("task", {ids["undone"]}) == []
        assert [c for c in client.changes("task") if c["body"]["name"] == "Rolled back by a script"] == []


# --- 3. Hints and presence --------------------------------------------------------------


def test_hints_go_to_the_others_on_the_same_board_across_processes(cluster, live):
    api = cluster.api(cluster.a)
    board = api.sprint("Hinted")["id"]
    other_board = api.sprint("Not hinted")["id"]
    task = api.task("Dragged", board)["id"]
    other_task = api.task("Dragged elsewhere", other_board)["id"]

    ann_a = live(cluster.a, cluster.tokens["ann"], subscribe=board, label="ann on A")
    ben_b = live(cluster.b, cluster.tokens["ben"], subscribe=board, label="ben on B")
    assert ben_b.subscribe(other_board)["ok"] is True  # the sender has another board open too
    cat_a = live(cluster.a, cluster.tokens["cat"], subscribe=other_board, label="cat on A, other board")
    ben_other_b = live(cluster.b, cluster.tokens["ben"], subscribe=other_board, label="ben on B, other board")

    # From B to the other socket on the board, on A.
    assert ben_b.call("hint", {"task": task, "action": "dragstart"}) == {"ok": True}
    ann_a.wait_for("hint", lambda h: h == {"task": task, "action": "dragstart", "user": "ben"})

    # Never back to the sender: a hint sent later from A reaches ben, and it is all he got.
    assert ann_a.call("hint", {"task": task, "action": "dragend"}) == {"ok": True}
    ben_b.wait_for("hint", lambda h: h == {"task": task, "action": "dragend", "user": "ann"})
    assert [payload for _, payload in ben_b.find("hint")] == [
        {"task": task, "action": "dragend", "user": "ann"}
    ]

    # Not to another board, not even one the sender has open: a later hint on that board
    # arrives there, and nothing before it.
    assert ben_other_b.call("hint", {"task": other_task, "action": "drop"}) == {"ok": True}
    cat_a.wait_for("hint", lambda h: h["task"] == other_task)
    assert [payload for _, payload in cat_a.find("hint")] == [
        {"task": other_task, "action": "drop", "user": "ben"}
    ]
    ben_b.wait_for("hint", lambda h: h["task"] == other_task)

    # Malformed hints are refused and relayed to no one.
    malformed = [
        {"task": task, "action": "explode"},
        {"task": task},
        {"task": str(task), "action": "drop"},
        {"task": task, "action": "drop", "extra": 1},
        {"task": True, "action": "drop"},
        ["not", "an", "object"],
    ]
    for payload in malformed:
        ack = ben_b.call("hint", payload)
        assert ack.get("ok") is False and ack.get("error"), (payload, ack)
    assert ben_b.call("hint", {"task": task, "action": "drop"}) == {"ok": True}
    ann_a.wait_for("hint", lambda h: h["action"] == "drop")
    assert [payload for _, payload in ann_a.find("hint")] == [
        {"task": task, "action": "dragstart", "user": "ben"},
        {"task": task, "action": "drop", "user": "ben"},
    ]
    assert [payload for _, payload in cat_a.find("hint")] == [
        {"task": other_task, "action": "drop", "user": "ben"}
    ]
    # The sender's own hints, sent to its own process first, would have come before their acks.
    assert [payload for _, payload in ben_b.find("hint")] == [
        {"task": task, "action": "dragend", "user": "ann"},
        {"task": other_task, "action": "drop", "user": "ben"},
    ]


def test_presence_follows_subscribe_unsubscribe_and_disconnect_across_processes(cluster, live):
    board = cluster.api(cluster.a).sprint("Watched")["id"]
    ann_a = live(cluster.a, cluster.tokens["ann"], subscribe=board, label="ann on A")
    mark, _ = ann_a.wait_presence(board, ["ann"])

    ben_b = live(cluster.b, cluster.tokens["ben"], subscribe=board, label="ben on B")
    mark, _ = ann_a.wait_presence(board, ["ann", "ben"], after=mark)
    ben_b.wait_presence(board, ["ann", "ben"])

    assert ben_b.call("unsubscribe", {"sprint": board}) == {"ok": True}
    mark, _ = ann_a.wait_presence(board, ["ann"], after=mark)

    assert ben_b.subscribe(board)["ok"] is True
    mark, _ = ann_a.wait_presence(board, ["ann", "ben"], after=mark)

    ben_b.close()
    mark, _ = ann_a.wait_presence(board, ["ann"], after=mark)

    # And the other way round: A's disconnect is seen on B.
    ben_again = live(cluster.b, cluster.tokens["ben"], subscribe=board, label="ben again on B")
    ann_a.wait_presence(board, ["ann", "ben"], after=mark)
    seen, _ = ben_again.wait_presence(board, ["ann", "ben"])
    ann_a.close()
    ben_again.wait_presence(board, ["ben"], after=seen)


def test_a_sockets_events_are_handled_in_the_order_it_sent_them(cluster, live):
    """A board opened and closed again at once, five times without waiting: each event runs
    in a task of its own, and an ``unsubscribe`` done before the ``subscribe`` sent ahead of
    it would leave the socket on the board, shown there to everyone."""
    board = cluster.api(cluster.a).sprint("Opened and closed")["id"]
    ann = live(cluster.a, cluster.tokens["ann"], subscribe=board, label="ann on A")
    ann.wait_presence(board, ["ann"])
    ben = live(cluster.a, cluster.tokens["ben"], label="ben on A")
    answers, all_answered = [], threading.Event()
    sent = [(event, number) for number in range(5) for event in ("subscribe", "unsubscribe")]

    def answered(what, ack):
        answers.append((what, ack["ok"]))
        if len(answers) == len(sent):
            all_answered.set()

    for event, number in sent:
        payload = {"sprint": board, "since": None} if event == "subscribe" else {"sprint": board}
        ben.sio.emit(event, payload, callback=lambda ack, what=(event, number): answered(what, ack))
    assert all_answered.wait(WAIT), answers
    assert answers == [(what, True) for what in sent]  # answered in the order sent

    mark = len(ann.snapshot()) - 1
    live(cluster.a, cluster.tokens["cat"], subscribe=board, label="cat on A")
    _, shown = ann.wait_for("presence", lambda p: "cat" in p["users"], after=mark)
    assert shown == {"sprint": board, "users": ["ann", "cat"]}  # ben is not on the board


def test_a_socket_that_closes_while_its_subscribe_is_handled_is_not_left_on_the_board(cluster, live):
    board = cluster.api(cluster.a).sprint("Opened and left")["id"]
    ann = live(cluster.a, cluster.tokens["ann"], subscribe=board, label="ann on A")
    ann.wait_presence(board, ["ann"])
    ben = live(cluster.a, cluster.tokens["ben"], label="ben on A")
    engine = sa.create_engine(cluster.database_url)
    try:
        with engine.connect() as connection:
            # The subscribe looks the sprint up: it waits for the table while ben leaves.
            connection.execute(sa.text("LOCK TABLE sprints IN ACCESS EXCLUSIVE MODE"))
            ben.sio.emit("subscribe", {"sprint": board, "since": None})
            waiting = sa.text(
                "SELECT count(*) FROM pg_locks WHERE relation = 'sprints'::regclass AND NOT granted"
            )

            deadline = time.monotonic() + WAIT
            while not connection.execute(waiting).scalar():
                assert time.monotonic() < deadline, "the subscribe never waited for the sprint"
                time.sleep(STEP)
            # The connection drops (a closed tab): a FIN now, even with the client's reader
            # thread blocked in recv, which a plain close() would defer until the next packet.
            ben.sio.eio.ws.sock.shutdown(socket.SHUT_RDWR)
            ben.wait_disconnected()
            time.sleep(0.5)  # for the server to handle the disconnect
            connection.rollback()
    finally:
        engine.dispose()

    mark = len(ann.snapshot()) - 1
    live(cluster.a, cluster.tokens["cat"], subscribe=board, label="cat on A")
    _, shown = ann.wait_for("presence", lambda p: "cat" in p["users"], after=mark)
    assert shown == {"sprint": board, "users": ["ann", "cat"]}  # ben is not on the board


# Housekeeping every second: a process's presence entries, refreshed that often, expire
# 3 s after their last refresh (three intervals).
HOUSEKEEPING_INTERVAL = 1
PRESENCE_TIMEOUT = 3 * HOUSEKEEPING_INTERVAL


@pytest.fixture
def doomed_pair(cluster):
    """A survivor and a process to kill, on the cluster's database and a Redis prefix of
    their own, with housekeeping every second. (Ask for it before ``live``: its clients
    close first, and the survivor stops without waiting on them.)"""
    prefix = f"test-killed-{uuid.uuid4().hex[:12]}"
    env = {"REDIS_PREFIX": prefix, "HOUSEKEEPING_INTERVAL": str(HOUSEKEEPING_INTERVAL)}
    servers = [
        GunicornServer(database_url=cluster.database_url, redis_url=cluster.redis_url, env=env)
        for _ in range(2)
    ]
    _start_all(servers)
    try:
        yield servers
    finally:
        for server in servers:
            server.close()
        _delete_keys(prefix)
    log = servers[0].log()
    assert "Traceback" not in log, log[-5000:]


def test_the_drags_of_a_killed_process_end_for_the_others_with_its_presence(cluster, doomed_pair, live):
    survivor, doomed = doomed_pair
    api = cluster.api(survivor)
    board = api.sprint("Dragged on a dying process")["id"]
    other_board = api.sprint("Showing the backlog too")["id"]
    held = api.task("Held when it died", board)["id"]
    held_from_backlog = api.task("Held from the backlog", None)["id"]
    dropped = api.task("Dropped in time", board)["id"]
    ann = live(survivor, cluster.tokens["ann"], subscribe=board, label="ann on the survivor")
    cat = live(
        survivor, cluster.tokens["cat"], subscribe=other_board, label="cat on the survivor, other board"
    )
    ben = live(doomed, cluster.tokens["ben"], subscribe=board, label="ben on the doomed process")
    assert ben.subscribe(other_board)["ok"] is True
    ann.wait_presence(board, ["ann", "ben"])
    cat.wait_presence(other_board, ["ben", "cat"])
    for task, action in (
        (held, "dragstart"),
        (held_from_backlog, "dragstart"),
        (dropped, "dragstart"),
        (dropped, "drop"),
    ):
        assert ben.call("hint", {"task": task, "action": action}) == {"ok": True}
    mark_ann, _ = ann.wait_for("hint", lambda h: h["task"] == dropped and h["action"] == "drop")
    mark_cat, _ = cat.wait_for("hint", lambda h: h["task"] == held_from_backlog)

    doomed.kill()
    killed_at = time.monotonic()
    # Ended once each, before the presence that no longer shows ben; the drop had ended its drag.
    timeout = PRESENCE_TIMEOUT + 2 * HOUSEKEEPING_INTERVAL + WAIT
    for client, mark, board_id, ended in (
        (ann, mark_ann, board, [held, held_from_backlog]),
        (cat, mark_cat, other_board, [held_from_backlog]),
    ):
        for task in ended:
            client.wait_for(
                "hint",
                lambda h, t=task: h == {"task": t, "action": "dragend", "user": "ben"},
                after=mark,
                timeout=timeout,
            )
        gone, _ = client.wait_for(
            "presence",
            lambda p, b=board_id: p["sprint"] == b and "ben" not in p["users"],
            after=mark,
            timeout=timeout,
        )
        hints = client.find("hint", after=mark)
        assert sorted((hint for _, hint in hints), key=lambda hint: hint["task"]) == [
            {"task": task, "action": "dragend", "user": "ben"} for task in sorted(ended)
        ]
        assert all(index < gone for index, _ in hints)
        # Within the presence timeout, give or take the survivor's next round of housekeeping.
        assert client.arrival(hints[-1][0]) - killed_at < PRESENCE_TIMEOUT + 2 * HOUSEKEEPING_INTERVAL + 1


# --- 4. Who may connect -----------------------------------------------------------------


def test_connections_without_a_valid_token_or_from_a_foreign_origin_are_refused(cluster, live):
    revoked = issue_token(cluster.a.url, "cat", PASSWORD)
    RestClient(cluster.a.url, revoked).call("DELETE", "/api/token", 204)
    valid = cluster.tokens["cat"]
    for server in (cluster.a, cluster.b):
        for auth in (None, {}, {"token": "not-a-token"}, {"token": revoked}):
            refused = refusal(server.url, auth=auth)
            assert "token" in refused["message"], (server, auth, refused)
        # The same valid token is refused from a foreign site, and accepted from the server's own.
        refused = refusal(server.url, auth={"token": valid}, headers={"Origin": "http://evil.example"})
        assert refused == "Connection error", refused  # by Engine.IO, before the token is looked at
        client = live(server, valid, headers={"Origin": server.url})
        assert client.connected
        assert client.call("unsubscribe", {"sprint": 1}) == {"ok": True}


def test_revoking_a_token_disconnects_its_sockets_on_both_processes(cluster, live):
    sprint = cluster.api(cluster.a).sprint("Revocation")["id"]
    doomed = issue_token(cluster.a.url, "cat", PASSWORD)
    kept = issue_token(cluster.a.url, "cat", PASSWORD)
    doomed_a = live(cluster.a, doomed, subscribe=sprint, label="revoked token on A")
    doomed_b = live(cluster.b, doomed, label="revoked token on B")
    kept_a = live(cluster.a, kept, label="kept token on A")
    kept_b = live(cluster.b, kept, subscribe=sprint, label="kept token on B")

    RestClient(cluster.a.url, doomed).call("DELETE", "/api/token", 204)
    doomed_a.wait_disconnected()
    doomed_b.wait_disconnected()

    # The user's other token keeps its sockets, which still get changes.
    later = cluster.api(cluster.b).sprint("After the revocation")
    for client in (kept_a, kept_b):
        client.wait_change("sprint", later["id"], "add")
        assert client.connected
    assert not doomed_a.sio.connected and not doomed_b.sio.connected


# --- 5. Redis down ----------------------------------------------------------------------


class ServerWithoutRedis(GunicornServer):
    """A server whose Redis is unreachable: it is ready when ``/healthz`` answers at all
    (503, naming Redis), not 200."""

    ready = (503,)


@pytest.fixture(params=["refused", "unanswered"])
def dead_redis(request):
    """A Redis URL where nothing listens (connections refused at once), or where a socket
    accepts connections and never answers (every call waits for its timeout)."""
    if request.param == "refused":
        yield f"redis://127.0.0.1:{free_port()}/0"
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


def test_writes_and_delivery_go_on_while_redis_is_down(cluster, live, dead_redis):
    with ServerWithoutRedis(database_url=cluster.database_url, redis_url=dead_redis, env=cluster.env) as c:
        status, body = http_get(c.url + "/healthz", timeout=5)
        assert status == 503, body
        health = json.loads(body)
        assert health["db"] == "ok"
        assert health["redis"].startswith("error"), health

        api = cluster.api(c)
        sprint = api.sprint("Without Redis")["id"]
        on_c = live(c, cluster.tokens["ann"], subscribe=sprint, label="board on the server without Redis")
        on_a = live(cluster.a, cluster.tokens["ben"], subscribe=sprint, label="board on A")

        durations, tasks = [], []
        for number in range(10):
            tasks.append(api.task(f"Without Redis {number}", sprint))
            durations.append(api.last_duration)
        for task in tasks:
            api.patch("tasks", task["id"], {"order": 7})
            durations.append(api.last_duration)
        assert len(durations) == 20
        assert max(durations) < 1.0, durations

        # Its own feed delivers at once; A, which hears no news on Redis, reads the log on its poll.
        for client in (on_c, on_a):
            for task in tasks:
                client.wait_change("task", task["id"], "add")
                assert client.wait_change("task", task["id"], "update")["body"]["order"] == 7
        on_c.close()  # before its server stops, which it would otherwise outwait


# --- 6. Replay on subscribe -------------------------------------------------------------


def test_subscribe_with_since_replays_missed_changes_in_order_then_live_ones(cluster, live):
    api_a, api_b = cluster.api(cluster.a), cluster.api(cluster.b, "ben")
    board = api_a.sprint("Replayed")["id"]
    elsewhere = api_a.sprint("Elsewhere")["id"]
    watcher = live(cluster.a, cluster.tokens["ann"], subscribe=board, label="before the break")
    seen = api_a.task("Seen live", board)
    since = watcher.wait_change("task", seen["id"], "add")["seq"]
    watcher.close()

    # Sockets in the lobby only, to tell when each process has seen the last missed change.
    lobby = [live(server, cluster.tokens["cat"], label="lobby") for server in (cluster.a, cluster.b)]

    # Missed, all made through B.
    kept = api_b.task("Added while away", board)
    api_b.patch("tasks", kept["id"], {"name": "Renamed while away"})
    unrelated = api_b.task("On another board", elsewhere)
    backlog = api_b.task("Backlog while away", None)
    moved_in = api_b.task("Moved in", elsewhere)
    api_b.patch("tasks", moved_in["id"], {"sprint": board})
    moved_out = api_b.task("Moved out", board)
    api_b.patch("tasks", moved_out["id"], {"sprint": elsewhere})
    api_b.call("DELETE", f"/api/tasks/{kept['id']}", 204)
    api_b.patch("sprints", board, {"name": "Replayed, renamed"})
    missed = [
        ("task", kept["id"], "add"),
        ("task", kept["id"], "update"),
        ("task", backlog["id"], "add"),
        ("task", moved_in["id"], "update"),
        ("task", moved_out["id"], "add"),
        ("task", moved_out["id"], "update"),
        ("task", kept["id"], "remove"),
        ("sprint", board, "update"),
    ]
    # Once both processes have sent it to their lobby, a reconnecting socket (which joins the
    # lobby) is not also sent the sprint change live: it gets it only from the replay.
    for client in lobby:
        client.wait_change("sprint", board, "update")

    # Back on the same process and on the other one.
    back_a = live(cluster.a, cluster.tokens["ann"], label="back on A")
    back_b = live(cluster.b, cluster.tokens["ann"], label="back on B")
    for client in (back_a, back_b):
        ack = client.subscribe(board, since)
        assert ack["ok"] is True and "resync" not in ack, ack
        replayed = client.changes()
        assert [(c["model"], c["id"], c["action"]) for c in replayed] == missed, replayed
        assert ack["seq"] >= replayed[-1]["seq"]
        assert since < replayed[0]["seq"]
        assert all(one["seq"] < two["seq"] for one, two in itertools.pairwise(replayed))
        assert unrelated["id"] not in {c["id"] for c in replayed if c["model"] == "task"}

    live_task = api_a.task("Live after the replay", board)
    for client in (back_a, back_b):
        client.wait_change("task", live_task["id"], "add")
        received = [(c["model"], c["id"], c["action"]) for c in client.changes()]
        assert received == [*missed, ("task", live_task["id"], "add")]


# --- Projects across processes ---------------------------------------------------------------


def test_another_projects_changes_reach_no_one_outside_it_on_either_process(cluster, live):
    """cat starts a second project and writes to it through A; ben, who is only in the
    first, follows a board on B: nothing of the second project reaches him, live or
    replayed, and removing him from the first through A cuts his socket on B out of it."""
    api_ann, api_cat = cluster.api(cluster.a), cluster.api(cluster.a, "cat")
    board = api_ann.sprint("Team board")["id"]
    team = api_ann.call("GET", "/api/projects", 200)["results"][0]["id"]
    other = api_cat.call("POST", "/api/projects", 201, {"name": f"Other {uuid.uuid4().hex[:6]}"})["id"]
    ben_b = live(cluster.b, cluster.tokens["ben"], subscribe=board, label="ben on B")
    seq = ben_b.call("subscribe", {"sprint": board, "since": None})["seq"]

    hidden_sprint = api_cat.sprint("Hidden", project=other)
    hidden_task = api_cat.call("POST", "/api/tasks", 201, {"name": "Hidden backlog", "project": other})
    sentinel = api_ann.call("POST", "/api/tasks", 201, {"name": "Team backlog", "project": team})
    ben_b.wait_change("task", sentinel["id"], "add")
    assert {c["body"]["project"] for c in ben_b.changes() if c["body"] and "project" in c["body"]} <= {team}
    assert not ben_b.changes("task", {hidden_task["id"]})
    assert not ben_b.changes("sprint", {hidden_sprint["id"]})

    again = live(cluster.b, cluster.tokens["ben"], label="ben again on B")
    answer = again.subscribe(board, since=seq)
    assert answer["ok"] and "resync" not in answer
    again.wait_change("task", sentinel["id"], "add")
    assert not again.changes("task", {hidden_task["id"]})

    api_ann.call("DELETE", f"/api/projects/{team}/members/ben", 204)
    _, removal = ben_b.wait_for("change", lambda c: c["model"] == "member" and c["action"] == "remove")
    assert removal["body"] == {"project": team, "username": "ben"}
    after_removal = api_ann.call("POST", "/api/tasks", 201, {"name": "After ben left", "sprint": board})
    create_user(cluster.database_url, "dan", PASSWORD, project=None)  # a lobby change ben does see
    ben_b.wait_for("change", lambda c: c["model"] == "user" and c["body"]["username"] == "dan")
    assert not ben_b.changes("task", {after_removal["id"]})
