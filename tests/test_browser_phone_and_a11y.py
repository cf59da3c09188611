"""The board in a real browser, on a phone and for everyone: one load per board,
messages people understand beside their fields, conflicts that show only what
differs (and merges that need no question), a thumb-sized board at 390 px with
touch, drags that end when their sender leaves, and axe-core's WCAG A/AA checks
on every page (see tests/browser_support.py for the servers and people).
"""

import re

import pytest

from tests.browser_pages import (
    LIVE,
    PASSWORDS,
    PHONE,
    STEP,
    card,
    column,
    connection,
    open_details,
)

pytest_plugins = ["tests.browser_support"]
pytestmark = [pytest.mark.server, pytest.mark.browser]

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
    sprint = rest.sprint(7, "Loaded once")
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
