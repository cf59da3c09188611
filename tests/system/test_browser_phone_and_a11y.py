"""The board in a real browser, on a phone and for everyone: one load per board,
messages people understand beside their fields, conflicts that show only what
differs (and merges that need no question), a thumb-sized board at 390 px with
touch, drags that end when their sender leaves, and axe-core's WCAG A/AA checks
on every page (see tests/browser_support.py for the servers and people).
"""

import json
import re
from pathlib import Path

import pytest

from tests.system.browser_pages import (
    ARTIFACTS,
    COLUMN_NAMES,
    LIVE,
    PASSWORDS,
    PHONE,
    STEP,
    card,
    column,
    connection,
    open_details,
)

pytest_plugins = ["tests.system.browser_support"]
pytestmark = [pytest.mark.server, pytest.mark.browser]

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BOARD_LOAD = re.compile(r"/api/(sprints/\d+(\?|$)|tasks\?(sprint=\d+|backlog=true))")


@pytest.fixture
def signed_in(browser, server, expect):
    """``signed_in("alice", sprint_id, watch=fn, **context_options)`` → a page on that board,
    signed in through the form; ``watch(page)`` runs before signing in (to count requests)."""
    contexts = []

    def open_page(username, sprint_id, watch=None, **options):
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(STEP)
        if watch:
            watch(page)
        page.goto(f"{server.url}/#/sprint/{sprint_id}")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORDS[username])
        page.get_by_role("button", name="Sign in").click()
        expect(connection(page)).to_have_text("Live")
        expect(page.locator("#board-loading")).to_be_hidden()
        return page

    yield open_page
    for context in contexts:
        context.close()


# -- one load ------------------------------------------------------------------------------------


def test_opening_a_board_loads_its_sprint_tasks_and_backlog_once(people, signed_in, rest, expect):
    sprint = rest.sprint("Loaded once", end=7)
    rest.task("On the board", sprint=sprint["id"])
    loads = []

    def watch(page):
        page.on("request", lambda request: BOARD_LOAD.search(request.url) and loads.append(request.url))

    def assert_loaded_once(page):
        expect(card(page, "On the board", "Not Started")).to_be_visible()
        page.wait_for_timeout(3000)  # past the wait for the socket: no second load comes
        paths = sorted(re.sub(r"\d+", "N", url.split("/api/")[1].split("&page_size")[0]) for url in loads)
        assert paths == ["sprints/N", "tasks?backlog=true&project=N", "tasks?sprint=N"], loads
        loads.clear()

    assert_loaded_once(signed_in("alice", sprint["id"], watch=watch))  # signing in on its address
    page = people("alice", sprint["id"])
    watch(page)
    page.reload()  # a fresh page of a signed-in tab
    assert_loaded_once(page)


# -- conflicts -----------------------------------------------------------------------------------


def test_a_conflict_shows_only_the_fields_that_differ_and_what_they_changed(people, rest, expect):
    sprint = rest.sprint("Clash sprint", end=31)
    task = rest.task("Clash task", sprint=sprint["id"], description="Before", order=2048)
    bob = people("bob", sprint["id"])
    dialog = open_details(bob, "Clash task")
    expect(dialog.get_by_role("list", name="Activity")).to_contain_text("added")  # ETag known
    dialog.get_by_label("Name").fill("Bob's name")
    rest.patch("tasks", task["id"], {"name": "Alice's name", "description": "Alice was here", "order": 0})
    expect(dialog).to_contain_text("alice changed this task while you were editing it", timeout=LIVE)
    dialog.get_by_role("button", name="Save").click()

    conflict = bob.get_by_role("dialog", name="Someone else changed this task")
    expect(conflict).to_be_visible()
    rows = conflict.locator("tbody tr")
    expect(rows).to_have_count(1)  # not the description (only theirs), not the position, no equal rows
    expect(rows.get_by_role("rowheader")).to_have_text("Name")
    expect(rows.get_by_role("cell")).to_have_text(["Bob's name", "Alice's name", "Clash task"])
    expect(conflict.get_by_role("columnheader", name="When you started")).to_be_visible()
    expect(conflict).not_to_contain_text("2048")
    conflict.get_by_role("button", name="Apply mine").click()
    saved = rest.wait_for_task(task["id"], lambda task: task["name"] == "Bob's name")
    assert (saved["description"], saved["order"]) == ("Alice was here", 0)


def test_an_edit_to_a_field_the_other_person_left_alone_is_saved_without_asking(people, rest, expect):
    sprint = rest.sprint("Merge sprint", end=32)
    task = rest.task("Merge task", sprint=sprint["id"])
    bob = people("bob", sprint["id"])
    dialog = open_details(bob, "Merge task")
    expect(dialog.get_by_role("list", name="Activity")).to_contain_text("added")  # ETag known
    dialog.get_by_label("Points").fill("3")
    rest.patch("tasks", task["id"], {"name": "Renamed by alice"})
    expect(dialog).to_contain_text("alice changed this task while you were editing it", timeout=LIVE)
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(bob.get_by_role("status").filter(has_text="both changes are kept")).to_be_visible()
    expect(bob.get_by_role("dialog", name="Someone else changed this task")).to_be_hidden()
    saved = rest.wait_for_task(task["id"], lambda task: task["points"] == 3)
    assert saved["name"] == "Renamed by alice"
    expect(card(bob, "Renamed by alice")).to_contain_text("3")


# -- drags that end with their sender ------------------------------------------------------------


def test_a_drag_mark_ends_at_once_when_the_dragger_closes_the_tab(people, rest, expect):
    sprint = rest.sprint("Drag end sprint", end=33)
    rest.task("Dragged away", sprint=sprint["id"])
    alice = people("alice", sprint["id"])
    bob = people("bob", sprint["id"])
    source = card(bob, "Dragged away").bounding_box()
    bob.mouse.move(source["x"] + 8, source["y"] + source["height"] - 8)
    bob.mouse.down()
    bob.mouse.move(source["x"] + 40, source["y"] + 60, steps=8)
    expect(card(alice, "Dragged away")).to_contain_text("bob is moving this", timeout=LIVE)
    bob.close()  # mid-drag: no dragend of his own ever comes
    expect(card(alice, "Dragged away")).not_to_contain_text("bob is moving this", timeout=LIVE)


# -- messages beside their fields ----------------------------------------------------------------


def test_bad_input_gets_a_message_in_plain_words_beside_its_field(people, browser, server, rest, expect):
    page = browser.new_page()
    page.goto(server.url + "/")
    page.get_by_role("button", name="Sign in").click()  # nothing typed
    expect(page.get_by_label("Username")).to_have_accessible_description("Enter your username.")
    expect(page.get_by_label("Password")).to_have_accessible_description("Enter your password.")
    page.close()

    sprint = rest.sprint("Messages sprint", end=34)
    rest.task("Worded task", sprint=sprint["id"])
    alice = people("alice", sprint["id"])
    dialog = open_details(alice, "Worded task")
    dialog.get_by_label("Name").fill("   ")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_label("Name")).to_have_accessible_description(
        "Give the task a name of up to 100 characters."
    )
    dialog.get_by_label("Name").fill("Worded task")
    dialog.get_by_label("Assignee").select_option("carol")  # in no project of alice's
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_label("Assignee")).to_have_accessible_description(
        "That person is not in this project: choose someone who is, or ask an admin to add them."
    )
    expect(dialog).not_to_contain_text("may not be blank")
    expect(dialog).not_to_contain_text("does not exist")


# -- accessibility -------------------------------------------------------------------------------


def axe_violations(page):
    """axe-core's WCAG 2.0/2.1 A and AA violations on the page as shown, one line each."""
    if not page.evaluate("() => Boolean(window.axe)"):
        page.evaluate(
            AXE.read_text(encoding="utf-8") + "\n;undefined"
        )  # run as DevTools runs it: not subject to the CSP
    results = page.evaluate(
        "async (tags) => (await axe.run(document, { runOnly: { type: 'tag', values: tags } })).violations",
        WCAG_A_AA,
    )
    return [
        f"{item['id']} ({item['impact']}): {item['help']} at "
        + json.dumps([node["target"] for node in item["nodes"]][:5])
        for item in results
    ]


def test_every_page_passes_axe_cores_wcag_a_and_aa_checks(people, browser, server, rest, expect):
    login = browser.new_page()
    login.goto(server.url + "/")
    expect(login.get_by_role("button", name="Sign in")).to_be_visible()
    assert axe_violations(login) == [], "login page"
    login.close()

    sprint = rest.sprint("Accessible sprint", end=35, description="Checked by axe")
    rest.task("Accessible task", sprint=sprint["id"], points=3, description="Read by everyone")
    alice = people("alice")
    expect(alice.get_by_role("list", name="Upcoming sprints")).to_be_visible()
    assert axe_violations(alice) == [], "sprint list"

    alice.get_by_role("button", name="Project settings").click()
    settings = alice.get_by_role("dialog", name="Project settings")
    expect(settings.get_by_role("list", name="Members")).to_contain_text("bob")
    assert axe_violations(alice) == [], "project settings"
    settings.get_by_role("button", name="Done").click()

    alice.get_by_role("link", name=re.compile("Accessible sprint")).click()
    expect(card(alice, "Accessible task")).to_be_visible()
    expect(alice.locator("#burndown-chart svg")).to_be_visible()
    assert axe_violations(alice) == [], "board"

    dialog = open_details(alice, "Accessible task")
    expect(dialog.get_by_role("list", name="Activity")).to_contain_text("added")
    assert axe_violations(alice) == [], "task dialog"


# -- the phone -------------------------------------------------------------------------------------

SMALL_TARGETS = """() => [...document.querySelectorAll(
    'button, select, a, [role=tab], label.filter-check, input:not([type=checkbox])')]
  .filter((node) => node.checkVisibility())
  .filter((node) => !node.closest('.visually-hidden, .skip-link, dialog:not([open])'))
  .map((node) => [node.textContent.trim().slice(0, 30) || node.id, node.getBoundingClientRect()])
  .filter(([, box]) => box.height < 44 || box.width < 44)
  .map(([name, box]) => `${name}: ${Math.round(box.width)}x${Math.round(box.height)}`)"""


def test_a_phone_shows_one_column_at_a_time_with_thumb_sized_targets_and_moves_by_touch(
    signed_in, rest, expect
):
    sprint = rest.sprint("Phone sprint", end=36, description="Carried in a pocket")
    task = rest.task("Tapped along", sprint=sprint["id"])
    phone = signed_in("alice", sprint["id"], viewport=PHONE, has_touch=True, is_mobile=True)

    expect(phone.get_by_role("banner").get_by_text("alice", exact=True)).to_be_visible()  # who is signed in
    tabs = phone.get_by_role("tab")
    expect(tabs).to_have_count(5)
    expect(phone.get_by_role("tab", selected=True)).to_contain_text("In Progress")  # the work under way
    phone.get_by_role("tab", name=re.compile("^Not Started")).tap()
    shown = [name for name in COLUMN_NAMES if column(phone, name).is_visible()]
    assert shown == ["Not Started"]
    # The sprint's details and burndown are folded: the column starts in the first screen.
    expect(phone.locator("#burndown")).to_be_hidden()
    assert phone.get_by_role("tablist", name="Columns").bounding_box()["y"] < 400
    first = card(phone, "Tapped along").bounding_box()
    assert first["y"] + first["height"] < PHONE["height"] * 0.75
    assert phone.evaluate(SMALL_TARGETS) == []
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    details = phone.get_by_role("button", name="Sprint details")
    details.tap()
    expect(details).to_have_attribute("aria-expanded", "true")
    expect(phone.locator("#burndown")).to_be_visible()
    details.tap()
    expect(phone.locator("#burndown")).to_be_hidden()

    # Move the task by touch with its move control, then follow it to its column's tab.
    move = card(phone, "Tapped along").get_by_label(re.compile("^Move"))
    move.tap()
    move.select_option("In Progress")
    rest.wait_for_task(task["id"], lambda task: task["status"] == 2)
    in_progress = phone.get_by_role("tab", name=re.compile("^In Progress"))
    expect(in_progress).to_contain_text("1")
    in_progress.tap()
    expect(in_progress).to_have_attribute("aria-selected", "true")
    expect(column(phone, "Not Started")).to_be_hidden()
    expect(card(phone, "Tapped along", "In Progress")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "board-phone-tabs.png"))
