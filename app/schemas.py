"""Marshmallow schemas: the REST representation of each model, and its validation."""

import re
from datetime import date

import sqlalchemy as sa
from flask import url_for
from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from app import db
from app.models import STATUS_LABELS, Sprint, Status, User

NON_FIELD_ERRORS = "non_field_errors"
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
INT32 = validate.Range(min=-(2**31), max=2**31 - 1, error="Must be between {min} and {max}.")


class Text(fields.String):
    """A string the database can store: no NUL characters (PostgreSQL refuses them)."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in value:
            raise ValidationError("Null characters are not allowed.")
        return value


class WholeNumber(fields.Integer):
    """An integer; a number with a fraction (``1.5``) is refused rather than truncated."""

    def _validated(self, value):
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class IsoDate(fields.Date):
    """A date written exactly as YYYY-MM-DD (Python alone would also take 20300101)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        return super()._deserialize(value, attr, data, **kwargs)


class Username(Text):
    """A user, shown and accepted as the username."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.username


def max_length(limit):
    return validate.Length(max=limit, error=f"Ensure this field has no more than {limit} characters.")


def not_blank_max_length(limit):
    return validate.Length(
        min=1, max=limit, error=f"This field may not be blank or longer than {limit} characters."
    )


class ModelSchema(Schema):
    """Base for the model schemas.

    ``instance`` is the object being updated (None on create); read-only fields
    sent back by a client (``id``, ``links``…) are ignored rather than refused,
    so a client can PUT what it GOT.
    """

    class Meta:
        unknown = RAISE
        ordered = True

    def __init__(self, *args, instance=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance = instance

    @pre_load
    def drop_read_only_fields(self, data, **kwargs):
        if not isinstance(data, dict):
            raise ValidationError("Expected a JSON object.", NON_FIELD_ERRORS)
        read_only = {name for name, field in self.fields.items() if field.dump_only}
        return {key: value for key, value in data.items() if key not in read_only}

    def current(self, data, key, default=None):
        """The value ``key`` will have after this load: the submitted one, else the stored one."""
        if key in data:
            return data[key]
        if self.instance is not None:
            return getattr(self.instance, key)
        return default

    def handle_error(self, error, data, **kwargs):
        messages = error.messages
        if isinstance(messages, dict) and "_schema" in messages:
            messages = dict(messages)
            messages[NON_FIELD_ERRORS] = messages.pop("_schema")
            raise ValidationError(messages) from error
        raise error


class SprintSchema(ModelSchema):
    id = fields.Integer(dump_only=True)
    name = Text(validate=max_length(100))
    description = Text()
    end = IsoDate(required=True)
    links = fields.Method("get_links", dump_only=True)

    def get_links(self, sprint):
        return {
            "self": url_for("api.sprint", sprint_id=sprint.id, _external=True),
            "tasks": url_for("api.tasks", sprint=sprint.id, _external=True),
        }

    @validates_schema
    def validate_end(self, data, **kwargs):
        if "end" not in data:
            return
        end = data["end"]
        changed = self.instance is None or self.instance.end != end
        if not changed:
            return
        if end < date.today():
            raise ValidationError("End date cannot be in the past.", "end")
        clash = sa.select(Sprint.id).where(Sprint.end == end)
        if self.instance is not None:
            clash = clash.where(Sprint.id != self.instance.id)
        if db.session.scalar(clash) is not None:
            raise ValidationError("A sprint with this end date already exists.", "end")


class TaskSchema(ModelSchema):
    id = fields.Integer(dump_only=True)
    name = Text(required=True, validate=not_blank_max_length(100))
    description = Text()
    sprint = WholeNumber(attribute="sprint_id", allow_none=True, validate=INT32)
    status = WholeNumber(
        validate=validate.OneOf(
            [int(s) for s in Status],
            error="Must be one of: 1 (Not Started), 2 (In Progress), 3 (Testing), 4 (Done).",
        )
    )
    status_display = fields.Method("get_status_display", dump_only=True)
    order = WholeNumber(validate=INT32)
    assigned = Username(allow_none=True, validate=max_length(150))
    started = IsoDate(allow_none=True)
    due = IsoDate(allow_none=True)
    completed = IsoDate(allow_none=True)
    links = fields.Method("get_links", dump_only=True)

    def get_status_display(self, task):
        return STATUS_LABELS.get(task.status, "")

    def get_links(self, task):
        return {
            "self": url_for("api.task", task_id=task.id, _external=True),
            "sprint": (
                url_for("api.sprint", sprint_id=task.sprint_id, _external=True)
                if task.sprint_id is not None
                else None
            ),
            "assigned": (
                url_for("api.user", username=task.assigned.username, _external=True)
                if task.assigned is not None
                else None
            ),
        }

    @validates_schema(skip_on_field_errors=True)
    def validate_references(self, data, **kwargs):
        errors = {}
        if data.get("sprint_id") is not None:
            sprint = db.session.get(Sprint, data["sprint_id"])
            if sprint is None:
                errors["sprint"] = [f"Sprint {data['sprint_id']} does not exist."]
            else:
                data["sprint"] = sprint
                message = self._sprint_move_error(sprint)
                if message:
                    errors["sprint"] = [message]
        elif "sprint_id" in data:
            data["sprint"] = None
            message = self._sprint_move_error(None)
            if message:
                errors["sprint"] = [message]
        if data.get("assigned") is not None:
            user = db.session.scalar(sa.select(User).where(User.username == data["assigned"]))
            if user is None:
                errors["assigned"] = [f'User "{data["assigned"]}" does not exist.']
            else:
                data["assigned"] = user
        if errors:
            raise ValidationError(errors)

    def _sprint_move_error(self, sprint):
        task = self.instance
        new_id = sprint.id if sprint is not None else None
        if task is None:
            if sprint is not None and sprint.has_ended():
                return "Cannot add tasks to past sprints."
            return None
        if new_id == task.sprint_id:
            return None
        if task.status == Status.DONE:
            return "Cannot change the sprint of a completed task."
        if sprint is not None and sprint.has_ended():
            return "Cannot assign tasks to past sprints."
        return None

    @validates_schema(skip_on_field_errors=True)
    def validate_status_rules(self, data, **kwargs):
        sprint_id = self.current(data, "sprint_id")
        status = self.current(data, "status", Status.NOT_STARTED)
        if sprint_id is None and status != Status.NOT_STARTED:
            raise ValidationError('Backlog tasks must have "Not Started" status.')
        if self.current(data, "started") is not None and status == Status.NOT_STARTED:
            raise ValidationError("Started date cannot be set for not started tasks.")
        if self.current(data, "completed") is not None and status != Status.DONE:
            raise ValidationError("Completed date cannot be set for uncompleted tasks.")

    @post_load
    def use_objects(self, data, **kwargs):
        # The ids were resolved to objects while validating; set the relationships.
        data.pop("sprint_id", None)
        return data


class UserSchema(ModelSchema):
    id = fields.Integer(dump_only=True)
    username = fields.String(dump_only=True)
    full_name = fields.String(dump_only=True)
    is_active = fields.Boolean(dump_only=True)
    links = fields.Method("get_links", dump_only=True)

    def get_links(self, user):
        return {
            "self": url_for("api.user", username=user.username, _external=True),
            "tasks": url_for("api.tasks", assigned=user.username, _external=True),
        }


class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=150))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))

    class Meta:
        unknown = RAISE


sprint_schema = SprintSchema()
task_schema = TaskSchema()
user_schema = UserSchema()
token_request_schema = TokenRequestSchema()


def load(schema_class, data, instance=None, partial=False):
    """Validate ``data`` for a new object or an update of ``instance``."""
    return schema_class(instance=instance, partial=partial).load(data)
