"""What clients may send on a socket, checked by small schemas as REST bodies are."""

from marshmallow import RAISE, Schema, ValidationError, fields, validate

HINT_ACTIONS = ("dragstart", "dragend", "drop")


class Id(fields.Integer):
    """A JSON integer: no booleans, strings or fractions, and no more than 64 bits."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, validate=validate.Range(min=-(2**63), max=2**63 - 1), **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class Payload(Schema):
    usage = ""  # the expected shape, told to a client that sent something else

    class Meta:
        unknown = RAISE

    def check(self, data):
        """The loaded payload, or None when it is malformed."""
        if not isinstance(data, dict):
            return None
        try:
            return self.load(data)
        except ValidationError:
            return None


class SubscribePayload(Payload):
    usage = 'Expected {"sprint": id, "since": seq or null}.'
    sprint = Id(required=True)
    since = Id(allow_none=True, load_default=None)


class UnsubscribePayload(Payload):
    usage = 'Expected {"sprint": id}.'
    sprint = Id(required=True)


class HintPayload(Payload):
    usage = 'Expected {"task": id, "action": "dragstart" | "dragend" | "drop"}.'
    task = Id(required=True)
    action = fields.String(required=True, validate=validate.OneOf(HINT_ACTIONS))


subscribe_payload = SubscribePayload()
unsubscribe_payload = UnsubscribePayload()
hint_payload = HintPayload()
