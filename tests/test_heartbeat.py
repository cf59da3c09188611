"""Engine.IO heartbeats and connect deadlines, served by one task each for all sockets
(``app/realtime/timers.py``), driven through the app's real Engine.IO server over
long polling."""

import json
import threading
import time

import pytest

PING, PONG = "2", "3"


class Polling:
    """An Engine.IO connection over long polling through the app's WSGI stack."""

    def __init__(self, client):
        self.client = client
        opened = client.get("/socket.io/?EIO=4&transport=polling")
        assert opened.status_code == 200, opened.get_data(as_text=True)
        assert opened.get_data(as_text=True).startswith("0")
        self.sid = json.loads(opened.get_data(as_text=True)[1:])["sid"]
        self.url = f"/socket.io/?EIO=4&transport=polling&sid={self.sid}"

    def receive(self):
        """(status, packets): one long poll."""
        response = self.client.get(self.url)
        body = response.get_data(as_text=True)
        return response.status_code, [p for p in body.split("\x1e") if p]

    def send(self, data):
        assert self.client.post(self.url, data=data).status_code == 200


@pytest.fixture
def fast_heartbeat(app):
    """The app's Engine.IO server with a ping every 0.3 s and a 0.5 s pong deadline."""
    eio = app.extensions["socketio"].server.eio
    guard = app.extensions["packet_guard"]
    guard.pings.delay = eio.ping_interval = 0.3
    eio.ping_timeout = 0.5
    return eio, guard


def _ping_tasks():
    return [t for t in threading.enumerate() if "_send_ping" in repr(getattr(t, "_target", None))]


def test_pings_arrive_on_time_and_need_no_task_per_socket(app, fast_heartbeat):
    eio, guard = fast_heartbeat
    client = app.test_client()
    threads_before = threading.active_count()
    sockets = [Polling(client) for _ in range(5)]
    for socket in sockets:
        started = time.monotonic()
        status, packets = socket.receive()
        assert (status, packets) == (200, [PING])
        assert time.monotonic() - started < 2.0
        socket.send(PONG)
    for socket in sockets:  # answered, so each gets its next ping
        assert socket.receive() == (200, [PING])
        socket.send(PONG)
    assert not _ping_tasks()
    # One task for the pings, one for the connect deadlines, and Engine.IO's own service task.
    assert threading.active_count() - threads_before <= 3
    assert all(socket.sid in eio.sockets for socket in sockets)


def test_a_socket_that_stops_answering_pings_is_closed(app, fast_heartbeat):
    eio, _ = fast_heartbeat
    client = app.test_client()
    quiet, answering = Polling(client), Polling(client)
    assert quiet.receive() == (200, [PING])
    deadline = time.monotonic() + 5
    while quiet.sid in eio.sockets and time.monotonic() < deadline:
        assert answering.receive() == (200, [PING])
        answering.send(PONG)
    assert quiet.sid not in eio.sockets
    assert answering.sid in eio.sockets


def test_a_connection_that_never_connects_a_socket_is_closed_at_its_deadline(app):
    eio = app.extensions["socketio"].server.eio
    guard = app.extensions["packet_guard"]
    guard.unconnected.delay = 0.3
    client = app.test_client()
    never = Polling(client)
    deadline = time.monotonic() + 5
    while never.sid in eio.sockets and time.monotonic() < deadline:
        time.sleep(0.05)
    assert never.sid not in eio.sockets
    assert len(guard.unconnected) == 0
