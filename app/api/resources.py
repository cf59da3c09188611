"""Generic list and item resources for the writable models (sprints, tasks).

A namespace subclasses them, names its model and schema, and adds its filters;
the create/read/update/delete flow, ETags and error answers live here once.
"""

import sqlalchemy as sa
from flask_restx import Resource

from app import access, db
from app.api import listing
from app.api.common import (
    apply_changes,
    check_if_match,
    commit_and_dump,
    json_body,
    not_modified,
    object_response,
    validated,
)
from app.api.docs import ERROR, list_model, stale_model
from app.errors import ApiError
from app.links import link


class ModelResource(Resource):
    model = None  # the SQLAlchemy model
    schema_class = None  # its marshmallow schema class
    schema = None  # a module-level instance of it, for dumping
    item_endpoint = None  # e.g. "api.sprint"
    id_arg = None  # the URL argument, e.g. "sprint_id"
    conflict_errors = None  # field errors for an integrity conflict at commit

    def validated(self, data, instance=None, partial=False):
        return validated(self.schema_class, data, instance=instance, partial=partial)


def model_resource(model, schema_class, schema, conflict_errors=None):
    """The settings of a model's list and item resources, as a mixin."""
    name = model.__name__.lower()
    settings = {
        "model": model,
        "schema_class": schema_class,
        "schema": schema,
        "item_endpoint": f"api.{name}",
        "id_arg": f"{name}_id",
        "conflict_errors": conflict_errors,
    }
    return type(f"{model.__name__}Resource", (), settings)


def object_route(ns, path, endpoint, missing, **params):
    """Route a resource about one object: ``params`` (URL argument -> description) and the
    401 and 404 answers (``missing`` describes the 404) documented."""

    def decorate(resource):
        for name, description in params.items():
            resource = ns.param(name, description)(resource)
        resource = ns.response(401, "Not authenticated", ERROR)(resource)
        resource = ns.response(404, missing, ERROR)(resource)
        return ns.route(path, endpoint=endpoint)(resource)

    return decorate


class ModelList(ModelResource):
    args_schema = None  # a listing.ListArgs schema: this list's query parameters

    def filter(self, args, statement):
        """Apply this list's filters, from its parsed query parameters."""
        return statement

    def get(self):
        args = listing.parse(self.args_schema)
        statement = self.filter(args, access.visible(sa.select(self.model), self.model))
        statement = listing.refine(statement, self.args_schema, args, self.model.id)
        return listing.page(statement, self.schema, args)

    def post(self):
        data = self.validated(json_body())
        obj = self.model(**data)
        db.session.add(obj)
        body, etag = commit_and_dump(obj, self.schema, self.conflict_errors)
        location = link(self.item_endpoint, **{self.id_arg: body["id"]})
        return body, 201, {"ETag": etag, "Location": location}


class ModelItem(ModelResource):
    in_use_message = "This object is still in use."

    def check_delete(self, obj):
        """Raise an ApiError when ``obj`` may not be deleted."""

    def get(self, **ids):
        obj, _ = access.get_or_404(self.model, ids[self.id_arg])
        if not_modified(obj):
            return "", 304, {"ETag": obj.etag}
        return object_response(obj, self.schema)

    def put(self, **ids):
        return self.update(ids[self.id_arg], partial=False)

    def patch(self, **ids):
        return self.update(ids[self.id_arg], partial=True)

    def delete(self, **ids):
        obj = self.locked_for_writing(ids[self.id_arg])
        self.check_delete(obj)
        db.session.delete(obj)
        try:
            db.session.commit()
        except sa.exc.IntegrityError:
            db.session.rollback()
            raise ApiError(409, self.in_use_message) from None
        return "", 204

    def locked_for_writing(self, object_id):
        """The object, locked, once the caller may write to it and ``If-Match`` holds."""
        obj, role = access.get_or_404(self.model, object_id, lock=True)
        self.require_role(role)
        check_if_match(obj, self.schema)
        return obj

    def require_role(self, role):
        access.require_writer(role)

    def update(self, object_id, partial):
        obj = self.locked_for_writing(object_id)
        data = self.validated(json_body(), instance=obj, partial=partial)
        apply_changes(obj, data)
        body, etag = commit_and_dump(obj, self.schema, self.conflict_errors)
        return body, 200, {"ETag": etag}


ETAG = {"ETag": {"type": "string", "description": "the object's version, for If-Match and If-None-Match"}}
LOCATION = {"Location": {"type": "string", "description": "absolute URL of the new object"}}
IF_MATCH = {
    "If-Match": {
        "in": "header",
        "type": "string",
        "description": "an ETag: the write is refused with 412 unless the object still has it",
    }
}
IF_NONE_MATCH = {
    "If-None-Match": {
        "in": "header",
        "type": "string",
        "description": "an ETag: 304 without a body when the object still has it",
    }
}


def responses(*entries):
    """``(code, text, model)`` or ``(code, text, model, headers)`` entries as restx responses."""
    responses = {}
    for code, text, model, *headers in entries:
        responses[str(code)] = (text, model, {"headers": headers[0]} if headers else {})
    return {"responses": responses}


BODY_ERRORS = [
    (400, "Invalid input", ERROR),
    (403, "Not allowed: the caller's role in the project does not permit this write", ERROR),
    (413, "Body over 1 MB", ERROR),
    (415, "Body is not JSON", ERROR),
]


def list_route(ns, noun, item_model, args_class):
    """Route a writable list resource at ``""`` (endpoint ``<noun>s``), with its OpenAPI
    description; ``args_class`` (a ``listing.ListArgs``) parses its query and documents it."""
    common = [(401, "Not authenticated", ERROR)]
    page_model = list_model(ns, f"{noun.capitalize()}List", item_model)
    documented = ns.doc(
        get={
            "params": args_class.parameters(),
            "description": f"List {noun}s, a page at a time.",
            **responses(
                (200, f"A page of {noun}s", page_model),
                (400, "A query parameter is not valid", ERROR),
                (404, "No such page", ERROR),
                *common,
            ),
        },
        post={
            "expect": [item_model],
            "description": f"Create a {noun}.",
            **responses((201, "Created", item_model, {**ETAG, **LOCATION}), *BODY_ERRORS, *common),
        },
    )

    def route(resource):
        resource.args_schema = args_class()
        return ns.route("", endpoint=f"{noun}s")(documented(resource))

    return route


def item_route(ns, noun, item_model, patch_model, delete_conflict=None):
    """Route a writable item resource at ``/<int:<noun>_id>`` (endpoint ``<noun>``), with its
    OpenAPI description."""
    common = [(401, "Not authenticated", ERROR), (404, f"No such {noun}", ERROR)]
    current = stale_model(ns, f"{item_model.name}Stale", item_model)
    stale = (412, f"If-Match no longer matches: the current {noun}, and a message", current, ETAG)
    delete_errors = [(409, delete_conflict, ERROR)] if delete_conflict else []
    documented = ns.doc(
        get={
            "params": IF_NONE_MATCH,
            "description": f"Get a {noun}.",
            **responses((200, f"The {noun}", item_model, ETAG), (304, "Not modified", None, ETAG), *common),
        },
        put={
            "params": IF_MATCH,
            "expect": [item_model],
            "description": f"Replace a {noun}.",
            **responses((200, "Updated", item_model, ETAG), stale, *BODY_ERRORS, *common),
        },
        patch={
            "params": IF_MATCH,
            "expect": [patch_model],
            "description": f"Change some fields of a {noun}.",
            **responses((200, "Updated", item_model, ETAG), stale, *BODY_ERRORS, *common),
        },
        delete={
            "params": IF_MATCH,
            "description": f"Delete a {noun}.",
            **responses((204, "Deleted", None), stale, BODY_ERRORS[1], *delete_errors, *common),
        },
    )
    id_arg = f"{noun}_id"

    def route(resource):
        resource = ns.param(id_arg, f"The {noun}'s id")(documented(resource))
        return ns.route(f"/<int:{id_arg}>", endpoint=noun)(resource)

    return route
