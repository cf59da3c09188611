"""On PostgreSQL a GET on the API runs its statements outside a transaction (no BEGIN, no
ROLLBACK: two round trips fewer), while every write keeps its transaction; a request that
only reads is refused a write rather than allowed one it could not roll back."""

import pytest
import sqlalchemy as sa

from app import database, db
from app.models import Membership, Project, Task, Token, User


@pytest.fixture
def board(postgres_app):
    with postgres_app.app_context():
        project = Project(name="Team")
        alice = User(username="alice")
        db.session.add_all([project, alice])
        db.session.flush()
        db.session.add(Membership(project_id=project.id, user=alice, role="member"))
        task = Task(name="Task", project_id=project.id, assigned=alice)
        token, value = Token.issue(alice, 3600)
        db.session.add_all([task, token])
        db.session.commit()
        return {"project": project.id, "task": task.id, "headers": {"Authorization": f"Token {value}"}}


@pytest.fixture
def in_transaction(postgres_app):
    """For each SQL statement run, whether it ran inside a transaction."""
    seen = []
    with postgres_app.app_context():
        engine = db.engine

    def record(connection, *args):
        seen.append(not connection.connection.dbapi_connection.autocommit)

    sa.event.listen(engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", record)


def test_reads_run_outside_a_transaction_and_writes_inside_one(postgres_app, board, in_transaction):
    client = postgres_app.test_client()
    task = f"/api/tasks/{board['task']}"
    for url in (task, f"/api/tasks?project={board['project']}", f"/api/projects/{board['project']}"):
        in_transaction.clear()
        assert client.get(url, headers=board["headers"]).status_code == 200
        assert in_transaction and not any(in_transaction), url
    in_transaction.clear()
    response = client.patch(task, json={"name": "Renamed"}, headers=board["headers"])
    assert response.status_code == 200
    assert in_transaction and all(in_transaction)
    # and a GET after a write reads outside a transaction again, on the same pooled connection
    in_transaction.clear()
    assert client.get(task, headers=board["headers"]).json["name"] == "Renamed"
    assert not any(in_transaction)


def test_a_request_that_only_reads_cannot_write(postgres_app, board):
    with postgres_app.test_request_context("/api/tasks"):
        database.read_without_a_transaction(db)
        task = db.session.get(Task, board["task"])
        task.name = "Written by a read"
        with pytest.raises(RuntimeError, match="only reads"):
            db.session.flush()
        db.session.rollback()
    with postgres_app.app_context():
        assert db.session.get(Task, board["task"]).name == "Task"
