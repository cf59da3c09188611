"""Tasks: units of work, in a sprint or in the backlog, moving through four statuses."""

import sqlalchemy as sa
from flask_restx import Namespace, Resource

from app import db
from app.activity import of_task
from app.api.activity import add_activity_route
from app.api.common import commit_and_dump
from app.api.docs import ERROR, links_field, list_model, model_from_schema
from app.api.resources import ModelItem, ModelList, item_doc, list_doc
from app.auth import auth
from app.errors import ApiError
from app.links import link
from app.models import STATUS_CHOICES_TEXT, Project, Sprint, Task, User
from app.restore import ALREADY_THERE, restore_task
from app.schemas import TaskSchema, task_schema

ns = Namespace("tasks", description="Tasks on the board and in the backlog", decorators=[auth.login_required])

_links = links_field(
    ns,
    "TaskLinks",
    ["self", "sprint", "assigned", "project", "comments", "activity"],
    nullable=("sprint", "assigned"),
)
task_model = model_from_schema(ns, "Task", task_schema, {"links": _links})
task_patch_model = model_from_schema(ns, "TaskPatch", task_schema, {"links": _links}, partial=True)

LIST_PARAMS = {
    "project": {"description": "tasks of this project (id)", "type": "integer"},
    "sprint": {"description": "tasks in this sprint (id)", "type": "integer"},
    "status": {
        "description": STATUS_CHOICES_TEXT,
        "type": "integer",
        "enum": [1, 2, 3, 4],
    },
    "assigned": {"description": "tasks assigned to this username", "type": "string"},
    "backlog": {
        "description": "true: only tasks without a sprint; false: only tasks in one",
        "type": "boolean",
    },
    "search": {"description": "case-insensitive substring of the name or description", "type": "string"},
    "ordering": {
        "description": "name, order, started, due or completed; prefix - for descending (default: order, id)",
        "type": "string",
    },
    "page": {"description": "1-based page number", "type": "integer", "minimum": 1},
    "page_size": {"description": "items per page: default 25, at most 100", "type": "integer", "minimum": 1},
}


class TaskResource:
    model = Task
    schema_class = TaskSchema
    schema = task_schema
    item_endpoint = "api.task"
    id_arg = "task_id"


@ns.route("", endpoint="tasks")
@list_doc(ns, "task", task_model, list_model(ns, "TaskList", task_model), LIST_PARAMS)
class TaskList(TaskResource, ModelList):
    """The tasks"""

    ordering = {
        "name": Task.name,
        "order": Task.order,
        "started": Task.started,
        "due": Task.due,
        "completed": Task.completed,
    }
    default_ordering = (Task.order,)
    search_columns = (Task.name, Task.description)

    def filter(self, query, statement):
        project_id = query.reference("project", Project)
        sprint_id = query.reference("sprint", Sprint)
        status = query.integer("status", minimum=1, maximum=4)
        username = query.text("assigned")
        backlog = query.boolean("backlog")
        if project_id is not None:
            statement = statement.where(Task.project_id == project_id)
        if sprint_id is not None:
            statement = statement.where(Task.sprint_id == sprint_id)
        if status is not None:
            statement = statement.where(Task.status == status)
        if username is not None:
            user_id = db.session.scalar(sa.select(User.id).where(User.username == username))
            if user_id is None:
                query.fail("assigned", f'User "{username}" does not exist.')
            statement = statement.where(Task.assigned_id == user_id)
        if backlog is not None:
            statement = statement.where(Task.sprint_id.is_(None) if backlog else Task.sprint_id.is_not(None))
        return statement


@ns.route("/<int:task_id>", endpoint="task")
@ns.param("task_id", "The task's id")
@item_doc(ns, "task", task_model, task_patch_model)
class TaskItem(TaskResource, ModelItem):
    """One task"""


add_activity_route(ns, Task, "task_id", "task_activity", of_task)


@ns.route("/<int:task_id>/restore", endpoint="task_restore")
@ns.param("task_id", "The deleted task's id")
@ns.response(401, "Not authenticated", ERROR)
class TaskRestore(Resource):
    @ns.response(201, "Restored, with its comments", task_model)
    @ns.response(403, "Viewers cannot restore", ERROR)
    @ns.response(404, "The log holds no deletion of this task", ERROR)
    @ns.response(409, "The task exists", ERROR)
    def post(self, task_id):
        """Bring back a deleted task with its id, fields and comments, as the log recorded them"""
        task = restore_task(task_id)
        try:
            body, etag = commit_and_dump(task, task_schema)
        except ApiError:  # restored by someone else meanwhile
            raise ApiError(409, ALREADY_THERE) from None
        return body, 201, {"ETag": etag, "Location": link("api.task", task_id=task_id)}
