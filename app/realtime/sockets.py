"""The board's Socket.IO namespace: connect, subscribe, unsubscribe, hint, disconnect.

Every event is checked against the socket's user, as REST requests are: a
sprint or task outside the user's projects is answered exactly as one that
does not exist, and a viewer's hints are refused.

A socket's events are handled one at a time, in the order they came in
(``turns.EventTurns``): python-socketio runs each in a task of its own, and a
``subscribe`` that waits on the database would otherwise still be running when
the ``unsubscribe`` sent after it was done, leaving the socket on the board. A
socket that closes while its ``subscribe`` waits is taken off the board again
once that is done (``sessions.join_board``).
"""

import functools

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, Namespace

from app import access, db
from app.auth import token_for
from app.models import Sprint, Task
from app.realtime import sessions
from app.realtime.limits import SocketLimits
from app.realtime.payloads import hint_payload, subscribe_payload, unsubscribe_payload
from app.realtime.rooms import LOBBY, board_room, project_room, token_room, user_room


class Refused(Exception):
    """Raised inside a handler: the event is answered ``{"ok": false, "error": message}``
    (or with ``answer``, a refusal already counted)."""

    def __init__(self, message, answer=None):
        super().__init__(message)
        self.answer = answer


def handler(method):
    """A Socket.IO handler: refusals become the refusal answer (counted against the
    socket's refusal budget), and the database session is given back afterwards, since
    socket events get no request teardown of their own."""

    @functools.wraps(method)
    def wrapped(namespace, *args):
        sid = request.sid
        try:
            return method(namespace, *args)
        except Refused as refusal:
            if sid not in namespace.realtime.sockets:
                return None  # it closed meanwhile: no one to answer, nothing to count
            return refusal.answer or namespace.limits.refuse_or_disconnect(sid, str(refusal))
        finally:
            db.session.remove()

    return wrapped


def event_handler(method):
    """A client event's handler: a ``handler`` that waits for its socket's turn. (Not the
    connect and the disconnect: a disconnect can come from inside an event's handler.)"""
    handle = handler(method)

    @functools.wraps(method)
    def wrapped(namespace, *args):
        with namespace.realtime.turns.turn(request.sid):
            return handle(namespace, *args)

    return wrapped


class BoardNamespace(Namespace):
    def __init__(self, namespace="/"):
        super().__init__(namespace)
        self.limits = SocketLimits(
            hint=(10, 20, "Too many hints; slow down."),
            subscribe=(5, 10, "Too many requests; slow down."),
        )

    @property
    def realtime(self):
        return current_app.extensions["realtime"]

    def receive(self, data, payload, event=None):
        """The socket's user and the checked payload; Refused when it is not connected,
        over its limit for ``event``, or the payload is malformed."""
        user = self.realtime.sockets.get(request.sid)
        if user is None:
            raise Refused("Not connected.")
        if event is not None:
            refusal = self.limits.check(event, request.sid)
            if refusal is not None:
                raise Refused(refusal["error"], answer=refusal)
        loaded = payload.check(data)
        if loaded is None:
            raise Refused(payload.usage)
        return user, loaded

    @handler
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

    @handler
    def on_disconnect(self, reason=None):
        realtime = self.realtime
        user = realtime.sockets.pop(request.sid, None)
        self.limits.forget(request.sid)
        if user is not None:
            for board in list(user.boards):
                sessions.leave_board(realtime, request.sid, user, board)

    @event_handler
    def on_subscribe(self, data=None):
        user, payload = self.receive(data, subscribe_payload, "subscribe")
        sprint, _ = access.find(Sprint, payload["sprint"], user_id=user.user_id)
        unknown = Refused(f"Sprint {payload['sprint']} does not exist.")
        if sprint is None:
            raise unknown
        sprint_id, project_id = sprint.id, sprint.project_id
        db.session.remove()  # as in on_connect: hold no pooled connection while waiting on the feed
        joined = sessions.join_board(
            self.realtime, request.sid, user, sprint_id, project_id, payload["since"]
        )
        if joined is None:
            raise unknown
        latest, resync = joined
        answer = {"ok": True, "seq": latest}
        if resync:
            answer["resync"] = True
        return answer

    @event_handler
    def on_unsubscribe(self, data=None):
        user, payload = self.receive(data, unsubscribe_payload)
        if payload["sprint"] in user.boards:
            sessions.leave_board(self.realtime, request.sid, user, payload["sprint"])
        return {"ok": True}

    @event_handler
    def on_hint(self, data=None):
        user, payload = self.receive(data, hint_payload, "hint")
        task, role = access.find(Task, payload["task"], user_id=user.user_id)
        if task is None:
            raise Refused(f"Task {payload['task']} does not exist.")
        if not role.can_write():
            raise Refused(access.VIEWERS_CANNOT)
        if task.sprint_id is None:
            boards = user.boards_of(task.project_id)
        else:
            boards = [task.sprint_id] if task.sprint_id in user.boards else []
        if not boards:
            raise Refused("Subscribe to the task's board first.")
        action = payload["action"]
        drags = sessions.track_drag(user, task.id, action, boards)
        hint = {"task": task.id, "action": action, "user": user.username}
        rooms = [board_room(b) for b in boards]
        self.realtime.server.emit("hint", hint, to=rooms, skip_sid=request.sid, namespace=self.namespace)
        # Once the hint is out: should Redis hang, noting the drags there must not hold it back.
        sessions.note_drags(self.realtime, request.sid, drags)
        return {"ok": True}
