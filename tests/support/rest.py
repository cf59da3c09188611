"""A REST client for a running server: one person's session, signed in with a token.

``call`` asserts the answer's status and returns its JSON body; ``request`` returns
the response as it is, for tests that look at the status, headers or timing::

    api = RestClient.signed_in(server.url, "ann", PASSWORD)
    sprint = api.sprint("Planning")
    task = api.task("Write the tests", sprint["id"])
    api.call("PATCH", f"/api/tasks/{task['id']}", 200, {"status": 2})
"""

import base64
import itertools
import time
from datetime import date, timedelta

import requests

from boardclient import http_session

REQUEST_TIMEOUT = 10  # seconds

# Sprints made without an end date get one of their own: an end is unique per project.
_unused_days = itertools.count(1000)


def day(offset=0):
    """The ISO date ``offset`` days from today."""
    return (date.today() + timedelta(days=offset)).isoformat()


def token_header(token):
    return {"Authorization": f"Token {token}"}


def basic_header(username, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def issue_token(url, username, password, headers=None):
    """A new token for that user (``POST /api/token``), as its string."""
    return token_answer(url, username, password, headers)["token"]


def token_answer(url, username, password, headers=None):
    """``POST /api/token``'s answer for that user: the new token and when it expires."""
    response = requests.post(
        url + "/api/token",
        json={"username": username, "password": password},
        headers=headers,
        timeout=REQUEST_TIMEOUT,
    )
    assert response.status_code == 200, f"signing in {username}: {response.status_code} {response.text}"
    return response.json()


class RestClient:
    """REST calls to one server with one token."""

    def __init__(self, url, token):
        self.url = url
        self.token = token
        self.http = http_session(token)
        self.last_duration = None  # seconds the last request took

    @classmethod
    def signed_in(cls, url, username, password):
        return cls(url, issue_token(url, username, password))

    def request(self, method, path, **kwargs):
        started = time.monotonic()
        response = self.http.request(method, self.url + path, timeout=REQUEST_TIMEOUT, **kwargs)
        self.last_duration = time.monotonic() - started
        return response

    def call(self, method, path, expected=200, body=None, **kwargs):
        """The JSON body of the answer (None when empty), which must have the ``expected`` status."""
        if body is not None:
            kwargs["json"] = body
        response = self.request(method, path, **kwargs)
        assert response.status_code == expected, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def get_all(self, path):
        """Every item of a paged list, following ``next``."""
        results, path = [], f"{path}{'&' if '?' in path else '?'}page_size=100"
        for _ in range(1000):
            page = self.call("GET", path)
            results.extend(page["results"])
            if not page["next"]:
                return results
            path = page["next"].removeprefix(self.url)
        raise AssertionError(f"{path}: more than 1000 pages")

    def sprint(self, name="Sprint", end=None, **fields):
        """Create a sprint ending ``end`` (days from today, or an ISO date; by default a day
        no other sprint made here ends on)."""
        if end is None:
            end = next(_unused_days)
        end = day(end) if isinstance(end, int) else end
        return self.call("POST", "/api/sprints", 201, {"name": name, "end": end, **fields})

    def task(self, name, sprint=None, **fields):
        return self.call("POST", "/api/tasks", 201, {"name": name, "sprint": sprint, **fields})

    def get(self, kind, object_id):
        return self.call("GET", f"/api/{kind}/{object_id}")

    def patch(self, kind, object_id, changes, expected=200):
        return self.call("PATCH", f"/api/{kind}/{object_id}", expected, changes)

    def project(self, name, **members):
        """Create a project (the caller its admin) with ``members`` as ``username=role``."""
        project = self.call("POST", "/api/projects", 201, {"name": name})
        for username, role in members.items():
            self.set_role(project["id"], username, role, expected=201)
        return project

    def set_role(self, project_id, username, role, expected=200):
        return self.call("PUT", f"/api/projects/{project_id}/members/{username}", expected, {"role": role})

    def members(self, project_id):
        """The project's members, as ``{username: role}``."""
        return {
            member["username"]: member["role"]
            for member in self.call("GET", f"/api/projects/{project_id}/members")["results"]
        }

    def wait_for_task(self, task_id, predicate, timeout=5.0):
        """The task once ``predicate`` holds (polling), else an assertion error showing it."""
        deadline = time.monotonic() + timeout
        while True:
            task = self.call("GET", f"/api/tasks/{task_id}")
            if predicate(task) or time.monotonic() > deadline:
                assert predicate(task), task
                return task
            time.sleep(0.1)
