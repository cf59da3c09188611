"""What the browser tests share besides fixtures: the server's people, REST
sessions to arrange data and check the server's state, and locators for the page.

The server's people (see ``tests/browser_support.py``): alice (admin of the
project "Team"), bob (a member of it), carol and dave (in no project until a
test adds them).
"""

from pathlib import Path

from tests.support.rest import RestClient, day  # noqa: F401 - day: for the browser tests

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


# -- REST ---------------------------------------------------------------------------------


def rest_as(url, username):
    """That person's REST session, for arranging data and checking the server's state."""
    return RestClient.signed_in(url, username, PASSWORDS[username])


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
