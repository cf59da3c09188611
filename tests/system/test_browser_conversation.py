"""Comments, activity and undo on the board, in a real browser with two people
against the real server (see tests/browser_support.py): comments added, edited
and deleted by who may, live in the other person's open dialog, hostile text
shown as text; the task's and the sprint's activity; undo of one's own move
(refused once someone else changed the task) and of a delete.
"""

import re

import pytest

from tests.system.browser_pages import ARTIFACTS, LIVE, STEP, card, column, open_details, rest_as

pytest_plugins = ["tests.system.browser_support"]
pytestmark = [pytest.mark.server, pytest.mark.browser]


def comments(dialog):
    return dialog.get_by_role("list", name="Comments")


def comment(dialog, text):
    return comments(dialog).get_by_role("listitem").filter(has_text=text)


def add_comment(dialog, text):
    dialog.get_by_label("Add a comment").fill(text)
    dialog.get_by_role("button", name="Comment", exact=True).click()


def body_text(item):
    return item.locator(".comment-body").evaluate("node => node.textContent")


def undo(page):
    page.locator("#announcer").get_by_role("button", name="Undo").click()


def test_comments_are_added_edited_and_deleted_by_who_may_and_reach_the_other_person_live(
    people, rest, team, expect
):
    sprint = rest.sprint("Comment sprint", end=7)
    rest.task("Discuss the plan", sprint=sprint["id"])
    alice = people("alice", sprint["id"])  # the project's admin
    bob = people("bob", sprint["id"])  # a member
    alice_dialog = open_details(alice, "Discuss the plan")
    bob_dialog = open_details(bob, "Discuss the plan")
    expect(comments(alice_dialog).get_by_role("listitem")).to_have_count(0)

    # Bob comments: line breaks kept, and Alice sees it in her open dialog at once.
    add_comment(bob_dialog, "First line\nSecond line")
    expect(comment(bob_dialog, "First line")).to_be_visible()
    expect(bob_dialog.get_by_label("Add a comment")).to_have_value("")
    bobs = comment(alice_dialog, "First line")
    expect(bobs).to_be_visible(timeout=LIVE)
    assert body_text(bobs) == "First line\nSecond line"

    # Only the author edits; the admin may delete anyone's.
    expect(bobs.get_by_role("button", name="Edit")).to_have_count(0)
    expect(bobs.get_by_role("button", name="Delete")).to_be_visible()
    add_comment(alice_dialog, "Alice agrees")
    alices = comment(bob_dialog, "Alice agrees")
    expect(alices).to_be_visible(timeout=LIVE)
    expect(alices.get_by_role("button")).to_have_count(0)  # a member neither edits nor deletes another's

    # Bob edits his: Alice sees the new text, marked edited.
    mine = comment(bob_dialog, "First line")
    mine.get_by_role("button", name="Edit").click()
    bob_dialog.get_by_label("Edit your comment").fill("Reworded by Bob")
    bob_dialog.get_by_role("button", name="Save comment").click()
    expect(comment(bob_dialog, "Reworded by Bob")).to_contain_text("(edited)")
    expect(comment(alice_dialog, "Reworded by Bob")).to_contain_text("(edited)", timeout=LIVE)

    # Alice, an admin, deletes Bob's comment; it leaves his dialog too.
    theirs = comment(alice_dialog, "Reworded by Bob")
    theirs.get_by_role("button", name="Delete").click()
    theirs.get_by_role("button", name="Delete comment").click()
    expect(comment(alice_dialog, "Reworded by Bob")).to_have_count(0)
    expect(comment(bob_dialog, "Reworded by Bob")).to_have_count(0, timeout=LIVE)

    # Bob deletes a comment of his own.
    add_comment(bob_dialog, "Short-lived")
    expect(comment(alice_dialog, "Short-lived")).to_be_visible(timeout=LIVE)
    own = comment(bob_dialog, "Short-lived")
    own.get_by_role("button", name="Delete").click()
    own.get_by_role("button", name="Delete comment").click()
    expect(comment(alice_dialog, "Short-lived")).to_have_count(0, timeout=LIVE)

    # The task's activity says so, newest first.
    activity = alice_dialog.get_by_role("list", name="Activity")
    expect(activity.get_by_role("listitem").first).to_contain_text("bob deleted a comment", timeout=LIVE)
    expect(activity).to_contain_text("alice commented on")
    ARTIFACTS.mkdir(exist_ok=True)
    alice.screenshot(path=str(ARTIFACTS / "task-comments-desktop.png"))

    # A viewer reads the comments and can add, edit and delete none.
    rest.set_role(team["id"], "carol", "viewer", expected=201)
    carol = people("carol", sprint["id"])
    carol_dialog = open_details(carol, "Discuss the plan")
    expect(comment(carol_dialog, "Alice agrees")).to_be_visible()
    expect(carol_dialog.get_by_label("Add a comment")).to_be_hidden()
    expect(comments(carol_dialog).get_by_role("button")).to_have_count(0)


def test_hostile_comments_are_shown_as_text(people, rest, server, expect):
    sprint = rest.sprint("Hostile sprint", end=8)
    task = rest.task("Target", sprint=sprint["id"])
    alice = people("alice", sprint["id"])
    bob = people("bob", sprint["id"])
    dialogs = []
    for page in (alice, bob):
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    alice_dialog = open_details(alice, "Target")
    bob_dialog = open_details(bob, "Target")

    script = '<script>window.hacked = 1</script><img src=x onerror="window.hacked = 2">'
    links = "see javascript:alert(1) and [x](javascript:alert(2)) or https://example.com/a?b=1."
    newlines = "\n" * 9997 + "end"
    add_comment(bob_dialog, script)
    expect(comments(bob_dialog).get_by_role("listitem")).to_have_count(1)
    add_comment(bob_dialog, links)
    expect(comments(bob_dialog).get_by_role("listitem")).to_have_count(2)
    rest_as(server.url, "bob").call("POST", f"/api/tasks/{task['id']}/comments", 201, json={"body": newlines})

    expect(comments(alice_dialog).get_by_role("listitem")).to_have_count(3, timeout=LIVE)
    alice.wait_for_timeout(300)  # time for an injected handler to have fired
    for dialog in (alice_dialog, bob_dialog):
        assert dialog.locator("script, img, iframe").count() == 0
        assert dialog.locator('a[href^="javascript"]').count() == 0
        link = dialog.locator("a", has_text="https://example.com/a?b=1")
        expect(link).to_have_attribute("href", "https://example.com/a?b=1")
        expect(link).to_have_attribute("rel", "noopener noreferrer")
        assert body_text(comment(dialog, "window.hacked")) == script
        assert body_text(comment(dialog, "javascript:alert(1)")) == links
        assert body_text(comments(dialog).get_by_role("listitem").nth(2)) == newlines
    assert alice.evaluate("window.hacked") is None
    assert dialogs == []


def test_a_move_is_undone_from_its_toast(people, rest, expect):
    sprint = rest.sprint("Undo sprint", end=9)
    task = rest.task("Move me back", sprint=sprint["id"], order=2048)
    alice = people("alice", sprint["id"])
    bob = people("bob", sprint["id"])

    card(alice, "Move me back").get_by_label("Move “Move me back” to").select_option("Testing")
    expect(alice.locator("#announcer")).to_contain_text("Moved “Move me back” to Testing.")
    rest.wait_for_task(task["id"], lambda task: task["status"] == 3)
    expect(card(bob, "Move me back", "Testing")).to_be_visible(timeout=LIVE)

    undo(alice)
    expect(card(alice, "Move me back", "Not Started")).to_be_visible()
    expect(card(bob, "Move me back", "Not Started")).to_be_visible(timeout=LIVE)
    back = rest.wait_for_task(task["id"], lambda task: task["status"] == 1)
    assert (back["order"], back["started"], back["completed"], back["sprint"]) == (
        2048,
        None,
        None,
        sprint["id"],
    )


def test_an_undo_is_refused_once_someone_else_changed_the_task(people, rest, server, expect):
    sprint = rest.sprint("Refused undo sprint", end=10)
    task = rest.task("Contested", sprint=sprint["id"])
    alice = people("alice", sprint["id"])

    card(alice, "Contested").get_by_label("Move “Contested” to").select_option("In Progress")
    expect(alice.locator("#announcer").get_by_role("button", name="Undo")).to_be_visible()
    rest.wait_for_task(task["id"], lambda task: task["status"] == 2)
    rest_as(server.url, "bob").patch("tasks", task["id"], {"name": "Contested by Bob"})
    expect(card(alice, "Contested by Bob", "In Progress")).to_be_visible(timeout=LIVE)

    undo(alice)
    expect(alice.locator("#announcer")).to_contain_text(
        "Cannot undo: someone changed “Contested” after your move"
    )
    alice.wait_for_timeout(300)
    after = rest.get("tasks", task["id"])
    assert (after["name"], after["status"]) == ("Contested by Bob", 2)
    expect(card(alice, "Contested by Bob", "In Progress")).to_be_visible()


def test_a_delete_is_undone_and_the_task_comes_back_with_its_comments(people, rest, expect):
    sprint = rest.sprint("Restore sprint", end=11)
    task = rest.task("Deleted by mistake", sprint=sprint["id"], status=2)
    rest.call("POST", f"/api/tasks/{task['id']}/comments", 201, json={"body": "Keep this note"})
    alice = people("alice", sprint["id"])
    bob = people("bob", sprint["id"])

    dialog = open_details(alice, "Deleted by mistake")
    dialog.get_by_role("button", name="Delete…").click()
    dialog.get_by_role("button", name="Delete task").click()
    expect(dialog).to_be_hidden()
    expect(card(bob, "Deleted by mistake")).to_have_count(0, timeout=LIVE)
    rest.call("GET", f"/api/tasks/{task['id']}", 404)

    undo(alice)
    expect(card(alice, "Deleted by mistake", "In Progress")).to_be_visible()
    expect(card(bob, "Deleted by mistake", "In Progress")).to_be_visible(timeout=LIVE)
    assert rest.get("tasks", task["id"])["name"] == "Deleted by mistake"
    dialog = open_details(bob, "Deleted by mistake")
    expect(comment(dialog, "Keep this note")).to_be_visible(timeout=STEP)


def away_and_back(page, expect, meanwhile=None):
    """Leave the board for the sprints list and come back with the browser's Back button."""
    page.get_by_role("link", name="Sprints", exact=True).first.click()
    expect(page.get_by_role("heading", name="Sprints", exact=True)).to_be_visible()
    if meanwhile is not None:
        meanwhile()
    page.go_back()


def test_the_sprint_activity_marks_what_happened_since_i_was_last_here(people, rest, expect):
    sprint = rest.sprint("Feed sprint", end=12)
    rest.task("Seen before", sprint=sprint["id"])
    alice = people("alice", sprint["id"])
    toggle = alice.get_by_role("button", name=re.compile("^Activity"))
    toggle.click()
    feed = alice.get_by_role("list", name="Sprint activity")
    expect(feed).to_contain_text("alice added “Seen before”")
    expect(feed).not_to_contain_text("Since you were last here")

    # Live: a change while the board is open appears in the feed.
    rest.task("Seen live", sprint=sprint["id"])
    expect(feed.get_by_role("listitem").first).to_contain_text("“Seen live”", timeout=LIVE + 1000)

    # Away from the board, then back: what happened meanwhile is above the marker.
    away_and_back(alice, expect, meanwhile=lambda: rest.task("Added while away", sprint=sprint["id"]))
    expect(column(alice, "Not Started")).to_contain_text("Added while away")
    expect(toggle).to_have_text("Activity · 1 new")
    toggle.click()
    items = feed.get_by_role("listitem")
    expect(items.nth(0)).to_contain_text("“Added while away”")
    expect(items.nth(1)).to_have_text("Since you were last here")
    expect(items.nth(2)).to_contain_text("“Seen live”")
    ARTIFACTS.mkdir(exist_ok=True)
    alice.screenshot(path=str(ARTIFACTS / "sprint-activity-desktop.png"))


def test_a_marker_kept_from_a_replaced_database_starts_over(people, rest, expect):
    """The browser kept a seq from an older log (the database was restored or is new): the
    board starts the marker over at the new log's latest, so new activity counts as new."""
    sprint = rest.sprint("Replaced sprint", end=14)
    rest.task("Before", sprint=sprint["id"])
    alice = people("alice", sprint["id"])
    toggle = alice.get_by_role("button", name=re.compile("^Activity"))
    expect(column(alice, "Not Started")).to_contain_text("Before")
    key = f"scrumboard.seen.alice.{sprint['id']}"
    alice.evaluate("key => localStorage.setItem(key, '999999999')", key)

    away_and_back(alice, expect)
    expect(column(alice, "Not Started")).to_contain_text("Before")
    # Kept again, from the log the board now follows.
    alice.wait_for_function("key => Number(localStorage.getItem(key)) < 999999999", arg=key)

    away_and_back(alice, expect, meanwhile=lambda: rest.task("Added while away", sprint=sprint["id"]))
    expect(column(alice, "Not Started")).to_contain_text("Added while away")
    expect(toggle).to_have_text("Activity · 1 new")


def test_a_tasks_activity_is_newest_first_a_page_at_a_time(people, rest, expect):
    sprint = rest.sprint("History sprint", end=13)
    task = rest.task("Renamed often", sprint=sprint["id"])
    for number in range(1, 12):
        rest.patch("tasks", task["id"], {"name": f"Renamed often {number}"})
    alice = people("alice", sprint["id"])
    dialog = open_details(alice, "Renamed often 11")
    entries = dialog.get_by_role("list", name="Activity").get_by_role("listitem")
    expect(entries).to_have_count(10)
    expect(entries.first).to_contain_text("renamed “Renamed often 10” to “Renamed often 11”")

    dialog.get_by_role("button", name="Show more").click()
    expect(entries).to_have_count(12)
    expect(entries.last).to_contain_text("alice added “Renamed often”")
    expect(dialog.get_by_role("button", name="Show more")).to_be_hidden()
