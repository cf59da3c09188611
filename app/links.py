"""Links in API bodies.

With ``PUBLIC_URL`` set, every link is built from it. Without it, links in a
response use the request's host (as any Flask app does), but links stored in
the change log, which are broadcast to every subscriber and replayed later,
never take anything from a request: they are paths only. A forged ``Host``
header therefore cannot reach anyone else.
"""

import contextvars
from contextlib import contextmanager
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for

_building_for_log = contextvars.ContextVar("building_for_log", default=False)


def link(endpoint, **values):
    """The URL of ``endpoint``; ``values`` fill its path and, for the rest, its query string."""
    app = current_app._get_current_object()
    base = app.config.get("PUBLIC_URL")
    if base:
        return _adapter(app, base).build(endpoint, values, force_external=True)
    if has_request_context() and not _building_for_log.get():
        return url_for(endpoint, _external=True, **values)
    return _adapter(app, None).build(endpoint, values)


def _adapter(app, base):
    adapters = app.extensions.setdefault("link_adapters", {})
    adapter = adapters.get(base)
    if adapter is None:
        if base:
            parts = urlsplit(base)
            adapter = app.url_map.bind(
                parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "http"
            )
        else:
            adapter = app.url_map.bind("localhost")
        adapters[base] = adapter
    return adapter


@contextmanager
def for_the_log():
    """Links built inside this block are stored in the change log: none from the request."""
    token = _building_for_log.set(True)
    try:
        yield
    finally:
        _building_for_log.reset(token)
