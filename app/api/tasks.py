"""Tasks: units of work, in a sprint or in the backlog, moving through four statuses."""

from flask_restx import Namespace, Resource

from app.activity import of_task
from app.api.activity import add_activity_route
from app.api.common import commit_and_dump
from app.api.docs import ERROR, links_field, model_from_schema
from app.api.listing import Choice, Flag, ListArgs, Ordering, Reference, Search, Username
from app.api.resources import ModelItem, ModelList, item_route, list_route, model_resource, object_route
from app.auth import auth
from app.errors import ApiError
from app.links import link
from app.models import STATUS_CHOICES_TEXT, Project, Sprint, Status, Task
from app.restore import ALREADY_THERE, restore_task
from app.schemas import TaskSchema, task_schema

ns = Namespace("tasks", description="Tasks on the board and in the backlog", decorators=[auth.login_required])

_links = links_field(
    ns,
    "TaskLinks",
    ["self", "sprint", "assigned", "project", "comments", "activity"],
    optional=("sprint", "assigned"),
)
task_model = model_from_schema(ns, "Task", task_schema, {"links": _links})
task_patch_model = model_from_schema(ns, "TaskPatch", task_schema, {"links": _links}, partial=True)


class TaskListArgs(ListArgs):
    project = Reference("tasks of this project (id)", Project)
    sprint = Reference("tasks in this sprint (id)", Sprint)
    status = Choice(STATUS_CHOICES_TEXT, [int(status) for status in Status])
    assigned = Username("tasks assigned to this username")
    backlog = Flag("true: only tasks without a sprint; false: only tasks in one")
    search = Search("case-insensitive substring of the name or description", [Task.name, Task.description])
    ordering = Ordering(
        {
            "name": Task.name,
            "order": Task.order,
            "started": Task.started,
            "due": Task.due,
            "completed": Task.completed,
        },
        default=[Task.order],
    )


TaskResource = model_resource(Task, TaskSchema, task_schema)


@list_route(ns, "task", task_model, TaskListArgs)
class TaskList(TaskResource, ModelList):
    """The tasks"""

    def filter(self, args, statement):
        for name, column in (
            ("project", Task.project_id),
            ("sprint", Task.sprint_id),
            ("status", Task.status),
        ):
            if args.get(name) is not None:
                statement = statement.where(column == args[name])
        if args.get("assigned") is not None:
            statement = statement.where(Task.assigned_id == args["assigned"])
        if args.get("backlog") is not None:
            backlog = Task.sprint_id.is_(None)
            statement = statement.where(backlog if args["backlog"] else ~backlog)
        return statement


@item_route(ns, "task", task_model, task_patch_model)
class TaskItem(TaskResource, ModelItem):
    """One task"""


add_activity_route(ns, Task, "task_id", "task_activity", of_task)


@object_route(
    ns,
    "/<int:task_id>/restore",
    "task_restore",
    "The log holds no deletion of this task",
    task_id="The deleted task's id",
)
class TaskRestore(Resource):
    @ns.response(201, "Restored, with its comments", task_model)
    @ns.response(403, "Viewers cannot restore", ERROR)
    @ns.response(409, "The task exists", ERROR)
    def post(self, task_id):
        """Bring back a deleted task with its id, fields and comments, as the log recorded them"""
        task = restore_task(task_id)
        try:
            body, etag = commit_and_dump(task, task_schema)
        except ApiError:  # restored by someone else meanwhile
            raise ApiError(409, ALREADY_THERE) from None
        return body, 201, {"ETag": etag, "Location": link("api.task", task_id=task_id)}
