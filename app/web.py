"""The board page: the browser client, served at ``/``.

The page is a shell; the client in ``static/js`` signs in, loads the board over
the REST API and follows it live over Socket.IO. It never inserts user text as
HTML, so it runs under the strict Content-Security-Policy of ``app/security.py``: scripts and styles only
from this origin, nothing inline.

The shell names its scripts and styles under the static tree's versioned prefix
(``app/assets.py``), which browsers keep a year; the shell itself is always
revalidated (``no-cache`` with an ETag), so a new version shows on the next load.
"""

import hashlib

from flask import Blueprint, render_template

from app import assets

bp = Blueprint("web", __name__)
bp.record_once(lambda state: assets.init_app(state.app))


@bp.get("/")
def board():
    assets.refresh_in_debug()
    body = render_template("board.html").encode()
    etag = hashlib.sha256(body).hexdigest()[:32]
    return assets.compressed_response(body, assets.compress(body, "text/html"), "text/html", etag, "no-cache")
