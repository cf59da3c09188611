"""OpenAPI models derived from the marshmallow schemas, so the document cannot drift."""

from flask_restx import Model
from flask_restx import fields as rx
from marshmallow import fields as mm
from marshmallow import validate


class _Nullable:
    def schema(self):
        schema = super().schema()
        schema["x-nullable"] = True
        return schema


def nullable(field_class):
    """``field_class`` that may also be null (``x-nullable``)."""
    return type(f"Nullable{field_class.__name__}", (_Nullable, field_class), {})


class _Choices:
    """``enum`` for any field type (flask-restx knows it for strings only)."""

    def __init__(self, *args, choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.choices = choices

    def schema(self):
        schema = super().schema()
        if self.choices:
            schema["enum"] = list(self.choices)
        return schema


def _with_choices(field_class):
    return type(f"{field_class.__name__}Choice", (_Choices, field_class), {})


_FIELD_TYPES = [
    (mm.Boolean, rx.Boolean),
    (mm.Integer, rx.Integer),
    (mm.Date, rx.Date),
    (mm.String, rx.String),
]


def _restx_field(field, partial):
    field_class = next((rx_cls for mm_cls, rx_cls in _FIELD_TYPES if isinstance(field, mm_cls)), rx.String)
    # A custom field may name its OpenAPI type and range (``openapi_type``, ``openapi_range``).
    field_class = getattr(rx, getattr(field, "openapi_type", ""), field_class)
    if field.allow_none:
        field_class = nullable(field_class)
    options = {
        "required": bool(field.required and not partial and not field.dump_only),
        "readonly": field.dump_only or None,
    }
    if hasattr(field, "openapi_range"):
        options["min"], options["max"] = field.openapi_range
    for validator in field.validators:
        if isinstance(validator, validate.Length):
            if validator.max is not None:
                options["max_length"] = validator.max
            if validator.min:
                options["min_length"] = validator.min
        elif isinstance(validator, validate.Range):
            options["min"], options["max"] = validator.min, validator.max
        elif isinstance(validator, validate.OneOf):
            field_class = _with_choices(field_class)
            options["choices"] = list(validator.choices)
    if field_class.__name__.endswith("Date"):
        options.pop("max_length", None)
    return field_class(**{k: v for k, v in options.items() if v is not None})


def model_from_schema(ns, name, schema, overrides=None, partial=False):
    """A restx model with the schema's fields; ``overrides`` gives fields a plain mapping cannot.

    The model is strict (``additionalProperties: false``): the API refuses unknown
    fields in a body, and never answers with fields the model does not name.
    """
    overrides = overrides or {}
    properties = {}
    for field_name, field in schema.fields.items():
        if field_name in overrides:
            properties[field_name] = overrides[field_name]
        else:
            properties[field_name] = _restx_field(field, partial)
    return ns.model(name, properties, strict=True)


def stale_model(ns, name, item_model):
    """The body of a 412: the object as it is now, plus the error message."""
    return ns.model(
        name,
        {"message": rx.String(required=True, description="one human sentence"), **item_model},
        strict=True,
    )


def links_field(ns, name, link_names, optional=()):
    """The ``links`` object: absolute URLs, ``optional`` ones null when there is nothing to link to."""
    model = ns.model(
        name,
        {
            link: (nullable(rx.String) if link in optional else rx.String)(
                readonly=True, description="absolute URL"
            )
            for link in link_names
        },
    )
    return rx.Nested(model, readonly=True)


def list_model(ns, name, item_model):
    return ns.model(
        name,
        {
            "count": rx.Integer(required=True, min=0),
            "next": nullable(rx.String)(required=True, description="URL of the next page"),
            "previous": nullable(rx.String)(required=True, description="URL of the previous page"),
            "results": rx.List(rx.Nested(item_model), required=True),
        },
    )


ERROR = Model(
    "Error",
    {
        "message": rx.String(required=True, description="one human sentence"),
        "errors": rx.Raw(description="field name (or non_field_errors) → list of messages"),
    },
)
