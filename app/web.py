"""The board page: the browser client, served at ``/``.

The page is a shell; the client in ``static/js`` signs in, loads the board over
the REST API and follows it live over Socket.IO. It never inserts user text as
HTML, so it runs under the strict Content-Security-Policy of ``app/security.py``: scripts and styles only
from this origin, nothing inline.
"""

from flask import Blueprint, make_response, render_template

bp = Blueprint("web", __name__)


@bp.get("/")
def board():
    response = make_response(render_template("board.html"))
    # The shell carries no data, but an old copy could load old scripts: always revalidate.
    response.headers["Cache-Control"] = "no-cache"
    return response
