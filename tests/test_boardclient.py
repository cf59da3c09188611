"""The reference client in process: a change older than what the client shows of that
object never rolls it back (``boardclient``; against real servers in
``tests/system/test_no_lost_changes.py``), and its REST session does not send on a
connection idle for long enough that the server may be closing it."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from boardclient import BoardClient, http_session


def _change(seq, task_id, name=None, sprint=7, action="update"):
    body = None if action == "remove" else {"id": task_id, "name": name, "sprint": sprint}
    return {"seq": seq, "model": "task", "id": task_id, "action": action, "body": body, "actor": None}


def test_a_late_or_repeated_change_never_rolls_an_object_back():
    client = BoardClient("http://127.0.0.1:9", "no-token", 7)
    client._on_change(_change(10, 1, "added", action="add"))
    client._on_change(_change(12, 1, "renamed"))
    client._on_change(_change(11, 1, "late"))  # older than what it shows
    client._on_change(_change(12, 1, "repeated"))  # the same seq again
    client._on_change(_change(9, 1, action="remove"))  # an old removal
    assert client.tasks[1]["name"] == "renamed"

    # The rule is per object: a lower seq of another object still applies.
    client._on_change(_change(5, 2, "other", action="add"))
    assert client.tasks[2]["name"] == "other"

    client._on_change(_change(13, 1, "moved away", sprint=8))
    client._on_change(_change(12, 1, "back again"))
    assert 1 not in client.tasks
    client._on_change(_change(14, 2, action="remove"))
    client._on_change(_change(6, 2, "resurrected"))
    assert 2 not in client.tasks

    sprint = {"seq": 20, "model": "sprint", "id": 7, "action": "update", "body": {"id": 7, "name": "new"}}
    client._on_change(sprint)
    client._on_change({**sprint, "seq": 19, "body": {"id": 7, "name": "old"}})
    assert client.sprint == {"id": 7, "name": "new"}


class _ConnectionRecorder(BaseHTTPRequestHandler):
    """Answers every GET on a kept-alive HTTP/1.1 connection, noting the client's address."""

    protocol_version = "HTTP/1.1"
    peers = []

    def do_GET(self):
        self.peers.append(self.client_address)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_rest_session_opens_a_new_connection_after_a_pause_longer_than_its_idle_limit():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ConnectionRecorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/"
    session = http_session("a-token", idle_limit=0.3)
    try:
        for pause in (0, 0.1, 0.5, 0):
            time.sleep(pause)
            assert session.get(url, timeout=5).status_code == 204
    finally:
        session.close()
        server.shutdown()
        server.server_close()
    first, quick, after_pause, next_one = _ConnectionRecorder.peers
    assert quick == first  # kept alive
    assert after_pause != quick  # idle longer than the limit: not used again
    assert next_one == after_pause
