"""Planning: sprint start dates, story points, and the burndown and velocity that
the change log recorded.

Histories are written through the API (or, for sprints that have ended, the
models) one day at a time; each day's logged changes are then given that day's
timestamp, as if they had happened then. Nothing sleeps.
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from app import db
from app.models import Event, Sprint, Status, Task
from tests.api_helpers import assert_error, assert_invalid, day, unchanged
from tests.conftest import TEAM, project_id_named

TODAY = date.today()


class Clock:
    """Stamps the changes logged inside ``on(day)`` with that day (noon, UTC)."""

    def __init__(self, app):
        self.app = app

    def _newest(self):
        with self.app.app_context():
            return db.session.scalar(sa.select(sa.func.max(Event.seq))) or 0

    def on(self, when):
        clock = self

        class Day:
            def __enter__(self):
                self.before = clock._newest()

            def __exit__(self, *exc):
                with clock.app.app_context():
                    db.session.execute(
                        sa.update(Event)
                        .where(Event.seq > self.before)
                        .values(created=datetime.combine(when, time(12), tzinfo=UTC))
                    )
                    db.session.commit()

        return Day()


@pytest.fixture
def clock(app):
    return Clock(app)


def post(client, headers, path, body):
    response = client.post(path, headers=headers, json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def patch(client, headers, task_id, body):
    response = client.patch(f"/api/tasks/{task_id}", headers=headers, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)


def burndown(client, headers, sprint_id):
    response = client.get(f"/api/sprints/{sprint_id}/burndown", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


class TestStartAndPoints:
    def test_start_defaults_to_two_weeks_before_the_end(self, client, headers):
        response = client.post("/api/sprints", headers=headers, json={"end": day(20)})
        assert response.get_json()["start"] == day(6)
        response = client.post("/api/sprints", headers=headers, json={"start": day(-3), "end": day(21)})
        assert response.status_code == 201
        assert response.get_json()["start"] == day(-3)

    def test_points_are_kept_as_given(self, client, headers):
        for points in (0, 3, 2.5, 999, 0.1, None):
            response = client.post("/api/tasks", headers=headers, json={"name": "T", "points": points})
            assert response.status_code == 201, response.get_data(as_text=True)
            assert response.get_json()["points"] == points

    @pytest.mark.parametrize(
        "points, message",
        [
            (-1, "Ensure this value is between 0 and 999."),
            (999.1, "Ensure this value is between 0 and 999."),
            (1000, "Ensure this value is between 0 and 999."),
            (2.25, "Ensure that there is no more than 1 decimal place."),
            ("3", "A valid number is required."),
            (True, "A valid number is required."),
            ([1], "A valid number is required."),
        ],
    )
    def test_bad_points(self, client, headers, make_task, snapshot, points, message):
        task = make_task("T")
        with unchanged(snapshot):
            assert_invalid(
                client.post("/api/tasks", headers=headers, json={"name": "T", "points": points}),
                {"points": [message]},
            )
            assert_invalid(
                client.patch(f"/api/tasks/{task}", headers=headers, json={"points": points}),
                {"points": [message]},
            )

    def test_bad_starts(self, client, headers, make_sprint, snapshot):
        sprint = make_sprint(end=TODAY + timedelta(days=10))
        after_end = {"start": ["Start date must be on or before the end date."]}
        with unchanged(snapshot):
            assert_invalid(
                client.post("/api/sprints", headers=headers, json={"start": day(13), "end": day(12)}),
                after_end,
            )
            assert_invalid(
                client.patch(f"/api/sprints/{sprint}", headers=headers, json={"start": day(11)}), after_end
            )
            assert_invalid(
                client.patch(f"/api/sprints/{sprint}", headers=headers, json={"start": "2026-1-1"}),
                {"start": ["Not a valid date."]},
            )
            assert_invalid(
                client.post("/api/sprints", headers=headers, json={"start": 5, "end": day(10)}),
                {"start": ["Not a valid date."]},
            )

    def test_a_sprint_lasts_a_year_at_most(self, app, client, headers, snapshot):
        too_long = {"start": ["Start date must be at most 366 days before the end date."]}
        sprint = post(client, headers, "/api/sprints", {"start": day(-5), "end": day(10)})
        with app.app_context():  # written before the limit: a span of two thousand years
            legacy = Sprint(
                project_id=project_id_named(TEAM),
                name="Legacy",
                start=date(1, 1, 1),
                end=TODAY + timedelta(20),
            )
            db.session.add(legacy)
            db.session.commit()
            legacy = legacy.id
        with unchanged(snapshot):
            for start in ("0001-01-01", day(12 - 367)):
                assert_invalid(
                    client.post("/api/sprints", headers=headers, json={"start": start, "end": day(12)}),
                    too_long,
                )
            assert_invalid(
                client.patch(f"/api/sprints/{sprint}", headers=headers, json={"start": day(-400)}), too_long
            )
            # Only the end moves, away from the start.
            assert_invalid(
                client.patch(f"/api/sprints/{sprint}", headers=headers, json={"end": day(400)}), too_long
            )
            assert_invalid(
                client.put(
                    f"/api/sprints/{sprint}", headers=headers, json={"start": "0001-01-01", "end": day(10)}
                ),
                too_long,
            )
            assert_invalid(
                client.patch(f"/api/sprints/{legacy}", headers=headers, json={"end": day(30)}), too_long
            )
        response = client.post("/api/sprints", headers=headers, json={"start": day(11 - 366), "end": day(11)})
        assert response.status_code == 201, response.get_data(as_text=True)
        response = client.patch(f"/api/sprints/{sprint}", headers=headers, json={"end": day(361)})
        assert response.status_code == 200, response.get_data(as_text=True)
        # A row with a longer span keeps working while its dates stay.
        response = client.patch(f"/api/sprints/{legacy}", headers=headers, json={"name": "Renamed"})
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        response = client.put(f"/api/sprints/{legacy}", headers=headers, json=body)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["start"] == "0001-01-01"


HISTORY_POINTS = {"A": 3, "B": 5, "C": 2, "D": 1, "E": 8}


@pytest.mark.parametrize("unit", ["points", "tasks"])
def test_the_burndown_is_what_the_log_recorded_each_day(client, headers, clock, unit):
    points = HISTORY_POINTS if unit == "points" else dict.fromkeys(HISTORY_POINTS)
    start = TODAY - timedelta(days=4)
    sprint = post(client, headers, "/api/sprints", {"start": start.isoformat(), "end": day(5)})

    def task(name, in_sprint=True):
        return post(
            client,
            headers,
            "/api/tasks",
            {"name": name, "points": points[name], "sprint": sprint if in_sprint else None},
        )

    with clock.on(start):
        a, b, c = task("A"), task("B"), task("C")
        e = task("E", in_sprint=False)
    with clock.on(start + timedelta(days=1)):
        patch(client, headers, a, {"status": Status.DONE})
    with clock.on(start + timedelta(days=2)):
        task("D")
        patch(client, headers, b, {"status": Status.IN_PROGRESS})
    with clock.on(start + timedelta(days=3)):
        patch(client, headers, a, {"status": Status.IN_PROGRESS})  # reopened: counts again
        assert client.delete(f"/api/tasks/{c}", headers=headers).status_code == 204
    with clock.on(start + timedelta(days=4)):
        patch(client, headers, b, {"sprint": None, "status": Status.NOT_STARTED})
        patch(client, headers, e, {"sprint": sprint})

    result = burndown(client, headers, sprint)
    expected = [10, 7, 8, 9, 12] if unit == "points" else [3, 2, 3, 3, 3]
    assert result["unit"] == unit
    assert result["sprint"] == sprint
    assert (result["start"], result["end"]) == (start.isoformat(), day(5))
    assert result["total"] == expected[0]
    assert [d["date"] for d in result["days"]] == [(start + timedelta(days=i)).isoformat() for i in range(5)]
    assert [d["remaining"] for d in result["days"]] == expected
    total = expected[0]
    assert [d["ideal"] for d in result["days"]] == [round(total * (9 - i) / 9, 2) for i in range(5)]


def test_the_unit_follows_the_tasks_the_sprint_holds_now(client, headers, clock):
    start = TODAY - timedelta(days=2)
    sprint = post(client, headers, "/api/sprints", {"start": start.isoformat(), "end": day(3)})
    with clock.on(start):
        post(client, headers, "/api/tasks", {"name": "Unpointed", "sprint": sprint})
    with clock.on(start + timedelta(days=1)):
        pointed = post(client, headers, "/api/tasks", {"name": "Pointed", "points": 3, "sprint": sprint})
    with clock.on(start + timedelta(days=2)):
        patch(client, headers, pointed, {"sprint": None})
    # No task it holds has points: every day counts tasks, the one that passed through too.
    result = burndown(client, headers, sprint)
    assert (result["unit"], result["total"]) == ("tasks", 1)
    assert [d["remaining"] for d in result["days"]] == [1, 2, 1]
    # Points on a task it holds make it points, also for the days before it had them.
    with clock.on(start + timedelta(days=2)):
        patch(client, headers, pointed, {"sprint": sprint, "points": 5})
    result = burndown(client, headers, sprint)
    assert (result["unit"], result["total"]) == ("points", 0)
    assert [d["remaining"] for d in result["days"]] == [0, 3, 5]


def test_days_before_the_logs_oldest_entry_take_the_oldest_state_it_holds(app, client, headers, clock):
    start = TODAY - timedelta(days=2)
    sprint = post(client, headers, "/api/sprints", {"start": start.isoformat(), "end": day(3)})
    with clock.on(start):
        kept = post(client, headers, "/api/tasks", {"name": "Kept", "points": 2, "sprint": sprint})
        post(client, headers, "/api/tasks", {"name": "Unchanged", "points": 4, "sprint": sprint})
    with clock.on(start + timedelta(days=1)):
        patch(client, headers, kept, {"status": Status.DONE})
    with app.app_context():
        first_kept = db.session.scalar(sa.select(sa.func.max(Event.seq)))
    with clock.on(start + timedelta(days=2)):
        patch(client, headers, kept, {"status": Status.IN_PROGRESS})
    with app.app_context():  # prune the log's older part, as `flask prune-events` would
        db.session.execute(sa.delete(Event).where(Event.seq < first_kept))
        db.session.commit()
    # The first day is older than the log: "Kept" counts as the oldest logged state has it, Done.
    assert [d["remaining"] for d in burndown(client, headers, sprint)["days"]] == [4, 4, 6]


def legacy_sprint(app, end):
    """A sprint that started in year 1, as a row written before sprints had a longest span."""
    with app.app_context():
        sprint = Sprint(project_id=project_id_named(TEAM), name="Legacy", start=date(1, 1, 1), end=end)
        db.session.add(sprint)
        db.session.commit()
        return sprint.id


def test_a_span_longer_than_any_sprint_lists_its_days_from_the_logs_oldest_change(
    app, client, headers, clock
):
    sprint = legacy_sprint(app, TODAY + timedelta(days=10))
    with clock.on(TODAY - timedelta(days=2)):
        a = post(client, headers, "/api/tasks", {"name": "A", "points": 2, "sprint": sprint})
        post(client, headers, "/api/tasks", {"name": "B", "points": 3, "sprint": sprint})
    with clock.on(TODAY - timedelta(days=1)):
        patch(client, headers, a, {"status": Status.DONE})
    result = burndown(client, headers, sprint)
    assert (result["start"], result["end"], result["unit"]) == ("0001-01-01", day(10), "points")
    assert result["total"] == 0  # what it held at its start
    assert [(d["date"], d["remaining"], d["ideal"]) for d in result["days"]] == [
        (day(-2), 5, 0),
        (day(-1), 3, 0),
        (day(0), 3, 0),
    ]


def test_a_span_longer_than_any_sprint_lists_a_year_of_days_at_most(app, client, headers, clock):
    sprint = legacy_sprint(app, TODAY + timedelta(days=10))
    with clock.on(TODAY - timedelta(days=500)):
        a = post(client, headers, "/api/tasks", {"name": "A", "points": 2, "sprint": sprint})
    with clock.on(TODAY - timedelta(days=300)):
        post(client, headers, "/api/tasks", {"name": "B", "points": 3, "sprint": sprint})
    with clock.on(TODAY - timedelta(days=3)):
        patch(client, headers, a, {"status": Status.IN_PROGRESS})
        patch(client, headers, a, {"status": Status.DONE})
    days = burndown(client, headers, sprint)["days"]
    assert [d["date"] for d in days] == [(TODAY - timedelta(days=366 - i)).isoformat() for i in range(367)]
    remaining = [d["remaining"] for d in days]
    assert remaining == [2] * (366 - 300) + [5] * (300 - 3) + [3] * 4


def test_velocity_of_a_span_longer_than_any_sprint(app, client, headers, clock):
    sprint = legacy_sprint(app, TODAY - timedelta(days=1))
    with clock.on(TODAY - timedelta(days=6)), app.app_context():
        rows = [
            Task(name=name, points=None, sprint_id=sprint, project_id=project_id_named(TEAM))
            for name in "abc"
        ]
        db.session.add_all(rows)
        db.session.commit()
        done = rows[0].id
    with clock.on(TODAY - timedelta(days=2)), app.app_context():
        db.session.get(Task, done).status = Status.DONE
        db.session.commit()
    project = client.get("/api/projects", headers=headers).get_json()["results"][0]["id"]
    body = client.get(f"/api/projects/{project}/velocity", headers=headers).get_json()
    assert body["unit"] == "tasks"
    assert [(s["id"], s["start"], s["committed"], s["completed"]) for s in body["sprints"]] == [
        (sprint, "0001-01-01", 0, 1)
    ]


def test_a_sprint_that_has_not_started_has_no_days_yet(client, headers):
    sprint = post(client, headers, "/api/sprints", {"start": day(2), "end": day(9)})
    post(client, headers, "/api/tasks", {"name": "T", "sprint": sprint})
    result = burndown(client, headers, sprint)
    assert (result["unit"], result["total"], result["days"]) == ("tasks", 1, [])


def ended_sprint(app, clock, name, start_offset, tasks, done_on):
    """A sprint that ended, with ``tasks`` (name -> points) added on its first day, and
    ``done_on`` (name -> day offset) marking when each was done; returns its id."""
    start = TODAY + timedelta(days=start_offset)
    end = start + timedelta(days=9)
    with clock.on(start), app.app_context():
        sprint = Sprint(project_id=project_id_named(TEAM), name=name, start=start, end=end)
        rows = {n: Task(name=n, points=p, sprint=sprint) for n, p in tasks.items()}
        db.session.add_all([sprint, *rows.values()])
        db.session.commit()
        sprint_id, ids = sprint.id, {n: t.id for n, t in rows.items()}
    for task_name, offset in sorted(done_on.items(), key=lambda item: item[1]):
        with clock.on(start + timedelta(days=offset)), app.app_context():
            db.session.get(Task, ids[task_name]).status = Status.DONE
            db.session.commit()
    return sprint_id


def test_velocity_of_the_last_six_ended_sprints(app, client, headers, clock, make_project, make_sprint):
    # Odd sprints finish a, then c on their last day (b only after the end); even ones a and b.
    done = [{"a": 2, "c": 9, "b": 10} if i % 2 else {"a": 1, "b": 2} for i in range(7)]
    sprints = [
        ended_sprint(app, clock, f"S{i}", -100 + 12 * i, {"a": 2, "b": 3, "c": 1}, done[i]) for i in range(7)
    ]
    make_sprint(end=TODAY + timedelta(days=3), name="Running")
    make_project("Elsewhere")
    make_sprint(end=TODAY - timedelta(days=1), name="Other project", project="Elsewhere")
    project = client.get("/api/projects", headers=headers).get_json()["results"][0]["id"]
    response = client.get(f"/api/projects/{project}/velocity", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["unit"] == "points"
    assert [s["id"] for s in body["sprints"]] == sprints[1:]
    assert [(s["committed"], s["completed"]) for s in body["sprints"]] == [
        (6, 3) if i % 2 else (6, 5) for i in range(1, 7)
    ]
    first = body["sprints"][0]
    assert (first["name"], first["start"], first["end"]) == (
        "S1",
        (TODAY - timedelta(days=88)).isoformat(),
        (TODAY - timedelta(days=79)).isoformat(),
    )


def test_velocity_counts_tasks_when_no_task_its_sprints_hold_has_points(app, client, headers, clock):
    first = ended_sprint(app, clock, "S1", -30, {"a": None, "b": None, "pointed": 5}, {"a": 3})
    second = ended_sprint(app, clock, "S2", -15, {"c": None, "d": None}, {"c": 2, "d": 4})
    with app.app_context():
        pointed = db.session.scalar(sa.select(Task.id).where(Task.name == "pointed"))
    patch(client, headers, pointed, {"sprint": None})  # left the sprint after its end
    project = client.get("/api/projects", headers=headers).get_json()["results"][0]["id"]
    body = client.get(f"/api/projects/{project}/velocity", headers=headers).get_json()
    assert body["unit"] == "tasks"
    assert [(s["id"], s["committed"], s["completed"]) for s in body["sprints"]] == [
        (first, 3, 1),
        (second, 2, 2),
    ]


def test_burndown_and_velocity_are_visible_to_members_only(
    client, headers, make_user, make_token, make_project, make_sprint
):
    outsider = {"Authorization": f"Token {make_token(make_user('stranger', project=None))}"}
    sprint = make_sprint()
    project = client.get("/api/projects", headers=headers).get_json()["results"][0]["id"]
    assert_error(
        client.get(f"/api/sprints/{sprint}/burndown", headers=outsider), 404, f"Sprint {sprint} not found."
    )
    assert_error(
        client.get(f"/api/projects/{project}/velocity", headers=outsider),
        404,
        f"Project {project} not found.",
    )
