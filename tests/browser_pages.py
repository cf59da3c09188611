"""What the browser tests share besides fixtures: the server's people, REST
sessions to arrange data and check the server's state, and locators for the page.

The server's people (see ``tests/browser_support.py``): alice (admin of the
project "Team"), bob (a member of it), carol and dave (in no project until a
test adds them).
"""

import time
from datetime import date, timedelta
from pathlib import Path

import requests

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PASSWORDS = {
    "alice": "alice-secret-1",
    "bob": "bob-secret-1",
    "carol": "carol-secret-1",
    "dave": "dave-secret-1",
}
FULL_NAMES = {"alice": "Alice Archer", "bob": "Bob Baker", "carol": "Carol Cole", "dave": "Dave Dunn"}
TEAM = "Team"
TEAM_MEMBERS = ["alice", "bob"]  # in that order: the first made is its admin
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
LIVE = 2000  # ms: how soon another person's change must show
STEP = 5000  # ms: for a person's own action (a request and a render)
COLUMN_NAMES = ["Backlog", "Not Started", "In Progress", "Testing", "Done"]


def day(offset=0):
    return (date.today() + timedelta(days=offset)).isoformat()


# -- REST ---------------------------------------------------------------------------------


class Rest:
    """One person's REST session, for arranging data and checking the server's state."""

    def __init__(self, url, username):
        self.url = url
        self.username = username
        self.http = requests.Session()
        answer = self.http.post(
            f"{url}/api/token", json={"username": username, "password": PASSWORDS[username]}, timeout=10
        )
        answer.raise_for_status()
        self.http.headers["Authorization"] = f"Token {answer.json()['token']}"

    def call(self, method, path, expected=200, **kwargs):
        answer = self.http.request(method, self.url + path, timeout=10, **kwargs)
        assert answer.status_code == expected, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None

    def sprint(self, end_offset, name, description="", **fields):
        body = {"name": name, "description": description, "end": day(end_offset), **fields}
        return self.call("POST", "/api/sprints", 201, json=body)

    def task(self, name, **fields):
        return self.call("POST", "/api/tasks", 201, json={"name": name, **fields})

    def get_task(self, task_id):
        return self.call("GET", f"/api/tasks/{task_id}")

    def patch_task(self, task_id, **fields):
        return self.call("PATCH", f"/api/tasks/{task_id}", json=fields)

    def wait_for_task(self, task_id, predicate, timeout=5.0):
        """The task once ``predicate`` holds (polling), else an assertion error showing it."""
        deadline = time.monotonic() + timeout
        while True:
            task = self.get_task(task_id)
            if predicate(task) or time.monotonic() > deadline:
                assert predicate(task), task
                return task
            time.sleep(0.1)

    def project(self, name, **members):
        """Create a project (the caller its admin) with ``members`` as ``username=role``."""
        project = self.call("POST", "/api/projects", 201, json={"name": name})
        for username, role in members.items():
            self.set_role(project["id"], username, role, expected=201)
        return project

    def set_role(self, project_id, username, role, expected=200):
        return self.call(
            "PUT", f"/api/projects/{project_id}/members/{username}", expected, json={"role": role}
        )

    def members(self, project_id):
        return {
            member["username"]: member["role"]
            for member in self.call("GET", f"/api/projects/{project_id}/members")["results"]
        }


# -- locators ---------------------------------------------------------------------------


def connection(page):
    return page.get_by_role("status", name="Connection")


def column(page, name):
    return page.get_by_role("region", name=name, exact=True)


def card(page, name, column_name=None):
    scope = column(page, column_name) if column_name else page.locator("#columns")
    return scope.get_by_role("article", name=name, exact=True)


def presence(page):
    return page.get_by_role("list", name="On this board")


def open_details(page, name):
    card(page, name).get_by_role("button", name=name, exact=True).click()
    dialog = page.get_by_role("dialog", name="Task details")
    return dialog


def burndown_points(page):
    return page.locator('#burndown-chart polyline[data-series="remaining"]')


def burndown(page):
    """The burndown's SVG, with ``data-unit``, ``data-total``, ``data-today-remaining``,
    ``data-start`` and ``data-end``."""
    return page.locator("#burndown-chart svg")


def sprint_list(page, group):
    """The links of one group of the sprint list: "Current", "Upcoming" or "Past"."""
    return page.get_by_role("list", name=f"{group} sprints").get_by_role("link")


def add_task(page, column_name, name):
    region = column(page, column_name)
    region.get_by_role("button", name=f"Add task to {column_name}").click()
    region.get_by_label("Task name").fill(name)
    region.get_by_role("button", name="Add", exact=True).click()
