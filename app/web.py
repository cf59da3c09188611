"""The board page: the browser client, served at ``/``.

The page is a shell; the client in ``static/js`` signs in, loads the board over
the REST API and follows it live over Socket.IO. It never inserts user text as
HTML, so it runs under a strict Content-Security-Policy: scripts and styles only
from this origin, nothing inline.
"""

from flask import Blueprint, make_response, render_template

bp = Blueprint("web", __name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


@bp.get("/")
def board():
    response = make_response(render_template("board.html"))
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    # The shell carries no data, but an old copy could load old scripts: always revalidate.
    response.headers["Cache-Control"] = "no-cache"
    return response
