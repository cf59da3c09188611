"""Planning on the board page in a real browser: points on cards and in column
headers, the burndown from the server's history with today's point kept live,
sprints edited, re-dated and deleted, the sprint list's groups and pages, and
velocity (see tests/browser_support.py for the servers and people).
"""

import re

import pytest
import sqlalchemy as sa

from tests.system.browser_pages import (
    ARTIFACTS,
    LIVE,
    burndown,
    burndown_points,
    card,
    column,
    day,
    open_details,
    sprint_list,
)

pytestmark = [pytest.mark.server, pytest.mark.browser]
pytest_plugins = ["tests.system.browser_support"]


@pytest.fixture(scope="module")
def database(server):
    """The server's database, to put sprints in the past (the API refuses past end dates)."""
    engine = sa.create_engine(server.env["DATABASE_URL"])
    yield engine
    engine.dispose()


def move_into_the_past(database, sprint_id, start, end, task_ids=()):
    """Re-date an ended sprint; its tasks' logged changes happen on its first day."""
    with database.begin() as connection:
        connection.execute(
            sa.text('UPDATE sprints SET start = :start, "end" = :end WHERE id = :id'),
            {"start": start, "end": end, "id": sprint_id},
        )
        if task_ids:
            connection.execute(
                sa.text(
                    "UPDATE events SET created = :start WHERE model = 'task' AND object_id IN :ids"
                ).bindparams(sa.bindparam("ids", expanding=True)),
                {"start": f"{start} 12:00:00", "ids": list(task_ids)},
            )


def test_moving_a_task_with_points_to_done_lowers_todays_burndown_point_on_anothers_board(
    people, rest, expect
):
    sprint = rest.sprint("Points sprint", end=21, start=day(-3))
    rest.task("Ship it", sprint=sprint["id"], status=2, started=day(-2), points=3)
    rest.task("Test it", sprint=sprint["id"], status=3, started=day(-3), points=2.5)
    rest.task("Plan it", sprint=sprint["id"], points=1)
    alice = people("alice", sprint["id"])
    bob = people("bob", sprint["id"])
    history = []
    bob.on("request", lambda request: "/burndown" in request.url and history.append(request.url))
    chart = burndown(bob)
    expect(chart).to_have_attribute("data-unit", "points")
    expect(chart).to_have_attribute("data-start", day(-3))
    expect(chart).to_have_attribute("data-end", day(21))
    expect(chart).to_have_attribute("data-today-remaining", "6.5")
    expect(bob.locator("#burndown-caption")).to_have_text("6.5 points remaining; 0 at the start")
    line = burndown_points(bob)
    # The days before today as the server's history has them: the tasks were added today.
    expect(line).to_have_attribute("data-values", "0 0 0 6.5")

    card(alice, "Ship it").drag_to(column(alice, "Done"))
    expect(card(alice, "Ship it", "Done")).to_be_visible()
    expect(chart).to_have_attribute("data-today-remaining", "3.5", timeout=LIVE)
    expect(bob.locator("#burndown-caption")).to_have_text("3.5 points remaining; 0 at the start")
    # Only today's point moved.
    expect(line).to_have_attribute("data-values", "0 0 0 3.5")

    # Moved back, it counts again; the history was not fetched again for either change.
    card(alice, "Ship it").get_by_label("Move “Ship it” to").select_option("Testing")
    expect(chart).to_have_attribute("data-today-remaining", "6.5", timeout=LIVE)
    assert history == []
    # The server's history agrees with what the board worked out.
    days = rest.call("GET", f"/api/sprints/{sprint['id']}/burndown")["days"]
    assert [entry["date"] for entry in days] == [day(offset) for offset in range(-3, 1)]
    assert days[-1]["remaining"] == 6.5


def test_points_show_on_cards_and_in_column_totals_and_the_dialog_keeps_to_the_rule(people, rest, expect):
    sprint = rest.sprint("Estimate sprint", end=22)
    rest.task("Small", sprint=sprint["id"], points=1)
    rest.task("Large", sprint=sprint["id"], points=5)
    task = rest.task("Unsized", sprint=sprint["id"])
    alice = people("alice", sprint["id"])
    bob = people("bob", sprint["id"])

    expect(card(alice, "Small")).to_contain_text("1 pt")
    expect(card(alice, "Large")).to_contain_text("5 pts")
    expect(card(alice, "Unsized").locator(".points")).to_have_count(0)
    heading = column(alice, "Not Started").locator(".column-head")
    expect(heading.locator(".column-points")).to_have_text("6 pts")
    expect(heading.locator(".count")).to_have_text("3 tasks")

    dialog = open_details(alice, "Unsized")
    points = dialog.get_by_label("Points")
    for typed in ("1000", "2.25", "lots"):
        points.fill(typed)
        dialog.get_by_role("button", name="Save").click()
        expect(points).to_have_attribute("aria-invalid", "true")
        expect(points).to_have_accessible_description(
            "Points are a number from 0 to 999 with at most one decimal."
        )
    assert rest.get("tasks", task["id"])["points"] is None
    points.fill("2.5")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    rest.wait_for_task(task["id"], lambda task: task["points"] == 2.5)

    # Bob sees the new points and the new total live.
    expect(card(bob, "Unsized")).to_contain_text("2.5 pts", timeout=LIVE)
    expect(column(bob, "Not Started").locator(".column-points")).to_have_text("8.5 pts", timeout=LIVE)
    card(alice, "Large").get_by_label("Move “Large” to").select_option("Done")
    expect(column(bob, "Done").locator(".column-points")).to_have_text("5 pts", timeout=LIVE)
    expect(column(bob, "Not Started").locator(".column-points")).to_have_text("3.5 pts", timeout=LIVE)


def test_a_sprint_re_dated_by_one_person_is_re_dated_on_anothers_board_live(people, rest, expect):
    sprint = rest.sprint("Dated sprint", end=23)
    alice = people("alice", sprint["id"])
    bob = people("bob", sprint["id"])
    expect(burndown(bob)).to_have_attribute("data-end", day(23))

    alice.get_by_role("button", name="Edit sprint").click()
    dialog = alice.get_by_role("dialog", name="Edit sprint")
    # Each of the sprint's rules is explained beside its field before anything is sent.
    dialog.get_by_label("Start date").fill(day(30))
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_label("Start date")).to_have_accessible_description(
        "Start date must be on or before the end date."
    )
    dialog.get_by_label("End date").fill(day(-1))
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_label("End date")).to_have_accessible_description("End date cannot be in the past.")

    dialog.get_by_label("Name").fill("Re-dated sprint")
    dialog.get_by_label("Start date").fill(day(-2))
    dialog.get_by_label("End date").fill(day(12))
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()

    expect(bob.get_by_role("heading", name="Re-dated sprint")).to_be_visible(timeout=LIVE)
    expect(bob.locator("#board-dates")).to_contain_text("12 days left", timeout=LIVE)
    expect(burndown(bob)).to_have_attribute("data-end", day(12), timeout=LIVE)
    expect(burndown(bob)).to_have_attribute("data-start", day(-2), timeout=LIVE)
    saved = rest.call("GET", f"/api/sprints/{sprint['id']}")
    assert (saved["name"], saved["start"], saved["end"]) == ("Re-dated sprint", day(-2), day(12))


def test_a_sprint_with_tasks_is_not_deleted_and_says_why_and_is_deleted_once_empty(people, rest, expect):
    sprint = rest.sprint("Doomed sprint", end=24)
    task = rest.task("Last task", sprint=sprint["id"])
    alice = people("alice", sprint["id"])
    bob = people("bob", sprint["id"])

    alice.get_by_role("button", name="Edit sprint").click()
    dialog = alice.get_by_role("dialog", name="Edit sprint")
    dialog.get_by_role("button", name="Delete…").click()
    dialog.get_by_role("button", name="Delete sprint").click()
    expect(dialog.get_by_role("alert").filter(has_text="still has")).to_have_text(
        "“Doomed sprint” still has 1 task, so it cannot be deleted yet. "
        "Move them to another sprint or to the backlog, or delete them, then delete the sprint."
    )
    rest.call("GET", f"/api/sprints/{sprint['id']}")
    dialog.get_by_role("button", name="Cancel").click()

    card(alice, "Last task").get_by_label("Move “Last task” to").select_option("Backlog")
    rest.wait_for_task(task["id"], lambda task: task["sprint"] is None)
    alice.get_by_role("button", name="Edit sprint").click()
    dialog.get_by_role("button", name="Delete…").click()
    dialog.get_by_role("button", name="Delete sprint").click()
    expect(alice.get_by_role("heading", name="Sprints", exact=True)).to_be_visible()
    rest.call("GET", f"/api/sprints/{sprint['id']}", 404)
    # Bob's board closes and says who deleted it.
    expect(bob.get_by_role("heading", name="Sprints", exact=True)).to_be_visible(timeout=LIVE)


def test_the_sprint_list_groups_current_upcoming_and_past_sprints_and_pages_the_past(
    people, rest, database, expect
):
    project = rest.project("History", bob="member")
    current = rest.sprint("Now", end=5, project=project["id"], start=day(-5))
    rest.sprint("Later", end=40, project=project["id"], start=day(30))
    past = []
    for number in range(1, 8):
        sprint = rest.sprint(f"Old {number}", end=100 + number, project=project["id"])
        move_into_the_past(database, sprint["id"], day(-14 * number - 13), day(-14 * number))
        past.append(sprint)
    bob = people("bob", project=project["id"])

    expect(sprint_list(bob, "Current")).to_have_text([re.compile("^Now")])
    expect(sprint_list(bob, "Upcoming")).to_have_text([re.compile("^Later")])
    newest_first = [re.compile(f"^Old {number}") for number in range(1, 8)]
    expect(sprint_list(bob, "Past")).to_have_text(newest_first[:5])
    more = bob.get_by_role("button", name="Show more past sprints")
    more.click()
    expect(sprint_list(bob, "Past")).to_have_text(newest_first)
    expect(more).to_be_hidden()

    # A sprint edited elsewhere moves between groups live.
    rest.call("PATCH", f"/api/sprints/{current['id']}", json={"start": day(2)})
    expect(sprint_list(bob, "Upcoming")).to_have_text(
        [re.compile("^Now"), re.compile("^Later")], timeout=LIVE
    )
    expect(sprint_list(bob, "Current")).to_have_count(0)
    sprint_list(bob, "Past").filter(has_text="Old 7").click()
    expect(bob.get_by_role("heading", name="Old 7")).to_be_visible()


def test_velocity_shows_committed_and_completed_work_of_the_last_ended_sprints(
    people, rest, database, expect
):
    project = rest.project("Velocity", bob="viewer")
    sprints = []
    for number in range(1, 8):
        sprint = rest.sprint(f"Run {number}", end=200 + number, project=project["id"])
        done = rest.task(f"Done {number}", sprint=sprint["id"], points=number)
        rest.patch("tasks", done["id"], {"status": 4, "started": day(), "completed": day()})
        undone = rest.task(f"Undone {number}", sprint=sprint["id"], points=2)
        move_into_the_past(
            database, sprint["id"], day(-14 * number - 13), day(-14 * number), [done["id"], undone["id"]]
        )
        sprints.append(sprint)
    expected = rest.call("GET", f"/api/projects/{project['id']}/velocity")
    assert [entry["name"] for entry in expected["sprints"]] == [f"Run {n}" for n in range(6, 0, -1)]
    assert [(entry["committed"], entry["completed"]) for entry in expected["sprints"]][-1] == (3, 1)
    bob = people("bob", project=project["id"])

    chart = bob.locator("#velocity-chart svg")
    expect(chart).to_have_attribute("data-unit", "points")
    bars = chart.locator(".velocity-sprint")
    expect(bars).to_have_count(6)
    shown = [
        (
            int(bars.nth(i).get_attribute("data-sprint")),
            float(bars.nth(i).get_attribute("data-committed")),
            float(bars.nth(i).get_attribute("data-completed")),
        )
        for i in range(6)
    ]
    assert shown == [(entry["id"], entry["committed"], entry["completed"]) for entry in expected["sprints"]]
    expect(bob.locator("#velocity-caption")).to_have_text("3.5 points completed per sprint on average")
    ARTIFACTS.mkdir(exist_ok=True)
    bob.get_by_role("button", name="Show more past sprints").click()
    expect(sprint_list(bob, "Past")).to_have_count(7)
    bob.screenshot(path=str(ARTIFACTS / "sprints-velocity-desktop.png"), full_page=True)
