"""What this process knows of each of its sockets, and how sockets join and
leave boards and projects.

A socket's roles are read when it connects and then kept current by the change
log: the log feed hands every membership and user change to
``apply_access_change`` before delivering it, so a member removed or demoted
on any process, by any path, is acted on at that point of the log.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

import redis

from app.models import Role
from app.realtime.feed import NAMESPACE
from app.realtime.rooms import backlog_room, board_room, project_room, user_room
from app.schemas import project_schema

log = logging.getLogger(__name__)


@dataclass
class SocketUser:
    user_id: int
    username: str
    token_id: int
    expires: datetime
    roles: dict  # project id -> Role
    boards: dict = field(default_factory=dict)  # open board (sprint id) -> its project id
    drags: dict = field(default_factory=dict)  # task id -> boards its dragstart was sent to

    def boards_of(self, project_id):
        return [board for board, project in self.boards.items() if project == project_id]


def presence_message(realtime, board):
    return {"sprint": board, "users": realtime.presence.users(board)}


def broadcast_presence(realtime, board):
    realtime.server.emit(
        "presence", presence_message(realtime, board), to=board_room(board), namespace=NAMESPACE
    )


def change_presence(realtime, board, change, *args, tell=None):
    """Apply a presence change; tell the board only when its set of users changed (a
    board filling up with one user's tabs costs nothing), and ``tell`` (a new
    subscriber) the current set in any case. Without Redis, boards still work, unseen."""
    try:
        before = realtime.presence.users(board)
        change(board, *args)
        message = presence_message(realtime, board)
        if message["users"] != before:
            realtime.server.emit("presence", message, to=board_room(board), namespace=NAMESPACE)
        elif tell is not None:
            realtime.server.emit("presence", message, to=tell, namespace=NAMESPACE, ignore_queue=True)
    except redis.RedisError as error:
        log.warning("Presence of board %s not updated: Redis is unavailable (%s)", board, error)


def join_board(realtime, sid, user, sprint_id, project_id, since):
    """Open a board: replay what ``since`` missed, join its rooms, appear in its presence.

    Returns the feed's (latest seq, resync), or None when the user left the project or the
    socket closed meanwhile.
    """
    joined = realtime.feed.replay_and_join(
        sid,
        sprint_id,
        project_id,
        since,
        [board_room(sprint_id), backlog_room(project_id)],
        still_allowed=lambda: project_id in user.roles,
    )
    if joined is None:
        return None
    user.boards[sprint_id] = project_id
    change_presence(realtime, sprint_id, realtime.presence.join, sid, user.username, tell=sid)
    if realtime.sockets.get(sid) is not user:
        # The socket closed while this waited: its disconnect left the boards it had then.
        leave_board(realtime, sid, user, sprint_id)
        return None
    return joined


def leave_board(realtime, sid, user, board):
    """Close a board: leave its rooms, end the drags shown there, drop out of its presence."""
    project_id = user.boards.pop(board, None)
    server = realtime.server
    server.leave_room(sid, board_room(board), namespace=NAMESPACE)
    if project_id is not None and not user.boards_of(project_id):
        server.leave_room(sid, backlog_room(project_id), namespace=NAMESPACE)
    end_drags(realtime, sid, user, board)
    change_presence(realtime, board, realtime.presence.leave, sid)


def end_drags(realtime, sid, user, board):
    """The others on ``board`` stop showing this socket's unfinished drags there."""
    for task_id, boards in list(user.drags.items()):
        if board in boards:
            boards.discard(board)
            hint = {"task": task_id, "action": "dragend", "user": user.username}
            realtime.server.emit("hint", hint, to=board_room(board), skip_sid=sid, namespace=NAMESPACE)
        if not boards:
            del user.drags[task_id]


def track_drag(user, task_id, action, boards):
    """Note a drag started on ``boards``, or ended (``dragend``, ``drop``) wherever it was
    shown. Returns the unfinished drags of each board this touched, for ``note_drags``."""
    if action == "dragstart":
        user.drags.setdefault(task_id, set()).update(boards)
        touched = boards
    else:
        touched = user.drags.pop(task_id, ())
    return {board: [task for task, shown in user.drags.items() if board in shown] for board in touched}


def note_drags(realtime, sid, drags):
    """Keep each board's unfinished drags beside the socket's presence there, for the other
    processes to end should this one die."""
    if not drags:
        return
    try:
        realtime.presence.note_drags(sid, drags)
    except redis.RedisError as error:
        log.warning("Drags on boards %s not noted: Redis is unavailable (%s)", sorted(drags), error)


def end_abandoned_drags(realtime, board, drags):
    """The others on ``board`` stop showing the drags of sockets whose presence expired there
    (their process died): ``drags`` lists ``(username, [task ids])``."""
    for username, tasks in drags:
        for task_id in tasks:
            hint = {"task": task_id, "action": "dragend", "user": username}
            realtime.server.emit("hint", hint, to=board_room(board), namespace=NAMESPACE)


def leave_project(realtime, sid, user, project_id):
    user.roles.pop(project_id, None)
    for board in user.boards_of(project_id):
        leave_board(realtime, sid, user, board)
    realtime.server.leave_room(sid, project_room(project_id), namespace=NAMESPACE)


def apply_access_change(realtime, event):
    """Act on a logged change that alters what this process's sockets may see."""
    server = realtime.server
    if event.model == "user" and event.action == "update" and not (event.body or {}).get("is_active", True):
        for sid, _user in _sockets_of(realtime, event.body["username"]):
            server.disconnect(sid, namespace=NAMESPACE, ignore_queue=True)
    elif event.model == "member":
        for sid, user in _sockets_of(realtime, event.subject):
            if event.action == "remove":
                leave_project(realtime, sid, user, event.project)
            else:
                user.roles[event.project] = Role(event.body["role"])
                server.enter_room(sid, project_room(event.project), namespace=NAMESPACE)


# A project's fields in the order its REST view shows them.
PROJECT_FIELDS = tuple(project_schema.dump_fields)


def send_to_members(realtime, change, project_id, rooms):
    """A project's ``change`` to the sockets in ``rooms`` (on this process) of its members.

    The logged body leaves out ``role``, the reader's own: each socket gets it with its
    user's role filled in, as the REST API shows the project to that user. The roles
    are those kept for each socket, so this costs one message per role, and no query.
    """
    server = realtime.server
    by_role = {}
    for sid, _ in server.manager.get_participants(NAMESPACE, rooms):
        user = realtime.sockets.get(sid)
        role = None if user is None else user.roles.get(project_id)
        if role is not None:
            by_role.setdefault(role, []).append(sid)
    if change["body"] is None:  # a removal: nothing to fill in
        members = [sid for sids in by_role.values() for sid in sids]
        if members:
            server.emit("change", change, to=members, namespace=NAMESPACE, ignore_queue=True)
        return
    for role, sids in by_role.items():
        shown = {**change, "body": _with_role(change["body"], role)}
        server.emit("change", shown, to=sids, namespace=NAMESPACE, ignore_queue=True)


def _with_role(body, role):
    shown = {**body, "role": str(role)}
    ordered = {name: shown[name] for name in PROJECT_FIELDS if name in shown}
    ordered.update(shown)
    return ordered


def _sockets_of(realtime, username):
    server = realtime.server
    for sid, _ in list(server.manager.get_participants(NAMESPACE, user_room(username))):
        user = realtime.sockets.get(sid)
        if user is not None:
            yield sid, user
