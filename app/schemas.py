"""Marshmallow schemas: the REST representation of each model, and its validation."""

import contextvars
import functools
from datetime import date, timedelta

import sqlalchemy as sa
from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    missing,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from app import access, db
from app.fields import (
    BLANK,
    INT32,
    IsoDate,
    Links,
    Name,
    Points,
    Text,
    Username,
    WholeNumber,
    max_length,
    not_blank_max_length,
)
from app.models import (
    SPRINT_LENGTH,
    STATUS_CHOICES_TEXT,
    STATUS_LABELS,
    Project,
    Role,
    Sprint,
    Status,
    User,
)

NON_FIELD_ERRORS = "non_field_errors"
COMMENT_LENGTH = 10_000


class ObjectSchema(Schema):
    """A schema that dumps objects (never mappings) with a plan made once per schema: each
    field's value is read with ``getattr`` and handed straight to the field's own
    formatting, which is what marshmallow does for an object, without its per-field layers
    (a page of 25 tasks is 350 field values). A field that reads its value some other
    way, or a dotted attribute, goes through marshmallow's ``serialize`` as usual."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._plan = [
            (
                field.data_key if field.data_key is not None else name,
                name,
                _plain_attribute(self, name, field),
                field,
            )
            for name, field in self.dump_fields.items()
        ]

    def _serialize(self, obj, *, many=False):
        if many and obj is not None:
            return [self._serialize(item) for item in obj]
        result = self.dict_class()
        for key, name, attribute, field in self._plan:
            value = missing if attribute is None else getattr(obj, attribute, missing)
            if value is missing:
                value = field.serialize(name, obj, accessor=self.get_attribute)
            else:
                value = field._serialize(value, name, obj)
            if value is not missing:
                result[key] = value
        return result


def _plain_attribute(schema, name, field):
    """The attribute a field reads with marshmallow's own ``getattr``, or None when it reads
    its value another way (a method or function field, a dotted or custom access)."""
    attribute = field.attribute or name
    if (
        not field._CHECK_ATTRIBUTE
        or type(field).get_value is not fields.Field.get_value
        or type(schema).get_attribute is not Schema.get_attribute
        or "." in attribute
    ):
        return None
    return attribute


class ModelSchema(ObjectSchema):
    """Base for the model schemas.

    ``instance`` is the object being updated (None on create); read-only fields
    sent back by a client (``id``, ``links``…) are ignored rather than refused,
    so a client can PUT what it GOT.
    """

    class Meta:
        unknown = RAISE
        ordered = True

    @property
    def instance(self):
        return _updating.get()

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


class ProjectPart:
    """The ``project`` field of sprints and tasks, resolved against the caller's projects.

    On create it may be left out when the caller can write to exactly one project;
    afterwards it never changes. A project the caller is not a member of is refused
    exactly as one that does not exist. A viewer's write is refused with 403.
    """

    def resolve_project(self, data, errors, implied=None):
        """Set ``data["project_id"]`` (on create); ``implied`` is the project a sprint gives."""
        if self.instance is not None:
            if "project_id" in data and data["project_id"] != self.instance.project_id:
                errors["project"] = [MOVE_PROJECT]
            data["project_id"] = self.instance.project_id
            return
        given = data.get("project_id")
        if given is not None and implied is not None and given != implied:
            errors["project"] = ["The sprint belongs to another project."]
            return
        project_id = given if given is not None else implied
        if project_id is None:
            project_id = access.default_project()
            if project_id is None:
                errors["project"] = ["This field is required: you can write to several projects."]
                return
        role = access.role_in(project_id)
        if role is None:
            errors["project"] = [f"Project {project_id} does not exist."]
            return
        access.require_writer(role)
        data["project_id"] = project_id


MOVE_PROJECT = "Cannot move to another project."


class SprintSchema(ProjectPart, ModelSchema):
    id = fields.Integer(dump_only=True)
    project = WholeNumber(attribute="project_id", validate=INT32)
    name = Name(allow_blank=True, validate=max_length(100))
    description = Text()
    start = IsoDate()
    end = IsoDate(required=True)
    links = Links(
        {
            "self": ("api.sprint", {"sprint_id": "id"}),
            "tasks": ("api.tasks", {"sprint": "id"}),
            "project": ("api.project", {"project_id": "project_id"}),
            "burndown": ("api.sprint_burndown", {"sprint_id": "id"}),
            "activity": ("api.sprint_activity", {"sprint_id": "id"}),
        }
    )

    @validates_schema(skip_on_field_errors=True)
    def validate_project_and_dates(self, data, **kwargs):
        errors = {}
        self.resolve_project(data, errors)
        if errors:
            raise ValidationError(errors)
        end = data.get("end")
        if end is not None and (self.instance is None or self.instance.end != end):
            if end < date.today():
                raise ValidationError("End date cannot be in the past.", "end")
            clash = sa.select(Sprint.id).where(Sprint.project_id == data["project_id"], Sprint.end == end)
            if self.instance is not None:
                clash = clash.where(Sprint.id != self.instance.id)
            if db.session.scalar(clash) is not None:
                raise ValidationError(SPRINT_END_TAKEN, "end")
        end = self.current(data, "end")
        if self.instance is None and "start" not in data:
            data["start"] = end - SPRINT_LENGTH
        start = self.current(data, "start")
        if start > end:
            raise ValidationError("Start date must be on or before the end date.", "start")
        # Checked when the dates move (either of them), so that a row written before the
        # limit can still be renamed, and sent back as it was read.
        moved = self.instance is None or (start, end) != (self.instance.start, self.instance.end)
        if moved and end - start > LONGEST_SPRINT:
            raise ValidationError(SPRINT_TOO_LONG, "start")


SPRINT_END_TAKEN = "A sprint with this end date already exists."
# A year, leap day included: longer than any real sprint, and a burndown's days stay few.
LONGEST_SPRINT = timedelta(days=366)
SPRINT_TOO_LONG = f"Start date must be at most {LONGEST_SPRINT.days} days before the end date."


class TaskSchema(ProjectPart, ModelSchema):
    id = fields.Integer(dump_only=True)
    project = WholeNumber(attribute="project_id", validate=INT32)
    name = Name(required=True, validate=not_blank_max_length(100))
    description = Text()
    sprint = WholeNumber(attribute="sprint_id", allow_none=True, validate=INT32)
    status = WholeNumber(
        validate=validate.OneOf(
            [int(s) for s in Status],
            error=f"Must be one of: {STATUS_CHOICES_TEXT}.",
        )
    )
    status_display = fields.Method("get_status_display", dump_only=True)
    order = WholeNumber(validate=INT32)
    points = Points(allow_none=True)
    assigned = Username(allow_none=True, validate=max_length(150))
    started = IsoDate(allow_none=True)
    due = IsoDate(allow_none=True)
    completed = IsoDate(allow_none=True)
    links = Links(
        {
            "self": ("api.task", {"task_id": "id"}),
            "sprint": ("api.sprint", {"sprint_id": "sprint_id"}),
            "assigned": ("api.user", {"username": "assigned.username"}),
            "project": ("api.project", {"project_id": "project_id"}),
            "comments": ("api.task_comments", {"task_id": "id"}),
            "activity": ("api.task_activity", {"task_id": "id"}),
        }
    )

    def get_status_display(self, task):
        return STATUS_LABELS.get(task.status, "")

    @validates_schema(skip_on_field_errors=True)
    def validate_references(self, data, **kwargs):
        errors = {}
        sprint = None
        if data.get("sprint_id") is not None:
            sprint, _ = access.find(Sprint, data["sprint_id"])
            if sprint is None:
                errors["sprint"] = [f"Sprint {data['sprint_id']} does not exist."]
        if not errors:
            self.resolve_project(data, errors, implied=sprint.project_id if sprint is not None else None)
        project_id = None if errors else data["project_id"]
        if sprint is not None and project_id is not None:
            if sprint.project_id != project_id:
                errors["project"] = ["The sprint belongs to another project."]
            else:
                data["sprint"] = sprint
                message = self._sprint_move_error(sprint)
                if message:
                    errors["sprint"] = [message]
        elif "sprint_id" in data and data["sprint_id"] is None:
            data["sprint"] = None
            message = self._sprint_move_error(None)
            if message:
                errors["sprint"] = [message]
        if data.get("assigned") is not None:
            user = db.session.scalar(sa.select(User).where(User.username == data["assigned"]))
            if user is None:
                errors["assigned"] = [f'User "{data["assigned"]}" does not exist.']
            elif (
                project_id is not None
                and self._newly_assigned(user)
                and access.role_in(project_id, user_id=user.id) is None
            ):
                errors["assigned"] = [f'User "{data["assigned"]}" is not a member of this project.']
            else:
                data["assigned"] = user
        if errors:
            raise ValidationError(errors)

    def _newly_assigned(self, user):
        return self.instance is None or self.instance.assigned_id != user.id

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
            raise ValidationError(f'Backlog tasks must have "{STATUS_LABELS[Status.NOT_STARTED]}" status.')
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
    links = Links(
        {
            "self": ("api.user", {"username": "username"}),
            "tasks": ("api.tasks", {"assigned": "username"}),
        }
    )


ROLE_CHOICES = [role.value for role in Role]


class ProjectSchema(ModelSchema):
    id = fields.Integer(dump_only=True)
    name = Name(required=True, validate=not_blank_max_length(100))
    description = Text()
    role = fields.Method("get_role", dump_only=True)
    links = Links(
        {
            "self": ("api.project", {"project_id": "id"}),
            "sprints": ("api.sprints", {"project": "id"}),
            "tasks": ("api.tasks", {"project": "id"}),
            "members": ("api.members", {"project_id": "id"}),
            "activity": ("api.project_activity", {"project_id": "id"}),
            "velocity": ("api.project_velocity", {"project_id": "id"}),
        }
    )

    def get_role(self, project):
        """The caller's role: loaded with the project by ``access``, else looked up (after a write)."""
        role = project.role or access.role_in(project.id)
        return None if role is None else str(role)

    @validates_schema(skip_on_field_errors=True)
    def validate_name(self, data, **kwargs):
        if "name" not in data or (self.instance is not None and self.instance.name == data["name"]):
            return
        clash = sa.select(Project.id).where(Project.name == data["name"])
        if db.session.scalar(clash) is not None:
            raise ValidationError(PROJECT_NAME_TAKEN, "name")


PROJECT_NAME_TAKEN = "A project with this name already exists."


class CommentSchema(ModelSchema):
    id = fields.Integer(dump_only=True)
    task = fields.Integer(attribute="task_id", dump_only=True)
    author = Username(dump_only=True)
    body = Text(required=True, validate=not_blank_max_length(COMMENT_LENGTH))
    created = fields.AwareDateTime(dump_only=True)
    edited = fields.AwareDateTime(dump_only=True, allow_none=True)
    links = Links(
        {
            "self": ("api.comment", {"comment_id": "id"}),
            "task": ("api.task", {"task_id": "task_id"}),
            "author": ("api.user", {"username": "author.username"}),
        }
    )

    @validates_schema(skip_on_field_errors=True)
    def validate_body(self, data, **kwargs):
        if "body" in data and not data["body"].strip():
            raise ValidationError(BLANK, "body")


class MemberSchema(ObjectSchema):
    """A membership as the API shows it: the user and their role in the project."""

    class Meta:
        ordered = True

    username = fields.Function(lambda membership: membership.user.username)
    full_name = fields.Function(lambda membership: membership.user.full_name)
    role = fields.String()
    links = Links({"user": ("api.user", {"username": "user.username"})})


class RoleRequestSchema(ModelSchema):
    role = fields.String(
        required=True, validate=validate.OneOf(ROLE_CHOICES, error="Must be one of: admin, member, viewer.")
    )


class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=150))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))

    class Meta:
        unknown = RAISE


sprint_schema = SprintSchema()
task_schema = TaskSchema()
user_schema = UserSchema()
project_schema = ProjectSchema()
member_schema = MemberSchema()
comment_schema = CommentSchema()
role_request_schema = RoleRequestSchema()
token_request_schema = TokenRequestSchema()


# The object a load validates an update of. A schema holds no other state of its own
# during a load, so one instance of each serves every request, each with its own object.
_updating = contextvars.ContextVar("updating", default=None)


@functools.cache
def _loader(schema_class, partial):
    return schema_class(partial=partial)


def load(schema_class, data, instance=None, partial=False):
    """Validate ``data`` for a new object or an update of ``instance``."""
    token = _updating.set(instance)
    try:
        return _loader(schema_class, partial).load(data)
    finally:
        _updating.reset(token)
