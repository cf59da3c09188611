"""Bringing back a deleted task, with its id, fields and comments, as the change log
recorded them before it was deleted."""

from datetime import datetime

import sqlalchemy as sa

from app import access, db
from app.errors import ApiError
from app.models import Comment, Event, Sprint, Status, Task, User

TASK_FIELDS = ("name", "description", "status", "order", "points", "started", "due", "completed")
DATE_FIELDS = ("started", "due", "completed")
ALREADY_THERE = "This task exists: there is nothing to restore."


def _history(model, object_id, limit):
    return db.session.scalars(
        sa.select(Event)
        .where(Event.model == model, Event.object_id == object_id)
        .order_by(Event.seq.desc())
        .limit(limit)
    ).all()


def _kept(model, object_id, removal):
    """(body, version) of the object as last logged before ``removal``, or (None, None).

    A removal keeps them itself; one logged before it did falls back on the newest entry
    holding a body, and on the number of versions the log shows.
    """
    kept = (removal.details or {}).get("kept")
    if kept is not None:
        return kept["body"], kept["version"]
    body = db.session.scalar(
        sa.select(Event.body)
        .where(Event.model == model, Event.object_id == object_id, Event.action != "remove")
        .order_by(Event.seq.desc())
        .limit(1)
    )
    versions = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Event)
        .where(Event.model == model, Event.object_id == object_id, Event.action.in_(("add", "update")))
    )
    return body, versions


def restore_task(task_id):
    """Recreate the deleted task ``task_id`` (not yet committed); returns it.

    404 when the log holds no deletion of it that the caller can see, 409 when it exists.
    """
    not_found = ApiError(404, f"Task {task_id} not found.")
    if not access.fits_int32(task_id):
        raise not_found
    if db.session.get(Task, task_id) is not None:
        if access.find(Task, task_id)[0] is None:
            raise not_found  # in another project: as if it did not exist
        raise ApiError(409, ALREADY_THERE)
    latest = _history("task", task_id, 1)
    if not latest or latest[0].action != "remove":
        raise not_found
    removal = latest[0]
    role = access.role_in(removal.project)
    if role is None:
        raise not_found
    access.require_writer(role)
    body, version = _kept("task", task_id, removal)
    if body is None:
        raise not_found
    restored = db.session.info.setdefault("restored", set())
    with db.session.no_autoflush:  # the task is written once, whole
        # A version past every one it had: an ETag read before the removal stays stale.
        task = Task(id=task_id, project_id=removal.project, version=version + 1, **_fields(body))
        _place(task, body.get("sprint"))
        _assign(task, body.get("assigned"))
        db.session.add(task)
        restored.add(task)
        for comment_id in (removal.details or {}).get("comments", []):
            comment = _restore_comment(task, comment_id)
            if comment is not None:
                restored.add(comment)
    return task


def _fields(body):
    fields = {name: body.get(name) for name in TASK_FIELDS if name in body}
    for name in DATE_FIELDS:
        if fields.get(name):
            fields[name] = datetime.fromisoformat(fields[name]).date()
    return fields


def _place(task, sprint_id):
    """Back in its sprint, unless that is gone or has ended: then in the backlog, Not Started."""
    sprint = db.session.get(Sprint, sprint_id) if sprint_id is not None else None
    if sprint is not None and sprint.project_id == task.project_id and not sprint.has_ended():
        task.sprint = sprint
        return
    task.sprint = None
    task.status = Status.NOT_STARTED
    task.started = task.completed = None


def _assign(task, username):
    user = db.session.scalar(sa.select(User).where(User.username == username)) if username else None
    if user is not None and access.role_in(task.project_id, user_id=user.id) is not None:
        task.assigned = user


def _restore_comment(task, comment_id):
    if db.session.get(Comment, comment_id) is not None:
        return None
    latest = _history("comment", comment_id, 1)
    if not latest or latest[0].action != "remove":
        return None
    body, version = _kept("comment", comment_id, latest[0])
    if body is None:
        return None
    author = (
        db.session.scalar(sa.select(User).where(User.username == body["author"])) if body["author"] else None
    )
    comment = Comment(
        id=comment_id,
        task=task,
        project_id=task.project_id,
        author=author,
        body=body["body"],
        created=datetime.fromisoformat(body["created"]),
        edited=datetime.fromisoformat(body["edited"]) if body.get("edited") else None,
        version=version + 1,
    )
    db.session.add(comment)
    return comment
