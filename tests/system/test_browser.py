"""The board page in a real browser: live changes, drags and hints, conflicts,
offline edits, keyboard moves, text never run as HTML (see tests/browser_support.py
for the servers and people). Screenshots of the board go to ``tests/system/artifacts/``.
"""

import re

import pytest
import requests

from app.security import CONTENT_SECURITY_POLICY
from tests.system.browser_pages import (
    ARTIFACTS,
    COLUMN_NAMES,
    LIVE,
    PHONE,
    add_task,
    card,
    column,
    connection,
    day,
    open_details,
    presence,
)

pytest_plugins = ["tests.system.browser_support"]
pytestmark = [pytest.mark.server, pytest.mark.browser]


# -- acceptance -------------------------------------------------------------------------


def test_changes_drag_hints_and_presence_reach_the_other_person_live(people, rest, expect):
    sprint = rest.sprint("Live sprint", end=7)
    alice = people("alice", sprint["id"])
    bob = people("bob", sprint["id"])

    # Each sees the other on the board.
    expect(presence(alice)).to_contain_text("bob", timeout=LIVE)
    expect(presence(bob)).to_contain_text("alice", timeout=LIVE)
    for name in COLUMN_NAMES:
        expect(alice.get_by_role("heading", name=name, exact=True)).to_be_visible()

    # Bob adds a task to the backlog; Alice sees it.
    add_task(bob, "Backlog", "Write release notes")
    expect(card(bob, "Write release notes", "Backlog")).to_be_visible()
    expect(card(alice, "Write release notes", "Backlog")).to_be_visible(timeout=LIVE)

    # Bob drags it; while the mouse is down Alice sees who is moving it.
    source = card(bob, "Write release notes").bounding_box()
    target = column(bob, "In Progress").bounding_box()
    bob.mouse.move(source["x"] + 8, source["y"] + source["height"] - 8)
    bob.mouse.down()
    bob.mouse.move(source["x"] + 40, source["y"] + 40, steps=5)
    bob.mouse.move(target["x"] + target["width"] / 2, target["y"] + 60, steps=10)
    expect(card(alice, "Write release notes")).to_contain_text("bob is moving this", timeout=LIVE)
    bob.mouse.up()

    # The drop saves the move (In Progress: in the sprint, started today) and Alice sees it.
    expect(card(alice, "Write release notes", "In Progress")).to_be_visible(timeout=LIVE)
    expect(card(alice, "Write release notes")).not_to_contain_text("moving this", timeout=LIVE)
    task_id = int(card(bob, "Write release notes").get_attribute("data-task-id"))
    task = rest.wait_for_task(task_id, lambda task: task["status"] == 2)
    assert (task["sprint"], task["started"], task["completed"]) == (sprint["id"], day(), None)

    # Bob renames it in the details dialog; Alice sees the new name.
    dialog = open_details(bob, "Write release notes")
    dialog.get_by_label("Name").fill("Write the release notes")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(card(alice, "Write the release notes", "In Progress")).to_be_visible(timeout=LIVE)
    expect(card(alice, "Write release notes")).to_have_count(0)

    # Bob leaves: Alice's presence list follows.
    bob.context.close()
    expect(presence(alice)).not_to_contain_text("bob", timeout=LIVE)


def test_a_task_name_is_shown_as_text_never_run_as_html(people, rest, expect):
    sprint = rest.sprint("<b>Bold</b> sprint", end=8, description="<script>alert(2)</script>")
    alice = people("alice", sprint["id"])
    dialogs = []
    alice.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    name = "<img src=x onerror=alert(1)>"

    add_task(alice, "Not Started", name)
    expect(card(alice, name, "Not Started")).to_be_visible()
    created = rest.task(name + " (via API)", sprint=sprint["id"])
    expect(card(alice, created["name"], "Not Started")).to_be_visible(timeout=LIVE)
    expect(alice.get_by_role("heading", name="<b>Bold</b> sprint")).to_be_visible()
    expect(alice.locator("#board-description")).to_have_text("<script>alert(2)</script>")

    title = card(alice, name).get_by_role("button", name=name, exact=True)
    expect(title).to_have_text(name)
    dialog = open_details(alice, name)
    expect(dialog.get_by_label("Name")).to_have_value(name)
    dialog.get_by_role("button", name="Cancel").click()

    alice.wait_for_timeout(300)  # time for an injected onerror handler to have fired
    assert alice.locator("#app img, #app script, #app b").count() == 0
    assert dialogs == []


def test_the_page_is_served_with_its_content_security_policy(server):
    answer = requests.get(server.url + "/", timeout=10)
    assert answer.status_code == 200
    # The page may connect to its own origin only, over HTTP and over websockets.
    own = "'self' " + server.url.replace("http://", "ws://")
    assert answer.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY.format(connect=own)
    # Nothing inline for the policy to refuse: scripts and styles are files of this origin.
    assert not re.search(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", answer.text)


def test_an_api_validation_error_is_shown_beside_its_field(people, expect):
    alice = people("alice")
    form = alice.get_by_role("form", name="New sprint")
    form.get_by_label("Name").fill("Sprint in the past")
    form.get_by_label("End date").fill(day(-1))
    form.get_by_role("button", name="Create sprint").click()

    end = form.get_by_label("End date")
    expect(end).to_have_attribute("aria-invalid", "true")
    expect(end).to_have_accessible_description("End date cannot be in the past.")
    # The message sits next to the field it concerns, in the same field group.
    expect(end.locator("..")).to_contain_text("End date cannot be in the past.")
    expect(form.get_by_label("Name")).not_to_have_attribute("aria-invalid", "true")
    expect(alice.get_by_role("link", name=re.compile("Sprint in the past"))).to_have_count(0)

    # Corrected, it is created and listed.
    end.fill(day(20))
    form.get_by_role("button", name="Create sprint").click()
    expect(alice.get_by_role("link", name=re.compile("Sprint in the past"))).to_be_visible()
    expect(end).not_to_have_attribute("aria-invalid", "true")


def test_changes_made_while_offline_show_up_once_back_online(people, rest, expect):
    sprint = rest.sprint("Offline sprint", end=9)
    rest.task("Fix login timeout", sprint=sprint["id"])
    rest.task("Tidy the CSS", sprint=sprint["id"])
    alice = people("alice", sprint["id"])
    bob = people("bob", sprint["id"])
    alice.evaluate("window.stillTheSamePage = true")

    alice.context.set_offline(True)
    expect(connection(alice)).to_have_text("Offline", timeout=LIVE)

    # Three changes by Bob: a new task, a move (with the keyboard's "Move to…" select), a rename.
    add_task(bob, "Not Started", "Add a status page")
    expect(card(bob, "Add a status page", "Not Started")).to_be_visible()
    card(bob, "Fix login timeout").get_by_label("Move “Fix login timeout” to").select_option("Testing")
    expect(card(bob, "Fix login timeout", "Testing")).to_be_visible()
    dialog = open_details(bob, "Tidy the CSS")
    dialog.get_by_label("Name").fill("Tidy the stylesheet")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()

    alice.wait_for_timeout(300)
    expect(card(alice, "Add a status page")).to_have_count(0)
    expect(card(alice, "Fix login timeout", "Not Started")).to_be_visible()

    alice.context.set_offline(False)
    expect(connection(alice)).to_have_text("Live", timeout=10000)
    expect(card(alice, "Add a status page", "Not Started")).to_be_visible(timeout=LIVE)
    expect(card(alice, "Fix login timeout", "Testing")).to_be_visible(timeout=LIVE)
    expect(card(alice, "Tidy the stylesheet", "Not Started")).to_be_visible(timeout=LIVE)
    expect(card(alice, "Tidy the CSS")).to_have_count(0)
    assert alice.evaluate("window.stillTheSamePage") is True


def test_the_second_save_of_a_concurrent_edit_asks_which_version_to_keep(people, rest, expect):
    sprint = rest.sprint("Conflict sprint", end=10)
    task = rest.task("Shared task", sprint=sprint["id"], description="Original description")
    alice = people("alice", sprint["id"])
    bob = people("bob", sprint["id"])

    # Both open the task and change its name; Alice saves first.
    alice_dialog = open_details(alice, "Shared task")
    bob_dialog = open_details(bob, "Shared task")
    alice_dialog.get_by_label("Name").fill("Alice's name")
    bob_dialog.get_by_label("Name").fill("Bob's name")
    alice_dialog.get_by_role("button", name="Save").click()
    expect(alice_dialog).to_be_hidden()
    rest.wait_for_task(task["id"], lambda task: task["name"] == "Alice's name")
    expect(bob_dialog).to_contain_text("alice changed this task while you were editing it", timeout=LIVE)

    # Bob's save is refused: he sees both versions, and nothing is written until he chooses.
    bob_dialog.get_by_role("button", name="Save").click()
    conflict = bob.get_by_role("dialog", name="Someone else changed this task")
    expect(conflict).to_be_visible()
    name_row = conflict.get_by_role("row", name=re.compile("^Name"))
    expect(name_row.get_by_role("cell").nth(0)).to_have_text("Bob's name")
    expect(name_row.get_by_role("cell").nth(1)).to_have_text("Alice's name")
    bob.wait_for_timeout(300)
    assert rest.get("tasks", task["id"])["name"] == "Alice's name"

    ARTIFACTS.mkdir(exist_ok=True)
    bob.screenshot(path=str(ARTIFACTS / "conflict-desktop.png"))
    conflict.get_by_role("button", name="Apply mine").click()
    expect(conflict).to_be_hidden()
    rest.wait_for_task(task["id"], lambda task: task["name"] == "Bob's name")
    assert rest.get("tasks", task["id"])["description"] == "Original description"
    expect(card(alice, "Bob's name")).to_be_visible(timeout=LIVE)

    # Second round: Alice edits the description while Bob moves the task: different fields, so
    # her save goes on top of his move without a question, and both are kept.
    alice_dialog = open_details(alice, "Bob's name")
    alice_dialog.get_by_label("Description").fill("Alice's description")
    card(bob, "Bob's name").get_by_label("Move “Bob's name” to").select_option("In Progress")
    rest.wait_for_task(task["id"], lambda task: task["status"] == 2)
    alice_dialog.get_by_role("button", name="Save").click()
    expect(alice_dialog).to_be_hidden()
    expect(alice.get_by_role("dialog", name="Someone else changed this task")).to_be_hidden()
    saved = rest.wait_for_task(task["id"], lambda task: task["description"] == "Alice's description")
    assert saved["status"] == 2
    expect(card(alice, "Bob's name", "In Progress")).to_be_visible()


def test_dragging_within_a_column_saves_the_new_order(people, rest, expect):
    sprint = rest.sprint("Order sprint", end=16)
    for order, name in enumerate(["One", "Two", "Three"]):
        rest.task(name, sprint=sprint["id"], order=order * 1024)
    alice = people("alice", sprint["id"])
    bob = people("bob", sprint["id"])
    names = column(alice, "Not Started").get_by_role("article")
    expect(names).to_have_count(3)

    target = card(alice, "One").bounding_box()
    card(alice, "Three").drag_to(card(alice, "One"), target_position={"x": target["width"] / 2, "y": 4})
    expect(names.first).to_have_accessible_name("Three")
    expect(column(bob, "Not Started").get_by_role("article").first).to_have_accessible_name(
        "Three", timeout=LIVE
    )
    orders = {
        task["name"]: task["order"]
        for task in rest.call("GET", f"/api/tasks?sprint={sprint['id']}")["results"]
    }
    assert orders["Three"] < orders["One"] < orders["Two"]


def test_tasks_move_with_the_keyboard(people, rest, expect):
    sprint = rest.sprint("Keyboard sprint", end=13)
    first = rest.task("First", sprint=sprint["id"], order=0)
    second = rest.task("Second", sprint=sprint["id"], order=1024)
    alice = people("alice", sprint["id"])
    bob = people("bob", sprint["id"])

    title = card(alice, "Second").get_by_role("button", name="Second", exact=True)
    title.focus()
    alice.keyboard.press("Alt+ArrowUp")
    expect(column(alice, "Not Started").get_by_role("article").first).to_have_accessible_name("Second")
    expect(title).to_be_focused()
    alice.keyboard.press("Alt+ArrowRight")
    expect(card(alice, "Second", "In Progress")).to_be_visible()
    expect(title).to_be_focused()
    alice.keyboard.press("Alt+ArrowRight")
    expect(card(alice, "Second", "Testing")).to_be_visible()
    expect(card(bob, "Second", "Testing")).to_be_visible(timeout=LIVE)

    task = rest.wait_for_task(second["id"], lambda task: task["status"] == 3)
    assert task["started"] == day() and task["order"] < first["order"]
    alice.keyboard.press("Alt+ArrowLeft")
    alice.keyboard.press("Alt+ArrowLeft")
    expect(card(alice, "Second", "Not Started")).to_be_visible()
    task = rest.wait_for_task(second["id"], lambda task: task["status"] == 1)
    assert task["started"] is None and task["completed"] is None


def test_deleted_tasks_and_tasks_moved_to_another_sprint_leave_the_board(people, rest, expect):
    sprint = rest.sprint("Delete sprint", end=14)
    other = rest.sprint("Another sprint", end=15)
    task = rest.task("Obsolete task", sprint=sprint["id"])
    moving = rest.task("Moving on", sprint=sprint["id"])
    alice = people("alice", sprint["id"])
    bob = people("bob", sprint["id"])

    rest.patch("tasks", moving["id"], {"sprint": other["id"]})
    expect(card(alice, "Moving on")).to_have_count(0, timeout=LIVE)
    expect(card(bob, "Moving on")).to_have_count(0, timeout=LIVE)

    dialog = open_details(alice, "Obsolete task")
    dialog.get_by_role("button", name="Delete…").click()
    expect(dialog).to_contain_text("Delete “Obsolete task”? This cannot be undone.")
    dialog.get_by_role("button", name="Keep task").click()
    assert rest.get("tasks", task["id"])["name"] == "Obsolete task"

    dialog.get_by_role("button", name="Delete…").click()
    dialog.get_by_role("button", name="Delete task").click()
    expect(dialog).to_be_hidden()
    expect(card(alice, "Obsolete task")).to_have_count(0)
    expect(card(bob, "Obsolete task")).to_have_count(0, timeout=LIVE)
    rest.call("GET", f"/api/tasks/{task['id']}", 404)


def test_signing_out_revokes_the_token(people, server, expect):
    alice = people("alice")
    token = alice.evaluate("JSON.parse(localStorage.getItem('scrumboard.session')).token")
    headers = {"Authorization": f"Token {token}"}
    assert requests.get(f"{server.url}/api/sprints", headers=headers, timeout=10).status_code == 200

    alice.get_by_role("button", name="Log out").click()
    expect(alice.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(alice.get_by_role("status", name="Connection")).to_be_hidden()
    assert alice.evaluate("localStorage.getItem('scrumboard.session')") is None
    assert requests.get(f"{server.url}/api/sprints", headers=headers, timeout=10).status_code == 401

    # A wrong password is refused at the top of the form.
    alice.get_by_label("Username").fill("alice")
    alice.get_by_label("Password").fill("not her password")
    alice.get_by_role("button", name="Sign in").click()
    expect(alice.get_by_role("alert")).to_have_text("Unable to log in with the provided credentials.")


def test_screenshots_of_the_board_at_desktop_and_phone_width(people, rest, expect):
    description = "Ship the new checkout and retire the old payment form."
    sprint = rest.sprint("Sprint 24 · Checkout revamp", end=12, description=description)
    s = sprint["id"]
    tasks = [
        ("Spike: address autocomplete", {"sprint": None, "description": "Compare two providers."}),
        ("Dark mode for receipts", {"sprint": None, "assigned": "bob"}),
        ("Design review of payment form", {"sprint": s, "assigned": "alice", "due": day(3)}),
        ("Migration for order notes", {"sprint": s}),
        ("Refactor cart totals", {"sprint": s, "status": 2, "started": day(-4), "assigned": "bob"}),
        (
            "Webhook retries",
            {"sprint": s, "status": 2, "started": day(-2), "due": day(1), "assigned": "alice"},
        ),
        ("Regression tests for coupons", {"sprint": s, "status": 3, "started": day(-6)}),
        ("Remove the legacy flag", {"sprint": s, "status": 4, "started": day(-9), "completed": day(-6)}),
        ("Update the API docs", {"sprint": s, "status": 4, "started": day(-5), "completed": day(-2)}),
    ]
    for order, (name, fields) in enumerate(tasks):
        rest.task(name, order=order * 1024, **fields)
    ARTIFACTS.mkdir(exist_ok=True)

    bob = people("bob", s)
    alice = people("alice", s)
    expect(presence(alice)).to_contain_text("bob", timeout=LIVE)
    expect(card(alice, "Update the API docs", "Done")).to_be_visible()
    alice.mouse.move(640, 790)  # no hover effects in the picture
    alice.screenshot(path=str(ARTIFACTS / "board-desktop.png"))
    open_details(alice, "Webhook retries")
    alice.screenshot(path=str(ARTIFACTS / "task-dialog-desktop.png"))

    phone = people("alice", s, viewport=PHONE)
    phone.get_by_role("tab", name=re.compile("^Backlog")).click()  # one column at a time
    expect(card(phone, "Spike: address autocomplete", "Backlog")).to_be_visible()
    phone.get_by_role("button", name="Sprint details").click()
    expect(presence(phone)).to_contain_text("bob", timeout=LIVE)
    # Nothing sticks out sideways: the columns scroll inside their own strip.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.screenshot(path=str(ARTIFACTS / "board-phone.png"), full_page=True)
    phone.get_by_role("link", name="Sprints", exact=True).first.click()
    expect(phone.get_by_role("heading", name="Sprints", exact=True)).to_be_visible()
    expect(phone.get_by_role("link", name=re.compile("Checkout revamp"))).to_be_visible()
    phone.screenshot(path=str(ARTIFACTS / "sprints-phone.png"))
    bob.screenshot(path=str(ARTIFACTS / "board-desktop-bob.png"))
    for name in ("board-desktop.png", "board-phone.png"):
        assert (ARTIFACTS / name).stat().st_size > 10_000
