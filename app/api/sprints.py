"""Sprints: fixed periods of work, each ending on its own date."""

import sqlalchemy as sa
from flask_restx import Namespace
from flask_restx import fields as rx

from app import db, planning
from app.activity import of_sprint
from app.api.activity import add_activity_route, add_view_route
from app.api.docs import links_field, model_from_schema
from app.api.listing import Day, ListArgs, Ordering, Reference, Search
from app.api.resources import ModelItem, ModelList, item_route, list_route, model_resource
from app.auth import auth
from app.errors import ApiError
from app.models import Project, Sprint, Task
from app.schemas import SPRINT_END_TAKEN, SprintSchema, sprint_schema

ns = Namespace("sprints", description="Sprints: fixed periods of work", decorators=[auth.login_required])

_links = links_field(ns, "SprintLinks", ["self", "tasks", "project", "burndown", "activity"])
sprint_model = model_from_schema(ns, "Sprint", sprint_schema, {"links": _links})
sprint_patch_model = model_from_schema(ns, "SprintPatch", sprint_schema, {"links": _links}, partial=True)


class SprintListArgs(ListArgs):
    project = Reference("sprints of this project (id)", Project)
    end_min = Day("sprints ending on or after this date")
    end_max = Day("sprints ending on or before this date")
    search = Search("case-insensitive substring of the name", [Sprint.name])
    ordering = Ordering({"end": Sprint.end, "name": Sprint.name}, default=[Sprint.end])


IN_USE = "This sprint still has tasks: move or delete them first."


SprintResource = model_resource(Sprint, SprintSchema, sprint_schema, {"end": [SPRINT_END_TAKEN]})


@list_route(ns, "sprint", sprint_model, SprintListArgs)
class SprintList(SprintResource, ModelList):
    """The sprints"""

    def filter(self, args, statement):
        if args.get("project") is not None:
            statement = statement.where(Sprint.project_id == args["project"])
        if args.get("end_min") is not None:
            statement = statement.where(Sprint.end >= args["end_min"])
        if args.get("end_max") is not None:
            statement = statement.where(Sprint.end <= args["end_max"])
        return statement


@item_route(ns, "sprint", sprint_model, sprint_patch_model, delete_conflict=IN_USE)
class SprintItem(SprintResource, ModelItem):
    """One sprint"""

    in_use_message = IN_USE

    def check_delete(self, sprint):
        if db.session.scalar(sa.select(Task.id).where(Task.sprint_id == sprint.id).limit(1)):
            raise ApiError(409, IN_USE)


_day = ns.model(
    "BurndownDay",
    {
        "date": rx.Date(required=True),
        "remaining": rx.Float(required=True, description="not Done at the end of that day, as logged"),
        "ideal": rx.Float(required=True, description="the straight line from the total to 0 at the end"),
    },
)
burndown_model = ns.model(
    "Burndown",
    {
        "sprint": rx.Integer(required=True),
        "start": rx.Date(required=True),
        "end": rx.Date(required=True),
        "unit": rx.String(required=True, enum=["points", "tasks"]),
        "total": rx.Float(required=True, description="what was not Done at the end of the first day"),
        "days": rx.List(rx.Nested(_day), required=True),
    },
)


add_view_route(
    ns,
    Sprint,
    "sprint_id",
    "burndown",
    "sprint_burndown",
    "What remained to do at the end of each day of the sprint, as it really happened",
    (200, "What remained each day, from the change log", burndown_model),
    planning.burndown,
)
add_activity_route(ns, Sprint, "sprint_id", "sprint_activity", of_sprint)
