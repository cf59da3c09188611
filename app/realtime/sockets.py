"""Socket.IO event handlers: connect, subscribe, unsubscribe, hint, disconnect."""

import functools
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

import redis
from flask import current_app, request
from flask_socketio import ConnectionRefusedError, join_room

from app import db
from app.auth import token_for
from app.models import Sprint, Task
from app.realtime.rooms import ALL_BOARDS, LOBBY, board_room, token_room

log = logging.getLogger(__name__)

HINT_ACTIONS = ("dragstart", "dragend", "drop")


@dataclass
class SocketUser:
    user_id: int
    username: str
    token_id: int
    expires: datetime
    boards: set = field(default_factory=set)


class RateLimit:
    """A token bucket per socket: ``rate`` events a second, bursts up to ``burst``."""

    def __init__(self, rate, burst):
        self.rate, self.burst = rate, burst
        self._buckets = {}
        self._lock = threading.Lock()

    def allow(self, key):
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            allowed = tokens >= 1
            self._buckets[key] = (tokens - 1 if allowed else tokens, now)
            return allowed

    def forget(self, key):
        with self._lock:
            self._buckets.pop(key, None)


hint_limit = RateLimit(rate=10, burst=20)
subscribe_limit = RateLimit(rate=5, burst=10)


def _realtime():
    return current_app.extensions["realtime"]


def _refuse(message):
    return {"ok": False, "error": message}


def _integer(value):
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


_HANDLERS = {}


def handler(event):
    """Mark a Socket.IO handler; ``register`` installs them on a server."""

    def decorate(f):
        @functools.wraps(f)
        def wrapped(*args):
            try:
                return f(*args)
            finally:
                db.session.remove()  # socket events get no request teardown of their own

        _HANDLERS[event] = wrapped
        return f

    return decorate


def for_connected_socket(f):
    """Pass a handler this process's realtime state and the socket's user; refuse unknown sockets."""

    @functools.wraps(f)
    def wrapped(data=None):
        realtime = _realtime()
        user = realtime.sockets.get(request.sid)
        if user is None:
            return _refuse("Not connected.")
        return f(realtime, user, data)

    return wrapped


def register(socketio):
    """Install the handlers on ``socketio``'s current server (it is new after each init_app)."""
    for event, function in _HANDLERS.items():
        socketio.on(event)(function)


def broadcast_presence(realtime, board):
    realtime.socketio.emit(
        "presence", {"sprint": board, "users": realtime.presence.users(board)}, to=board_room(board)
    )


def _presence_change(realtime, board, change, *args, tell=None):
    """Apply a presence change; tell the board only when its set of users changed (a
    board filling up with one user's tabs costs nothing), and ``tell`` (a new
    subscriber) the current set in any case. Without Redis, boards still work, unseen."""
    try:
        before = realtime.presence.users(board)
        change(board, *args)
        users = realtime.presence.users(board)
        if users != before:
            realtime.socketio.emit("presence", {"sprint": board, "users": users}, to=board_room(board))
        elif tell is not None:
            realtime.socketio.server.emit(
                "presence", {"sprint": board, "users": users}, to=tell, namespace="/", ignore_queue=True
            )
    except redis.RedisError as error:
        log.warning("Presence of board %s not updated: Redis is unavailable (%s)", board, error)


@handler("connect")
def on_connect(auth=None):
    value = auth.get("token") if isinstance(auth, dict) else None
    token = token_for(value if isinstance(value, str) else None)
    if token is None:
        raise ConnectionRefusedError("A valid API token is required.")
    realtime = _realtime()
    realtime.sockets[request.sid] = SocketUser(token.user.id, token.user.username, token.id, token.expires)
    # Give the pooled connection back before waiting on the feed, which needs one
    # itself: a burst of connects must not hold every connection while it waits.
    db.session.remove()
    realtime.serving()
    join_room(LOBBY)
    join_room(token_room(token.id))


@handler("disconnect")
def on_disconnect(reason=None):
    realtime = _realtime()
    user = realtime.sockets.pop(request.sid, None)
    hint_limit.forget(request.sid)
    subscribe_limit.forget(request.sid)
    if user is None:
        return
    for board in user.boards:
        _presence_change(realtime, board, realtime.presence.leave, request.sid)


@handler("subscribe")
@for_connected_socket
def on_subscribe(realtime, user, data=None):
    if not subscribe_limit.allow(request.sid):
        return _refuse("Too many requests; slow down.")
    if not isinstance(data, dict) or not _integer(data.get("sprint")):
        return _refuse('Expected {"sprint": id, "since": seq or null}.')
    since = data.get("since")
    if since is not None and not _integer(since):
        return _refuse('"since" must be a seq number or null.')
    sprint_id = data["sprint"]
    if not -(2**31) <= sprint_id < 2**31 or db.session.get(Sprint, sprint_id) is None:
        return _refuse(f"Sprint {sprint_id} does not exist.")
    db.session.remove()  # as in on_connect: hold no pooled connection while waiting on the feed
    latest, resync = realtime.feed.replay_and_join(
        request.sid, sprint_id, since, [board_room(sprint_id), ALL_BOARDS]
    )
    user.boards.add(sprint_id)
    _presence_change(
        realtime, sprint_id, realtime.presence.join, request.sid, user.username, tell=request.sid
    )
    answer = {"ok": True, "seq": latest}
    if resync:
        answer["resync"] = True
    return answer


@handler("unsubscribe")
@for_connected_socket
def on_unsubscribe(realtime, user, data=None):
    if not isinstance(data, dict) or not _integer(data.get("sprint")):
        return _refuse('Expected {"sprint": id}.')
    sprint_id = data["sprint"]
    server = realtime.socketio.server
    if sprint_id in user.boards:
        user.boards.discard(sprint_id)
        server.leave_room(request.sid, board_room(sprint_id), namespace="/")
        if not user.boards:
            server.leave_room(request.sid, ALL_BOARDS, namespace="/")
        _presence_change(realtime, sprint_id, realtime.presence.leave, request.sid)
    return {"ok": True}


@handler("hint")
@for_connected_socket
def on_hint(realtime, user, data=None):
    if not hint_limit.allow(request.sid):
        return _refuse("Too many hints; slow down.")
    if (
        not isinstance(data, dict)
        or set(data) != {"task", "action"}
        or not _integer(data["task"])
        or data["action"] not in HINT_ACTIONS
    ):
        return _refuse('Expected {"task": id, "action": "dragstart" | "dragend" | "drop"}.')
    task = db.session.get(Task, data["task"]) if -(2**31) <= data["task"] < 2**31 else None
    if task is None:
        return _refuse(f"Task {data['task']} does not exist.")
    if task.sprint_id is None:
        boards = sorted(user.boards)
    elif task.sprint_id in user.boards:
        boards = [task.sprint_id]
    else:
        boards = []
    if not boards:
        return _refuse("Subscribe to the task's board first.")
    payload = {"task": task.id, "action": data["action"], "user": user.username}
    realtime.socketio.emit("hint", payload, to=[board_room(b) for b in boards], skip_sid=request.sid)
    return {"ok": True}
