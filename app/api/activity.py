"""Read-only views of one object: its activity (the change log, newest first), and
whatever else a namespace shows about it (a sprint's burndown, a project's velocity)."""

from flask_restx import Resource
from flask_restx import fields as rx

from app import access
from app.activity import activity_view, entries
from app.api import listing
from app.api.docs import ERROR, list_model, nullable
from app.api.listing import FixedOrder, ListArgs, Moment
from app.api.resources import object_route, responses


def add_view_route(ns, model, id_arg, path, endpoint, summary, response, view, params=None):
    """Route ``GET /<id>/<path>`` on ``ns``: ``view(obj)`` for an object the caller can see.

    ``response`` is the 200 answer's ``(200, description, model)``.
    """
    noun = model.__name__.lower()

    @object_route(ns, f"/<int:{id_arg}>/{path}", endpoint, f"No such {noun}", **{id_arg: f"The {noun}'s id"})
    class View(Resource):
        @ns.doc(
            params=params or {},
            description=summary,
            **responses(response, *([(400, "A query parameter is not valid", ERROR)] if params else [])),
        )
        def get(self, **ids):
            obj, _ = access.get_or_404(model, ids[id_arg])
            return view(obj)

    View.__name__ = f"{model.__name__}{path.title()}"
    return View


class ActivityArgs(ListArgs):
    since = Moment("only entries after this ISO-8601 date and time")
    ordering = FixedOrder("newest first")


activity_args = ActivityArgs()


def add_activity_route(ns, model, id_arg, endpoint, scope):
    """Route ``GET /<id>/activity`` on ``ns``: the entries of the log that ``scope(obj)`` selects."""
    entry_model = ns.model(
        f"{model.__name__}ActivityEntry",
        {
            "seq": rx.Integer(required=True),
            "at": rx.DateTime(required=True),
            "actor": nullable(rx.String)(
                required=True, description="username; null for changes made by scripts"
            ),
            "model": rx.String(required=True, enum=["project", "member", "sprint", "task", "comment"]),
            "id": rx.Integer(required=True),
            "action": rx.String(required=True, enum=["add", "update", "remove"]),
            "summary": rx.String(required=True, description="one sentence saying what happened"),
            "changes": nullable(rx.Raw)(
                required=True, description="for an update: field → [old, new], only the fields that changed"
            ),
        },
    )

    def view(obj):
        args = listing.parse(activity_args)
        return listing.page(entries(scope(obj), args.get("since")), activity_view, args)

    return add_view_route(
        ns,
        model,
        id_arg,
        "activity",
        endpoint,
        f"What happened to the {model.__name__.lower()}, newest first, from the change log",
        (200, "A page of entries, newest first", list_model(ns, f"{model.__name__}Activity", entry_model)),
        view,
        params=ActivityArgs.parameters(),
    )
