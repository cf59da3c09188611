"""What an update changed, in the API's terms: ``{field: [old, new]}``.

Worked out while the transaction is open, from SQLAlchemy's attribute history
(the values before this flush) and the new REST body, and stored with the
logged change, so that activity can show old values even after older log
entries are pruned.
"""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from app.fields import json_number
from app.models import User

# Columns shown under another name, and relationships whose history tells the old
# value when only the relationship (not its id column) was set.
API_NAMES = {"sprint_id": "sprint", "assigned_id": "assigned", "project_id": "project", "task_id": "task"}
RELATIONSHIPS = {"sprint_id": "sprint", "assigned_id": "assigned"}
NOT_SHOWN = {"id", "version", "created", "edited", "password_hash"}
_UNCHANGED = object()


def _old_value(state, key):
    history = state.attrs[key].history
    return history.deleted[0] if history.deleted else _UNCHANGED


def _api_value(session, key, value):
    if value is None:
        return None
    if key == "assigned_id":
        user = value if isinstance(value, User) else session.get(User, value)
        return user.username if user is not None else None
    if hasattr(value, "id") and not isinstance(value, int):  # a related object (old sprint)
        return value.id
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return json_number(value)
    return value


def changed_fields(obj, body):
    """``{field: [old, new]}`` for the fields this flush changed (values as the API shows them)."""
    state = sa.inspect(obj)
    session = state.session
    changes = {}
    modified = state.committed_state  # the attributes set since the row was read
    for attribute in state.mapper.column_attrs:
        key = attribute.key
        if key not in modified and RELATIONSHIPS.get(key) not in modified:
            continue
        name = API_NAMES.get(key, key)
        if key in NOT_SHOWN or name not in body:
            continue
        old = _old_value(state, key)
        if old is _UNCHANGED and key in RELATIONSHIPS:
            old = _old_value(state, RELATIONSHIPS[key])
        if old is _UNCHANGED:
            continue
        old = _api_value(session, key, old)
        if old != body[name]:
            changes[name] = [old, body[name]]
    return changes
