"""Projects on the board page, in a real browser against a real server: the
project switcher, read-only boards for viewers, project settings (members found
by a username search, roles, rename), and a board closing with a message when
its person is removed from the project (see tests/browser_support.py).
"""

import re

import pytest

from tests.system.browser_pages import LIVE, TEAM, add_task, card, column, open_details, rest_as

pytest_plugins = ["tests.system.browser_support"]
pytestmark = [pytest.mark.server, pytest.mark.browser]


def project_select(page):
    return page.get_by_label("Project", exact=True)


def sprint_link(page, name):
    return page.get_by_role("link", name=re.compile(re.escape(name)))


def project_id_in_address(page):
    match = re.search(r"[?&]project=(\d+)", page.url)
    return int(match.group(1)) if match else None


def test_switching_projects_shows_each_projects_sprints_and_remembers_the_choice(people, rest, team, expect):
    website = rest.project("Website")
    rest.sprint("Team planning", end=20, project=team["id"])
    launch = rest.sprint("Website launch", end=21, project=website["id"])
    rest.task("Team backlog item", project=team["id"])
    rest.task("Website backlog item", project=website["id"])
    alice = people("alice")

    # The first project by name is shown by default, and named in the address.
    expect(project_select(alice)).to_have_value(str(team["id"]))
    expect(sprint_link(alice, "Team planning")).to_be_visible()
    expect(sprint_link(alice, "Website launch")).to_have_count(0)
    assert project_id_in_address(alice) == team["id"]

    project_select(alice).select_option(label="Website")
    expect(sprint_link(alice, "Website launch")).to_be_visible()
    expect(sprint_link(alice, "Team planning")).to_have_count(0)
    assert project_id_in_address(alice) == website["id"]

    # The choice survives a reload; the board shows its own project's backlog only.
    alice.reload()
    expect(project_select(alice)).to_have_value(str(website["id"]))
    sprint_link(alice, "Website launch").click()
    expect(card(alice, "Website backlog item", "Backlog")).to_be_visible()
    expect(card(alice, "Team backlog item")).to_have_count(0)
    assert alice.url.endswith(f"?project={website['id']}#/sprint/{launch['id']}")
    alice.go_back()
    expect(sprint_link(alice, "Website launch")).to_be_visible()

    # A new project is created from the page and shown at once, with an empty sprint list.
    alice.get_by_role("button", name="New project").click()
    dialog = alice.get_by_role("dialog", name="New project")
    expect(dialog.get_by_label("Name")).to_be_focused()
    dialog.get_by_label("Name").fill("Website")
    dialog.get_by_role("button", name="Create project").click()
    expect(dialog.get_by_label("Name")).to_have_accessible_description(
        "A project with this name already exists."
    )
    dialog.get_by_label("Name").fill("Mobile app")
    dialog.get_by_role("button", name="Create project").click()
    expect(dialog).to_be_hidden()
    expect(project_select(alice).locator("option:checked")).to_have_text("Mobile app")
    expect(alice.locator("#sprint-list-empty")).to_be_visible()
    created = next(p for p in rest.call("GET", "/api/projects")["results"] if p["name"] == "Mobile app")
    assert created["role"] == "admin" and project_id_in_address(alice) == created["id"]


def test_a_viewer_sees_the_board_read_only_until_made_a_member(people, rest, team, expect):
    rest.set_role(team["id"], "carol", "viewer", expected=201)
    sprint = rest.sprint("Viewing sprint", end=22, project=team["id"])
    task = rest.task("Look but do not touch", sprint=sprint["id"])
    carol = people("carol", sprint["id"])

    expect(card(carol, "Look but do not touch", "Not Started")).to_be_visible()
    expect(carol.get_by_role("button", name=re.compile("^Add task to"))).to_have_count(0)
    expect(card(carol, "Look but do not touch")).to_have_attribute("draggable", "false")
    expect(carol.get_by_label("Move “Look but do not touch” to")).to_be_hidden()
    carol.get_by_role("button", name="Look but do not touch", exact=True).focus()
    carol.keyboard.press("Alt+ArrowRight")

    # The details open read-only: nothing to save or delete.
    dialog = open_details(carol, "Look but do not touch")
    expect(dialog).to_contain_text("viewers cannot change this project")
    expect(dialog.get_by_label("Name")).not_to_be_editable()
    expect(dialog.get_by_label("Status")).to_be_disabled()
    expect(dialog.get_by_role("button", name="Save")).to_have_count(0)
    expect(dialog.get_by_role("button", name="Delete…")).to_have_count(0)
    dialog.get_by_role("button", name="Close").last.click()
    expect(dialog).to_be_hidden()
    assert rest.get("tasks", task["id"])["status"] == 1

    # No sprint form on the sprint list either.
    carol.get_by_role("link", name="Sprints", exact=True).first.click()
    expect(sprint_link(carol, "Viewing sprint")).to_be_visible()
    expect(carol.get_by_role("form", name="New sprint")).to_have_count(0)
    expect(carol.get_by_text("You can view this project but not change it.")).to_be_visible()

    # Made a member, the controls come back without a reload.
    sprint_link(carol, "Viewing sprint").click()
    expect(card(carol, "Look but do not touch", "Not Started")).to_be_visible()
    rest.set_role(team["id"], "carol", "member")
    expect(carol.get_by_role("button", name="Add task to Testing")).to_be_visible(timeout=LIVE)
    add_task(carol, "Testing", "Now I can add")
    expect(card(carol, "Now I can add", "Testing")).to_be_visible()


def test_an_admin_adds_a_member_found_by_username_changes_their_role_and_renames_the_project(
    people, server, expect
):
    admin = rest_as(server.url, "alice")
    research = admin.project("Research")
    alice = people("alice", project=research["id"])
    expect(project_select(alice)).to_have_value(str(research["id"]))

    alice.get_by_role("button", name="Project settings").click()
    settings = alice.get_by_role("dialog", name="Project settings")
    members = settings.get_by_role("list", name="Members")
    expect(members.get_by_role("listitem")).to_have_count(1)
    expect(members).to_contain_text("alice")

    settings.get_by_label("Role", exact=True).select_option("viewer")
    settings.get_by_label("Find people").fill("av")  # d-av-e
    found = settings.get_by_role("list", name="People found")
    expect(found.get_by_role("button")).to_have_count(1)
    expect(settings.get_by_role("status")).to_have_text("1 person found who can be added.")
    found.get_by_role("button", name="Add dave").click()
    expect(settings.get_by_label("Role of dave")).to_have_value("viewer")
    expect(settings.get_by_label("Find people")).to_be_focused()
    assert admin.members(research["id"]) == {"alice": "admin", "dave": "viewer"}

    settings.get_by_label("Role of dave").select_option("member")
    expect(alice.get_by_role("status").filter(has_text="dave is now member")).to_be_visible()
    assert admin.members(research["id"])["dave"] == "member"

    # The last admin cannot step down: the server says why and the role stays.
    settings.get_by_label("Role of alice").select_option("viewer")
    expect(alice.locator("#announcer")).to_contain_text("A project needs at least one admin.")
    expect(settings.get_by_label("Role of alice")).to_have_value("admin")

    settings.get_by_label("Project name").fill("Research lab")
    settings.get_by_role("button", name="Rename").click()
    expect(project_select(alice).locator("option:checked")).to_have_text("Research lab")
    settings.get_by_role("button", name="Done").click()
    expect(settings).to_be_hidden()
    assert admin.call("GET", f"/api/projects/{research['id']}")["name"] == "Research lab"
    assert rest_as(server.url, "dave").call("GET", f"/api/projects/{research['id']}")["role"] == "member"


def test_a_person_removed_from_a_project_sees_its_board_close_and_why(people, server, expect):
    admin = rest_as(server.url, "alice")
    ops = admin.project("Ops", bob="member")
    sprint = admin.sprint("Ops sprint", end=23, project=ops["id"])
    admin.task("Rotate the keys", sprint=sprint["id"])
    bob = people("bob", sprint["id"], project=ops["id"])
    expect(card(bob, "Rotate the keys", "Not Started")).to_be_visible()

    admin.call("DELETE", f"/api/projects/{ops['id']}/members/bob", 204)

    notice = bob.get_by_role("alert").filter(has_text="You are no longer a member of “Ops”")
    expect(notice).to_have_text(re.compile("so its board has closed"), timeout=LIVE)
    expect(column(bob, "In Progress")).to_be_hidden()
    expect(card(bob, "Rotate the keys")).to_have_count(0)
    expect(project_select(bob).get_by_role("option", name="Ops")).to_have_count(0)
    expect(project_select(bob).locator("option:checked")).to_have_text(TEAM)
    assert project_id_in_address(bob) != ops["id"]
