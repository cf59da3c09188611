"""How the board page reaches a browser and what its addresses open, in Chromium
against real gunicorn (see tests/browser_support.py): static files gzipped and
kept a year under a versioned prefix while the page is revalidated; one session
for every tab of a browser; links to a sprint, a task and a filtered board that
survive signing in.
"""

import re

import pytest
import requests

from tests.support.network_log import NetworkLog
from tests.system.browser_pages import DESKTOP, LIVE, PASSWORDS, STEP, card, column, connection, open_details

pytest_plugins = ["tests.system.browser_support"]
pytestmark = [pytest.mark.server, pytest.mark.browser]

A_YEAR = "public, max-age=31536000, immutable"
MAIN_SCRIPT = re.compile(r"/static/([0-9a-f]{12})/js/main\.js")


@pytest.fixture
def tab(browser):
    """``tab()`` → a new page in this test's browser context (one browser: shared storage
    and cache); afterwards no page may have hit an uncaught error or a CSP violation."""
    context = browser.new_context(viewport=DESKTOP)
    problems = []

    def open_tab():
        page = context.new_page()
        page.set_default_timeout(STEP)
        page.on("pageerror", lambda error: problems.append(f"uncaught {error}"))
        page.on(
            "console",
            lambda message: (
                problems.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        return page

    yield open_tab
    context.close()
    assert problems == []


def sign_in(page, username, expect):
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORDS[username])
    page.get_by_role("button", name="Sign in").click()
    expect(connection(page)).to_have_text("Live")


def load_logged(page, url):
    """Open ``url`` in ``page`` and wait for it to settle; every request it made, by path."""
    network = NetworkLog(page.context, page)
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return {entry["path"]: entry for entry in network.of(url.rstrip("/"))}


def static_version(server):
    page = requests.get(server.url + "/", timeout=10)
    return MAIN_SCRIPT.search(page.text).group(1)


# -- static files ---------------------------------------------------------------------


def test_assets_come_gzipped_for_a_year_and_a_repeat_visit_downloads_none_of_them(tab, server, expect):
    first = tab()
    loaded = load_logged(first, server.url + "/")
    expect(first.get_by_role("heading", name="Sign in")).to_be_visible()

    page = loaded["/"]
    assert (page["cache_control"], page["encoding"]) == ("no-cache", "gzip")
    version = next(MAIN_SCRIPT.fullmatch(path) for path in loaded if MAIN_SCRIPT.fullmatch(path)).group(1)
    assets = {path: entry for path, entry in loaded.items() if path.startswith("/static/")}
    scripts = [path for path in assets if path.endswith(".js")]
    assert len(scripts) > 20  # every module, imported by relative paths under the prefix
    for path, entry in assets.items():
        assert path.startswith(f"/static/{version}/"), path
        assert not entry["cached"] and entry["cache_control"] == A_YEAR, (path, entry)
        if path.endswith((".js", ".css")):
            assert entry["encoding"] == "gzip", (path, entry)

    # A second visit asks only whether the page changed (304), and takes every asset from the cache.
    second = tab()
    again = load_logged(second, server.url + "/")
    expect(second.get_by_role("heading", name="Sign in")).to_be_visible()
    assert not again["/"]["cached"] and again["/"]["wire_status"] == 304
    again_assets = {path: entry for path, entry in again.items() if path.startswith("/static/")}
    assert set(scripts) <= set(again_assets)
    assert [path for path, entry in again_assets.items() if not entry["cached"]] == []


def test_plain_and_outdated_static_paths_answer_with_a_short_cache(server):
    version = static_version(server)
    gzip = {"Accept-Encoding": "gzip"}
    versioned = requests.get(f"{server.url}/static/{version}/js/api.js", headers=gzip, timeout=10)
    assert versioned.status_code == 200
    assert versioned.headers["Cache-Control"] == A_YEAR
    assert versioned.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in versioned.headers["Vary"]
    assert "export async function request" in versioned.text

    # The same file anywhere else may change under that address: kept five minutes at most.
    for path in ("/static/js/api.js", "/static/000000000000/js/api.js"):
        answer = requests.get(server.url + path, headers=gzip, timeout=10)
        assert answer.status_code == 200, path
        assert answer.headers["Cache-Control"] == "public, max-age=300", path
        assert answer.text == versioned.text
    # A client that does not take gzip gets the plain file.
    identity = {"Accept-Encoding": "identity"}
    plain = requests.get(f"{server.url}/static/{version}/js/api.js", headers=identity, timeout=10)
    assert "Content-Encoding" not in plain.headers and plain.content == versioned.content
    # The page is always revalidated; unchanged, it answers 304 without a body.
    page = requests.get(server.url + "/", timeout=10)
    assert page.headers["Cache-Control"] == "no-cache"
    unchanged = requests.get(server.url + "/", headers={"If-None-Match": page.headers["ETag"]}, timeout=10)
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    assert requests.get(f"{server.url}/static/{version}/js/nothing.js", timeout=10).status_code == 404
    assert requests.get(f"{server.url}/static/{version}/../../config.py", timeout=10).status_code == 404


# -- one session for every tab --------------------------------------------------------


def test_a_second_tab_is_signed_in_and_logging_out_in_one_signs_out_the_other(tab, server, expect):
    first = tab()
    first.goto(server.url + "/")
    sign_in(first, "alice", expect)

    second = tab()
    second.goto(server.url + "/")
    expect(connection(second)).to_have_text("Live")
    expect(second.locator("#whoami")).to_have_text("alice")
    expect(second.get_by_role("heading", name="Sign in")).to_be_hidden()
    token = second.evaluate("JSON.parse(localStorage.getItem('scrumboard.session')).token")
    assert token not in second.url and second.evaluate("document.cookie") == ""

    second.get_by_role("button", name="Log out").click()
    expect(second.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(first.get_by_role("heading", name="Sign in")).to_be_visible(timeout=LIVE)
    expect(first.get_by_role("button", name="Log out")).to_be_hidden()
    first.reload()
    expect(first.get_by_role("heading", name="Sign in")).to_be_visible()
    auth = {"Authorization": f"Token {token}"}
    assert requests.get(server.url + "/api/users", headers=auth, timeout=10).status_code == 401

    # Signing in again, as someone else, in one tab signs in the other as that person.
    sign_in(first, "bob", expect)
    expect(connection(second)).to_have_text("Live", timeout=LIVE)
    expect(second.locator("#whoami")).to_have_text("bob")


def test_a_session_past_its_expiry_asks_to_sign_in_again(tab, server, expect):
    first = tab()
    first.goto(server.url + "/")
    sign_in(first, "alice", expect)
    stored = first.evaluate("JSON.parse(localStorage.getItem('scrumboard.session'))")
    assert stored["username"] == "alice" and stored["expires"]
    first.evaluate(
        "localStorage.setItem('scrumboard.session', JSON.stringify({...JSON.parse("
        "localStorage.getItem('scrumboard.session')), expires: '2000-01-01T00:00:00Z'}))"
    )
    later = tab()
    later.goto(server.url + "/")
    expect(later.get_by_role("heading", name="Sign in")).to_be_visible()
    assert later.evaluate("localStorage.getItem('scrumboard.session')") is None


# -- links ----------------------------------------------------------------------------


def test_a_link_to_a_task_asks_to_sign_in_then_opens_that_task(tab, server, rest, team, expect):
    sprint = rest.sprint("Linked sprint", end=8)
    task = rest.task("Linked task", sprint=sprint["id"], description="Opened from a link")
    other = rest.task("Other task", sprint=sprint["id"])
    board = f"{server.url}/?project={team['id']}#/sprint/{sprint['id']}"

    page = tab()
    page.goto(f"{board}/task/{task['id']}")
    sign_in(page, "bob", expect)
    dialog = page.get_by_role("dialog", name="Task details")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Name")).to_have_value("Linked task")
    expect(dialog.get_by_label("Description")).to_have_value("Opened from a link")
    expect(page.get_by_role("heading", name="Linked sprint")).to_be_attached()
    expect(page).to_have_url(f"{board}/task/{task['id']}")

    # Closing the dialog takes the task out of the address; opening one puts it in.
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(page).to_have_url(board)
    open_details(page, "Other task")
    expect(dialog.get_by_label("Name")).to_have_value("Other task")
    expect(page).to_have_url(f"{board}/task/{other['id']}")

    # That address, in another tab of the same browser, opens the task without signing in.
    shared = tab()
    shared.goto(page.url)
    expect(shared.get_by_role("dialog", name="Task details").get_by_label("Name")).to_have_value("Other task")

    # A task that is not on the board: the board, and a word about it.
    missing = tab()
    missing.goto(f"{board}/task/999999")
    expect(column(missing, "In Progress")).to_be_visible()
    expect(missing.locator("#announcer")).to_have_text("That task is not on this board.")
    expect(missing.get_by_role("dialog", name="Task details")).to_be_hidden()
    expect(missing).to_have_url(board)


def test_a_link_to_a_filtered_board_opens_it_filtered_after_sign_in(tab, server, rest, team, expect):
    sprint = rest.sprint("Filtered sprint", end=9)
    rest.task("Write the report", sprint=sprint["id"], assigned="bob")
    rest.task("Review the report", sprint=sprint["id"], assigned="alice")
    rest.task("Fix the login", sprint=sprint["id"], assigned="bob")
    link = f"{server.url}/?project={team['id']}&assignee=bob&q=report#/sprint/{sprint['id']}"

    page = tab()
    page.goto(link)
    sign_in(page, "alice", expect)
    expect(page.get_by_role("heading", name="Filtered sprint")).to_be_visible()
    filters = page.get_by_role("search", name="Filter tasks")
    expect(filters.get_by_label("Assignee")).to_have_value("bob")
    expect(filters.get_by_label("Find")).to_have_value("report")
    expect(page.locator("#columns").get_by_role("article")).to_have_count(1)
    expect(card(page, "Write the report", "Not Started")).to_be_visible()
    expect(page).to_have_url(link)
