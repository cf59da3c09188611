"""The ``flask`` commands: ``create-user``, ``create-project``, ``add-member`` and ``seed-demo``.

Most tests drive them through Flask's CLI runner on the test database (SQLite,
or PostgreSQL with ``TEST_DATABASE_URL``); one runs the real ``flask --app wsgi``
command line in a subprocess.
"""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from app import db
from app.cli import DEMO_PASSWORD, DEMO_PROJECT_NAME, DEMO_SPRINT_NAME, DEMO_USERS
from app.models import Membership, Project, Sprint, Task, User
from tests.support.servers import create_user, upgrade_database

USERNAME_RULE = "A username has 1 to 150 letters, digits or the characters . @ + - _"


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def all_users(app):
    with app.app_context():
        return {
            user.username: (user.full_name, user.is_active, user.password_hash)
            for user in db.session.scalars(sa.select(User))
        }


def row_counts(app):
    with app.app_context():
        return {
            table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }


def token_status(client, username, password):
    response = client.post("/api/token", json={"username": username, "password": password})
    return response.status_code


class TestCreateUser:
    def test_creates_a_user_who_can_log_in(self, app, client):
        result = run(app, "create-user", "dave", "--password", "s3cret pass", "--full-name", "Dave Doe")
        assert result.exit_code == 0, result.output
        assert 'Created user "dave".' in result.output
        full_name, is_active, password_hash = all_users(app)["dave"]
        assert (full_name, is_active) == ("Dave Doe", True)
        assert check_password_hash(password_hash, "s3cret pass")
        assert token_status(client, "dave", "s3cret pass") == 200
        assert token_status(client, "dave", "wrong") == 401

    def test_full_name_is_optional(self, app):
        result = run(app, "create-user", "erin", "--password", "pw")
        assert result.exit_code == 0, result.output
        assert all_users(app)["erin"][0] == ""

    def test_asks_for_the_password_twice_when_not_given(self, app, client):
        result = run(app, "create-user", "frank", input="typed secret\ntyped secret\n")
        assert result.exit_code == 0, result.output
        assert "typed secret" not in result.output  # hidden input
        assert token_status(client, "frank", "typed secret") == 200

    def test_duplicate_username_is_refused_with_a_clear_message(self, app, client):
        assert run(app, "create-user", "dave", "--password", "first").exit_code == 0
        before = all_users(app)
        result = run(app, "create-user", "dave", "--password", "second", "--full-name", "Other")
        assert result.exit_code == 1
        assert 'A user named "dave" already exists.' in result.output
        assert "Traceback" not in result.output
        assert all_users(app) == before
        assert token_status(client, "dave", "first") == 200
        assert token_status(client, "dave", "second") == 401

    @pytest.mark.parametrize(
        "username", ["", "has space", "slash/name", "semi;colon", "x" * 151, "tab\tname", "quote'name"]
    )
    def test_invalid_username_is_refused(self, app, username):
        result = run(app, "create-user", username, "--password", "pw")
        assert result.exit_code == 1
        assert USERNAME_RULE in result.output
        assert all_users(app) == {}

    @pytest.mark.parametrize("username", ["a", "x" * 150, "first.last", "me@example.com", "a+b-c_d", "Zoë"])
    def test_valid_usernames(self, app, username):
        result = run(app, "create-user", username, "--password", "pw")
        assert result.exit_code == 0, result.output
        assert set(all_users(app)) == {username}

    @pytest.mark.parametrize(
        ("full_name", "message"),
        [
            pytest.param("x" * 201, "A full name has at most 200 characters (this one has 201).", id="201"),
            pytest.param(
                "Zoë " + "x" * 300, "A full name has at most 200 characters (this one has 304).", id="304"
            ),
            pytest.param("Bad \udcff bytes", "The full name is not valid UTF-8 text.", id="not UTF-8"),
        ],
    )
    @pytest.mark.parametrize("in_a_new_project", [False, True], ids=["alone", "in a new project"])
    def test_a_full_name_the_database_cannot_hold_is_refused(self, app, full_name, message, in_a_new_project):
        """On PostgreSQL it failed in the database with a traceback; SQLite stored it whole."""
        before = row_counts(app)
        project = ["--project", "New"] if in_a_new_project else []
        result = run(app, "create-user", "gina", "--password", "pw", "--full-name", full_name, *project)
        assert result.exit_code == 1
        assert isinstance(result.exception, SystemExit)  # not an error from the database
        assert f"Error: {message}" in result.output
        assert row_counts(app) == before

    def test_a_full_name_of_200_characters_is_kept_whole(self, app):
        result = run(app, "create-user", "gina", "--password", "pw", "--full-name", "é" * 200)
        assert result.exit_code == 0, result.output
        assert all_users(app)["gina"][0] == "é" * 200

    def test_empty_password_is_refused(self, app):
        result = run(app, "create-user", "gina", "--password", "")
        assert result.exit_code == 1
        assert "The password may not be empty." in result.output
        assert all_users(app) == {}


def memberships(app):
    with app.app_context():
        rows = db.session.execute(
            sa.select(Project.name, User.username, Membership.role)
            .join(Membership.project)
            .join(Membership.user)
        )
        return sorted(tuple(row) for row in rows)


class TestProjectsOnTheCommandLine:
    def test_create_project_add_members_and_create_user_in_a_project(self, app, client):
        assert run(app, "create-user", "ann", "--password", "pw").exit_code == 0
        result = run(app, "create-project", "Apollo", "--admin", "ann")
        assert result.exit_code == 0, result.output
        assert 'Created project "Apollo" with admin "ann".' in result.output
        result = run(app, "create-user", "bo", "--password", "pw", "--project", "Apollo")
        assert result.exit_code == 0, result.output
        assert run(app, "create-user", "vic", "--password", "pw").exit_code == 0
        result = run(app, "add-member", "Apollo", "vic", "--role", "viewer")
        assert result.exit_code == 0, result.output
        assert memberships(app) == [
            ("Apollo", "ann", "admin"),
            ("Apollo", "bo", "member"),
            ("Apollo", "vic", "viewer"),
        ]
        assert run(app, "add-member", "Apollo", "vic", "--role", "member").exit_code == 0
        assert ("Apollo", "vic", "member") in memberships(app)
        token = client.post("/api/token", json={"username": "bo", "password": "pw"}).get_json()["token"]
        response = client.post("/api/tasks", headers={"Authorization": f"Token {token}"}, json={"name": "T"})
        assert response.status_code == 201

    @pytest.mark.parametrize(
        "args, message",
        [
            (["create-project", "Apollo", "--admin", "ghost"], 'There is no user named "ghost".'),
            (["create-project", "Taken", "--admin", "ann"], 'A project named "Taken" already exists.'),
            (["create-project", "", "--admin", "ann"], "A project name has 1 to 100 characters."),
            (["add-member", "Nowhere", "ann"], 'There is no project named "Nowhere".'),
            (["add-member", "Taken", "ghost"], 'There is no user named "ghost".'),
            (["add-member", "Taken", "ann", "--role", "member"], "A project needs at least one admin."),
            (["add-member", "Taken", "ann", "--role", "owner"], "Invalid value for '--role'"),
            # Arguments the database cannot hold (not valid UTF-8, too long) are refused before it sees them.
            (["create-project", "x" * 101, "--admin", "ann"], "A project name has 1 to 100 characters."),
            (["create-project", "Bad \udcff", "--admin", "ann"], "The project name is not valid UTF-8 text."),
            (["create-project", "Apollo", "--admin", "\udcff"], "The username is not valid UTF-8 text."),
            (["add-member", "\udcff", "ann"], "The project name is not valid UTF-8 text."),
            (["add-member", "Taken", "an\udcff"], "The username is not valid UTF-8 text."),
            (["deactivate-user", "\udcff"], "The username is not valid UTF-8 text."),
            (["create-user", "bo", "--password", "\udcff"], "The password is not valid UTF-8 text."),
            (
                ["create-user", "bo", "--password", "pw", "--project", "\udcff"],
                "The project name is not valid UTF-8 text.",
            ),
            (
                ["create-user", "bo", "--password", "pw", "--project", "x" * 101],
                "A project name has 1 to 100 characters.",
            ),
            (["prune-events", "--older-than", "9" * 20], "Invalid value for '--older-than'"),
        ],
    )
    def test_bad_input_is_refused_and_changes_nothing(self, app, args, message):
        assert run(app, "create-user", "ann", "--password", "pw").exit_code == 0
        assert run(app, "create-project", "Taken", "--admin", "ann").exit_code == 0
        before = row_counts(app), memberships(app)
        result = run(app, *args)
        assert result.exit_code != 0
        assert isinstance(result.exception, SystemExit), result.exception
        assert message in result.output
        assert (row_counts(app), memberships(app)) == before


class TestSeedDemo:
    def test_creates_the_demo_team(self, app):
        assert run(app, "seed-demo").exit_code == 0
        assert memberships(app) == [
            (DEMO_PROJECT_NAME, "alice", "admin"),
            (DEMO_PROJECT_NAME, "bob", "member"),
            (DEMO_PROJECT_NAME, "carol", "member"),
        ]
        with app.app_context():
            project_id = db.session.scalar(sa.select(Project.id).where(Project.name == DEMO_PROJECT_NAME))
            assert set(db.session.scalars(sa.select(Task.project_id))) == {project_id}
            assert set(db.session.scalars(sa.select(Sprint.project_id))) == {project_id}

    def test_is_idempotent_and_prints_the_logins(self, app):
        first = run(app, "seed-demo")
        assert first.exit_code == 0, first.output
        assert "Demo data created." in first.output
        counts = row_counts(app)
        assert counts["users"] == len(DEMO_USERS)
        assert counts["sprints"] == 1
        assert counts["tasks"] > 0

        second = run(app, "seed-demo")
        assert second.exit_code == 0, second.output
        assert "Demo data already present." in second.output
        assert row_counts(app) == counts

        for output in (first.output, second.output):
            for username, _ in DEMO_USERS:
                assert f"{username} / {DEMO_PASSWORD}" in output

    def test_demo_logins_work(self, app, client):
        assert run(app, "seed-demo").exit_code == 0
        for username, _ in DEMO_USERS:
            assert token_status(client, username, DEMO_PASSWORD) == 200

    def test_a_current_sprint_with_tasks_in_every_column_and_the_backlog(self, app):
        assert run(app, "seed-demo").exit_code == 0
        with app.app_context():
            sprint = db.session.scalar(sa.select(Sprint).where(Sprint.name == DEMO_SPRINT_NAME))
            assert sprint is not None
            assert sprint.end >= date.today()
            tasks = db.session.scalars(sa.select(Task)).all()
            in_sprint = {task.status for task in tasks if task.sprint_id == sprint.id}
            backlog = [task for task in tasks if task.sprint_id is None]
        assert in_sprint == {1, 2, 3, 4}
        assert backlog
        assert {task.status for task in backlog} == {1}

    def test_demo_data_follows_the_api_rules(self, app, client):
        """Every demo task can be PUT back unchanged: it breaks no validation rule."""
        assert run(app, "seed-demo").exit_code == 0
        response = client.post("/api/token", json={"username": "alice", "password": DEMO_PASSWORD})
        headers = {"Authorization": f"Token {response.get_json()['token']}"}
        tasks = client.get("/api/tasks?page_size=100", headers=headers).get_json()["results"]
        assert tasks
        for task in tasks:
            response = client.put(f"/api/tasks/{task['id']}", json=task, headers=headers)
            assert response.status_code == 200, response.get_json()
            assert response.get_json() == task

    def test_finds_a_free_end_date(self, app, make_sprint):
        taken = date.today() + timedelta(days=10)
        make_sprint(end=taken, name="Already there", project="Demo team")
        result = run(app, "seed-demo")
        assert result.exit_code == 0, result.output
        with app.app_context():
            ends = db.session.scalars(sa.select(Sprint.end)).all()
        assert len(ends) == len(set(ends)) == 2

    def test_keeps_existing_users(self, app):
        assert run(app, "create-user", "alice", "--password", "alice's own").exit_code == 0
        result = run(app, "seed-demo")
        assert result.exit_code == 0, result.output
        users = all_users(app)
        assert set(users) == {username for username, _ in DEMO_USERS}
        assert check_password_hash(users["alice"][2], "alice's own")


@pytest.mark.slow
def test_real_command_line_creates_a_user(tmp_path):
    url = "sqlite:///" + str(tmp_path / "cli.sqlite3")
    upgrade_database(url)

    result = create_user(url, "henry", "from the shell", full_name="Henry Hall", project=None)
    assert result.returncode == 0, result.stderr
    assert 'Created user "henry".' in result.stdout

    again = create_user(url, "henry", "another", check=False)
    assert again.returncode == 1
    assert 'A user named "henry" already exists.' in again.stderr
    assert "Traceback" not in again.stderr

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT username, full_name, password_hash FROM users")).all()
    finally:
        engine.dispose()
    assert [(row.username, row.full_name) for row in rows] == [("henry", "Henry Hall")]
    assert check_password_hash(rows[0].password_hash, "from the shell")
