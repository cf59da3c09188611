"""Helpers shared by the REST API tests."""

from contextlib import contextmanager
from datetime import date, timedelta

from app.errors import DEFAULT_MESSAGES

BASE = "http://localhost"
VALIDATION_MESSAGE = "The submitted data is not valid."
QUERY_MESSAGE = "A query parameter is not valid."


def in_days(offset):
    """The date ``offset`` days from today."""
    return date.today() + timedelta(days=offset)


def day(offset):
    """The date ``offset`` days from today, as the API writes it."""
    return in_days(offset).isoformat()


def assert_error(response, status, message=None, errors=None):
    """``response`` is the JSON error shape with exactly this status, message and field errors."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json, response.get_data(as_text=True)
    body = response.get_json()
    expected = {"message": message or DEFAULT_MESSAGES[status]}
    if errors is not None:
        expected["errors"] = errors
    assert body == expected
    return body


def assert_invalid(response, errors):
    """A 400 with these field errors (a field name or ``non_field_errors`` → messages)."""
    return assert_error(response, 400, VALIDATION_MESSAGE, errors)


def assert_unauthorized(response):
    assert_error(response, 401)
    assert response.headers.get("WWW-Authenticate")


def names(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item.get("name", item.get("username")) for item in response.get_json()["results"]]


@contextmanager
def unchanged(snapshot):
    """The block's requests leave every table exactly as it was."""
    before = snapshot()
    yield
    assert snapshot() == before


STATUS_DISPLAY = {1: "Not Started", 2: "In Progress", 3: "Testing", 4: "Done"}


def task_body(task_id, name="Task", project=1, **fields):
    """The API's view of a task: the defaults, with ``fields`` changed (in project 1, "Team")."""
    body = {
        "id": task_id,
        "project": project,
        "name": name,
        "description": "",
        "sprint": None,
        "status": 1,
        "order": 0,
        "points": None,
        "assigned": None,
        "started": None,
        "due": None,
        "completed": None,
        **fields,
    }
    body["status_display"] = STATUS_DISPLAY[body["status"]]
    sprint, assigned = body["sprint"], body["assigned"]
    body["links"] = {
        "self": f"{BASE}/api/tasks/{task_id}",
        "sprint": f"{BASE}/api/sprints/{sprint}" if sprint is not None else None,
        "assigned": f"{BASE}/api/users/{assigned}" if assigned is not None else None,
        "project": f"{BASE}/api/projects/{project}",
        "comments": f"{BASE}/api/tasks/{task_id}/comments",
        "activity": f"{BASE}/api/tasks/{task_id}/activity",
    }
    return body
