"""A Socket.IO client for a running server, as a board page holds one: a python-socketio
client over a websocket that keeps everything it receives, in order, with arrival times.

Waits search what arrived from the start (or after an index), so no message is ever
consumed by looking for it::

    with live_clients() as connect:
        ann = connect(server, token, label="ann", subscribe=sprint_id)
        _, change = ann.wait_for("change", lambda c: c["id"] == task_id)
"""

import contextlib
import threading
import time

from boardclient import InOrderClient

WAIT = 5.0  # seconds a message may take to arrive
STEP = 0.02  # seconds between looks


class LiveClient:
    """``history`` holds ``(monotonic time, event, payload)`` in arrival order."""

    def __init__(self, label=""):
        self.label = label
        # websocket-client adds an Origin header of its own, which an explicit one would join
        # (two values, refused as one): send exactly the one ``connect`` chooses.
        self.sio = InOrderClient(reconnection=False, websocket_extra_options={"suppress_origin": True})
        self.history = []
        self.lock = threading.Lock()
        self.disconnected = threading.Event()
        self.disconnected_at = None  # wall-clock time of the disconnection
        self.connect_errors = []  # what the server said when it refused the connection
        self._read_up_to = -1  # the index ``next`` returned last
        self.sio.on("*", self._record)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("connect_error", self.connect_errors.append)

    def _record(self, event, *args):
        with self.lock:
            self.history.append((time.monotonic(), event, args[0] if len(args) == 1 else list(args)))

    def _on_disconnect(self, *reason):
        self.disconnected_at = time.time()
        self.disconnected.set()

    def connect(self, url, token=None, auth=None, headers=None):
        """Connect with ``token``; the Origin is the server's own, as from a page it served,
        unless ``headers`` name another."""
        if auth is None and token is not None:
            auth = {"token": token}
        headers = {"Origin": url, **(headers or {})}
        self.sio.connect(url, transports=["websocket"], auth=auth, headers=headers, wait_timeout=WAIT)
        return self

    @property
    def connected(self):
        return self.sio.connected and not self.disconnected.is_set()

    def call(self, event, data, timeout=WAIT):
        return self.sio.call(event, data, timeout=timeout)

    def subscribe(self, sprint, since=None):
        return self.call("subscribe", {"sprint": sprint, "since": since})

    def close(self):
        with contextlib.suppress(Exception):
            if self.sio.connected:
                self.sio.disconnect()
        self.sio.eio.stop_dispatching()

    def snapshot(self):
        with self.lock:
            return list(self.history)

    def arrival(self, index):
        """When message ``index`` arrived (``time.monotonic()``)."""
        with self.lock:
            return self.history[index][0]

    def find(self, event, match=None, after=-1):
        """``(index, payload)`` of every ``event`` message after index ``after`` that matches."""
        return [
            (index, payload)
            for index, (_, name, payload) in enumerate(self.snapshot())
            if index > after and name == event and (match is None or match(payload))
        ]

    def wait_for(self, event, match=None, after=-1, timeout=WAIT):
        """The first matching ``event`` after index ``after``, as ``(index, payload)``."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.find(event, match, after)
            if found:
                return found[0]
            if time.monotonic() > deadline:
                received = [(name, payload) for _, name, payload in self.snapshot()]
                raise AssertionError(
                    f"{self.label}: no matching {event!r} within {timeout} s; received {received!r}"
                )
            time.sleep(STEP)

    def next(self, event, match=None, timeout=WAIT):
        """The next matching ``event`` after the message ``next`` returned last: reads the
        messages in order, as a reader with a bookmark."""
        index, payload = self.wait_for(event, match, self._read_up_to, timeout)
        self._read_up_to = index
        return payload

    def wait_change(self, model, object_id, action=None, after=-1, timeout=WAIT):
        _, change = self.wait_for(
            "change",
            lambda c: c["model"] == model and c["id"] == object_id and action in (None, c["action"]),
            after,
            timeout,
        )
        return change

    def changes(self, model=None, ids=None):
        """The changes received so far (of one model, and of these ids)."""
        return [
            payload
            for _, payload in self.find("change")
            if (model is None or payload["model"] == model) and (ids is None or payload["id"] in ids)
        ]

    def wait_presence(self, sprint, users, after=-1):
        return self.wait_for("presence", lambda p: p == {"sprint": sprint, "users": users}, after)

    def wait_disconnected(self, timeout=WAIT):
        if not self.disconnected.wait(timeout):
            raise AssertionError(f"{self.label}: still connected after {timeout} s")


@contextlib.contextmanager
def live_clients():
    """``connect(server, token, label=None, subscribe=None, since=None, headers=None)`` → a
    connected LiveClient (subscribed to that board, which must succeed); all closed afterwards."""
    opened = []

    def connect(server, token, label=None, subscribe=None, since=None, headers=None):
        client = LiveClient(label or f"socket {len(opened)} on {server.url}")
        opened.append(client)
        client.connect(server.url, token, headers=headers)
        if subscribe is not None:
            ack = client.subscribe(subscribe, since)
            assert ack.get("ok") is True and isinstance(ack.get("seq"), int), ack
        return client

    try:
        yield connect
    finally:
        for client in opened:
            client.close()
