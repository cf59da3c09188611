"""Helpers shared by the resource namespaces: bodies, lists, ETags, lookups."""

import sqlalchemy as sa
from flask import request
from marshmallow import ValidationError
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from app import db
from app.errors import ApiError, ValidationFailed
from app.schemas import load


def json_body():
    """The request's JSON object; a clear 400/415 when it is missing or malformed."""
    if not request.is_json:
        raise ApiError(415, "The request body must be JSON (Content-Type: application/json).")
    try:
        data = request.get_json()
    except (BadRequest, UnsupportedMediaType):
        raise ApiError(400, "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return data


def validated(schema_class, data, instance=None, partial=False):
    try:
        return load(schema_class, data, instance=instance, partial=partial)
    except ValidationError as error:
        raise ValidationFailed(error.messages) from None


def apply_changes(obj, data):
    for key, value in data.items():
        setattr(obj, key, value)


def object_response(obj, schema, status=200, headers=None):
    return schema.dump(obj), status, {"ETag": obj.etag, **(headers or {})}


def check_if_match(obj, schema):
    """Refuse a write whose ``If-Match`` no longer matches: 412 with the current object."""
    condition = request.if_match
    if not condition or condition.star_tag:
        return
    if not condition.contains(obj.etag.strip('"')):
        body = {"message": "The object has changed since you read it.", **schema.dump(obj)}
        raise ApiError(412, body=body, headers={"ETag": obj.etag})


def not_modified(obj):
    return bool(request.if_none_match) and request.if_none_match.contains(obj.etag.strip('"'))


def commit_and_dump(obj, schema, field_errors=None):
    """Write ``obj``; returns its body and ETag as this write left them.

    They are read after the flush, inside the transaction: read after the commit,
    they could already show (or miss, if it was deleted) a later write by someone else.
    """
    try:
        db.session.flush()
        body, etag = schema.dump(obj), obj.etag
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise ValidationFailed(
            field_errors or {"non_field_errors": ["The change conflicts with another one."]}
        ) from None
    commit_or_conflict(field_errors)
    return body, etag


def commit_or_conflict(field_errors=None):
    """Commit; a constraint that another request beat us to becomes a 400, not a 500."""
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise ValidationFailed(
            field_errors or {"non_field_errors": ["The change conflicts with another one."]}
        ) from None
