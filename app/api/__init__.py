"""The REST API: one flask-restx namespace per resource, under ``/api``."""

from flask import Blueprint, render_template, request
from flask_restx import Api

from app import database, db
from app.api import comments, projects, sprints, tasks, tokens, users
from app.api.docs import ERROR
from app.errors import handle_unexpected
from app.links import link

bp = Blueprint("api", __name__, url_prefix="/api")
tokens.throttle_password_attempts(bp)


@bp.before_request
def reads_need_no_transaction():
    if request.method in ("GET", "HEAD"):
        database.read_without_a_transaction(db)


class JsonErrorApi(Api):
    """Answers every error on the API's routes in the one JSON error shape."""

    def handle_error(self, e):
        return handle_unexpected(e)

    def render_root(self):
        """The API root, as a DRF router shows it: where each resource lives. No login needed."""
        return {
            "projects": link("api.projects"),
            "sprints": link("api.sprints"),
            "tasks": link("api.tasks"),
            "users": link("api.users"),
            "token": link("api.token"),
            "docs": link("api.doc"),
        }


class TrailingSlashes:
    """Every ``/api`` path answers the same with or without a trailing slash, for every
    method, without a redirect: clients written for a Django REST Framework API put one
    on every path."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/api":
            environ["PATH_INFO"] = "/api/"
        elif path.startswith("/api/") and path.endswith("/") and path != "/api/":
            environ["PATH_INFO"] = path[:-1]
        return self.wsgi_app(environ, start_response)


def init_app(app):
    app.register_blueprint(bp)
    app.wsgi_app = TrailingSlashes(app.wsgi_app)


api = JsonErrorApi(
    bp,
    version="1.0",
    title="Scrum board API",
    description=(
        "Projects, sprints, tasks and users of the live scrum board. Every sprint and task belongs to a "
        "project; a user sees only the projects they are a member of. Roles: viewers read, members also "
        "write sprints and tasks, admins also manage the project and its members."
    ),
    doc="/docs",
    authorizations={
        "token": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'An API token from POST /api/token, sent as "Token <token>" or "Bearer <token>".',
        },
        "basic": {"type": "basic"},
    },
    security=[{"token": []}, {"basic": []}],
)


@api.documentation
def docs_page():
    """Swagger UI, without inline script (the Content Security Policy forbids it)."""
    return render_template("api_docs.html", title=api.title, specs_url=api.specs_url)


api.add_model("Error", ERROR)
api.add_namespace(tokens.ns, path="/token")
api.add_namespace(projects.ns, path="/projects")
api.add_namespace(sprints.ns, path="/sprints")
api.add_namespace(tasks.ns, path="/tasks")
api.add_namespace(users.ns, path="/users")
api.add_namespace(comments.ns, path="/")
