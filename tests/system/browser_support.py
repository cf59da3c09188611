"""Fixtures for the browser tests: Chromium driven by Playwright against real
gunicorn (eventlet) on a migrated PostgreSQL database.

A test module loads them with ``pytest_plugins = ["tests.system.browser_support"]``
(and imports helpers from ``tests.system.browser_pages``). Each person is a separate
browser context (its own storage and session, its own socket). Every wait is bounded;
"live" means another context sees a change within two seconds without reloading.
"""

import contextlib
import json
from pathlib import Path

import pytest

from tests.support import services
from tests.support.servers import GunicornServer, NewUser, migrated_postgres_database
from tests.system.browser_pages import (
    DESKTOP,
    FULL_NAMES,
    PASSWORDS,
    STEP,
    TEAM,
    TEAM_MEMBERS,
    column,
    connection,
    rest_as,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def playwright_api():
    sync_api = pytest.importorskip("playwright.sync_api")
    return sync_api


@pytest.fixture(scope="module")
def server():
    users = [  # alice, made first, is Team's admin
        NewUser(username, password, FULL_NAMES[username], TEAM if username in TEAM_MEMBERS else None)
        for username, password in PASSWORDS.items()
    ]
    with migrated_postgres_database(users) as url, GunicornServer(database_url=url) as server:
        yield server


@pytest.fixture(scope="module")
def browser(playwright_api):
    if not CHROMIUM.exists():
        services.missing("Chromium is not installed (apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def expect(playwright_api):
    return playwright_api.expect


@pytest.fixture(scope="module")
def team(server):
    """The project "Team": alice its admin, bob a member."""
    projects = rest_as(server.url, "alice").call("GET", "/api/projects")["results"]
    return next(project for project in projects if project["name"] == TEAM)


@pytest.fixture(scope="module")
def rest(server, team):
    """alice's REST session; what she creates goes into "Team"."""
    return rest_as(server.url, "alice")


@pytest.fixture
def people(browser, server, team, expect):
    """``people("alice", sprint_id)`` → a signed-in page on that board, in a context of its own.
    ``project=ID`` opens that project's sprints (``?project=ID``); ``search`` adds
    more to the query string (``"assignee=me&q=login"``).

    Afterwards, no page may have hit an uncaught error or a Content-Security-Policy violation.
    """
    contexts = []
    problems = []

    def watch(page, username):
        page.on("pageerror", lambda error: problems.append(f"{username}: uncaught {error}"))
        page.on(
            "console",
            lambda message: (
                problems.append(f"{username}: {message.text}")
                if "Content Security Policy" in message.text
                else None
            ),
        )

    def open_board(username, sprint_id=None, viewport=DESKTOP, project=None, search=""):
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        watch(page, username)
        page.set_default_timeout(STEP)
        query = "&".join(part for part in (f"project={project}" if project else "", search) if part)
        query = f"?{query}" if query else ""
        page.goto(server.url + "/" + query + (f"#/sprint/{sprint_id}" if sprint_id else ""))
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORDS[username])
        page.get_by_role("button", name="Sign in").click()
        expect(connection(page)).to_have_text("Live", timeout=STEP)
        if sprint_id:
            expect(column(page, "In Progress")).to_be_visible(timeout=STEP)
            expect(page.locator("#board-loading")).to_be_hidden(timeout=STEP)
        return page

    yield open_board
    for context in contexts:
        with contextlib.suppress(Exception):
            context.close()
    assert problems == []


@pytest.fixture(scope="module")
def units(browser, server):
    """``units(["model.js"], "(model) => …")`` → what that function returns, called in
    the board page with the named modules of ``/static/js/`` imported (DOM-free code
    under test in the browser that runs it)."""
    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server.url + "/")

    def run(modules, function):
        imports = ", ".join(f"import({json.dumps('/static/js/' + module)})" for module in modules)
        return page.evaluate(f"async () => ({function})(...(await Promise.all([{imports}])))")

    yield run
    context.close()
    assert errors == []
