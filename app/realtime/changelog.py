"""Session hooks that turn database changes into rows of the change log.

Every add, update and remove of a user, project, membership, sprint or task
is written to ``events`` by the same transaction that makes it, whatever made it: a REST
request, a CLI command or a script using the models. Nothing is sent from
here: after the commit, the log feed (``feed.py``) is told there is news, and
a rolled-back transaction leaves no row behind and tells no one.

A transaction's rows share one ``created`` time, the time it logged its first
change: a reader of the log can tell which changes were made together (a
project and its first admin). A project's removal is logged before the removals
of its memberships that go with it, so that, delivered in order, it still finds
the members it had.

``install`` connects the hooks; ``realtime.init_app`` calls it.
"""

from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, g, has_app_context

from app import db
from app.links import for_the_log
from app.models import Comment, Event, Membership, Project, Sprint, Task, Token, User, utcnow
from app.realtime.changes import changed_fields
from app.schemas import comment_schema, member_schema, project_schema, sprint_schema, task_schema, user_schema

# A project's body leaves out ``role``, each reader's own: ``sessions.send_to_members`` fills it in.
_logged_project_schema = type(project_schema)(exclude=("role",))

MODELS = {
    User: ("user", user_schema),
    Project: ("project", _logged_project_schema),
    Membership: ("member", member_schema),
    Sprint: ("sprint", sprint_schema),
    Task: ("task", task_schema),
    Comment: ("comment", comment_schema),
}


# Removed objects that can be restored: their removal keeps their last body and version.
KEPT_ON_REMOVAL = ("task", "comment")


def _rest_view(schema, obj):
    with for_the_log():
        return schema.dump(obj)


def _member_body(membership, action):
    """A membership change names its project; a removal names just the user."""
    if action == "remove":
        return {"project": membership.project_id, "username": membership.user.username}
    return {"project": membership.project_id, **_rest_view(member_schema, membership)}


# The user relationships that a logged body shows, by the column that holds their id.
USER_REFERENCES = {
    Task: ("assigned", "assigned_id"),
    Membership: ("user", "user_id"),
    Comment: ("author", "author_id"),
}


def _sync_user(obj):
    """Make a user relationship (a task's ``assigned``, a membership's ``user``) agree with
    its id column before the object is dumped.

    Code that sets only the id (a script: ``task.assigned_id = 3``) leaves the
    relationship unloaded on a new object, or holding the previous user on an
    existing one, until the row is next read; the body would show the wrong
    user. The flush has written the id, so it is the committed value.
    """
    relationship, column = USER_REFERENCES[type(obj)]
    user_id = getattr(obj, column)
    loaded = sa.inspect(obj).attrs[relationship].loaded_value
    if loaded is so.attributes.NO_VALUE or getattr(loaded, "id", None) != user_id:
        user = None if user_id is None else so.object_session(obj).get(User, user_id)
        so.attributes.set_committed_value(obj, relationship, user)


def _actor():
    if has_app_context():
        user = g.get("current_user")
        if user is not None:
            return user.username
    return None


def _old_value(obj, key, default=None):
    """The value ``key`` had before this flush (``default`` when unchanged or unknown)."""
    deleted = sa.inspect(obj).attrs[key].history.deleted
    return deleted[0] if deleted else default


_UNCHANGED = object()


def _task_boards(task, action):
    """(board, previous board, shown on every board?) for a task change."""
    board = task.sprint_id
    previous = board
    if action == "update":
        previous = _old_value(task, "sprint_id", _UNCHANGED)
        if previous is _UNCHANGED:
            old_sprint = _old_value(task, "sprint", _UNCHANGED)
            previous = board if old_sprint is _UNCHANGED else getattr(old_sprint, "id", None)
    return board, previous, board is None or previous is None


def _row(obj, action, removed_comments):
    name, schema = MODELS[type(obj)]
    if type(obj) in USER_REFERENCES:
        _sync_user(obj)
    if name == "member":
        body = _member_body(obj, action)
    else:
        body = None if action == "remove" else _rest_view(schema, obj)
    row = {"model": name, "object_id": obj.id, "action": action, "body": body, "actor": _actor()}
    if action == "update":
        row["details"] = {"changes": changed_fields(obj, body)}
    elif action == "add" and obj in so.object_session(obj).info.get("restored", ()):
        row["details"] = {"restored": True}
    elif action == "remove" and name in KEPT_ON_REMOVAL:
        # What a restore brings back, kept with the removal itself: older entries may be pruned.
        row["details"] = {"kept": {"body": _rest_view(schema, obj), "version": obj.version}}
    if name == "project":
        row.update(project=obj.id, label=obj.name)
    elif name == "member":
        row.update(project=obj.project_id, subject=obj.user.username, label=obj.user.username)
    elif name == "sprint":
        row.update(project=obj.project_id, board=obj.id, label=obj.name or f"Sprint ending {obj.end}")
    elif name == "task":
        board, previous, all_boards = _task_boards(obj, action)
        row.update(
            project=obj.project_id,
            task=obj.id,
            label=obj.name,
            board=board,
            previous_board=previous if previous != board else None,
            all_boards=all_boards,
        )
        if action == "remove":
            row["details"]["comments"] = removed_comments.get(obj.id, [])
    elif name == "comment":
        task = obj.task
        row.update(
            project=obj.project_id,
            task=obj.task_id,
            label=task.name,
            board=task.sprint_id,
            all_boards=task.sprint_id is None,
        )
    return row


def _revocation(token):
    return {"model": "token", "object_id": token.id, "action": "revoke", "body": None, "actor": _actor()}


def _collect(session):
    rows = []
    # Comments removed with their task, so that restoring the task can bring them back.
    removed_comments = {}
    for obj in session.deleted:
        if isinstance(obj, Comment):
            removed_comments.setdefault(obj.task_id, []).append(obj.id)
    for obj in session.new:
        if type(obj) in MODELS:
            rows.append(_row(obj, "add", removed_comments))
    for obj in session.dirty:
        if type(obj) in MODELS and session.is_modified(obj, include_collections=False):
            rows.append(_row(obj, "update", removed_comments))
        elif (
            isinstance(obj, Token)
            and obj.revoked is not None
            and _old_value(obj, "revoked", _UNCHANGED) is None
        ):
            rows.append(_revocation(obj))
    for obj in sorted(session.deleted, key=lambda obj: not isinstance(obj, Project)):
        if type(obj) in MODELS:
            rows.append(_row(obj, "remove", removed_comments))
    return rows


_LOG_INSERT = sa.insert(Event)  # made once: a statement used again keeps its cache key


def _write_log(session, flush_context):
    rows = _collect(session)
    if not rows:
        return
    connection = session.connection()
    # On PostgreSQL the rows are numbered at commit, in commit order (app/log_numbers.py).
    defaults = dict.fromkeys(("project", "subject", "board", "previous_board", "task", "label", "details"))
    defaults["all_boards"] = False
    defaults["created"] = session.info.setdefault("logged_at", utcnow())
    connection.execute(_LOG_INSERT, [{**defaults, **row} for row in rows])


def _announce(session):
    session.info.pop("restored", None)
    if session.info.pop("logged_at", None) is not None and has_app_context():
        realtime = current_app.extensions.get("realtime")
        if realtime is not None:
            realtime.committed()


def _forget(session):
    session.info.pop("logged_at", None)
    session.info.pop("restored", None)


HOOKS = {"after_flush": _write_log, "after_commit": _announce, "after_rollback": _forget}


def install():
    """Write the change log from every session (once per process, whatever the number of apps)."""
    for name, hook in HOOKS.items():
        if not sa.event.contains(so.Session, name, hook):
            sa.event.listen(so.Session, name, hook)


def prune_log(older_than_seconds):
    """Delete logged changes older than this (always keeping the newest, so that
    the log's start stays known). Returns how many."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    newest = db.session.scalar(sa.select(sa.func.max(Event.seq)))
    if newest is None:
        return 0
    result = db.session.execute(sa.delete(Event).where(Event.created < cutoff, Event.seq < newest))
    db.session.commit()
    return result.rowcount
