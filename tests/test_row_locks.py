"""A write locks its row and reads it, with the caller's role and the row's references,
in one statement (``access.find``). When that statement has to wait for another
writer, PostgreSQL hands it the other writer's version of the row, but re-checks the
rows joined to it as they were: a reference the other writer changed comes back
empty. These check that the write then reads the row again, and answers with what
the other writer left.

They run on a PostgreSQL database of their own: SQLite has no row locks.
"""

import threading
import time

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from app import db
from app.models import Membership, Project, Task, Token, User


@pytest.fixture
def team(postgres_app):
    """A project with alice (whose token the requests use) and bob, and a task assigned to alice."""
    with postgres_app.app_context():
        project = Project(name="Team")
        users = {name: User(username=name) for name in ("alice", "bob")}
        db.session.add_all([project, *users.values()])
        db.session.flush()
        db.session.add_all(
            Membership(project_id=project.id, user=user, role="member") for user in users.values()
        )
        task = Task(name="Shared", project_id=project.id, assigned=users["alice"])
        token, value = Token.issue(users["alice"], 3600)
        db.session.add_all([task, token])
        db.session.commit()
        return {"task": task.id, "bob": users["bob"].id, "headers": {"Authorization": f"Token {value}"}}


def waiting_for_a_lock(app):
    """Whether some session of this database waits for a row lock."""
    with app.app_context():
        waiting = db.session.scalar(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        db.session.rollback()
    return waiting > 0


def patch_while_another_writer_holds_the_row(app, task_id, change, body, headers):
    """PATCH ``body`` while another transaction holds the task's row, having applied
    ``change`` to it; that transaction commits once the PATCH waits for it."""
    with app.app_context():
        other = so.Session(db.engine)
        try:
            change(other.get(Task, task_id))
            other.flush()  # holds the row until it commits
            answers = []
            request = threading.Thread(
                target=lambda: answers.append(
                    app.test_client().patch(f"/api/tasks/{task_id}", json=body, headers=headers)
                )
            )
            request.start()
            deadline = time.monotonic() + 10
            while not waiting_for_a_lock(app):
                assert time.monotonic() < deadline, "the PATCH never waited for the row"
                time.sleep(0.02)
            other.commit()
        finally:
            other.close()
        request.join(10)
    assert answers, "the PATCH did not finish once the row was free"
    return answers[0]


def stored(app, task_id):
    with app.app_context():
        task = db.session.get(Task, task_id)
        return {"order": task.order, "assigned": task.assigned.username if task.assigned else None}


def test_a_write_that_waited_answers_with_the_reference_the_other_writer_set(postgres_app, team):
    def reassign_to_bob(task):
        task.assigned_id = team["bob"]

    response = patch_while_another_writer_holds_the_row(
        postgres_app, team["task"], reassign_to_bob, {"order": 7}, team["headers"]
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["assigned"] == "bob"
    assert response.json["order"] == 7
    assert stored(postgres_app, team["task"]) == {"order": 7, "assigned": "bob"}


def test_a_refused_write_that_waited_shows_the_reference_the_other_writer_set(postgres_app, team):
    """The 412 of an ``If-Match`` that no longer holds carries the object as it now is, for
    the conflict dialog: with the other writer's assignee, not none."""
    read = postgres_app.test_client().get(f"/api/tasks/{team['task']}", headers=team["headers"])

    def reassign_to_bob(task):
        task.assigned_id = team["bob"]

    response = patch_while_another_writer_holds_the_row(
        postgres_app,
        team["task"],
        reassign_to_bob,
        {"order": 7},
        {**team["headers"], "If-Match": read.headers["ETag"]},
    )
    assert response.status_code == 412, response.get_data(as_text=True)
    assert response.json["assigned"] == "bob"
    assert response.json["links"]["assigned"].endswith("/api/users/bob")
    assert stored(postgres_app, team["task"]) == {"order": 0, "assigned": "bob"}


def test_a_write_that_waited_keeps_a_reference_the_other_writer_cleared(postgres_app, team):
    def unassign(task):
        task.assigned_id = None

    response = patch_while_another_writer_holds_the_row(
        postgres_app, team["task"], unassign, {"name": "Shared, renamed"}, team["headers"]
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["assigned"] is None and response.json["links"]["assigned"] is None
    assert response.json["name"] == "Shared, renamed"
    assert stored(postgres_app, team["task"]) == {"order": 0, "assigned": None}


def test_a_write_that_waited_sees_the_other_writers_fields(postgres_app, team):
    def reorder(task):
        task.order = 3

    response = patch_while_another_writer_holds_the_row(
        postgres_app, team["task"], reorder, {"name": "Renamed"}, team["headers"]
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["order"] == 3 and response.json["assigned"] == "alice"
    assert response.json["name"] == "Renamed"
