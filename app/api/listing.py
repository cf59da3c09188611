"""Lists: one schema per list declares its query parameters, and the same
declaration parses the query string (every bad value is a 400 naming it) and
documents the parameters in the OpenAPI document.

Every list pages (``page``, ``page_size``); a list schema adds its filters,
``search`` (with the columns it looks in) and ``ordering`` (with the names it
accepts, or none for a list in a fixed order). ``run`` applies them all and
answers in the DRF list shape.
"""

from datetime import date
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from flask import current_app, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields

from app import access, db
from app.activity import parse_since
from app.errors import ApiError
from app.fields import ISO_DATE
from app.links import prefix
from app.models import INT32_MAX, INT32_MIN, User

QUERY_INVALID = "A query parameter is not valid."


class Arg(fields.Field):
    """A query-string value; an empty one counts as not given."""

    openapi = {"type": "string"}

    def __init__(self, description, **kwargs):
        super().__init__(metadata={"description": description}, **kwargs)

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if value == "":
            return None
        return super().deserialize(value, attr, data, **kwargs)

    def fail(self, message):
        raise ValidationError(message)

    def parameter(self):
        """This parameter in the OpenAPI document."""
        return {"description": self.metadata["description"], **self.openapi}


class WholeNumber(Arg):
    openapi = {"type": "integer"}

    def __init__(self, description, minimum=INT32_MIN, maximum=INT32_MAX, **kwargs):
        super().__init__(description, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            number = int(value)
        except ValueError:
            self.fail("Enter a whole number.")
        if not self.minimum <= number <= self.maximum:
            self.fail(f"Must be between {self.minimum} and {self.maximum}.")
        return number

    def parameter(self):
        return {**super().parameter(), "minimum": self.minimum}


class Choice(WholeNumber):
    def __init__(self, description, choices, **kwargs):
        super().__init__(description, minimum=min(choices), maximum=max(choices), **kwargs)
        self.choices = list(choices)

    def parameter(self):
        return {**super().parameter(), "enum": self.choices}


class Reference(WholeNumber):
    """The id of a ``model`` object the caller can see; any other is the same 400.

    Whether it exists is asked only when the answer could depend on it: when the page
    comes out empty, or another parameter is already refused. A page with rows in it
    proves the object: every row refers to it, and a row the caller can see refers
    only to objects of the same project, which the caller can see too.
    """

    def __init__(self, description, model, **kwargs):
        super().__init__(description, **kwargs)
        self.model = model

    def missing(self, object_id):
        """The error for an object the caller cannot see, or None when they can."""
        if access.find(self.model, object_id)[0] is None:
            return f"{self.model.__name__} {object_id} does not exist."
        return None


class Text(Arg):
    def __init__(self, description, max_length=150, **kwargs):
        super().__init__(description, **kwargs)
        self.max_length = max_length

    def _deserialize(self, value, attr, data, **kwargs):
        if len(value) > self.max_length:
            self.fail(f"Enter at most {self.max_length} characters.")
        if "\x00" in value:
            self.fail("Null characters are not allowed.")
        return value


class Username(Text):
    """A username; the value is the user's id."""

    def _deserialize(self, value, attr, data, **kwargs):
        username = super()._deserialize(value, attr, data, **kwargs)
        user_id = db.session.scalar(sa.select(User.id).where(User.username == username))
        if user_id is None:
            self.fail(f'User "{username}" does not exist.')
        return user_id


class Day(Arg):
    openapi = {"type": "string", "format": "date"}

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            if not ISO_DATE.fullmatch(value):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            self.fail("Enter a date as YYYY-MM-DD.")


class Moment(Text):
    openapi = {"type": "string", "format": "date-time"}

    def __init__(self, description, **kwargs):
        super().__init__(description, max_length=64, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_since(super()._deserialize(value, attr, data, **kwargs))
        except (ValueError, ValidationError):
            self.fail("Enter a date and time in ISO-8601, e.g. 2026-11-30T12:00:00Z.")


class Flag(Arg):
    openapi = {"type": "boolean"}

    def _deserialize(self, value, attr, data, **kwargs):
        lowered = value.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        self.fail("Enter true or false.")


class Search(Text):
    """A case-insensitive substring of any of ``columns``."""

    def __init__(self, description, columns, **kwargs):
        super().__init__(description, max_length=200, **kwargs)
        self.columns = columns

    def apply(self, statement, term):
        if term is None:
            return statement
        pattern = "%" + term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return statement.where(
            sa.or_(*(sa.func.lower(column).like(pattern, escape="\\") for column in self.columns))
        )


class Ordering(Arg):
    """``field,-field``: the names of ``columns`` (public name -> column), ``-`` for descending."""

    def __init__(self, columns, default, **kwargs):
        names = " or ".join(columns)
        defaults = ", ".join(name for name, column in columns.items() if column in default) or "id"
        super().__init__(f"{names}; prefix - for descending (default {defaults})", **kwargs)
        self.columns, self.default = columns, tuple(default)

    def _deserialize(self, value, attr, data, **kwargs):
        clauses, errors = [], []
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            name = item.lstrip("-")
            column = self.columns.get(name)
            if column is None:
                errors.append(f'Cannot order by "{name}"; choose from: {", ".join(sorted(self.columns))}.')
            else:
                # Empty values sort as the largest, on every database.
                clauses.append(
                    column.desc().nulls_first() if item.startswith("-") else column.asc().nulls_last()
                )
        if errors:
            raise ValidationError(errors)
        return clauses

    def apply(self, statement, clauses, tiebreak):
        return statement.order_by(*(clauses or self.default), tiebreak)


class FixedOrder(Arg):
    """``ordering`` on a list whose order is fixed (``order``, e.g. "oldest first"): every
    field named is refused, as an unknown one is on the other lists. Not documented: the
    list takes no ordering."""

    def __init__(self, order, **kwargs):
        super().__init__(f"none: the list is always {order}", **kwargs)
        self.order = order

    def _deserialize(self, value, attr, data, **kwargs):
        names = [item.strip().lstrip("-") for item in value.split(",") if item.strip()]
        if names:
            raise ValidationError(
                [f'Cannot order by "{name}"; this list is always {self.order}.' for name in names]
            )
        return None

    def parameter(self):
        return None

    def apply(self, statement, clauses, tiebreak):
        return statement


class ListArgs(Schema):
    """The parameters every list takes: its page."""

    class Meta:
        unknown = EXCLUDE  # other query parameters are not ours to refuse

    page = WholeNumber("1-based page number", minimum=1)
    page_size = WholeNumber("items per page: default 25, at most 100", minimum=1)

    @classmethod
    def parameters(cls):
        """The OpenAPI ``params`` of this list."""
        parameters = {name: field.parameter() for name, field in cls().fields.items()}
        return {name: parameter for name, parameter in parameters.items() if parameter is not None}


class Args(dict):
    """Parsed list parameters, and the ``Reference`` ones among them, not yet checked."""

    def __init__(self, values, args_schema):
        super().__init__(values)
        self.references = {
            name: (field, self[name])
            for name, field in args_schema.fields.items()
            if isinstance(field, Reference) and self.get(name) is not None
        }

    def reference_errors(self):
        """``{name: [message]}`` for each reference to an object the caller cannot see."""
        errors = {}
        for name, (field, object_id) in self.references.items():
            message = field.missing(object_id)
            if message is not None:
                errors[name] = [message]
        return errors


def parse(args_schema):
    """The request's list parameters, or a 400 naming each bad one."""
    try:
        values, errors = args_schema.load(request.args), {}
    except ValidationError as error:
        values, errors = error.valid_data or {}, error.messages
    args = Args(values, args_schema)
    if errors:
        raise ApiError(400, QUERY_INVALID, errors={**errors, **args.reference_errors()})
    return args


def run(statement, args_schema, dump_schema, tiebreak=None):
    """Filter nothing more, but search, order and page ``statement`` as the request asks."""
    args = parse(args_schema)
    return page(refine(statement, args_schema, args, tiebreak), dump_schema, args)


def refine(statement, args_schema, args, tiebreak=None):
    """Apply ``search`` and ``ordering`` where the list declares them."""
    search = args_schema.fields.get("search")
    if search is not None:
        statement = search.apply(statement, args.get("search"))
    ordering = args_schema.fields.get("ordering")
    if ordering is not None:
        statement = ordering.apply(statement, args.get("ordering"), tiebreak)
    return statement


def page(statement, dump_schema, args):
    """Run ``statement`` one page at a time and answer in the list shape."""
    number = args.get("page") or 1
    size = min(args.get("page_size") or current_app.config["PAGE_SIZE"], current_app.config["MAX_PAGE_SIZE"])
    # One statement: the page, each row carrying the count of all of them.
    rows = db.session.execute(
        statement.add_columns(sa.func.count().over()).limit(size).offset((number - 1) * size)
    ).all()
    if not rows:
        errors = args.reference_errors()
        if errors:
            raise ApiError(400, QUERY_INVALID, errors=errors)
        if number > 1:
            raise ApiError(404, "Invalid page: there are not that many pages.")
    total = rows[0][1] if rows else 0
    return {
        "count": total,
        "next": _page_url(number + 1) if number * size < total else None,
        "previous": _page_url(number - 1) if number > 1 else None,
        "results": dump_schema.dump([row[0] for row in rows], many=True),
    }


def _page_url(number):
    """This list's page ``number``, on the same base as every other link (``PUBLIC_URL``)."""
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "page"]
    if number > 1:
        args.append(("page", str(number)))
    query = urlencode(args)
    return prefix() + quote(request.path) + ("?" + query if query else "")
