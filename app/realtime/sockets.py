"""The board's Socket.IO namespace: connect, subscribe, unsubscribe, hint, disconnect.

Every event is checked against the socket's user, as REST requests are: a
sprint or task outside the user's projects is answered exactly as one that
does not exist, and a viewer's hints are refused.
"""

import functools

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, Namespace

from app import access, db
from app.auth import token_for
from app.models import Sprint, Task
from app.realtime import sessions
from app.realtime.limits import RateLimit
from app.realtime.payloads import hint_payload, subscribe_payload, unsubscribe_payload
from app.realtime.rooms import LOBBY, board_room, project_room, token_room, user_room


def _refuse(message):
    return {"ok": False, "error": message}


def releases_the_session(handler):
    """Socket events get no request teardown of their own: give the database session back."""

    @functools.wraps(handler)
    def wrapped(*args):
        try:
            return handler(*args)
        finally:
            db.session.remove()

    return wrapped


class BoardNamespace(Namespace):
    def __init__(self, namespace="/"):
        super().__init__(namespace)
        self.hint_limit = RateLimit(rate=10, burst=20)
        self.subscribe_limit = RateLimit(rate=5, burst=10)

    @property
    def realtime(self):
        return current_app.extensions["realtime"]

    @releases_the_session
    def on_connect(self, auth=None):
        value = auth.get("token") if isinstance(auth, dict) else None
        token = token_for(value if isinstance(value, str) else None)
        if token is None:
            raise ConnectionRefusedError("A valid API token is required.")
        user = token.user
        roles = access.roles(user_id=user.id)
        realtime = self.realtime
        realtime.sockets[request.sid] = sessions.SocketUser(
            user.id, user.username, token.id, token.expires, roles
        )
        # Give the pooled connection back before waiting on the feed, which needs one
        # itself: a burst of connects must not hold every connection while it waits.
        db.session.remove()
        realtime.serving()
        for room in (LOBBY, token_room(token.id), user_room(user.username), *map(project_room, roles)):
            self.enter_room(request.sid, room)

    @releases_the_session
    def on_disconnect(self, reason=None):
        realtime = self.realtime
        user = realtime.sockets.pop(request.sid, None)
        self.hint_limit.forget(request.sid)
        self.subscribe_limit.forget(request.sid)
        if user is not None:
            for board in list(user.boards):
                sessions.leave_board(realtime, request.sid, user, board)

    @releases_the_session
    def on_subscribe(self, data=None):
        user = self.realtime.sockets.get(request.sid)
        if user is None:
            return _refuse("Not connected.")
        if not self.subscribe_limit.allow(request.sid):
            return _refuse("Too many requests; slow down.")
        payload = subscribe_payload.check(data)
        if payload is None:
            return _refuse(subscribe_payload.usage)
        sprint, _ = access.find(Sprint, payload["sprint"], user_id=user.user_id)
        unknown = _refuse(f"Sprint {payload['sprint']} does not exist.")
        if sprint is None:
            return unknown
        sprint_id, project_id = sprint.id, sprint.project_id
        db.session.remove()  # as in on_connect: hold no pooled connection while waiting on the feed
        joined = sessions.join_board(
            self.realtime, request.sid, user, sprint_id, project_id, payload["since"]
        )
        if joined is None:
            return unknown
        latest, resync = joined
        answer = {"ok": True, "seq": latest}
        if resync:
            answer["resync"] = True
        return answer

    @releases_the_session
    def on_unsubscribe(self, data=None):
        user = self.realtime.sockets.get(request.sid)
        if user is None:
            return _refuse("Not connected.")
        payload = unsubscribe_payload.check(data)
        if payload is None:
            return _refuse(unsubscribe_payload.usage)
        if payload["sprint"] in user.boards:
            sessions.leave_board(self.realtime, request.sid, user, payload["sprint"])
        return {"ok": True}

    @releases_the_session
    def on_hint(self, data=None):
        user = self.realtime.sockets.get(request.sid)
        if user is None:
            return _refuse("Not connected.")
        if not self.hint_limit.allow(request.sid):
            return _refuse("Too many hints; slow down.")
        payload = hint_payload.check(data)
        if payload is None:
            return _refuse(hint_payload.usage)
        task, role = access.find(Task, payload["task"], user_id=user.user_id)
        if task is None:
            return _refuse(f"Task {payload['task']} does not exist.")
        if not role.can_write():
            return _refuse(access.VIEWERS_CANNOT)
        if task.sprint_id is None:
            boards = user.boards_of(task.project_id)
        else:
            boards = [task.sprint_id] if task.sprint_id in user.boards else []
        if not boards:
            return _refuse("Subscribe to the task's board first.")
        action = payload["action"]
        if action == "dragstart":
            user.drags.setdefault(task.id, set()).update(boards)
        else:
            user.drags.pop(task.id, None)
        hint = {"task": task.id, "action": action, "user": user.username}
        rooms = [board_room(b) for b in boards]
        self.realtime.server.emit("hint", hint, to=rooms, skip_sid=request.sid, namespace=self.namespace)
        return {"ok": True}
