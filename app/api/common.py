"""Helpers shared by the resource namespaces: bodies, lists, ETags, lookups."""

from datetime import date
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import current_app, request
from marshmallow import ValidationError
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from app import access, db
from app.activity import parse_since as parse_moment
from app.errors import ApiError, ValidationFailed
from app.models import INT32_MAX, INT32_MIN
from app.schemas import ISO_DATE, load


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


class ListQuery:
    """Reads list parameters (filters, search, ordering, paging); every bad value is a 400."""

    def __init__(self, args=None):
        self.args = request.args if args is None else args
        self.errors = {}

    def fail(self, name, message):
        self.errors.setdefault(name, []).append(message)

    def integer(self, name, minimum=None, maximum=None):
        raw = self.args.get(name)
        if raw is None or raw == "":
            return None
        try:
            value = int(raw)
        except ValueError:
            self.fail(name, "Enter a whole number.")
            return None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.fail(name, f"Must be between {minimum} and {maximum}.")
            return None
        return value

    def reference(self, name, model):
        """An id naming a ``model`` object the caller can see; any other is the same 400."""
        value = self.integer(name, minimum=INT32_MIN, maximum=INT32_MAX)
        if value is not None and access.find(model, value)[0] is None:
            self.fail(name, f"{model.__name__} {value} does not exist.")
        return value

    def date(self, name):
        raw = self.args.get(name)
        if raw is None or raw == "":
            return None
        try:
            if not ISO_DATE.fullmatch(raw):
                raise ValueError(raw)
            return date.fromisoformat(raw)
        except ValueError:
            self.fail(name, "Enter a date as YYYY-MM-DD.")
            return None

    def moment(self, name):
        """An ISO-8601 date and time, e.g. 2026-11-30T12:00:00Z (UTC when it names no zone)."""
        raw = self.text(name, max_length=64)
        if raw is None:
            return None
        try:
            return parse_moment(raw)
        except ValueError:
            self.fail(name, "Enter a date and time in ISO-8601, e.g. 2026-11-30T12:00:00Z.")
            return None

    def boolean(self, name):
        raw = self.args.get(name)
        if raw is None or raw == "":
            return None
        lowered = raw.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        self.fail(name, "Enter true or false.")
        return None

    def text(self, name, max_length=150):
        raw = self.args.get(name)
        if raw is None or raw == "":
            return None
        if len(raw) > max_length or "\x00" in raw:
            self.fail(name, f"Enter at most {max_length} characters.")
            return None
        return raw

    def search(self, statement, *columns):
        term = self.text("search", max_length=200)
        if term is None:
            return statement
        pattern = "%" + term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return statement.where(
            sa.or_(*(sa.func.lower(column).like(pattern, escape="\\") for column in columns))
        )

    def ordering(self, statement, allowed, default, tiebreak):
        """Apply ``ordering=field,-field``; ``allowed`` maps public names to columns."""
        raw = self.args.get("ordering")
        clauses = []
        for item in (raw or "").split(","):
            item = item.strip()
            if not item:
                continue
            descending = item.startswith("-")
            name = item.lstrip("-")
            column = allowed.get(name)
            if column is None:
                self.fail(
                    "ordering",
                    f'Cannot order by "{name}"; choose from: {", ".join(sorted(allowed))}.',
                )
                continue
            # Empty values sort as the largest, on every database.
            clauses.append(column.desc().nulls_first() if descending else column.asc().nulls_last())
        return statement.order_by(*(clauses or default), tiebreak)

    def check(self):
        if self.errors:
            raise ApiError(400, "A query parameter is not valid.", errors=self.errors)

    def page(self, statement, schema):
        """Run ``statement`` one page at a time and answer in the list shape."""
        page = self.integer("page", minimum=1, maximum=INT32_MAX) or 1
        page_size = self.integer("page_size", minimum=1, maximum=INT32_MAX)
        page_size = min(page_size or current_app.config["PAGE_SIZE"], current_app.config["MAX_PAGE_SIZE"])
        self.check()
        pagination = db.paginate(statement, page=page, per_page=page_size, error_out=False, count=True)
        if page > 1 and not pagination.items:
            raise ApiError(404, "Invalid page: there are not that many pages.")
        return {
            "count": pagination.total,
            "next": self._page_url(page + 1) if pagination.has_next else None,
            "previous": self._page_url(page - 1) if page > 1 else None,
            "results": schema.dump(pagination.items, many=True),
        }

    def _page_url(self, page):
        args = [(key, value) for key, value in self.args.items(multi=True) if key != "page"]
        if page > 1:
            args.append(("page", str(page)))
        query = urlencode(args)
        return request.base_url + ("?" + query if query else "")


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
