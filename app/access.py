"""Who may see and change what: the one place that scopes project data to a user.

Every query of projects, sprints and tasks on a user's behalf goes through
``visible`` (lists) or ``find`` (one object), so that an endpoint cannot forget
the rule: a user sees only the projects they are a member of, and anything
outside them is answered exactly as if it did not exist. Scoping is one
indexed ``IN`` subquery or one join, never a query per object.

The user is the request's authenticated user unless a ``user_id`` is given
(socket handlers pass their own).
"""

import functools

import sqlalchemy as sa
from flask import g

from app import db
from app.errors import ApiError
from app.models import INT32_MAX, INT32_MIN, Membership, Project, Role

VIEWERS_CANNOT = "Viewers cannot change this project."
ADMINS_ONLY = "Only project admins can do this."
LAST_ADMIN = "A project needs at least one admin."


def fits_int32(value):
    """Ids are 32-bit: a larger one cannot exist, and the SQLite driver refuses to send it."""
    return INT32_MIN <= value <= INT32_MAX


def _user_id(user_id=None):
    return user_id if user_id is not None else g.current_user.id


def _project_column(model):
    return Project.id if model is Project else model.project_id


def member_project_ids(user_id=None):
    """SQL: the ids of the user's projects."""
    return sa.select(Membership.project_id).where(Membership.user_id == _user_id(user_id))


def visible(statement, model, user_id=None):
    """``statement`` (a select of ``model``) narrowed to the user's projects."""
    return statement.where(_project_column(model).in_(member_project_ids(user_id)))


def _membership_join(model, user_id):
    return sa.and_(Membership.project_id == _project_column(model), Membership.user_id == user_id)


def find(model, object_id, lock=False, user_id=None):
    """``(object, the user's role in its project)``, or ``(None, None)`` when it does not
    exist or lies outside the user's projects. ``lock`` takes a row lock (PostgreSQL)
    for a read-modify-write.

    A project comes with its ``role`` attribute filled in.
    """
    if not fits_int32(object_id):
        return None, None
    row = db.session.execute(*_find_statement(model, object_id, lock, _user_id(user_id))).first()
    if row is None:
        return None, None
    obj, role = row
    if lock and not _references_current(obj):
        # The locking read waited for another writer, and PostgreSQL re-checked the join
        # with that writer's version of the row but the old rows joined to it: a reference
        # the writer changed came back empty. Now that the row is locked, read it again.
        obj = db.session.scalar(
            sa.select(model).where(model.id == object_id).execution_options(populate_existing=True)
        )
    return obj, Role(role)


def _find_statement(model, object_id, lock, user_id):
    """``find``'s statement and its parameters."""
    if model is Project:
        return _find_select(model, lock, user_id), {"object_id": object_id}
    return _find_select_once(model, lock), {"object_id": object_id, "user_id": user_id}


@functools.cache
def _find_select_once(model, lock):
    """``find``'s statement for a model other than Project, made once per model and lock: a
    statement object used again keeps its cache key, which SQLAlchemy would otherwise work
    out anew each time. (A project's takes the user's id as it is: a refresh after a
    commit runs the project's role expression again, with no parameters given.)"""
    return _find_select(model, lock, sa.bindparam("user_id"))


def _find_select(model, lock, user_id):
    statement = (
        sa.select(model, Membership.role)
        .join(Membership, _membership_join(model, user_id))
        .where(model.id == sa.bindparam("object_id"))
    )
    if model is Project:
        # Its own subquery rather than the joined column: a refresh of the project after a
        # commit runs this expression again, without the join.
        own_role = (
            sa.select(Membership.role)
            .where(Membership.project_id == Project.id, Membership.user_id == user_id)
            .correlate(Project)
            .scalar_subquery()
        )
        statement = statement.options(sa.orm.with_expression(Project.role, own_role))
    if lock:
        statement = statement.with_for_update(of=model).execution_options(populate_existing=True)
    return statement


def _references_current(obj):
    """Whether each reference loaded with ``obj`` (its eager, many-to-one relationships)
    is the object its foreign key names."""
    for reference, pairs in _joined_references(sa.inspect(obj).mapper):
        related = getattr(obj, reference)
        for foreign_key, key in pairs:
            if getattr(obj, foreign_key) != (None if related is None else getattr(related, key)):
                return False
    return True


@functools.cache
def _joined_references(mapper):
    """``[(relationship, [(foreign key attribute, related key attribute)])]`` of the
    model's many-to-one relationships that load with it (``lazy="joined"``)."""
    return [
        (
            relationship.key,
            [
                (mapper.get_property_by_column(local).key, remote.key)
                for local, remote in relationship.local_remote_pairs
            ],
        )
        for relationship in mapper.relationships
        if relationship.lazy == "joined" and relationship.direction is sa.orm.MANYTOONE
    ]


def get_or_404(model, object_id, lock=False, user_id=None):
    """``find``, answering 404 exactly as for an id that does not exist."""
    obj, role = find(model, object_id, lock=lock, user_id=user_id)
    if obj is None:
        raise ApiError(404, f"{model.__name__} {object_id} not found.")
    return obj, role


def get_for_writing(model, object_id):
    """``get_or_404`` with a row lock, refusing a viewer's write (403)."""
    obj, role = get_or_404(model, object_id, lock=True)
    require_writer(role)
    return obj, role


def with_roles(statement, user_id=None):
    """A select of projects, narrowed to the user's, each with its ``role`` filled in."""
    return statement.join(Membership, _membership_join(Project, _user_id(user_id))).options(
        sa.orm.with_expression(Project.role, Membership.role)
    )


def roles(user_id=None):
    """``{project id: Role}`` for every project of the user."""
    rows = db.session.execute(
        sa.select(Membership.project_id, Membership.role).where(Membership.user_id == _user_id(user_id))
    )
    return {project_id: Role(role) for project_id, role in rows}


def role_in(project_id, user_id=None):
    """The user's role in this project, or None when they are not a member (or it does not exist)."""
    if not fits_int32(project_id):
        return None
    role = db.session.scalar(
        sa.select(Membership.role).where(
            Membership.project_id == project_id, Membership.user_id == _user_id(user_id)
        )
    )
    return Role(role) if role is not None else None


def default_project(user_id=None):
    """The project a new sprint or task goes to when none is named: the only one the user
    can write to (or, for a viewer of a single project, that one, whose write is then
    refused as a viewer's). None when there is no single choice."""
    user_roles = roles(user_id)
    writable = [pid for pid, role in user_roles.items() if role.can_write()]
    if len(writable) == 1:
        return writable[0]
    if not writable and len(user_roles) == 1:
        return next(iter(user_roles))
    return None


def require_writer(role):
    if role is None or not role.can_write():
        raise ApiError(403, VIEWERS_CANNOT)


def require_admin(role):
    require_writer(role)
    if role != Role.ADMIN:
        raise ApiError(403, ADMINS_ONLY)
