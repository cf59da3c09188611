"""The fields the REST schemas are made of: strict about what they accept (no NUL
characters, names without surrounding whitespace, no fractions for whole numbers,
dates exactly as YYYY-MM-DD, points with one decimal at most) and able to write
``links``."""

import math
import re
from decimal import Decimal

from marshmallow import ValidationError, fields, validate

from app import links
from app.models import INT32_MAX, INT32_MIN


def json_number(value):
    """A decimal as JSON shows it: a whole number without a fraction (3, not 3.0)."""
    value = Decimal(str(value))
    return int(value) if value == value.to_integral_value() else float(value)


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
INT32 = validate.Range(min=INT32_MIN, max=INT32_MAX, error="Must be between {min} and {max}.")


class Text(fields.String):
    """A string the database can store: no NUL characters (PostgreSQL refuses them)."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in value:
            raise ValidationError("Null characters are not allowed.")
        return value


BLANK = "This field may not be blank."


class Name(Text):
    """A name, stored without the whitespace around it, as DRF's ``CharField`` does by
    default: " Apollo " is "Apollo" (also to the checks of unique names), and a name of
    whitespace alone is blank, refused unless ``allow_blank``. An empty string is left to
    the field's length rule."""

    default_error_messages = {"blank": BLANK}

    def __init__(self, *, allow_blank=False, **kwargs):
        super().__init__(**kwargs)
        self.allow_blank = allow_blank

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        trimmed = value.strip()
        if value and not trimmed and not self.allow_blank:
            raise self.make_error("blank")
        return trimmed


class WholeNumber(fields.Integer):
    """An integer; a number with a fraction (``1.5``) is refused rather than truncated."""

    def _validated(self, value):
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class Points(fields.Field):
    """Story points: a JSON number from 0 to 999 with at most one decimal (``2.5``), or null."""

    openapi_type = "Float"
    openapi_range = (0, 999)

    default_error_messages = {
        "invalid": "A valid number is required.",
        "range": "Ensure this value is between 0 and 999.",
        "places": "Ensure that there is no more than 1 decimal place.",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.make_error("invalid")
        number = Decimal(str(value))
        if not 0 <= number <= 999:
            raise self.make_error("range")
        if number != number.quantize(Decimal("0.1")):
            raise self.make_error("places")
        return number.quantize(Decimal("0.1"))

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return json_number(value)


class IsoDate(fields.Date):
    """A date written exactly as YYYY-MM-DD (Python alone would also take 20300101)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        return super()._deserialize(value, attr, data, **kwargs)


class Username(Text):
    """A user, shown and accepted as the username."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.username


def max_length(limit):
    return validate.Length(max=limit, error=f"Ensure this field has no more than {limit} characters.")


def not_blank_max_length(limit):
    return validate.Length(
        min=1, max=limit, error=f"This field may not be blank or longer than {limit} characters."
    )


class Links(fields.Function):
    """The ``links`` object: name -> (endpoint, {URL argument: attribute, dotted}). A link
    whose attribute is None (a task without a sprint) is null."""

    def __init__(self, spec):
        targets = [
            (
                name,
                endpoint,
                [(argument, attributes.split(".")) for argument, attributes in arguments.items()],
            )
            for name, (endpoint, arguments) in spec.items()
        ]
        super().__init__(serialize=lambda obj: _links(obj, targets))
        self.dump_only = True


def _links(obj, targets):
    start = links.prefix()
    return {name: _link(obj, start, endpoint, arguments) for name, endpoint, arguments in targets}


def _link(obj, start, endpoint, arguments):
    values = {}
    for argument, attributes in arguments:
        value = obj
        for name in attributes:
            value = getattr(value, name, None)
        if value is None:
            return None
        values[argument] = value
    return start + links.path(endpoint, values)
