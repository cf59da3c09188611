"""JSON request bodies are parsed strictly, so that no endpoint ever sees what it
could choke on: nesting deeper than ``MAX_DEPTH`` and strings holding an unpaired
UTF-16 surrogate (``"\\ud800"``: valid JSON syntax, but not text; PostgreSQL and
any UTF-8 encoder refuse it) are malformed JSON, answered ``400`` by whoever
parses the body. Python's own parser would raise RecursionError on deep nesting.
NUL characters are valid text and are refused field by field by the schemas."""

from flask.json.provider import DefaultJSONProvider

MAX_DEPTH = 32


class MalformedJSON(ValueError):
    """A ValueError, as Flask expects from a parser: ``request.get_json`` answers 400."""


def _check(value):
    """Raise MalformedJSON for nesting over MAX_DEPTH or a string that is not valid Unicode."""
    pending = [(value, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    raise MalformedJSON("A string holds an unpaired surrogate.") from None
        elif isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise MalformedJSON(f"JSON nested deeper than {MAX_DEPTH} levels.")
            items = value.items() if isinstance(value, dict) else ((None, item) for item in value)
            for key, item in items:
                pending.append((item, depth + 1))
                if key is not None:
                    pending.append((key, depth + 1))


class StrictJSONProvider(DefaultJSONProvider):
    def loads(self, s, **kwargs):
        try:
            data = super().loads(s, **kwargs)
        except RecursionError:
            raise MalformedJSON(f"JSON nested deeper than {MAX_DEPTH} levels.") from None
        _check(data)
        return data
