"""Tasks over HTTP: create, read, replace, change and delete, and the board's rules."""

import pytest

from tests.api_helpers import assert_error, assert_invalid, day, in_days, task_body, unchanged

ADD_TO_PAST = "Cannot add tasks to past sprints."
MOVE_TO_PAST = "Cannot assign tasks to past sprints."
MOVE_DONE = "Cannot change the sprint of a completed task."
BACKLOG_STATUS = 'Backlog tasks must have "Not Started" status.'
STARTED = "Started date cannot be set for not started tasks."
COMPLETED = "Completed date cannot be set for uncompleted tasks."


@pytest.fixture
def board(make_sprint):
    """Sprint ids by role: two current sprints and one that has ended."""
    return {
        "current": make_sprint(name="Current"),
        "other": make_sprint(name="Other"),
        "ended": make_sprint(name="Ended", end=in_days(-1)),
        None: None,
    }


def resolve(board, fields):
    """``fields`` with a sprint role ("current", "ended"…) replaced by that sprint's id."""
    return {**fields, "sprint": board[fields["sprint"]]} if "sprint" in fields else dict(fields)


def test_create_with_defaults(client, headers):
    r = client.post("/api/tasks", headers=headers, json={"name": "Write tests"})
    assert r.status_code == 201
    body = r.get_json()
    assert body == task_body(body["id"], "Write tests")
    assert r.headers["Location"] == body["links"]["self"]
    fetched = client.get(r.headers["Location"], headers=headers)
    assert fetched.get_json() == body
    assert fetched.headers["ETag"] == r.headers["ETag"]


def test_create_with_every_field(client, headers, alice, board):
    fields = {
        "description": "All of it",
        "sprint": board["current"],
        "status": 4,
        "order": -7,
        "assigned": "alice",
        "started": day(-2),
        "due": day(3),
        "completed": day(-1),
    }
    r = client.post("/api/tasks", headers=headers, json={"name": "Full", **fields})
    assert r.status_code == 201
    assert r.get_json() == task_body(r.get_json()["id"], "Full", **fields)


@pytest.mark.parametrize("status", [1, 2, 3, 4])
def test_status_display(client, headers, board, status):
    r = client.post(
        "/api/tasks", headers=headers, json={"name": "S", "sprint": board["current"], "status": status}
    )
    assert r.status_code == 201
    assert r.get_json()["status_display"] == task_body(0, status=status)["status_display"]


def test_a_sprint_ending_today_has_not_ended(client, headers, make_sprint):
    sprint_id = make_sprint(end=in_days(0))
    r = client.post("/api/tasks", headers=headers, json={"name": "Last day", "sprint": sprint_id})
    assert r.status_code == 201
    assert r.get_json()["sprint"] == sprint_id


def test_get(client, headers, alice, make_task):
    task_id = make_task(name="Read me", description="Body", assigned="alice", order=3)
    r = client.get(f"/api/tasks/{task_id}", headers=headers)
    assert r.status_code == 200
    assert r.get_json() == task_body(task_id, "Read me", description="Body", assigned="alice", order=3)
    assert r.headers["ETag"]


def test_put_replaces(client, headers, board, make_task):
    task_id = make_task(name="Old", description="Kept")
    new = {"name": "New", "sprint": board["current"], "status": 2, "started": day(0), "order": 5}
    r = client.put(f"/api/tasks/{task_id}", headers=headers, json=new)
    assert r.status_code == 200
    assert r.get_json() == task_body(task_id, description="Kept", **new)
    assert client.get(f"/api/tasks/{task_id}", headers=headers).get_json() == r.get_json()


def test_put_what_was_got(client, headers, alice, board, make_task):
    url = f"/api/tasks/{make_task(sprint_id=board['current'], status=2, assigned='alice')}"
    got = client.get(url, headers=headers).get_json()
    r = client.put(url, headers=headers, json=got)
    assert r.status_code == 200
    assert r.get_json() == got


def test_put_needs_a_name(client, headers, make_task, snapshot):
    task_id = make_task()
    with unchanged(snapshot):
        r = client.put(f"/api/tasks/{task_id}", headers=headers, json={"order": 1})
    assert_invalid(r, {"name": ["Missing data for required field."]})


def test_create_needs_a_name(client, headers, snapshot):
    with unchanged(snapshot):
        r = client.post("/api/tasks", headers=headers, json={"description": "Nameless"})
    assert_invalid(r, {"name": ["Missing data for required field."]})


@pytest.mark.parametrize(
    ("before", "changes"),
    [
        ({}, {"order": 9}),
        ({}, {"assigned": "alice"}),
        ({"assigned": "alice"}, {"assigned": None}),
        ({}, {"sprint": "current"}),
        ({"sprint": "current", "status": 2}, {"sprint": "other"}),
        ({"sprint": "current"}, {"sprint": None}),
        ({"sprint": "current"}, {"status": 2, "started": day(0)}),
        ({"sprint": "current", "status": 3}, {"status": 4, "completed": day(0)}),
        ({"sprint": "current", "status": 4}, {"sprint": "current", "description": "Same sprint"}),
        ({"sprint": "ended", "status": 2}, {"name": "Renamed", "status": 4}),
        ({"sprint": "ended", "status": 4}, {"sprint": "ended", "order": 2}),
        ({"due": in_days(-30)}, {"due": None}),
    ],
)
def test_patch_allowed_changes(client, headers, alice, board, make_task, before, changes):
    before = resolve(board, before)
    task_id = make_task(name="T", sprint_id=before.pop("sprint", None), **before)
    original = client.get(f"/api/tasks/{task_id}", headers=headers)
    r = client.patch(f"/api/tasks/{task_id}", headers=headers, json=resolve(board, changes))
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == task_body(task_id, **{**original.get_json(), **resolve(board, changes)})
    assert r.headers["ETag"] != original.headers["ETag"]


def test_delete(client, headers, make_task, board):
    task_id = make_task(sprint_id=board["current"])
    r = client.delete(f"/api/tasks/{task_id}", headers=headers)
    assert r.status_code == 204
    assert r.data == b""
    assert_error(client.get(f"/api/tasks/{task_id}", headers=headers), 404, f"Task {task_id} not found.")


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
@pytest.mark.parametrize("task_id", [999, 2**31, 10**30])
def test_unknown_id_is_404(client, headers, snapshot, method, task_id):
    with unchanged(snapshot):
        r = getattr(client, method)(f"/api/tasks/{task_id}", headers=headers, json={"name": "x"})
    assert_error(r, 404, f"Task {task_id} not found.")


# The board's rules, on create and on update


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"sprint": "ended"}, {"sprint": [ADD_TO_PAST]}),
        ({"sprint": "ended", "status": 4, "completed": day(-2)}, {"sprint": [ADD_TO_PAST]}),
        ({"status": 2}, {"non_field_errors": [BACKLOG_STATUS]}),
        ({"status": 4, "sprint": None}, {"non_field_errors": [BACKLOG_STATUS]}),
        ({"sprint": "current", "started": day(0)}, {"non_field_errors": [STARTED]}),
        ({"sprint": "current", "status": 1, "started": day(0)}, {"non_field_errors": [STARTED]}),
        ({"sprint": "current", "status": 3, "completed": day(0)}, {"non_field_errors": [COMPLETED]}),
        (
            {"sprint": "current", "status": 2, "started": day(-1), "completed": day(0)},
            {"non_field_errors": [COMPLETED]},
        ),
    ],
)
def test_create_breaking_a_rule(client, headers, board, snapshot, body, errors):
    with unchanged(snapshot):
        r = client.post("/api/tasks", headers=headers, json={"name": "New", **resolve(board, body)})
    assert_invalid(r, errors)


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize(
    ("before", "changes", "errors"),
    [
        ({"sprint": "current"}, {"sprint": "ended"}, {"sprint": [MOVE_TO_PAST]}),
        ({}, {"sprint": "ended"}, {"sprint": [MOVE_TO_PAST]}),
        ({"sprint": "current", "status": 4}, {"sprint": "other"}, {"sprint": [MOVE_DONE]}),
        ({"sprint": "ended", "status": 4}, {"sprint": "current"}, {"sprint": [MOVE_DONE]}),
        (
            {"sprint": "current", "status": 4},
            {"sprint": None},
            {"sprint": [MOVE_DONE], "non_field_errors": [BACKLOG_STATUS]},
        ),
        ({"sprint": "current", "status": 2}, {"sprint": None}, {"non_field_errors": [BACKLOG_STATUS]}),
        ({}, {"status": 3}, {"non_field_errors": [BACKLOG_STATUS]}),
        (
            {"sprint": "current", "status": 2, "started": in_days(-1)},
            {"status": 1},
            {"non_field_errors": [STARTED]},
        ),
        ({"sprint": "current"}, {"started": day(0)}, {"non_field_errors": [STARTED]}),
        (
            {"sprint": "current", "status": 4, "completed": in_days(0)},
            {"status": 3},
            {"non_field_errors": [COMPLETED]},
        ),
        ({"sprint": "current", "status": 2}, {"completed": day(0)}, {"non_field_errors": [COMPLETED]}),
    ],
)
def test_update_breaking_a_rule(client, headers, board, make_task, snapshot, method, before, changes, errors):
    before = resolve(board, before)
    task_id = make_task(name="T", sprint_id=before.pop("sprint", None), **before)
    with unchanged(snapshot):
        r = getattr(client, method)(
            f"/api/tasks/{task_id}", headers=headers, json={"name": "T", **resolve(board, changes)}
        )
    assert_invalid(r, errors)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"sprint": 999}, {"sprint": ["Sprint 999 does not exist."]}),
        ({"assigned": "nobody"}, {"assigned": ['User "nobody" does not exist.']}),
        ({"assigned": "ALICE"}, {"assigned": ['User "ALICE" does not exist.']}),
        (
            {"sprint": 999, "assigned": "nobody"},
            {"sprint": ["Sprint 999 does not exist."], "assigned": ['User "nobody" does not exist.']},
        ),
    ],
)
@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_unknown_references(client, headers, alice, make_task, snapshot, method, body, errors):
    url = "/api/tasks" if method == "post" else f"/api/tasks/{make_task()}"
    with unchanged(snapshot):
        r = getattr(client, method)(url, headers=headers, json={"name": "T", **body})
    assert_invalid(r, errors)
