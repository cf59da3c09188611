"""Links in API bodies.

With ``PUBLIC_URL`` set, every link is built from it. Without it, links in a
response use the request's host (as any Flask app does), but links stored in
the change log, which are broadcast to every subscriber and replayed later,
never take anything from a request: they are paths only. A forged ``Host``
header therefore cannot reach anyone else.

A page of 25 tasks holds 150 links. Building each through the URL map took a
third of the request, so a link's path is built through it once per endpoint
and set of arguments, with numbered placeholders, and then only filled in;
links with other than whole-number arguments (a username) are built through the
map once per value and kept (``_Paths``).
"""

import contextvars
import functools
from contextlib import contextmanager
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request

_building_for_log = contextvars.ContextVar("building_for_log", default=False)

# Stand-ins for whole-number arguments while a path template is built: no route holds such
# digits, and no id reaches them (ids are 32-bit).
_PLACEHOLDER = 9_876_543_200


def link(endpoint, **values):
    """The URL of ``endpoint``; ``values`` fill its path and, for the rest, its query string."""
    return prefix() + path(endpoint, values)


def prefix():
    """What comes before a link's path: from ``PUBLIC_URL``, else the request's, else nothing
    (the same for every link of a body)."""
    base = current_app.config.get("PUBLIC_URL")
    if base:
        return _public_prefix(base)
    if has_request_context() and not _building_for_log.get():
        return request.host_url.rstrip("/") + request.script_root
    return ""


@functools.lru_cache(maxsize=8)
def _public_prefix(base):
    parts = urlsplit(base)
    return f"{parts.scheme or 'http'}://{parts.netloc}{parts.path.rstrip('/')}"


def path(endpoint, values):
    """The path (and query string) of ``endpoint`` with ``values``."""
    app = current_app._get_current_object()
    paths = app.extensions.get("link_paths")
    if paths is None:
        paths = app.extensions["link_paths"] = _Paths(app)
    return paths.build(endpoint, values)


class _Paths:
    """One app's link paths. Through its URL map once per endpoint and set of whole-number
    arguments, as a template with ``{0}``, ``{1}``… then only filled in; once per endpoint
    and other values (a username), kept for the next time (up to ``KEPT``)."""

    KEPT = 4096

    def __init__(self, app):
        self.adapter = app.url_map.bind("localhost")
        self.templates = {}
        self.kept = {}

    def build(self, endpoint, values):
        for value in values.values():
            if type(value) is not int:
                return self._kept(endpoint, values)
        key = (endpoint, *values)
        template = self.templates.get(key)
        if template is None:
            template = self.templates[key] = self._template(endpoint, list(values))
        return template.format(*values.values())

    def _template(self, endpoint, names):
        stand_ins = {name: _PLACEHOLDER + number for number, name in enumerate(names)}
        template = self.adapter.build(endpoint, stand_ins).replace("{", "{{").replace("}", "}}")
        for number in range(len(names)):
            template = template.replace(str(_PLACEHOLDER + number), f"{{{number}}}")
        return template

    def _kept(self, endpoint, values):
        try:
            key = (endpoint, *values.items())
            path = self.kept.get(key)
        except TypeError:  # a value that cannot be a key (a list): built each time
            return self.adapter.build(endpoint, values)
        if path is None:
            if len(self.kept) >= self.KEPT:
                self.kept.clear()
            path = self.kept[key] = self.adapter.build(endpoint, values)
        return path


@contextmanager
def for_the_log():
    """Links built inside this block are stored in the change log: none from the request."""
    token = _building_for_log.set(True)
    try:
        yield
    finally:
        _building_for_log.reset(token)
