"""A reference Python client for the scrum board's live updates.

It keeps one board's state (the sprint, its tasks and the backlog) in step with
the server: it loads the board over REST, applies each ``change`` only when
its ``seq`` is above the last one applied to that object (so a late or repeated
event never rolls anything back), and when the connection drops it reconnects
and resumes with ``since``: the ``seq`` up to which it has every change of its
board (a change that comes in before the subscribe is answered does not count).

    client = BoardClient("http://127.0.0.1:5000", token, sprint_id)
    client.start()
    client.tasks            # {task id: task as the REST API shows it}
    client.wait_for(lambda c: 42 in c.tasks, timeout=5)
    client.stop()
"""

import logging
import queue
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import engineio
import requests
import socketio
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)

__all__ = ["BoardClient", "http_session", "paths_only"]

# The server closes a kept-alive connection once it has been idle for gunicorn's
# ``--keep-alive`` (2 s by default). A request sent on it at that very moment is
# met by a reset, unread; a connection idle for half that long is not used again.
IDLE_CONNECTION_LIMIT = 1.0  # seconds


def paths_only(value):
    """``value`` with every absolute link cut to its path: boards read through different
    processes compare equal although each may link to its own address."""
    if isinstance(value, dict):
        return {key: paths_only(item) for key, item in value.items()}
    if isinstance(value, list):
        return [paths_only(item) for item in value]
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        parts = urlsplit(value)
        return urlunsplit(("", "", parts.path, parts.query, parts.fragment))
    return value


class _RecentConnectionsAdapter(HTTPAdapter):
    """Sends on a kept-alive connection only while it has been idle for less than
    ``idle_limit`` seconds; after a longer pause, on new connections."""

    def __init__(self, idle_limit):
        super().__init__()
        self.idle_limit = idle_limit
        self._last_answer = None  # monotonic time the last answer came in

    def send(self, request, *args, **kwargs):
        if self._last_answer is not None and time.monotonic() - self._last_answer > self.idle_limit:
            self.poolmanager.clear()
        try:
            return super().send(request, *args, **kwargs)
        finally:
            self._last_answer = time.monotonic()


def http_session(token=None, idle_limit=IDLE_CONNECTION_LIMIT):
    """A ``requests`` session for the server's REST API, signed in with ``token`` if given,
    that does not send on a connection the server may be closing for idleness."""
    session = requests.Session()
    adapter = _RecentConnectionsAdapter(idle_limit)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if token is not None:
        session.headers["Authorization"] = f"Token {token}"
    return session


class _InOrderEngineIOClient(engineio.Client):
    """Hands messages to Socket.IO one at a time, in arrival order, on one thread.

    The stock client starts a thread per message, which can reorder what the
    handlers see. The server sends a board's changes in ``seq`` order, and a
    client that handled a later change first would move ``last_seq`` past one
    not yet applied: a reconnect at that moment would resume after it.
    """

    _STOP = object()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._inbox = queue.Queue()
        self._dispatcher = None

    def _trigger_event(self, event, *args, **kwargs):
        if event == "message" and kwargs.get("run_async"):
            if self._dispatcher is None:
                self._dispatcher = threading.Thread(target=self._dispatch, daemon=True)
                self._dispatcher.start()
            self._inbox.put(args)
            return None
        return super()._trigger_event(event, *args, **kwargs)

    def _dispatch(self):
        while (args := self._inbox.get()) is not self._STOP:
            super()._trigger_event("message", *args, run_async=False)

    def stop_dispatching(self):
        self._inbox.put(self._STOP)


class InOrderClient(socketio.Client):
    """A python-socketio client whose handlers see messages in the order they arrived."""

    def _engineio_client_class(self):
        return _InOrderEngineIOClient


class BoardClient:
    def __init__(self, url, token, sprint_id, transports=("websocket",), **socket_options):
        self.url = url.rstrip("/")
        self.token = token
        self.sprint_id = sprint_id
        self.transports = list(transports)
        self.sprint = None
        self.tasks = {}
        self.last_seq = None  # where to resume: every change of the board up to it has come in
        self.applied = {}  # (model, id) -> seq of the change last applied to it
        self.received = []  # every change, in arrival order (for inspection)
        self.resyncs = 0
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._live = None  # (connection, seq) of the last subscribe answered: later changes are live
        self._http = http_session(token)
        options = {"reconnection_delay": 0.2, "reconnection_delay_max": 2, **socket_options}
        self.sio = InOrderClient(**options)
        self.sio.on("connect", self._on_connect)
        self.sio.on("change", self._on_change)

    # -- life cycle --------------------------------------------------------------

    def start(self, timeout=10):
        """Connect, subscribe and load the board; returns when the board is loaded."""
        self._loaded = threading.Event()
        self.sio.connect(
            self.url, auth={"token": self.token}, transports=self.transports, wait_timeout=timeout
        )
        if not self._loaded.wait(timeout):
            raise TimeoutError("the board did not load")
        return self

    def stop(self):
        """Disconnect, and give up a reconnection under way (it would connect again later)."""
        self.sio.shutdown()
        if self.sio.connected:  # a reconnection attempt that was under way succeeded
            self.sio.disconnect()

    def switch_server(self, url, timeout=10):
        """Leave this server and resume on another (as after a failover)."""
        self.stop()
        self.url = url.rstrip("/")
        return self.start(timeout)

    # -- events ------------------------------------------------------------------

    def _on_connect(self):
        # Runs on every (re)connection: resume from the last seq seen, in the background
        # so that the socket can go on receiving while we wait for the answer.
        self.sio.start_background_task(self._subscribe)

    def _subscribe(self):
        connection = self.sio.sid
        with self._lock:
            since = self.last_seq
        try:
            answer = self.sio.call("subscribe", {"sprint": self.sprint_id, "since": since}, timeout=10)
        except socketio.exceptions.SocketIOError as error:
            log.warning("subscribe failed: %s", error)
            return
        if not answer or not answer.get("ok"):
            log.warning("subscribe refused: %s", answer)
            return
        if since is None or answer.get("resync"):
            if answer.get("resync"):
                self.resyncs += 1
            self._reload(answer["seq"])
        with self._lock:
            # The board's changes up to the answer's seq were replayed before it (or loaded);
            # every later one comes live on this connection, in order.
            self.last_seq = max(self.last_seq or 0, answer["seq"])
            self._live = (connection, answer["seq"])
        self._loaded.set()

    def _reload(self, seq):
        """Load the board over REST (first time, or when told to resync)."""
        sprint = self._get(f"/api/sprints/{self.sprint_id}")
        tasks = self._get_all(f"/api/tasks?sprint={self.sprint_id}")
        tasks += self._get_all("/api/tasks?backlog=true")

        def newer(key):  # a change that arrived while loading may be newer than what the load saw
            return self.applied.get(key, 0) > seq

        with self._lock:
            if not newer(("sprint", self.sprint_id)):
                self.sprint = sprint
                self.applied[("sprint", self.sprint_id)] = seq
            kept = {task_id: task for task_id, task in self.tasks.items() if newer(("task", task_id))}
            loaded = {task["id"]: task for task in tasks if not newer(("task", task["id"]))}
            self.tasks = {**loaded, **kept}
            for task_id in loaded:
                self.applied[("task", task_id)] = seq
            self.last_seq = max(self.last_seq or 0, seq)
            self._changed.notify_all()

    def _on_change(self, change):
        with self._lock:
            self.received.append(change)
            key = (change["model"], change["id"])
            # Only a change that came live after the subscribe moves last_seq: one that comes on a
            # new connection before its subscribe is answered (the lobby's) may be newer than
            # board changes still to be replayed.
            live, connection = self._live, self.sio.sid
            if live and connection is not None and live[0] == connection:
                self.last_seq = max(live[1], self.last_seq or 0, change["seq"])
            if change["seq"] <= self.applied.get(key, 0):
                return  # a late or repeated event: never roll an object back
            self.applied[key] = change["seq"]
            if change["model"] == "task":
                self._apply_task(change)
            elif change["model"] == "sprint" and change["id"] == self.sprint_id:
                self.sprint = change["body"]
            self._changed.notify_all()

    def _apply_task(self, change):
        body = change["body"]
        on_board = body is not None and body["sprint"] in (self.sprint_id, None)
        if on_board:
            self.tasks[change["id"]] = body
        else:
            self.tasks.pop(change["id"], None)

    # -- helpers -----------------------------------------------------------------

    def snapshot(self):
        """What the client shows: its sprint and its tasks, links cut to their paths."""
        with self._lock:
            return paths_only({"sprint": self.sprint, "tasks": dict(self.tasks)})

    def wait_for(self, predicate, timeout=5):
        """Wait until ``predicate(self)`` holds; returns whether it did."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 0.1))
            return True

    def _get(self, path):
        response = self._http.get(self.url + path, timeout=10)
        response.raise_for_status()
        return response.json()

    def _get_all(self, path):
        results, url = [], self.url + path + ("&" if "?" in path else "?") + "page_size=100"
        while url:
            response = self._http.get(url, timeout=10)
            response.raise_for_status()
            page = response.json()
            results.extend(page["results"])
            url = page["next"]
        return results
