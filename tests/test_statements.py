"""How many SQL statements a request costs. Scoping to the caller's projects, paging and
the existence of the objects a filter names cost no statement of their own: a page of
tasks is the token's and the page's, whatever the number of tasks on it."""

import pytest
import sqlalchemy as sa

from app import db


@pytest.fixture
def statements(app):
    """The SQL statements run since the list was last cleared."""
    run = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: run.append(args[2])  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listener)
    yield run
    sa.event.remove(engine, "before_cursor_execute", listener)


@pytest.fixture
def board(make_sprint, make_task, make_user):
    make_user("bob")
    sprint = make_sprint()
    tasks = [make_task(f"Task {i}", sprint_id=sprint, assigned=("alice", "bob")[i % 2]) for i in range(30)]
    return sprint, tasks


def count(statements, request, *args, **kwargs):
    """``(statements run, response)`` of one request, such as ``client.get``, and its arguments."""
    statements.clear()
    response = request(*args, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    return len(statements), response


def test_a_page_of_tasks_is_two_statements_however_many_are_on_it(client, headers, board, statements):
    sprint, _ = board
    for size in (1, 10, 30):
        n, response = count(
            statements, client.get, f"/api/tasks?sprint={sprint}&page_size={size}", headers=headers
        )
        assert len(response.json["results"]) == size and response.json["count"] == 30
        assert all(task["assigned"] in ("alice", "bob") for task in response.json["results"])
        assert n == 2, statements


def test_the_last_page_counts_what_came_before(client, headers, board, statements):
    sprint, _ = board
    n, response = count(
        statements, client.get, f"/api/tasks?sprint={sprint}&page_size=8&page=4", headers=headers
    )
    assert response.json["count"] == 30 and len(response.json["results"]) == 6
    assert response.json["next"] is None and response.json["previous"].endswith("page_size=8&page=3")
    assert n == 2


def test_one_task_is_two_statements_and_a_patch_four(client, headers, board, statements):
    _, tasks = board
    n, _ = count(statements, client.get, f"/api/tasks/{tasks[0]}", headers=headers)
    assert n == 2, statements
    # the token; the row, locked, with the caller's role; the UPDATE; the change log's INSERT
    n, response = count(
        statements, client.patch, f"/api/tasks/{tasks[0]}", json={"order": 9}, headers=headers
    )
    assert response.json["order"] == 9
    assert n == 4, statements


def test_a_filter_on_an_empty_sprint_is_an_empty_page(client, headers, make_sprint, statements):
    """An empty page is where the filter's sprint is looked up: it exists, so the answer is
    an empty list, not an error."""
    sprint = make_sprint()
    n, response = count(statements, client.get, f"/api/tasks?sprint={sprint}", headers=headers)
    assert response.json == {"count": 0, "next": None, "previous": None, "results": []}
    assert n == 3
