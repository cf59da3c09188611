"""No change is lost: real gunicorn processes, PostgreSQL, Redis and the
reference client (``boardclient``), which resumes with ``since``.

Every board a client holds is compared with the REST view of the same board,
and the seqs it received with the ``events`` rows for that board: after a
plain reconnect, after a process was killed, across a Redis outage, under
writers on two processes while clients drop at random, and with a ``since``
older than the log. Every wait has a deadline; every server, redis-server and
client is stopped by the fixture, whatever happens.
"""

import contextlib
import random
import shutil
import socket
import subprocess
import threading
import time
import uuid

import pytest
import redis
import requests
import socketio
import sqlalchemy as sa

from boardclient import BoardClient, paths_only
from tests.support import services
from tests.support.rest import RestClient, issue_token
from tests.support.servers import (
    GunicornServer,
    NewUser,
    flask_command,
    free_port,
    migrated_postgres_database,
    redis_server_command,
)

USERNAME = "ann"
PASSWORD = "no-lost-changes"
SETTLE = 10.0  # seconds a client may take to catch up once the writes have stopped
REQUEST_TIMEOUT = 10


# -- comparing boards ------------------------------------------------------------------


def board_of(client):
    """What ``client`` shows: its sprint and its tasks (those of the sprint and the backlog)."""
    return client.snapshot()


def board_diff(actual, expected):
    lines = []
    if actual["sprint"] != expected["sprint"]:
        lines.append(f"sprint: {actual['sprint']} != {expected['sprint']}")
    mine, theirs = actual["tasks"], expected["tasks"]
    if set(theirs) - set(mine):
        lines.append(f"missing tasks {sorted(set(theirs) - set(mine))}")
    if set(mine) - set(theirs):
        lines.append(f"tasks that should not be there {sorted(set(mine) - set(theirs))}")
    for task_id in sorted(set(mine) & set(theirs)):
        if mine[task_id] != theirs[task_id]:
            fields = sorted(set(mine[task_id]) | set(theirs[task_id]))
            wrong = {f: (mine[task_id].get(f), theirs[task_id].get(f)) for f in fields}
            wrong = {f: values for f, values in wrong.items() if values[0] != values[1]}
            lines.append(f"task {task_id} (shown, stored): {wrong}")
    return "; ".join(lines[:10]) or "equal"


def wait_equal(client, expected, timeout=SETTLE):
    """Wait until ``client``'s board is ``expected``; AssertionError with the difference otherwise."""
    if not client.wait_for(lambda c: board_of(c) == expected, timeout):
        raise AssertionError(
            f"client on board {client.sprint_id} ({client.url}, connected: {client.sio.connected}, "
            f"last seq: {client.last_seq}) still differs from the database "
            f"after {timeout:.1f} s: {board_diff(board_of(client), expected)}"
        )


def wait_until(predicate, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


# -- the database's change log ---------------------------------------------------------------

_BOARD_EVENTS = sa.text(
    "SELECT seq, model, object_id, action FROM events"
    " WHERE seq > :after AND model IN ('sprint', 'task')"
    " AND (board = :board OR previous_board = :board OR all_boards)"
    " ORDER BY seq"
)


def board_events(engine, board, after):
    """The logged changes board ``board`` receives, with seq above ``after``: (seq, model, id, action)."""
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(_BOARD_EVENTS, {"board": board, "after": after})]


def all_events(engine, after):
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                sa.text("SELECT seq, model, object_id, action FROM events WHERE seq > :after ORDER BY seq"),
                {"after": after},
            )
        ]


def last_seq_of(engine, model, object_id):
    with engine.connect() as connection:
        return connection.execute(
            sa.text("SELECT max(seq) FROM events WHERE model = :model AND object_id = :id"),
            {"model": model, "id": object_id},
        ).scalar_one()


def assert_covers(client, engine, start_seq):
    """``client`` received every change of its board after ``start_seq``, and no task change of another."""
    expected = {row[0] for row in board_events(engine, client.sprint_id, start_seq)}
    with client._lock:
        received = list(client.received)
    seqs = {change["seq"] for change in received}
    missing = sorted(expected - seqs)
    assert not missing, f"board {client.sprint_id}: never received the changes {missing}"
    foreign = sorted(
        change["seq"]
        for change in received
        if change["model"] == "task" and change["seq"] > start_seq and change["seq"] not in expected
    )
    assert not foreign, f"board {client.sprint_id}: received task changes of other boards {foreign}"


# -- REST ------------------------------------------------------------------------------------


def sprint_ids(api, *names):
    return [api.sprint(name)["id"] for name in names]


def rest_board(api, sprint_id):
    """The board as REST shows it: the sprint, its tasks and the backlog."""
    sprint = api.get("sprints", sprint_id)
    tasks = api.get_all(f"/api/tasks?sprint={sprint_id}") + api.get_all("/api/tasks?backlog=true")
    return paths_only({"sprint": sprint, "tasks": {task["id"]: task for task in tasks}})


class Load:
    """One writer: creates, renames, moves and deletes its own tasks, and edits the sprints.

    Every write changes something, so each is one row of the change log; a write
    that does not answer as expected is recorded in ``failures``.
    """

    def __init__(self, api, sprints, seed, tag):
        self.api = api
        self.sprints = list(sprints)
        self.rng = random.Random(seed)
        self.tag = tag
        self.tasks = {}  # my task id -> its sprint (None: backlog)
        self.writes = 0
        self.failures = []

    def _call(self, method, path, status, **kwargs):
        try:
            response = self.api.request(method, path, **kwargs)
        except requests.RequestException as error:
            self.failures.append(f"{method} {path}: {type(error).__name__}: {error}")
            return None
        if response.status_code != status:
            self.failures.append(f"{method} {path}: {response.status_code} {response.text[:300]}")
            return None
        return response

    def write(self):
        rng, number = self.rng, self.writes + 1
        self.writes = number
        name = f"{self.tag}-{number}"
        places = [*self.sprints, None]
        roll = rng.random()
        if len(self.tasks) < 4 or roll < 0.3:
            sprint = rng.choice(places)
            response = self._call("POST", "/api/tasks", 201, json={"name": name, "sprint": sprint})
            if response is not None:
                self.tasks[response.json()["id"]] = sprint
        elif roll < 0.55:
            task_id = rng.choice(list(self.tasks))
            self._call(
                "PATCH", f"/api/tasks/{task_id}", 200, json={"name": name, "order": rng.randint(0, 99)}
            )
        elif roll < 0.8:
            task_id = rng.choice(list(self.tasks))
            sprint = rng.choice([place for place in places if place != self.tasks[task_id]])
            if self._call("PATCH", f"/api/tasks/{task_id}", 200, json={"sprint": sprint}) is not None:
                self.tasks[task_id] = sprint
        elif roll < 0.9:
            task_id = rng.choice(list(self.tasks))
            if self._call("DELETE", f"/api/tasks/{task_id}", 204) is not None:
                del self.tasks[task_id]
        else:
            sprint = rng.choice(self.sprints)
            self._call("PATCH", f"/api/sprints/{sprint}", 200, json={"description": name})

    def run(self, count=10_000, seconds=600.0, rate=20.0, stop=None):
        """Write ``count`` times at ``rate`` a second, for at most ``seconds`` or until ``stop``."""
        start = time.monotonic()
        for done in range(1, count + 1):
            if stop is not None and stop.is_set():
                return
            self.write()
            delay = start + done / rate - time.monotonic()
            if time.monotonic() - start + max(delay, 0) >= seconds:
                return
            if delay > 0:
                if stop is not None:
                    stop.wait(delay)
                else:
                    time.sleep(delay)

    def thread(self, **options):
        thread = threading.Thread(target=self.run, kwargs=options, name=f"load-{self.tag}", daemon=True)
        thread.start()
        return thread


def join(thread, timeout=60):
    thread.join(timeout)
    assert not thread.is_alive(), f"{thread.name} did not finish within {timeout} s"


# -- servers -----------------------------------------------------------------------------------


class RedisServer:
    """A redis-server of our own on a free port, to stop and start at will."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self, timeout=10):
        self.process = subprocess.Popen(
            redis_server_command(self.port, "--daemonize", "no"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5, socket_timeout=0.5)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"redis-server on port {self.port} exited with {self.process.returncode}"
                    )
                with contextlib.suppress(redis.RedisError):
                    if client.ping():
                        return self
                time.sleep(0.05)
        finally:
            client.close()
        self.stop()
        raise RuntimeError(f"redis-server on port {self.port} did not answer within {timeout} s")

    def stop(self, timeout=10):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


class Stack:
    """A migrated database with the user ``ann``, and everything a test starts on it;
    the fixture stops it all (clients, servers, redis-servers) and drops the database."""

    def __init__(self, exit_stack):
        self._exit = exit_stack
        self.prefix = f"nolost-{uuid.uuid4().hex[:12]}"  # this test's own Redis channels and keys
        self.database_url = exit_stack.enter_context(
            migrated_postgres_database([NewUser(USERNAME, PASSWORD)])
        )
        self.engine = sa.create_engine(self.database_url, poolclass=sa.pool.NullPool)
        exit_stack.callback(self.engine.dispose)
        self._tokens = {}

    def server(self, redis_url=services.REDIS_URL):
        server = GunicornServer(
            database_url=self.database_url, redis_url=redis_url, env={"REDIS_PREFIX": self.prefix}
        )
        self._exit.callback(server.close)
        return server.start()

    def redis_server(self):
        if shutil.which("redis-server") is None:
            services.missing("redis-server is not installed")
        server = RedisServer()
        self._exit.callback(server.stop)
        return server.start()

    def token(self, server):
        if server.url not in self._tokens:
            self._tokens[server.url] = issue_token(server.url, USERNAME, PASSWORD)
        return self._tokens[server.url]

    def api(self, server):
        return RestClient(server.url, self.token(server))

    def client(self, server, sprint_id):
        """A started BoardClient on ``server`` showing board ``sprint_id``."""
        return self.track(BoardClient(server.url, self.token(server), sprint_id)).start()

    def track(self, client):
        """Stop ``client`` at the end."""
        self._exit.callback(_quietly, client.stop)
        return client

    def max_seq(self):
        with self.engine.connect() as connection:
            return connection.execute(sa.text("SELECT coalesce(max(seq), 0) FROM events")).scalar_one()


def _quietly(function):
    with contextlib.suppress(Exception):
        function()


@pytest.fixture
def stack():
    services.require_redis()
    with contextlib.ExitStack() as exit_stack:
        yield Stack(exit_stack)


def drop_transport(client):
    """Cut the client's connection without a goodbye, as a network failure would; it
    reconnects by itself (returns once it has)."""
    before = client.sio.sid
    client.sio.eio.ws.sock.shutdown(socket.SHUT_RDWR)
    assert wait_until(lambda: client.sio.sid not in (None, before), 10), "the client did not reconnect"


def seed_board(api, sprints):
    """A few tasks on each sprint and in the backlog."""
    for sprint in [*sprints, None, None]:
        for number in range(2):
            api.task(f"seed-{sprint}-{number}", sprint)


# -- 1. reconnect with since -------------------------------------------------------------------


@pytest.mark.server
def test_reconnect_receives_exactly_the_missed_changes_in_order(stack):
    server = stack.server()
    api = stack.api(server)
    board, other = sprint_ids(api, "Board", "Other")
    seed_board(api, [board, other])
    client = stack.client(server, board)
    wait_equal(client, rest_board(api, board))

    live = Load(api, [board, other], seed=1, tag="live")
    for _ in range(5):
        live.write()
    assert not live.failures
    wait_equal(client, rest_board(api, board))

    client.stop()
    assert wait_until(lambda: not client.sio.connected, 5)
    since, seen, before = client.last_seq, len(client.received), stack.max_seq()
    assert since >= board_events(stack.engine, board, 0)[-1][0]  # it was up to date when it left

    load = Load(api, [board, other], seed=2, tag="away")
    load.tasks = dict(live.tasks)
    for _ in range(50):
        load.write()
    assert not load.failures
    assert len(all_events(stack.engine, before)) == 50
    missed = board_events(stack.engine, board, since)
    assert 0 < len(missed) < 50, "the changes should include some for other boards only"

    client.start()
    wait_equal(client, rest_board(api, board))
    time.sleep(1.5)  # more than a poll interval: a duplicate or a stray change would show up
    with client._lock:
        after = [(c["seq"], c["model"], c["id"], c["action"]) for c in client.received[seen:]]
    assert after == missed
    assert client.resyncs == 0
    assert board_of(client) == rest_board(api, board)


# -- 2. a process dies -------------------------------------------------------------------------


@pytest.mark.server
def test_clients_of_a_killed_process_resume_on_the_survivor(stack):
    doomed, survivor = stack.server(), stack.server()
    api = stack.api(survivor)
    first, second, other = sprint_ids(api, "First", "Second", "Other")
    seed_board(api, [first, second, other])
    orphans = [stack.client(doomed, first), stack.client(doomed, first), stack.client(doomed, second)]
    local = stack.client(survivor, first)
    clients = [*orphans, local]
    start = {client: client.last_seq for client in clients}
    for client in clients:
        wait_equal(client, rest_board(api, client.sprint_id))

    load = Load(api, [first, second, other], seed=3, tag="kill")
    writer = load.thread(count=200, rate=20)
    assert wait_until(lambda: load.writes >= 50, 15)
    doomed.kill()
    assert wait_until(lambda: not any(c.sio.connected for c in orphans), 5)

    # They come back at different points of the stream: at once, mid-way, near the end.
    for orphan, writes in zip(orphans, (0, 120, 170), strict=True):
        assert wait_until(lambda w=writes: load.writes >= w or not writer.is_alive(), 20)
        orphan.switch_server(survivor.url)
    join(writer)
    assert not load.failures
    assert load.writes == 200

    for client in clients:
        wait_equal(client, rest_board(api, client.sprint_id))
        assert_covers(client, stack.engine, start[client])
        assert client.resyncs == 0

    # Leaving is for good: no reconnection left over from the dead process comes back.
    for orphan in orphans:
        orphan.stop()
    assert not wait_until(lambda: any(orphan.sio.connected for orphan in orphans), 3.5)


# -- 3. Redis goes away for a while -------------------------------------------------------------


@pytest.mark.server
def test_a_redis_outage_loses_nothing(stack):
    own_redis = stack.redis_server()
    a, b = stack.server(own_redis.url), stack.server(own_redis.url)
    api_a, api_b = stack.api(a), stack.api(b)
    first, second, other = sprint_ids(api_a, "First", "Second", "Other")
    seed_board(api_a, [first, second, other])
    clients = [
        stack.client(a, first),
        stack.client(a, second),
        stack.client(b, first),
        stack.client(b, second),
    ]
    start = {client: client.last_seq for client in clients}
    sids = {client: client.sio.sid for client in clients}

    loads = [
        Load(api_a, [first, second, other], seed=4, tag="a"),
        Load(api_b, [first, second, other], seed=5, tag="b"),
    ]

    def write_on_both(stop):
        return [load.thread(rate=8, seconds=30, stop=stop) for load in loads]

    stop = threading.Event()
    writers = write_on_both(stop)
    try:
        time.sleep(2)
        own_redis.stop()
        down = time.monotonic()
        time.sleep(3)
        stop.set()
        for writer in writers:
            join(writer)

        # With nothing else going on, a change made on one process still reaches the
        # other's clients without Redis: each process reads the log on its own.
        for api in (api_a, api_b):
            task_id = api.task("while Redis is down")["id"]
            seq = last_seq_of(stack.engine, "task", task_id)
            for client in clients:
                assert client.wait_for(lambda c, s=seq: (c.last_seq or 0) >= s, 5), (
                    f"a change made on {api.url} did not reach a client on {client.url} without Redis"
                )

        stop = threading.Event()
        writers = write_on_both(stop)
        time.sleep(max(0.0, down + 10 - time.monotonic()))
        own_redis.start()
        up = time.monotonic()
        time.sleep(1.5)  # writes go on a little after Redis is back
    finally:
        stop.set()
        for writer in writers:
            join(writer)
    for load in loads:
        assert not load.failures, load.failures[:5]
        assert load.writes > 50

    for client in clients:
        expected = rest_board(api_a, client.sprint_id)
        wait_equal(client, expected, timeout=max(0.1, up + 5 - time.monotonic()))
    for client in clients:
        assert client.sio.sid == sids[client], "a socket was dropped during the outage"
        assert_covers(client, stack.engine, start[client])


# -- 4. two writing processes, clients coming and going -------------------------------------------

ROUNDS = 8
ROUND_SECONDS = 2.5
TIME_BUDGET = 60.0


@pytest.mark.server
def test_clients_resuming_at_random_points_miss_nothing(stack):
    servers = [stack.server(), stack.server()]
    apis = [stack.api(server) for server in servers]
    first, second, other = sprint_ids(apis[0], "First", "Second", "Other")
    seed_board(apis[0], [first, second, other])
    clients = [stack.client(server, board) for server in servers for board in (first, second)]
    start = {client: client.last_seq for client in clients}
    loads = [
        Load(api, [first, second, other], seed=10 + index, tag=f"w{index}") for index, api in enumerate(apis)
    ]
    rng = random.Random(2026)
    began = time.monotonic()
    rounds = 0
    disruptions = []
    while rounds < ROUNDS and time.monotonic() - began < TIME_BUDGET:
        rounds += 1
        writers = [load.thread(rate=15, seconds=ROUND_SECONDS) for load in loads]
        for _ in range(3):
            time.sleep(rng.uniform(0, ROUND_SECONDS / 4))
            client = rng.choice(clients)
            how = rng.choice(("drop", "switch", "away"))
            disruptions.append(how)
            if how == "drop":  # the connection breaks; the client reconnects by itself
                drop_transport(client)
            elif how == "switch":  # it resumes on a random process at once
                client.switch_server(rng.choice(servers).url)
            else:  # it stays away for a while, then comes back somewhere
                client.stop()
                time.sleep(rng.uniform(0.2, 0.8))
                client.switch_server(rng.choice(servers).url)
        for writer in writers:
            join(writer)
        for load in loads:
            assert not load.failures, load.failures[:5]
        for client in clients:
            wait_equal(client, rest_board(apis[0], client.sprint_id))
            assert_covers(client, stack.engine, start[client])
            assert client.resyncs == 0
    assert rounds >= 3
    assert len(all_events(stack.engine, min(start.values()))) > 100


# -- 5. since older than the log ------------------------------------------------------------------


@pytest.mark.server
def test_since_older_than_the_log_asks_for_a_resync(stack):
    server = stack.server()
    api = stack.api(server)
    board, other = sprint_ids(api, "Board", "Other")
    seed_board(api, [board, other])
    client = stack.client(server, board)
    load = Load(api, [board, other], seed=6, tag="old")
    for _ in range(10):
        load.write()
    wait_equal(client, rest_board(api, board))
    client.stop()
    assert wait_until(lambda: not client.sio.connected, 5)
    for _ in range(20):
        load.write()
    assert not load.failures
    assert board_events(stack.engine, board, client.last_seq)

    result = flask_command("prune-events", "--older-than", "0", database_url=stack.database_url)
    assert "Deleted" in result.stdout
    assert len(all_events(stack.engine, 0)) == 1  # only the newest is kept

    raw = socketio.Client(reconnection=False)
    raw.connect(server.url, auth={"token": stack.token(server)}, transports=["websocket"], wait_timeout=10)
    try:
        answer = raw.call("subscribe", {"sprint": board, "since": 0}, timeout=10)
        assert answer["ok"] is True
        assert answer.get("resync") is True
        assert answer["seq"] == stack.max_seq()
        current = raw.call("subscribe", {"sprint": board, "since": answer["seq"]}, timeout=10)
        assert current == {"ok": True, "seq": answer["seq"]}  # not behind: nothing to reload
    finally:
        raw.disconnect()

    client.start()
    assert client.resyncs == 1
    wait_equal(client, rest_board(api, board))
    load.write()  # and it goes on live from there
    wait_equal(client, rest_board(api, board))


# -- the client's own rules -------------------------------------------------------------------------


@pytest.mark.server
def test_loading_the_board_keeps_changes_newer_than_the_load(stack):
    """A change that arrives while the board is being loaded over REST may be newer than
    what REST answered; the load must not roll it back."""
    server = stack.server()
    api = stack.api(server)
    board = api.sprint("Board")["id"]
    kept, removed, plain = (
        api.task("kept", board)["id"],
        api.task("removed", board)["id"],
        api.task("plain")["id"],
    )
    client = BoardClient(server.url, stack.token(server), board)
    future = stack.max_seq() + 1000
    newer = {"id": kept, "name": "newer than the load", "sprint": board}
    client._on_change({"seq": future, "model": "task", "id": kept, "action": "update", "body": newer})
    client._on_change({"seq": future + 1, "model": "task", "id": removed, "action": "remove", "body": None})
    client._reload(stack.max_seq())
    assert client.tasks[kept] == newer
    assert removed not in client.tasks
    assert client.tasks[plain]["name"] == "plain"
    assert client.sprint["id"] == board


class SubscribesLate(BoardClient):
    """A BoardClient that, once ``hold`` is set, subscribes on its next connection only after a
    change has come in on it: what a lobby change (a sprint's, a user's), which every socket
    gets from the moment it connects, can do when it arrives first."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.hold = threading.Event()
        self.holding = threading.Event()
        self.change_came_first = False

    def _subscribe(self):
        if self.hold.is_set():
            seen = len(self.received)
            self.holding.set()
            self.change_came_first = wait_until(lambda: len(self.received) > seen, 10)
        super()._subscribe()


@pytest.mark.server
def test_a_lobby_change_before_the_subscribe_does_not_skip_the_missed_ones(stack):
    server = stack.server()
    api = stack.api(server)
    board, other = sprint_ids(api, "Board", "Other")
    seed_board(api, [board])
    client = SubscribesLate(server.url, stack.token(server), board)
    stack.track(client)
    client.start()
    client.stop()
    assert wait_until(lambda: not client.sio.connected, 5)
    since = client.last_seq

    missed = [api.task("missed", board)["id"], api.task("missed too")["id"]]
    client.hold.set()
    starting = threading.Thread(target=client.start, name="start", daemon=True)
    starting.start()
    assert client.holding.wait(10)
    api.call("PATCH", f"/api/sprints/{other}", 200, json={"description": "seen in the lobby"})
    join(starting, 20)

    assert client.change_came_first
    wait_equal(client, rest_board(api, board))
    assert set(missed) <= set(client.tasks)
    assert client.last_seq > since
