"""Changes made offline and board filters, in a real browser against the real
server (see tests/browser_support.py): moves and edits made while the
connection is down wait in a visible list and are sent in order on reconnect,
a conflicting one opens the conflict dialog; filters by assignee, text and
overdue live in the address, follow live changes and count "3 of 7".
"""

import re
from urllib.parse import parse_qs

import pytest

from tests.system.browser_pages import LIVE, card, column, connection, day, open_details, rest_as

pytest_plugins = ["tests.system.browser_support"]
pytestmark = [pytest.mark.server, pytest.mark.browser]


def waiting(page):
    return page.get_by_role("list", name=re.compile("waiting to be sent"))


def move(page, name, column_name):
    card(page, name).get_by_label(f"Move “{name}” to").select_option(column_name)


# -- offline -----------------------------------------------------------------------------


def test_three_moves_made_offline_are_sent_in_order_on_reconnect(people, rest, expect):
    sprint = rest.sprint("Offline moves sprint", end=7)
    task = rest.task("Travel light", sprint=sprint["id"])
    alice = people("alice", sprint["id"])
    bob = people("bob", sprint["id"])

    alice.context.set_offline(True)
    expect(connection(alice)).to_have_text("Offline", timeout=LIVE)
    move(alice, "Travel light", "In Progress")
    expect(card(alice, "Travel light", "In Progress")).to_be_visible()
    move(alice, "Travel light", "Testing")
    expect(card(alice, "Travel light", "Testing")).to_be_visible()
    move(alice, "Travel light", "Done")
    expect(card(alice, "Travel light", "Done")).to_be_visible()

    # Shown as waiting, and nothing has reached the server or Bob.
    expect(alice.get_by_role("heading", name="3 changes waiting to be sent")).to_be_visible()
    expect(waiting(alice).get_by_role("listitem")).to_have_text(
        [
            "Move “Travel light” to In Progress",
            "Move “Travel light” to Testing",
            "Move “Travel light” to Done",
        ]
    )
    alice.wait_for_timeout(300)
    assert rest.get("tasks", task["id"])["status"] == 1
    expect(card(bob, "Travel light", "Not Started")).to_be_visible()

    alice.context.set_offline(False)
    expect(connection(alice)).to_have_text("Live", timeout=10000)
    expect(waiting(alice)).to_be_hidden(timeout=LIVE)
    expect(card(bob, "Travel light", "Done")).to_be_visible(timeout=LIVE)
    done = rest.wait_for_task(task["id"], lambda task: task["status"] == 4)
    assert (done["started"], done["completed"]) == (day(), day())
    moves = [
        entry["changes"]["status"]
        for entry in reversed(rest.call("GET", f"/api/tasks/{task['id']}/activity")["results"])
        if entry["action"] == "update" and "status" in (entry["changes"] or {})
    ]
    assert moves == [[1, 2], [2, 3], [3, 4]]
    expect(card(alice, "Travel light", "Done")).to_be_visible()


def test_an_offline_edit_that_conflicts_opens_the_conflict_dialog_on_reconnect(people, rest, server, expect):
    sprint = rest.sprint("Offline edit sprint", end=8)
    task = rest.task("Shared offline", sprint=sprint["id"], description="Before")
    alice = people("alice", sprint["id"])
    dialog = open_details(alice, "Shared offline")
    expect(dialog.get_by_role("list", name="Activity")).to_contain_text("added")  # loaded, ETag known

    alice.context.set_offline(True)
    expect(connection(alice)).to_have_text("Offline", timeout=LIVE)
    dialog.get_by_label("Name").fill("Alice's offline name")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(waiting(alice).get_by_role("listitem")).to_have_text(["Edit “Shared offline”: name"])
    expect(card(alice, "Alice's offline name")).to_be_visible()

    bobs_edit = {"name": "Bob's name", "description": "Bob was here"}
    rest_as(server.url, "bob").patch("tasks", task["id"], bobs_edit)
    alice.context.set_offline(False)
    conflict = alice.get_by_role("dialog", name="Someone else changed this task")
    expect(conflict).to_be_visible(timeout=10000)
    name_row = conflict.get_by_role("row", name=re.compile("^Name"))
    expect(name_row.get_by_role("cell").nth(0)).to_have_text("Alice's offline name")
    expect(name_row.get_by_role("cell").nth(1)).to_have_text("Bob's name")
    assert rest.get("tasks", task["id"])["name"] == "Bob's name"  # nothing written until she chooses

    conflict.get_by_role("button", name="Apply mine").click()
    saved = rest.wait_for_task(task["id"], lambda task: task["name"] == "Alice's offline name")
    assert saved["description"] == "Bob was here"
    expect(waiting(alice)).to_be_hidden()


# -- filters -----------------------------------------------------------------------------


def test_a_filtered_board_follows_live_changes_and_its_address_reproduces_it(people, rest, server, expect):
    sprint = rest.sprint("Filter sprint", end=9)
    s = sprint["id"]
    rest.task("Fix login", sprint=s, assigned="alice")
    rest.task("Write docs", sprint=s, assigned="bob", description="The login page, explained")
    rest.task("Old bug", sprint=s, due=day(-2))
    rest.task("Finished late", sprint=s, status=4, started=day(-5), completed=day(-1), due=day(-3))
    rest.task("Unowned", sprint=s)
    alice = people("alice", s)
    filters = alice.get_by_role("search", name="Filter tasks")
    not_started = column(alice, "Not Started")
    expect(not_started.get_by_role("article")).to_have_count(4)

    filters.get_by_label("Assignee").select_option("me")
    expect(not_started.get_by_role("article")).to_have_count(1)
    expect(card(alice, "Fix login")).to_be_visible()
    expect(not_started.locator(".count")).to_have_text("1 of 4 tasks")
    expect(column(alice, "Done").locator(".count")).to_have_text("0 of 1 task")

    # Live: a change that matches appears; one that does not stays hidden.
    bob = rest_as(server.url, "bob")
    bob.task("Bob's own", sprint=s, assigned="bob")
    bob.task("For Alice", sprint=s, assigned="alice")
    expect(card(alice, "For Alice", "Not Started")).to_be_visible(timeout=LIVE)
    expect(card(alice, "Bob's own")).to_have_count(0)
    expect(not_started.locator(".count")).to_have_text("2 of 6 tasks")

    filters.get_by_label("Assignee").select_option("")
    filters.get_by_label("Find").fill("LOGIN")
    expect(not_started.get_by_role("article")).to_have_count(2)
    expect(card(alice, "Write docs")).to_be_visible()  # by its description
    filters.get_by_label("Find").fill("")
    filters.get_by_label("Overdue only").check()
    expect(alice.locator("#columns").get_by_role("article")).to_have_count(1)
    expect(card(alice, "Old bug")).to_be_visible()  # the Done one is not overdue

    filters.get_by_label("Assignee").select_option("unassigned")
    filters.get_by_label("Find").fill("bug")
    search = alice.evaluate("location.search.slice(1)")
    query = parse_qs(search)
    assert (query["assignee"], query["q"], query["overdue"]) == (["unassigned"], ["bug"], ["1"])

    # The address, opened in a new page, shows the same filtered board.
    again = people("alice", s, search=search)
    again_filters = again.get_by_role("search", name="Filter tasks")
    expect(again_filters.get_by_label("Assignee")).to_have_value("unassigned")
    expect(again_filters.get_by_label("Find")).to_have_value("bug")
    expect(again_filters.get_by_label("Overdue only")).to_be_checked()
    expect(again.locator("#columns").get_by_role("article")).to_have_count(1)
    expect(card(again, "Old bug")).to_be_visible()
    expect(column(again, "Not Started").locator(".count")).to_have_text("1 of 6 tasks")

    # Clearing the filters shows everything and takes them out of the address.
    again_filters.get_by_role("button", name="Clear filters").click()
    expect(column(again, "Not Started").get_by_role("article")).to_have_count(6)
    assert "assignee" not in again.evaluate("location.search")
