"""Socket.IO room names, and which rooms each logged change goes to.

Every socket is in the lobby (user changes), in its own user and token rooms,
and in a room per project it belongs to (sprint, project and membership
changes). A socket with boards open is also in each board's room and in its
project's backlog room (backlog tasks appear on every board of their project).
"""

import sqlalchemy as sa

from app.models import Event

LOBBY = "lobby"
BOARD_MODELS = ("sprint", "task", "comment")  # a comment goes where its task goes


def _room(kind):
    return lambda key: f"{kind}:{key}"


board_room = _room("sprint")  # a board's sockets: its sprint's tasks and their comments
project_room = _room("project")  # members' sockets: the project's sprints, settings and members
backlog_room = _room("backlog")  # sockets with a board of the project open: its backlog
token_room = _room("token")  # the sockets opened with one API token (closed when it is revoked)
user_room = _room("user")  # one user's sockets (by username)


def rooms_for(event):
    """The rooms a logged change is delivered to, as the contract names them."""
    if event.model == "user":
        return [LOBBY]
    if event.model == "project":
        return [project_room(event.project)]
    if event.model == "member":
        # The member's own sockets hear of it even when it removed them from the project.
        return [project_room(event.project), user_room(event.subject)]
    if event.model == "sprint":
        return [board_room(event.object_id), project_room(event.project)]
    if event.model in BOARD_MODELS:
        boards = dict.fromkeys(b for b in (event.board, event.previous_board) if b is not None)
        rooms = [board_room(b) for b in boards]
        if event.all_boards:
            rooms.append(backlog_room(event.project))
        return rooms
    return []


def seen_by_board(sprint_id, project_id):
    """SQL condition: the changes that board ``sprint_id`` (of ``project_id``) receives."""
    return sa.and_(
        Event.model.in_(BOARD_MODELS),
        sa.or_(
            Event.board == sprint_id,
            Event.previous_board == sprint_id,
            sa.and_(Event.all_boards, Event.project == project_id),
        ),
    )
