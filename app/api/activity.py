"""Activity lists of tasks, sprints and projects: the change log, newest first."""

from flask_restx import Resource
from flask_restx import fields as rx

from app import access
from app.activity import activity_view, entries
from app.api import listing
from app.api.docs import ERROR, list_model
from app.api.listing import ListArgs, Moment


class ActivityArgs(ListArgs):
    since = Moment("only entries after this ISO-8601 date and time")


activity_args = ActivityArgs()


def add_activity_route(ns, model, id_arg, endpoint, scope):
    """Route ``/<id>/activity`` on ``ns``: the activity of one ``model`` object, as ``scope`` selects it."""
    noun = model.__name__.lower()
    entry_model = ns.model(
        f"{model.__name__}ActivityEntry",
        {
            "seq": rx.Integer(required=True),
            "at": rx.DateTime(required=True),
            "actor": rx.String(description="username; null for changes made by scripts"),
            "model": rx.String(required=True, enum=["project", "member", "sprint", "task", "comment"]),
            "id": rx.Integer(required=True),
            "action": rx.String(required=True, enum=["add", "update", "remove"]),
            "summary": rx.String(required=True, description="one sentence saying what happened"),
            "changes": rx.Raw(description="for an update: field → [old, new], only the fields that changed"),
        },
    )

    @ns.route(f"/<int:{id_arg}>/activity", endpoint=endpoint)
    @ns.param(id_arg, f"The {noun}'s id")
    @ns.response(401, "Not authenticated", ERROR)
    @ns.response(404, f"No such {noun}", ERROR)
    class Activity(Resource):
        @ns.doc(params=ActivityArgs.parameters())
        @ns.response(
            200, "A page of entries, newest first", list_model(ns, f"{model.__name__}Activity", entry_model)
        )
        @ns.response(400, "A query parameter is not valid", ERROR)
        def get(self, **ids):
            obj, _ = access.get_or_404(model, ids[id_arg])
            args = listing.parse(activity_args)
            return listing.page(entries(scope(obj), args.get("since")), activity_view, args)

    Activity.get.__doc__ = f"What happened to the {noun}, newest first, from the change log"
    Activity.__name__ = f"{model.__name__}Activity"
    return Activity
