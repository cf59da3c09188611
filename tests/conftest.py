"""Fixtures: the app on SQLite (default) or PostgreSQL (``TEST_DATABASE_URL``),
a test client, and factories for users, tokens, projects, sprints and tasks.

Users made by ``make_user`` are members of one project, "Team", which holds the
sprints and tasks the factories make unless told otherwise: the single-team
use of the board, where nobody needs to name a project.

No app context stays pushed during a test: every request gets a fresh one, as
in production, and factories open their own.
"""

import os
import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app import create_app, db
from app.models import Membership, Project, Sprint, Task, Token, User
from config import TestingConfig, database_url
from tests.support import services

SYSTEM = Path(__file__).resolve().parent / "system"


@pytest.fixture(scope="session")
def database_uri(tmp_path_factory):
    """One database for the session: a fresh PostgreSQL database, or an SQLite file (in
    memory-backed /dev/shm where there is one: the suite commits thousands of times)."""
    server = database_url(os.environ.get("TEST_DATABASE_URL"))
    if server:
        services.require_postgres(server)
        url = services.create_postgres_database(server)
    else:
        folder = (
            Path(tempfile.mkdtemp(dir="/dev/shm"))
            if os.path.isdir("/dev/shm")
            else tmp_path_factory.mktemp("db")
        )
        url = "sqlite:///" + str(folder / "test.sqlite3")
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    yield url
    if server:
        services.drop_postgres_database(url)
    else:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def app(database_uri):
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=database_uri)
    yield app
    app.extensions["realtime"].stop()
    with app.app_context():
        _empty_tables()
        db.engine.dispose()


def _empty_tables():
    tables = db.metadata.sorted_tables
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{table.name}"' for table in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(tables):
            db.session.execute(table.delete())
        # Ids start again at 1, as RESTART IDENTITY does (tables are made with AUTOINCREMENT).
        db.session.execute(sa.text("DELETE FROM sqlite_sequence"))
    db.session.commit()


@pytest.fixture
def postgres_url():
    """A PostgreSQL database of its own, whichever database the rest of the suite uses:
    for what only PostgreSQL does (row locks, numbering the log at commit)."""
    services.require_postgres()
    url = services.create_postgres_database()
    yield url
    services.drop_postgres_database(url)


@pytest.fixture
def make_postgres_app(postgres_url):
    """``make_postgres_app(**settings)`` → an app on that database, its tables made."""
    apps = []

    def make(**settings):
        app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=postgres_url, **settings)
        apps.append(app)
        with app.app_context():
            db.create_all()
        return app

    yield make
    for app in apps:
        app.extensions["realtime"].stop()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def postgres_app(make_postgres_app):
    return make_postgres_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def is_postgres(database_uri):
    return make_url(database_uri).get_backend_name() == "postgresql"


TEAM = "Team"


def project_id_named(name):
    """The id of the project with this name, made if it does not exist (inside an app context)."""
    project_id = db.session.scalar(sa.select(Project.id).where(Project.name == name))
    if project_id is None:
        project = Project(name=name)
        db.session.add(project)
        db.session.flush()
        project_id = project.id
    return project_id


@pytest.fixture
def make_user(app):
    """``make_user("alice")`` → an object with id, username and password; a member of
    ``project`` ("Team" by default; None for no project) with ``role``."""

    def make(
        username="alice", password="correct horse", full_name="", is_active=True, project=TEAM, role="member"
    ):
        with app.app_context():
            user = User(username=username, full_name=full_name, is_active=is_active)
            user.set_password(password)
            db.session.add(user)
            if project is not None:
                db.session.add(Membership(project_id=project_id_named(project), user=user, role=role))
            db.session.commit()
            return SimpleNamespace(id=user.id, username=username, password=password)

    return make


@pytest.fixture
def make_token(app):
    """``make_token(user, ttl=…)`` → a token value for that user."""

    def make(user, ttl=3600):
        with app.app_context():
            token, value = Token.issue(db.session.get(User, user.id), ttl)
            db.session.add(token)
            db.session.commit()
            return value

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice", full_name="Alice Archer")


@pytest.fixture
def headers(alice, make_token):
    """Token headers for alice, the default user."""
    return {"Authorization": f"Token {make_token(alice)}"}


@pytest.fixture
def make_sprint(app):
    """``make_sprint(end=…, name=…)`` → the new sprint's id. Ends in 14 days by default;
    a past ``end`` is allowed here (the API refuses it), to set up ended sprints."""
    counter = iter(range(1, 10_000))

    def make(end=None, name="Sprint", description="", project=TEAM):
        with app.app_context():
            sprint = Sprint(
                project_id=project_id_named(project),
                name=name,
                description=description,
                end=end or date.today() + timedelta(days=13 + next(counter)),
            )
            db.session.add(sprint)
            db.session.commit()
            return sprint.id

    return make


@pytest.fixture
def make_task(app):
    """``make_task(name=…, sprint_id=…, status=…, …)`` → the new task's id (no validation).
    It belongs to its sprint's project, else to ``project`` ("Team")."""

    def make(name="Task", project=TEAM, **fields):
        with app.app_context():
            if fields.get("sprint_id") is not None:
                fields["project_id"] = db.session.get(Sprint, fields["sprint_id"]).project_id
            else:
                fields.setdefault("project_id", project_id_named(project))
            if "assigned" in fields and isinstance(fields["assigned"], str):
                fields["assigned"] = db.session.scalar(
                    sa.select(User).where(User.username == fields["assigned"])
                )
            task = Task(name=name, **fields)
            db.session.add(task)
            db.session.commit()
            return task.id

    return make


@pytest.fixture
def make_project(app):
    """``make_project("Apollo", alice="admin", bob="viewer")`` → the new project's id."""

    def make(name, **roles):
        with app.app_context():
            project_id = project_id_named(name)
            for username, role in roles.items():
                user_id = db.session.scalar(sa.select(User.id).where(User.username == username))
                db.session.add(Membership(project_id=project_id, user_id=user_id, role=role))
            db.session.commit()
            return project_id

    return make


@pytest.fixture
def two_projects(make_user, make_token, make_project, make_sprint, make_task):
    """Two teams on one deployment: "Apollo" (ann its admin, bo a member, vic a viewer) and
    "Zeus" (zed its admin, bo a member), with a sprint and a task on it in each; nobody is
    in neither. ``tokens`` and ``headers`` by username."""
    users = {name: make_user(name, project=None) for name in ("ann", "zed", "bo", "nobody", "vic")}
    apollo = make_project("Apollo", ann="admin", bo="member", vic="viewer")
    zeus = make_project("Zeus", zed="admin", bo="member")
    tokens = {name: make_token(user) for name, user in users.items()}
    apollo_sprint = make_sprint(name="Apollo sprint", project="Apollo")
    zeus_sprint = make_sprint(name="Zeus sprint", project="Zeus")
    return SimpleNamespace(
        tokens=tokens,
        headers={name: {"Authorization": f"Token {token}"} for name, token in tokens.items()},
        apollo=apollo,
        zeus=zeus,
        apollo_sprint=apollo_sprint,
        zeus_sprint=zeus_sprint,
        apollo_task=make_task("Apollo task", sprint_id=apollo_sprint),
        zeus_task=make_task("Zeus task", sprint_id=zeus_sprint),
    )


@pytest.fixture
def snapshot(app):
    """``snapshot()`` → every row of every table, to check that a failed request wrote nothing."""

    def take():
        with app.app_context():
            return {
                table.name: sorted(
                    (tuple(map(repr, row)) for row in db.session.execute(table.select())),
                )
                for table in db.metadata.sorted_tables
            }

    return take


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Every test under ``tests/system`` is a system test (marker ``server`` unless it is a
    ``browser`` test), and no test outside it is one.

    Run two at a time (pytest-xdist, ``--dist loadgroup``), the system tests keep to two
    lanes: the browser tests on one, the other server tests on the other, each lane one
    test at a time, so that timing-sensitive server tests never run beside each other.
    Server tests marked ``untimed`` go in the browser lane, which is the shorter."""
    for item in items:
        in_system = SYSTEM in Path(item.fspath).parents
        marked = item.get_closest_marker("browser") or item.get_closest_marker("server")
        if in_system and not marked:
            item.add_marker(pytest.mark.server)
        elif marked and not in_system:
            raise pytest.UsageError(f"{item.nodeid}: a system test belongs under tests/system")
        if item.get_closest_marker("browser") or item.get_closest_marker("untimed"):
            item.add_marker(pytest.mark.xdist_group("browser"))
        elif item.get_closest_marker("server"):
            item.add_marker(pytest.mark.xdist_group("servers"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing system test shows the end of each of its servers' logs: what went wrong
    inside the server (a 500's traceback, say) is otherwise lost with the process."""
    report = yield
    if report.failed:
        from tests.support.servers import GunicornServer

        shown = set()
        for name, value in getattr(item, "funcargs", {}).items():
            # A fixture's server, or the servers it holds (a tuple, or a namespace's attributes).
            held = list(vars(value).values()) if isinstance(value, SimpleNamespace) else value
            for server in held if isinstance(held, (tuple, list)) else [held]:
                if isinstance(server, GunicornServer) and id(server) not in shown:
                    shown.add(id(server))
                    report.sections.append((f"server log: {name} ({server.url})", server.log()[-6000:]))
    return report
