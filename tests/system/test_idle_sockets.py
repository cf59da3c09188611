"""What an open websocket keeps in the worker (``app/realtime/websockets.py``).

An idle socket holds one green thread, its reader: Engine.IO's writer task comes
only while there are packets to send, and ends once the socket has been quiet a
while. The reader waits for bytes just above the hub, not inside eventlet's
websocket; and its Socket.IO connect, which looks its token up in the database, is
handled in a task beside it, not in it.

The worker is asked for the stacks of its waiting green threads through the
``tests/support/task_probe.py`` gunicorn configuration.
"""

import threading
import time

import pytest
import sqlalchemy as sa

from app.realtime.websockets import WRITER_LINGER
from tests.support.live import WAIT, live_clients
from tests.support.rest import RestClient
from tests.support.servers import GunicornServer, NewUser, migrated_postgres_database
from tests.support.task_probe import green_threads

PASSWORD = "idle password"
SOCKETS = 4

READER = "websockets.py:Socket._read"
WRITER = "websockets.py:Socket._write"
HANDLER = "sockets.py:BoardNamespace.on_connect"
RECEIVING = "websockets.py:Socket.receive"


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    """``(database_url, server, probe path, api, sprint, task)``: a server whose worker answers
    the task probe, ann signed in, one task on a sprint."""
    probe = str(tmp_path_factory.mktemp("probe") / "green-threads.json")
    with (
        migrated_postgres_database([NewUser("ann", PASSWORD)]) as database_url,
        GunicornServer(
            database_url=database_url, env={"TASK_PROBE": probe}, args=["-c", "tests/support/task_probe.py"]
        ) as server,
    ):
        api = RestClient.signed_in(server.url, "ann", PASSWORD)
        sprint = api.sprint("Idle")["id"]
        yield database_url, server, probe, api, sprint, api.task("Watched", sprint)["id"]


@pytest.fixture
def sockets(probed):
    _, server, _, api, sprint, _ = probed
    with live_clients() as connect:
        yield [connect(server, api.token, subscribe=sprint) for _ in range(SOCKETS)]


def stacks_with(stacks, frame):
    return [stack for stack in stacks if frame in stack]


def settled(probe):
    """The worker's waiting stacks once no writer is left (they end ``WRITER_LINGER`` after
    their socket's last packet)."""
    deadline = time.monotonic() + WRITER_LINGER + WAIT
    while True:
        stacks = green_threads(probe)
        if not stacks_with(stacks, WRITER) or time.monotonic() > deadline:
            return stacks
        time.sleep(0.2)


def test_an_idle_socket_keeps_its_reader_only_and_a_writer_comes_back_for_a_change(probed, sockets):
    _, _, probe, api, _, task = probed
    stacks = settled(probe)
    assert len(stacks_with(stacks, READER)) == SOCKETS
    assert stacks_with(stacks, WRITER) == []

    api.call("PATCH", f"/api/tasks/{task}", 200, {"name": "Watched again"})
    for client in sockets:
        assert client.wait_change("task", task, "update")["body"]["name"] == "Watched again"

    stacks = settled(probe)
    assert len(stacks_with(stacks, READER)) == SOCKETS
    assert stacks_with(stacks, WRITER) == []


def test_the_socketio_connect_is_handled_beside_its_socket_reader(probed):
    database_url, server, probe, api, _, _ = probed
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with live_clients() as connect:
        connected = []
        try:
            with engine.connect() as connection:
                # The connect handler looks the socket's token up: it waits for the table.
                connection.execute(sa.text("LOCK TABLE tokens IN ACCESS EXCLUSIVE MODE"))
                connecting = threading.Thread(target=lambda: connected.append(connect(server, api.token)))
                connecting.start()
                deadline = time.monotonic() + WAIT
                while not stacks_with(stacks := green_threads(probe), HANDLER):
                    assert time.monotonic() < deadline, "the connect never reached its handler"
                    time.sleep(0.05)
                (handling,) = stacks_with(stacks, HANDLER)
                assert READER not in handling
                assert any(RECEIVING in stack for stack in stacks_with(stacks, READER)), stacks
                connection.rollback()
            connecting.join(WAIT)
        finally:
            engine.dispose()
        assert connected and connected[0].connected


def test_an_idle_reader_waits_above_the_hub_not_inside_the_websocket(probed, sockets):
    _, _, probe, _, _, _ = probed
    readers = stacks_with(settled(probe), READER)
    assert len(readers) >= SOCKETS
    for stack in readers:
        below_the_reader = stack[stack.index(READER) + 1 :]
        assert not any(frame.startswith("websocket.py:") for frame in below_the_reader), stack
        assert any(frame.endswith(":trampoline") for frame in below_the_reader), stack
