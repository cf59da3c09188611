"""Socket.IO room names, and which rooms each logged change goes to."""

import sqlalchemy as sa

from app.models import Event

LOBBY = "lobby"  # every socket: the sprint list and user changes
ALL_BOARDS = "boards"  # every socket with at least one board open: backlog tasks


def board_room(sprint_id):
    return f"sprint:{sprint_id}"


def token_room(token_id):
    return f"token:{token_id}"


def rooms_for(event):
    """The rooms a logged change is delivered to, as the contract names them."""
    if event.model == "user":
        return [LOBBY]
    if event.model == "sprint":
        return [board_room(event.object_id), LOBBY]
    if event.model == "task":
        boards = dict.fromkeys(b for b in (event.board, event.previous_board) if b is not None)
        rooms = [board_room(b) for b in boards]
        if event.all_boards:
            rooms.append(ALL_BOARDS)
        return rooms
    return []


def seen_by_board(sprint_id):
    """SQL condition: the changes that board ``sprint_id`` receives."""
    return sa.and_(
        Event.model.in_(("sprint", "task")),
        sa.or_(Event.board == sprint_id, Event.previous_board == sprint_id, Event.all_boards),
    )
