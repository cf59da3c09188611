"""The committed migrations build exactly the schema the models describe.

``flask --app wsgi db upgrade`` runs for real (a subprocess) on an empty
database; then Alembic's autogenerate comparison must find nothing to add,
drop or alter, on PostgreSQL and on SQLite. Downgrading to base and upgrading
again must work too.
"""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from app import create_app, db
from app.models import Token, User
from config import TestingConfig
from tests.support.servers import ROOT, downgrade_database, postgres_database, upgrade_database

pytestmark = [pytest.mark.server, pytest.mark.untimed]  # in the browser lane


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_database(request, tmp_path):
    if request.param == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        yield "sqlite:///" + str(tmp_path / "migrations.sqlite3")


def head_revision():
    config = Config(str(ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def schema_state(url):
    """``(current revision, differences between the database and the models, tables)``."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            # The options Flask-Migrate gives autogenerate in create_app.
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            differences = compare_metadata(context, db.metadata)
            tables = set(sa.inspect(connection).get_table_names())
            return context.get_current_revision(), differences, tables
    finally:
        engine.dispose()


def test_upgrade_matches_the_models_and_downgrades(empty_database):
    model_tables = set(db.metadata.tables)
    head = head_revision()
    assert head is not None

    upgrade_database(empty_database)
    revision, differences, tables = schema_state(empty_database)
    assert revision == head
    assert differences == [], "the migrations and the models differ; run flask db migrate"
    assert tables == model_tables | {"alembic_version"}

    downgrade_database(empty_database, "base")
    revision, _, tables = schema_state(empty_database)
    assert revision is None
    assert tables <= {"alembic_version", "sqlite_sequence"}

    upgrade_database(empty_database)
    revision, differences, tables = schema_state(empty_database)
    assert revision == head
    assert differences == []
    assert tables == model_tables | {"alembic_version"}


def test_upgrade_is_idempotent(empty_database):
    upgrade_database(empty_database)
    result = upgrade_database(empty_database)
    assert result.returncode == 0
    revision, differences, _ = schema_state(empty_database)
    assert revision == head_revision()
    assert differences == []


def test_upgrading_a_filled_database_moves_its_work_into_a_default_project(empty_database):
    """A database at the revision before projects, with data, upgrades and keeps every
    object; its users become members of "Default" (the first its admin)."""
    upgrade_database(empty_database, "0002")
    engine = sa.create_engine(empty_database, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        for username in ("first", "second", "third"):
            connection.execute(
                sa.text(
                    "INSERT INTO users (username, full_name, is_active, created)"
                    " VALUES (:u, '', true, '2026-01-01')"
                ),
                {"u": username},
            )
        connection.execute(
            sa.text(
                'INSERT INTO sprints (name, description, "end", version)'
                " VALUES ('Old', '', '2099-01-01', 1)"
            )
        )
        for name, sprint in (("In the sprint", 1), ("In the backlog", None)):
            connection.execute(
                sa.text(
                    'INSERT INTO tasks (name, description, sprint_id, status, "order", version)'
                    " VALUES (:n, '', :s, 1, 0, 1)"
                ),
                {"n": name, "s": sprint},
            )
        connection.execute(
            sa.text(
                "INSERT INTO events (model, object_id, action, all_boards, created)"
                " VALUES ('task', 2, 'add', true, '2026-01-01')"
            )
        )
    upgrade_database(empty_database)
    revision, differences, _ = schema_state(empty_database)
    assert revision == head_revision()
    assert differences == []
    with engine.connect() as connection:
        projects = connection.execute(sa.text("SELECT id, name FROM projects")).all()
        assert [name for _, name in projects] == ["Default"]
        default = projects[0][0]
        members = connection.execute(
            sa.text(
                "SELECT u.username, m.role FROM memberships m JOIN users u ON u.id = m.user_id ORDER BY u.id"
            )
        ).all()
        assert [tuple(row) for row in members] == [
            ("first", "admin"),
            ("second", "member"),
            ("third", "member"),
        ]
        assert connection.execute(sa.text("SELECT project_id FROM sprints")).scalars().all() == [default]
        assert (
            connection.execute(sa.text("SELECT project_id FROM tasks ORDER BY id")).scalars().all()
            == [default] * 2
        )
        assert connection.execute(sa.text("SELECT project FROM events")).scalars().all() == [default]
    engine.dispose()

    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=empty_database)
    client = app.test_client()
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "second"))
        token, value = Token.issue(user, 60)
        db.session.add(token)
        db.session.commit()
    headers = {"Authorization": f"Token {value}"}
    tasks = client.get("/api/tasks", headers=headers).get_json()["results"]
    assert [task["name"] for task in tasks] == ["In the sprint", "In the backlog"]
    for link in (tasks[0]["links"]["self"], tasks[0]["links"]["sprint"], tasks[0]["links"]["project"]):
        assert client.get(link, headers=headers).status_code == 200
    created = client.post("/api/tasks", headers=headers, json={"name": "After the upgrade"})
    assert created.status_code == 201
    assert created.get_json()["project"] == default
    app.extensions["realtime"].stop()
    with app.app_context():
        db.engine.dispose()


def test_upgrading_sqlite_keeps_every_row_and_never_hands_out_a_deleted_id(tmp_path):
    """SQLite's tables are rebuilt with AUTOINCREMENT: no row is lost (foreign keys with
    ON DELETE CASCADE point at the rebuilt tables), and an id deleted before the upgrade,
    even the highest one, is not given to a new row after it."""
    url = "sqlite:///" + str(tmp_path / "ids.sqlite3")
    upgrade_database(url, "0006")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    statements = (
        "INSERT INTO users (id, username, full_name, is_active, created)"
        " VALUES (1, 'ann', '', 1, '2026-01-01')",
        "INSERT INTO tokens (id, user_id, digest, created, expires)"
        " VALUES (1, 1, 'd', '2026-01-01', '2099-01-01')",
        "INSERT INTO projects (id, name, description, created, version) VALUES (1, 'P', '', '2026-01-01', 1)",
        "INSERT INTO memberships (id, project_id, user_id, role) VALUES (1, 1, 1, 'admin')",
        'INSERT INTO sprints (id, project_id, name, description, start, "end", version)'
        " VALUES (1, 1, 'S', '', '2099-01-01', '2099-01-15', 1)",
        'INSERT INTO tasks (id, project_id, name, description, sprint_id, status, "order", assigned_id,'
        " version) VALUES (1, 1, 'kept', '', 1, 1, 0, 1, 1)",
        "INSERT INTO comments (id, project_id, task_id, author_id, body, created, version)"
        " VALUES (1, 1, 1, 1, 'hello', '2026-01-01', 1)",
        # Task 2 was deleted before the upgrade: only the log remembers its id.
        "INSERT INTO events (model, object_id, action, all_boards, created)"
        " VALUES ('task', 2, 'remove', 0, '2026-01-01')",
    )
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))
    before = _row_counts(engine)
    upgrade_database(url)
    assert _row_counts(engine) == before
    with engine.begin() as connection:
        connection.execute(sa.text("PRAGMA foreign_keys=ON"))
        # The first new task takes 3, past the deleted 2; once it is deleted too, the next takes 4.
        for name, expected_id in (("new", 3), ("newer", 4)):
            connection.execute(
                sa.text(
                    'INSERT INTO tasks (project_id, name, description, status, "order", version)'
                    " VALUES (1, :name, '', 1, 0, 1)"
                ),
                {"name": name},
            )
            new_id = connection.scalar(sa.text("SELECT id FROM tasks WHERE name = :name"), {"name": name})
            assert new_id == expected_id
            connection.execute(sa.text("DELETE FROM tasks WHERE id = :id"), {"id": new_id})
    engine.dispose()


def _row_counts(engine):
    with engine.connect() as connection:
        return {
            table: connection.scalar(sa.select(sa.func.count()).select_from(sa.table(table)))
            for table in (
                "users",
                "tokens",
                "projects",
                "memberships",
                "sprints",
                "tasks",
                "comments",
                "events",
            )
        }
