"""An in-process Socket.IO client for the live-update tests.

``Socket`` wraps Flask-SocketIO's test client. The log feed emits from a
background thread, so messages are awaited with a bounded poll, never a fixed
sleep. Everything a socket receives is kept in ``history``, so a test can
check what came before a later message (a sentinel) as well as the message.
"""

import time

from app import socketio

WAIT = 2.0  # seconds a message may take to arrive
STEP = 0.01


class Socket:
    def __init__(self, app, token=None, auth=None):
        if auth is None and token is not None:
            auth = {"token": token}
        self.client = socketio.test_client(app, auth=auth)
        self.history = []  # every message received so far, in arrival order
        self._seen = 0  # how much of ``history`` wait_for has already looked at

    @property
    def connected(self):
        return self.client.is_connected()

    def emit(self, event, data):
        """Send ``event`` and return the server's acknowledgement."""
        return self.client.emit(event, data, callback=True)

    def subscribe(self, sprint, since=None):
        return self.emit("subscribe", {"sprint": sprint, "since": since})

    def unsubscribe(self, sprint):
        return self.emit("unsubscribe", {"sprint": sprint})

    def hint(self, task, action="dragstart"):
        return self.emit("hint", {"task": task, "action": action})

    def disconnect(self):
        self.client.disconnect()

    def _collect(self):
        # The test client's own get_received() rebuilds its queue, which can drop
        # a message the feed thread appends meanwhile; popping one at a time is
        # atomic, and also works after the server has disconnected the socket.
        queue = self.client.queue
        while queue:
            message = queue.pop(0)
            args = message["args"]
            self.history.append((message["name"], args[0] if len(args) == 1 else args))

    def received(self, name=None):
        """Every message so far (``(name, payload)``), or the payloads of one event name."""
        self._collect()
        if name is None:
            return list(self.history)
        return [payload for event, payload in self.history if event == name]

    def wait_for(self, name, match=None, timeout=WAIT):
        """Wait for a ``name`` message not yet returned by wait_for, for which ``match(payload)``
        holds (any, without ``match``); return its payload and the messages that came before
        it since the previous wait_for, as ``(payload, earlier)``."""
        deadline = time.monotonic() + timeout
        while True:
            self._collect()
            for index in range(self._seen, len(self.history)):
                event, payload = self.history[index]
                if event == name and (match is None or match(payload)):
                    earlier = self.history[self._seen : index]
                    self._seen = index + 1
                    return payload, earlier
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no {name!r} matching within {timeout}s; received {self.history[self._seen :]!r}"
                )
            time.sleep(STEP)

    def wait_change(self, model, object_id, action=None, timeout=WAIT):
        """The next ``change`` of this object (and action), and the messages before it."""
        return self.wait_for(
            "change",
            lambda c: c["model"] == model and c["id"] == object_id and action in (None, c["action"]),
            timeout,
        )

    def wait_disconnected(self, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while self.connected:
            if time.monotonic() > deadline:
                raise AssertionError(f"still connected after {timeout}s")
            time.sleep(STEP)


def changes_of(messages, model=None, object_id=None):
    """The ``change`` payloads among ``(name, payload)`` messages (of one object, if given)."""
    return [
        payload
        for name, payload in messages
        if name == "change"
        and (model is None or payload["model"] == model)
        and (object_id is None or payload["id"] == object_id)
    ]
