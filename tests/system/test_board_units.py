"""The board's DOM-free rules, run as the browser runs them: each case imports the
ES modules from the served ``/static/js/`` in Chromium and hands its results back
to be checked here. Seq rules (``board/seq.js``), the tasks as shown
(``board/store.js``), placement and ordering, changed-field diffs and
conflict merges (``model.js``), drop positions (``board/drag.js``), today's burndown point
(``burndown.js``), points (``points.js``), the header's dates and column
figures (``board/view.js``), sprint groups and rules (``sprints/``), the
projects list with its roles and address (``projects/list.js``), board filters
(``board/filters.js``), links in comments (``conversation/text.js``), "since
you were last here" (``conversation/since.js``), undo (``board/undo.js``) and
waiting changes (``board/outbox.js``).
"""

import pytest

from tests.system.browser_pages import day

pytest_plugins = ["tests.system.browser_support"]
pytestmark = [pytest.mark.server, pytest.mark.browser]

SPRINT = 7
# A task as the API shows it, in sprint SPRINT unless told otherwise.
TASK = """(id, fields = {}) => ({
  id, name: `Task ${id}`, description: "", sprint: 7, status: 1, order: id * 1024,
  assigned: null, started: null, due: null, completed: null, ...fields,
})"""


def with_task(body):
    """A case function whose body can call ``task(id, fields)``."""
    return body.replace("=> {", f"=> {{ const task = {TASK};", 1)


# -- seq rules -------------------------------------------------------------------------------


def test_a_late_or_repeated_change_is_not_applied_and_objects_are_independent(units):
    results = units(
        ["board/seq.js"],
        """({ SeqGate }) => {
          const gate = new SeqGate();
          const change = (model, id, seq) => gate.admit({ model, id, seq });
          return [
            change("task", 1, 5), change("task", 1, 4), change("task", 1, 5), change("task", 1, 6),
            change("task", 2, 3), change("sprint", 1, 3),
          ];
        }""",
    )
    assert results == [True, False, False, True, True, True]


def test_changes_up_to_the_seq_a_load_showed_are_stale(units):
    results = units(
        ["board/seq.js"],
        """({ SeqGate, isChange }) => {
          const gate = new SeqGate();
          const first = gate.last;
          gate.loadedUpTo(10);
          const afterLoad = gate.last;
          const stale = gate.admit({ model: "task", id: 3, seq: 10 });
          const fresh = gate.admit({ model: "task", id: 3, seq: 11 });
          gate.saw(14);
          gate.saw(12);
          const seen = gate.last;
          gate.forget();
          return [first, afterLoad, stale, fresh, seen, gate.last,
                  isChange({ seq: 1 }), isChange({ seq: "1" }), isChange(null)];
        }""",
    )
    assert results == [None, 10, False, True, 14, None, True, False, False]


def test_a_load_from_a_log_behind_what_the_board_saw_starts_the_seq_rules_over(units):
    """The database was replaced: its log is at 3 where the board had seen 1000."""
    results = units(
        ["board/seq.js"],
        """({ SeqGate }) => {
          const gate = new SeqGate();
          gate.loadedUpTo(900);
          const before = gate.admit({ model: "task", id: 1, seq: 1000 });
          gate.loadedUpTo(3);
          return [before, gate.last, gate.admit({ model: "task", id: 1, seq: 4 }),
                  gate.admit({ model: "task", id: 2, seq: 3 })];
        }""",
    )
    # After the reload, a change of the new log applies; one the load already showed does not.
    assert results == [True, 3, True, False]


# -- the tasks as shown ---------------------------------------------------------------------


def test_my_write_stays_shown_until_its_echo_even_when_an_older_echo_comes_late(units):
    results = units(
        ["board/store.js"],
        with_task("""({ TaskStore }) => {
          const store = new TaskStore(7);
          store.load([task(1)]);
          const shown = () => store.tasks.get(1).status;
          store.setOverride(1, task(1, { status: 2 }), true);  // first move, in flight
          const inFlight = shown();
          store.setOverride(1, task(1, { status: 2 }), false); // answered
          store.setOverride(1, task(1, { status: 3 }), true);  // second move, in flight
          store.setOverride(1, task(1, { status: 3 }), false);
          store.applyChange({ id: 1, body: task(1, { status: 2 }), actor: "alice" }); // echo of the first
          const afterLateEcho = shown();
          store.applyChange({ id: 1, body: task(1, { status: 3 }), actor: "alice" }); // echo of the second
          const result = [inFlight, afterLateEcho, shown(), store.overrides.size, store.revision(1)];
          store.stop();
          return result;
        }"""),
    )
    assert results == [2, 3, 3, 0, 2]


def test_an_echo_that_arrives_before_the_answer_shows_the_servers_copy_at_once(units):
    results = units(
        ["board/store.js"],
        with_task("""({ TaskStore }) => {
          const store = new TaskStore(7);
          store.load([task(1)]);
          store.setOverride(1, task(1, { status: 4 }), true);
          store.applyChange({ id: 1, body: task(1, { status: 4 }), actor: "alice" });
          store.setOverride(1, task(1, { status: 4 }), false);
          return [store.overrides.size, store.tasks.get(1).status];
        }"""),
    )
    assert results == [0, 4]


def test_the_board_shows_its_sprint_and_the_backlog_and_notices_tasks_leaving(units):
    results = units(
        ["board/store.js"],
        with_task("""({ TaskStore }) => {
          const store = new TaskStore(7);
          store.load([task(1), task(2, { sprint: null }), task(3, { sprint: 8 })]);
          const shown = [...store.tasks.keys()].sort();
          const movedAway = store.applyChange({ id: 1, body: task(1, { sprint: 8 }) });
          const elsewhere = store.applyChange({ id: 3, body: task(3, { sprint: 8, name: "Renamed" }) });
          const removed = store.applyChange({ id: 2, body: null });
          return [shown, movedAway, elsewhere, removed, store.tasks.size];
        }"""),
    )
    assert results == [[1, 2], True, False, True, 0]


def test_a_read_answer_is_not_taken_over_a_live_change_that_came_meanwhile(units):
    results = units(
        ["board/store.js"],
        with_task("""({ TaskStore }) => {
          const store = new TaskStore(7);
          store.load([task(1)]);
          const revision = store.revision(1);
          store.applyChange({ id: 1, body: task(1, { name: "Live" }) });
          const stale = store.accept(task(1, { name: "Read" }), '"e1"', revision);
          const fresh = store.accept(task(1, { name: "Read again" }), '"e2"', store.revision(1));
          return [stale, fresh, store.tasks.get(1).name, store.etagOf(task(1, { name: "Read again" })),
                  store.etagOf(task(1, { name: "Live" }))];
        }"""),
    )
    assert results == [False, True, "Read again", '"e2"', None]


def test_a_reload_keeps_writes_in_flight_and_drops_settled_ones(units):
    results = units(
        ["board/store.js"],
        with_task("""({ TaskStore }) => {
          const store = new TaskStore(7);
          store.load([task(1), task(2)]);
          store.setOverride(1, task(1, { status: 2 }), true);
          store.setOverride(2, task(2, { status: 3 }), false);
          store.load([task(1), task(2)]);
          const result = [store.tasks.get(1).status, store.tasks.get(2).status, [...store.overrides.keys()]];
          store.stop();
          return result;
        }"""),
    )
    assert results == [2, 1, [1]]


def test_without_an_echo_the_servers_copy_wins_after_a_while(units):
    results = units(
        ["board/store.js"],
        with_task("""async ({ TaskStore }) => {
          const expired = [];
          const store = new TaskStore(7, { overrideLifetime: 50, onExpire: (id) => expired.push(id) });
          store.load([task(1)]);
          store.setOverride(1, task(1, { status: 2 }), false);
          const before = store.tasks.get(1).status;
          await new Promise((resolve) => setTimeout(resolve, 150));
          return [before, store.tasks.get(1).status, expired];
        }"""),
    )
    assert results == [2, 1, [1]]


# -- placement and ordering ------------------------------------------------------------------


def test_a_dropped_task_takes_an_order_between_its_new_neighbours(units):
    results = units(
        ["model.js"],
        with_task("""({ placeAt }) => {
          const column = [task(1, { order: 0 }), task(2, { order: 1024 }), task(3, { order: 2048 })];
          const moving = task(9, { order: 5000, sprint: null });
          const orders = [0, 1, 3].map((index) => placeAt(moving, column, index));
          const kept = placeAt(task(2, { order: 1024 }), [column[0], column[2]], 1);
          return [...orders.map(({ order, renumber }) => [order, renumber.length]), kept.order];
        }"""),
    )
    assert results == [[-1024, 0], [512, 0], [5000, 0], 1024]


def test_a_drop_with_no_room_between_neighbours_renumbers_the_column(units):
    results = units(
        ["model.js"],
        with_task("""({ placeAt }) => {
          const column = [task(1, { order: 10 }), task(2, { order: 11 })];
          const { order, renumber } = placeAt(task(9, { order: 99 }), column, 1);
          return [order, renumber.map(([item, wanted]) => [item.id, wanted])];
        }"""),
    )
    assert results == [2048, [[1, 1024], [9, 2048], [2, 3072]]]


def test_alt_arrows_step_between_columns_and_within_one(units):
    results = units(
        ["model.js"],
        with_task("""({ stepTarget, isStepKey }) => {
          const columns = {
            backlog: [task(5, { sprint: null })],
            "not-started": [task(1), task(2)],
            "in-progress": [task(3, { status: 2 })],
          };
          const tasksOf = (key) => columns[key] || [];
          const step = (item, key) => stepTarget(item, key, tasksOf);
          return [
            step(task(1), "ArrowRight"), step(task(1), "ArrowLeft"),
            step(task(5, { sprint: null }), "ArrowLeft"),
            step(task(1), "ArrowUp"), step(task(1), "ArrowDown"), step(task(2), "ArrowDown"),
            step(task(4, { status: 4 }), "ArrowRight"), isStepKey("ArrowUp"), isStepKey("Enter"),
          ];
        }"""),
    )
    assert results == [
        {"columnKey": "in-progress", "index": 1},
        {"columnKey": "backlog", "index": 1},
        None,
        None,
        {"columnKey": "not-started", "index": 1},
        None,
        None,
        True,
        False,
    ]


def test_moving_a_task_sets_and_clears_its_dates_by_column(units):
    results = units(
        ["model.js"],
        with_task("""({ moveFields, newTaskFields }) => {
          const started = task(1, { status: 2, started: "2020-01-02" });
          return [
            moveFields(started, "done", 7),
            moveFields(started, "testing", 7),
            moveFields(started, "not-started", 7),
            moveFields(started, "backlog", 7),
            moveFields(task(2), "in-progress", 7),
            newTaskFields("New", "not-started", 7, [task(1, { order: 3000 })]),
            newTaskFields("New", "done", 7, []),
          ];
        }"""),
    )
    today = day()
    assert results == [
        {"sprint": SPRINT, "status": 4, "started": "2020-01-02", "completed": today},
        {"sprint": SPRINT, "status": 3, "started": "2020-01-02", "completed": None},
        {"sprint": SPRINT, "status": 1, "started": None, "completed": None},
        {"sprint": None, "status": 1, "started": None, "completed": None},
        {"sprint": SPRINT, "status": 2, "started": today, "completed": None},
        {"name": "New", "sprint": SPRINT, "status": 1, "order": 4024},
        {"name": "New", "sprint": SPRINT, "status": 4, "started": today, "completed": today, "order": 0},
    ]


def test_columns_and_status_labels_come_from_one_table(units):
    results = units(
        ["model.js"],
        """({ COLUMNS, STATUS_LABELS, columnKeyOf, sprintName }) => [
          COLUMNS.map((column) => [column.key, column.title, column.status, column.inSprint]),
          STATUS_LABELS,
          columnKeyOf({ sprint: null, status: 1 }),
          columnKeyOf({ sprint: 3, status: 3 }),
          sprintName({ name: "Sprint 9", end: "2030-05-17" }),
          sprintName({ name: "", end: "2030-05-17" }).startsWith("Sprint ending "),
        ]""",
    )
    assert results == [
        [
            ["backlog", "Backlog", 1, False],
            ["not-started", "Not Started", 1, True],
            ["in-progress", "In Progress", 2, True],
            ["testing", "Testing", 3, True],
            ["done", "Done", 4, True],
        ],
        {"1": "Not Started", "2": "In Progress", "3": "Testing", "4": "Done"},
        "backlog",
        "testing",
        "Sprint 9",
        True,
    ]


# -- changed-field diffs ---------------------------------------------------------------------


def test_only_fields_that_differ_are_sent_or_shown_in_a_conflict(units):
    results = units(
        ["model.js"],
        with_task("""({ changedFields, differingFields, sameTask }) => {
          const base = task(1, { assigned: null, due: null });
          return [
            changedFields(base, { name: "Task 1", assigned: undefined, due: "2030-01-01", status: 2 }),
            sameTask(base, { ...base, links: {}, status_display: "x" }),
            sameTask(base, { ...base, order: 1 }),
            differingFields(base, task(1, { status: 3, description: "theirs", order: 5, due: undefined })),
            differingFields(base, { ...base }),
          ];
        }"""),
    )
    assert results == [{"due": "2030-01-01", "status": 2}, True, False, ["description", "status"], []]


def test_edits_to_different_fields_merge_and_only_fields_both_changed_clash(units):
    results = units(
        ["model.js"],
        with_task("""({ mergeEdit }) => {
          const base = task(1, { status: 2, started: "2030-01-01" });
          const renamed = task(1, { name: "Their name", status: 2, started: "2030-01-01" });
          const movedDone = { status: 4, completed: "2030-01-05" };
          return [
            // They renamed it, I moved it: my move goes on top of their name.
            mergeEdit(base, renamed, movedDone),
            // Both renamed it, differently: a clash; the same name: none.
            mergeEdit(base, renamed, { name: "My name", description: "Mine" }),
            mergeEdit(base, renamed, { name: "Their name" }),
            // Both moved it (positions are never asked about), to different columns.
            mergeEdit(
              base, task(1, { status: 3, started: "2030-01-01", order: 9 }), { ...movedDone, order: 4 },
            ),
          ];
        }"""),
    )
    merged, renamed_both, same_name, moved_both = results
    assert merged == {"clashes": [], "merged": {"status": 4, "completed": "2030-01-05"}}
    assert renamed_both == {"clashes": ["name"], "merged": {"name": "My name", "description": "Mine"}}
    assert same_name == {"clashes": [], "merged": {}}
    assert moved_both["clashes"] == ["status"]


# -- drop positions, burndown, header ------------------------------------------------------------


def test_a_pointer_below_a_cards_middle_drops_after_it(units):
    results = units(
        ["board/drag.js"],
        """({ indexAt }) => {
          const boxes = [{ top: 0, height: 100 }, { top: 110, height: 100 }, undefined];
          // A filtered column: the second and fourth cards are hidden.
          const filtered = [{ top: 0, height: 100 }, undefined, { top: 110, height: 100 }, undefined];
          return [10, 60, 170, 500].map((y) => indexAt(y, boxes)).concat(indexAt(500, []))
            .concat([10, 60, 170].map((y) => indexAt(y, filtered)));
        }""",
    )
    assert results == [0, 1, 2, 2, 0, 0, 1, 3]


def test_todays_burndown_point_comes_from_the_boards_tasks_and_the_rest_from_the_history(units):
    results = units(
        ["burndown.js"],
        with_task("""({ liveBurndown }) => {
          const fetched = {
            sprint: 7, start: "2030-01-01", end: "2030-01-11", unit: "points", total: 10,
            days: [
              { date: "2030-01-01", remaining: 10, ideal: 10 },
              { date: "2030-01-02", remaining: 8, ideal: 9 },
              { date: "2030-01-03", remaining: 8, ideal: 8 },
            ],
          };
          const tasks = [task(1, { points: 2.5 }), task(2, { points: 3, status: 4 }),
                         task(3, { points: 0.1 }), task(4, { points: 0.2, status: 2 }), task(5)];
          const today = liveBurndown(fetched, tasks, "2030-01-03");
          const tomorrow = liveBurndown(fetched, tasks, "2030-01-04");
          const twoTasks = [task(1), task(2, { status: 4 })];
          const counted = liveBurndown({ ...fetched, unit: "tasks", total: 4 }, twoTasks, "2030-01-03");
          const firstPoints = liveBurndown({ ...fetched, unit: "tasks" }, tasks, "2030-01-03");
          const pointsGone = liveBurndown(fetched, twoTasks, "2030-01-03");
          const ahead = { ...fetched, start: "2030-01-05", days: [], total: 0 };
          const notStarted = liveBurndown(ahead, tasks, "2030-01-03");
          const ended = liveBurndown(fetched, tasks, "2030-02-01");
          return [today, tomorrow.days.map((day) => [day.date, day.remaining]), counted.today,
                  counted.days.at(-1), firstPoints.stale, today.stale, notStarted, ended.today,
                  ended.days.length, [pointsGone.unit, pointsGone.stale, pointsGone.today]];
        }"""),
    )
    today, tomorrow, counted, counted_last, first_points, fresh, not_started, *ended, points_gone = results
    ended_today, ended_days = ended
    # Today's point: the points of the tasks not Done (2.5 + 0.1 + 0.2, without a float error);
    # the days before it as fetched.
    assert today["today"] == 2.8 and today["unit"] == "points" and today["total"] == 10
    assert [day["remaining"] for day in today["days"]] == [10, 8, 2.8]
    assert today["days"][0]["ideal"] == 10 and today["days"][-1]["ideal"] == 8
    # The next day is added after the fetched ones (and the board fetches the history again).
    assert tomorrow == [["2030-01-01", 10], ["2030-01-02", 8], ["2030-01-03", 8], ["2030-01-04", 2.8]]
    assert counted == 1 and counted_last == {"date": "2030-01-03", "remaining": 1, "ideal": 3.2}
    # The first points given in a sprint counted in tasks make the history stale.
    assert first_points is True and fresh is False
    # So does the last pointed task leaving a sprint counted in points: it is counted in tasks now.
    assert points_gone == ["tasks", True, 1]
    # Before its start there is no point yet, and the ideal starts from what the sprint holds now.
    assert not_started["today"] is None and not_started["days"] == [] and not_started["total"] == 2.8
    # After its end the history stands as it is.
    assert ended_today is None and ended_days == 3


def test_points_follow_the_apis_rule_and_add_up_without_rounding_errors(units):
    results = units(
        ["points.js"],
        with_task("""({ parsePoints, sumPoints, columnTotals, remainingOf, unitOf, POINTS_RULE }) => {
          const typed = ["", "  ", "3", "2.5", "0", "999", ".5", "2,5", "7.", "1000", "1.25", "-1", "abc",
                         "1e2"];
          const tasks = [task(1, { points: 0.1 }), task(2, { points: 0.2 }),
                         task(3, { status: 4, points: 5 }), task(4)];
          return [typed.map((text) => parsePoints(text)), POINTS_RULE, sumPoints(tasks), columnTotals(tasks),
                  columnTotals([task(1), task(2)]), columnTotals([]), remainingOf(tasks, "points"),
                  remainingOf(tasks, "tasks"), unitOf(tasks), unitOf([task(1)])];
        }"""),
    )
    parsed, rule, total, totals, no_points, empty, remaining_points, remaining_tasks, unit, no_unit = results
    error = {"error": rule}
    assert rule == "Points are a number from 0 to 999 with at most one decimal."
    values = [None, None, 3, 2.5, 0, 999, 0.5, 2.5, 7]
    assert parsed == [{"value": value} for value in values] + [error] * 5
    assert total == 5.3 and totals == {"count": 4, "points": 5.3}
    assert no_points == {"count": 2, "points": None} and empty == {"count": 0, "points": None}
    assert (remaining_points, remaining_tasks, unit, no_unit) == (0.3, 3, "points", "tasks")


def test_a_columns_header_shows_its_count_and_points(units):
    results = units(
        ["board/view.js"],
        with_task("""({ columnFigures }) => {
          return [columnFigures([task(1, { points: 1 })]),
                  columnFigures([task(1, { points: 2 }), task(2, { points: 1.5 })]),
                  columnFigures([task(1)])];
        }"""),
    )
    assert results[0] == {"count": 1, "points": 1, "short": "1 pt", "long": "1 point"}
    assert results[1] == {"count": 2, "points": 3.5, "short": "3.5 pts", "long": "3.5 points"}
    assert results[2] == {"count": 1, "points": None, "short": None, "long": ""}


def test_sprints_are_grouped_as_current_upcoming_and_past_and_past_pages_follow_the_oldest(units):
    results = units(
        ["sprints/groups.js"],
        """({ groupSprints, pastCursor, sprintRange }) => {
          const sprint = (id, start, end) => ({ id, start, end, name: `S${id}` });
          const sprints = [
            sprint(1, "2029-12-01", "2029-12-14"), sprint(2, "2029-12-15", "2029-12-31"),
            sprint(3, "2030-01-01", "2030-01-14"), sprint(4, "2030-01-10", "2030-01-20"),
            sprint(5, "2030-01-15", "2030-01-28"), sprint(6, "2030-01-05", "2030-01-10"),
          ];
          const now = "2030-01-10";
          const groups = groupSprints(sprints, now);
          const ids = (list) => list.map((item) => item.id);
          return [ids(groups.current), ids(groups.upcoming), ids(groups.past),
                  pastCursor(sprints, now), pastCursor([], now),
                  sprintRange(sprints[2], now), sprintRange(sprints[4], now), sprintRange(sprints[5], now),
                  sprintRange(sprints[0], now)];
        }""",
    )
    current, upcoming, past, cursor, first_cursor, running, ahead, last_day, ended = results
    # Current: running today (the last day included), soonest end first; upcoming: starting later.
    assert current == [6, 3, 4] and upcoming == [5] and past == [2, 1]
    assert cursor == "2029-12-13" and first_cursor == "2030-01-09"
    assert running.endswith("· 4 days left") and ahead.endswith("· starts in 5 days")
    assert last_day.endswith("· last day") and ended.endswith("· ended")


def test_a_sprints_rules_are_checked_with_the_apis_messages_before_sending(units):
    results = units(
        ["sprints/rules.js"],
        """({ sprintProblems, deleteRefusal }) => {
          const now = "2030-01-10";
          const before = { id: 3, name: "S", start: "2029-12-20", end: "2030-01-03" };
          const others = [{ id: 4, end: "2030-02-01" }, before];
          return [
            sprintProblems({ name: "Fine", start: "", end: "2030-01-20" }, null, now, others),
            sprintProblems({ name: "", start: "", end: "" }, null, now),
            sprintProblems({ name: "x".repeat(101), start: "2030-01-30", end: "2030-01-20" }, null, now),
            sprintProblems({ name: "", start: "", end: "2030-02-01" }, null, now, others),
            sprintProblems({ name: "", start: "", end: "2030-01-05" }, null, now),
            // An ended sprint keeps its end; only a changed end must be in the future.
            sprintProblems({ name: "Renamed", start: "2029-12-20", end: "2030-01-03" }, before, now, others),
            sprintProblems({ name: "S", start: "2030-01-04", end: "2030-01-03" }, before, now, others),
            deleteRefusal({ name: "Sprint 9", end: "2030-01-20" }, 3), deleteRefusal({ name: "Sprint 9" }, 1),
          ];
        }""",
    )
    fine, empty, bad, taken, past, renamed, start_after, refusal, refusal_one = results
    assert fine == {} and renamed == {}
    assert empty == {"end": ["Choose the date the sprint ends."]}
    assert bad == {
        "name": ["A sprint's name can have at most 100 characters."],
        "start": ["Start date must be on or before the end date."],
    }
    assert taken == {"end": ["A sprint with this end date already exists."]}
    assert past == {"end": ["End date cannot be in the past."]}
    assert start_after == {"start": ["Start date must be on or before the end date."]}
    assert refusal.startswith("“Sprint 9” still has 3 tasks, so it cannot be deleted yet.")
    assert "Move them to another sprint or to the backlog, or delete them" in refusal
    assert "still has 1 task," in refusal_one


def test_the_header_says_how_many_days_are_left(units):
    results = units(
        ["board/view.js"],
        """({ sprintWhen }) => [
          sprintWhen({ end: "2030-01-10" }, "2030-01-07"),
          sprintWhen({ end: "2030-01-10" }, "2030-01-09"),
          sprintWhen({ end: "2030-01-10" }, "2030-01-10"),
          sprintWhen({ end: "2030-01-10" }, "2030-01-11"),
        ]""",
    )
    assert [text.split(" · ")[-1] for text in results[:3]] == ["3 days left", "1 day left", "last day"]
    assert results[3].startswith("Ended ") and "·" not in results[3]


# -- projects ------------------------------------------------------------------------------------

PROJECTS = """(me) => {
  const list = new ProjectList(me);
  list.load([{ id: 1, name: "Team", role: "admin" }, { id: 2, name: "Apps", role: "viewer" }]);
  return list;
}"""


def with_projects(body):
    """A case function (of ``projects/list.js``) whose body can call ``projects(me)``."""
    return body.replace("=> {", f"=> {{ const projects = {PROJECTS};", 1)


def test_the_chosen_project_is_the_addresss_when_i_am_in_it_else_the_first_by_name(units):
    results = units(
        ["projects/list.js"],
        with_projects("""({ ProjectList, projectIdFromSearch, searchWithProject }) => {
          const list = projects("alice");
          return [
            list.choose(1).name, list.choose(9).name, list.choose(null).name, new ProjectList("x").choose(1),
            projectIdFromSearch("?project=12&x=1"), projectIdFromSearch("?project=abc"),
            projectIdFromSearch(""),
            searchWithProject("?x=1", 5), searchWithProject("?project=5", null),
          ];
        }"""),
    )
    assert results == ["Team", "Apps", "Apps", None, 12, None, None, "?x=1&project=5", ""]


def test_membership_changes_tell_me_i_lost_a_project_or_changed_role(units):
    results = units(
        ["projects/list.js"],
        with_projects("""({ ProjectList, canWrite, isAdmin }) => {
          const list = projects("bob");
          const member = (seq, id, action, body) => list.apply({ seq, model: "member", id, action, body });
          const demoted = member(5, 10, "update", { project: 1, username: "bob", role: "viewer" });
          const role = list.roleIn(1);
          const late = member(4, 10, "update", { project: 1, username: "bob", role: "admin" });
          const roleAfterLate = list.roleIn(1);
          const other = member(6, 11, "add", { project: 1, username: "carol", role: "member" });
          const joined = member(7, 12, "add", { project: 3, username: "bob", role: "member" });
          const body = { id: 2, name: "Mobile" };
          const renamed = list.apply({ seq: 8, model: "project", id: 2, action: "update", body });
          const removed = member(9, 10, "remove", { project: 1, username: "bob" });
          return [demoted, role, late, roleAfterLate, other, joined,
                  renamed, list.get(2), removed.lost.name, list.get(1),
                  [canWrite("viewer"), canWrite("member"), isAdmin("member"), isAdmin("admin")]];
        }"""),
    )
    demoted, role, late, role_after_late, other, joined, renamed, apps, lost, gone, roles = results
    assert demoted == {"changed": True, "members": 1} and role == "viewer"
    assert late == {} and role_after_late == "viewer"
    assert other == {"members": 1}
    assert joined == {"reload": True}
    assert renamed == {"changed": True} and apps == {"id": 2, "name": "Mobile", "role": "viewer"}
    assert lost == "Team" and gone is None
    assert roles == [False, True, False, True]


# -- filters ---------------------------------------------------------------------------------


def test_a_filter_matches_assignee_text_and_overdue(units):
    results = units(
        ["board/filters.js"],
        with_task("""({ matchesFilter, personChoice, NO_FILTER }) => {
          const context = { me: "alice", today: "2030-05-10" };
          const tasks = [
            task(1, { assigned: "alice", name: "Fix LOGIN" }),
            task(2, { assigned: "bob", description: "the login page" }),
            task(3, { due: "2030-05-09" }),
            task(4, { due: "2030-05-09", status: 4 }),
            task(5, { due: "2030-05-10", assigned: "alice" }),
            task(6, { assigned: "me" }),
            task(7, { assigned: "unassigned" }),
          ];
          const matching = (filter) => tasks
            .filter((item) => matchesFilter(item, { ...NO_FILTER, ...filter }, context))
            .map((item) => item.id);
          return [
            matching({}),
            matching({ assignee: "me" }),
            matching({ assignee: "unassigned" }),
            matching({ assignee: "bob" }),
            matching({ text: "login" }),
            matching({ overdue: true }),
            matching({ assignee: "me", overdue: true }),
            // People named "me" and "unassigned" are chosen as such.
            [personChoice("me"), personChoice("unassigned"), personChoice("bob")],
            matching({ assignee: personChoice("me") }),
            matching({ assignee: personChoice("unassigned") }),
          ];
        }"""),
    )
    assert results == [
        [1, 2, 3, 4, 5, 6, 7],
        [1, 5],
        [3, 4],
        [2],
        [1, 2],
        [3],
        [],
        ["~me", "~unassigned", "bob"],
        [6],
        [7],
    ]


def test_a_filter_round_trips_through_the_address_and_keeps_its_other_parameters(units):
    results = units(
        ["board/filters.js"],
        """({ parseFilter, searchWithFilter, isFiltering, countText, NO_FILTER }) => {
          const filter = { assignee: "me", text: "fix & test", overdue: true };
          const search = searchWithFilter("?project=3", filter);
          return [
            search,
            parseFilter(search),
            searchWithFilter(search, NO_FILTER),
            parseFilter("?overdue=yes&assignee=%20bob%20"),
            isFiltering(NO_FILTER),
            isFiltering(parseFilter("?q=x")),
            countText(3, 7, true),
            countText(7, 7, false),
          ];
        }""",
    )
    assert results == [
        "?project=3&assignee=me&q=fix+%26+test&overdue=1",
        {"assignee": "me", "text": "fix & test", "overdue": True},
        "?project=3",
        {"assignee": "bob", "text": "", "overdue": False},
        False,
        True,
        "3 of 7",
        "7",
    ]


# -- comments, activity, undo, waiting changes -----------------------------------------------


def test_only_http_addresses_become_links_and_the_rest_stays_text(units):
    results = units(
        ["conversation/text.js"],
        """({ linkPieces, textWithLinks }) => {
          const node = document.createElement("div");
          node.append(textWithLinks("<b>x</b> https://a.example/p?q=1."));
          return [
            linkPieces("See https://example.com/a?b=1, then http://x.org/y)."),
            linkPieces("javascript:alert(1) and data:text/html,hi and ftp://f.example"),
            linkPieces("<script>alert(1)</script>\\nline two"),
            linkPieces("https://"),
            linkPieces(""),
            [node.innerHTML, node.querySelector("a").rel],
          ];
        }""",
    )
    assert results == [
        [
            {"text": "See "},
            {"text": "https://example.com/a?b=1", "href": "https://example.com/a?b=1"},
            {"text": ", then "},
            {"text": "http://x.org/y", "href": "http://x.org/y"},
            {"text": ")."},
        ],
        [{"text": "javascript:alert(1) and data:text/html,hi and ftp://f.example"}],
        [{"text": "<script>alert(1)</script>\nline two"}],
        [{"text": "https://"}],
        [],
        [
            '&lt;b&gt;x&lt;/b&gt; <a href="https://a.example/p?q=1" rel="noopener noreferrer" '
            'target="_blank">https://a.example/p?q=1</a>.',
            "noopener noreferrer",
        ],
    ]


def test_entries_after_the_last_seq_seen_are_new_and_the_seq_is_kept_per_person_and_board(units):
    results = units(
        ["conversation/since.js"],
        """({ splitSince, LastSeen }) => {
          const entries = [{ seq: 9 }, { seq: 7 }, { seq: 5 }, { seq: 2 }];
          const seqs = ({ fresh, older }) => [fresh.map((e) => e.seq), older.map((e) => e.seq)];
          localStorage.clear();
          const mine = new LastSeen(localStorage, "unit", 4);
          const before = mine.read();
          mine.write(12);
          mine.write(10); // never goes back
          const replaced = new LastSeen(localStorage, "unit", 6);
          replaced.write(500);
          replaced.restart(3); // its log was replaced: goes back
          replaced.write(2);
          const restarted = replaced.read();
          const other = new LastSeen(localStorage, "unit", 5);
          const someoneElse = new LastSeen(localStorage, "other", 4);
          const kept = [mine.read(), other.read(), someoneElse.read()];
          localStorage.clear();
          const split = (seq) => seqs(splitSince(entries, seq));
          return [split(5), split(null), split(9), before, kept, restarted];
        }""",
    )
    assert results == [[[9, 7], [5, 2]], [[], [9, 7, 5, 2]], [[], [9, 7, 5, 2]], None, [12, None, None], 3]


def test_undoing_a_move_sends_back_the_fields_it_changed(units):
    results = units(
        ["board/undo.js", "model.js"],
        with_task("""({ previousFields }, { moveFields, changedFields }) => {
          const before = task(1, { status: 2, started: "2030-01-02", order: 3072 });
          const toDone = changedFields(before, { ...moveFields(before, "done", 7), order: 5000 });
          const toBacklog = changedFields(before, moveFields(before, "backlog", 7));
          return [toDone, previousFields(before, toDone), previousFields(before, toBacklog)];
        }"""),
    )
    today = day()
    assert results == [
        {"status": 4, "completed": today, "order": 5000},
        {"status": 2, "completed": None, "order": 3072},
        {"sprint": 7, "status": 2, "started": "2030-01-02"},
    ]


def test_a_waiting_change_is_named_as_a_move_a_reorder_or_an_edit(units):
    results = units(
        ["board/outbox.js"],
        with_task("""({ waitingLabel }) => {
          return [
            waitingLabel(task(1), { status: 3, started: "2030-01-01" }),
            waitingLabel(task(1), { sprint: null }),
            waitingLabel(task(1), { order: 5 }),
            waitingLabel(task(1), { name: "New", due: "2030-01-01", order: 5 }),
          ];
        }"""),
    )
    assert results == [
        "Move “Task 1” to Testing",
        "Move “Task 1” to Backlog",
        "Reorder “Task 1”",
        "Edit “Task 1”: name, due date",
    ]


# -- messages -----------------------------------------------------------------------------------


def test_the_apis_messages_are_shown_in_words_that_say_what_to_do(units):
    results = units(
        ["messages.js"],
        """({ friendlyErrors, friendlyMessage, friendlySentence }) => [
          friendlyErrors("login", { username: ["Length must be between 1 and 150."],
                                    password: ["Missing data for required field."] }),
          friendlyErrors("task", {
            name: ["This field may not be blank or longer than 100 characters."],
            description: ["Field may not be null."],
            points: ["Ensure that there is no more than 1 decimal place."],
            due: ["Not a valid date."],
            assigned: ['User "carol" is not a member of this project.'],
            sprint: ["Cannot add tasks to past sprints."],
          }),
          friendlyErrors("task", { non_field_errors: ['Backlog tasks must have "Not Started" status.',
                                                      "Expected a JSON object."] }),
          friendlyErrors("task", { non_field_errors: [
            "Started date cannot be set for not started tasks.",
            "Completed date cannot be set for uncompleted tasks.",
          ] }),
          friendlyErrors("sprint", { name: ["Ensure this field has no more than 100 characters."],
                                     end: ["Field may not be null."], start: ["Not a valid date."] }),
          friendlyMessage("sprint", "end", "A sprint with this end date already exists."),
          friendlyMessage("sprint", "end", "End date cannot be in the past."),
          friendlyMessage("comment", "body", "This field may not be blank."),
          friendlyMessage("project", "name", "This field may not be blank or longer than 100 characters."),
          friendlyMessage("member", "role", "Must be one of: admin, member, viewer."),
          friendlyMessage("task", "name", "Something the board has no words for."),
          friendlySentence("task", {
            message: "The submitted data is not valid.",
            body: { errors: { sprint: ["Cannot assign tasks to past sprints."] } },
          }),
          friendlySentence("task", { message: "Network down", body: null }),
        ]""",
    )
    login, task, backlog, dates, sprint, taken, past, comment, project, role, unknown, moved, offline = (
        results
    )
    assert login == {"username": ["Enter your username."], "password": ["Enter your password."]}
    assert task == {
        "name": ["Give the task a name of up to 100 characters."],
        "description": ["Write the description as plain text, or leave it empty."],
        "points": ["Points are a number from 0 to 999 with at most one decimal."],
        "due": ["Enter a date, such as 2030-01-31, or pick one from the calendar."],
        "assigned": [
            "That person is not in this project: choose someone who is, or ask an admin to add them."
        ],
        "sprint": ["This sprint has ended: add the task to a current sprint or to the backlog."],
    }
    # The status rules go beside the status; what is not about a field stays at the top.
    assert backlog == {
        "status": [
            "A backlog task has not started yet: move it into the sprint first, then change its status."
        ],
        "non_field_errors": ["Expected a JSON object."],
    }
    assert dates == {
        "status": [
            "A task that has not started has no start date: move it to In Progress first.",
            "Only a Done task has a completion date: move it to Done first.",
        ]
    }
    assert sprint == {
        "name": ["A sprint's name can have at most 100 characters."],
        "end": ["Choose the date the sprint ends."],
        "start": ["Enter a date, such as 2030-01-31, or pick one from the calendar."],
    }
    assert taken == "Another sprint of this project ends that day: choose another end date."
    assert past == "End date cannot be in the past."  # the API's own words already say it
    assert comment == "Write a comment of up to 10,000 characters."
    assert project == "Give the project a name of up to 100 characters."
    assert role == "Choose a role: viewer, member or admin."
    assert unknown == "Something the board has no words for."
    assert moved == "That sprint has ended: choose a current sprint or the backlog."
    assert offline == "Network down"
