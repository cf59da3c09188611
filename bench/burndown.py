"""Burndown and velocity with a long history: the time of one request and its SQL.

    python -m bench.burndown                 # 300 tasks, 20,000 logged changes, 15 requests
    python -m bench.burndown --quick         # 300 tasks, 2,000 changes, 5 requests

A migrated PostgreSQL database gets one project, one sprint of 14 days (ending in
7) and ``--tasks`` tasks in it, then ``--changes`` logged task changes spread over
the sprint's days (status moves, points, moves to the backlog and back), written
as the change log stores them. The app answers ``GET /api/sprints/<id>/burndown``
in-process (Flask test client, no HTTP server): the figure is the app's own work,
the median over ``--requests`` requests after one warm-up, with the number of SQL
statements per request. The same is measured for ``GET /api/tasks/<id>`` in the
same run, as a baseline for the machine's speed at that moment.

A second project's sprint, with as many tasks but only ``--short-changes``
logged changes (200 by default), is the baseline for the history's cost: the
"Ratios" table gives the long history's burndown ÷ the short one's, and the long
history's burndown ÷ the single task GET. The requests are timed while holding
the shared benchmark lock (the writing of the history is not).
"""

import argparse
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

import sqlalchemy as sa

from app import create_app, db
from app.models import Event, Membership, Project, Sprint, Task, Token, User
from bench.common import bench_lock, lock_waited_s, log, ratios_table
from config import TestingConfig
from tests.support.servers import migrated_postgres_database

STATUS_FLOW = (1, 2, 3, 4)


def fill(app, tasks, changes, seed=7, name="Long history", owner=None):
    """(sprint id, a task id, an API token, the user's id) after writing a project with one
    sprint, its tasks and ``changes`` logged changes; ``owner``: the user of an earlier call."""
    rng = random.Random(seed)
    today = date.today()
    start, end = today - timedelta(days=7), today + timedelta(days=7)
    with app.app_context():
        if owner is None:
            user = User(username="bench", full_name="Bench")
            user.set_password("bench")
        else:
            user = db.session.get(User, owner)
        project = Project(name=f"Bench, {name}")
        db.session.add_all([user, project, Membership(project=project, user=user, role="admin")])
        db.session.flush()
        sprint = Sprint(project_id=project.id, name=name, start=start, end=end)
        db.session.add(sprint)
        db.session.flush()
        rows = [
            Task(project_id=project.id, sprint=sprint, name=f"Task {i}", points=rng.choice([1, 2, 3, 5, 8]))
            for i in range(tasks)
        ]
        db.session.add_all(rows)
        db.session.commit()
        ids = [task.id for task in rows]
        state = {task_id: {"status": 1, "sprint": sprint.id, "points": 3} for task_id in ids}
        events = []
        days = (today - start).days + 1
        for n in range(changes):
            task_id = rng.choice(ids)
            body = dict(state[task_id])
            previous = body["sprint"]
            roll = rng.random()
            if roll < 0.7:
                body["status"] = rng.choice(STATUS_FLOW) if body["sprint"] else 1
            elif roll < 0.85:
                body["points"] = rng.choice([1, 2, 3, 5, 8, None])
            else:
                body["sprint"] = None if body["sprint"] else sprint.id
                body["status"] = 1
            state[task_id] = body
            day = start + timedelta(days=n * days // changes)
            events.append(
                {
                    "model": "task",
                    "object_id": task_id,
                    "action": "update",
                    "body": {"id": task_id, "name": f"Task {task_id}", **body},
                    "actor": "bench",
                    "project": project.id,
                    "task": task_id,
                    "board": body["sprint"],
                    "previous_board": previous if previous != body["sprint"] else None,
                    "all_boards": body["sprint"] is None or previous is None,
                    "created": datetime.combine(day, clock(12), tzinfo=UTC),
                }
            )
        for chunk in range(0, len(events), 2000):
            db.session.execute(sa.insert(Event), events[chunk : chunk + 2000])
        token, value = Token.issue(user, 3600)
        db.session.add(token)
        db.session.commit()
        return sprint.id, ids[0], value, user.id


def measure(app, path, token, requests):
    client = app.test_client()
    headers = {"Authorization": f"Token {token}"}
    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get(path, headers=headers).status_code == 200  # warm-up
        statements.clear()
        client.get(path, headers=headers)
        count = len(statements)
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(path, headers=headers)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    return statistics.median(times), count


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--changes", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--short-changes", type=int, default=200, help="the short history's changes")
    parser.add_argument("--quick", action="store_true", help="2,000 changes, 5 requests")
    args = parser.parse_args()
    if args.quick:
        args.changes, args.requests = 2_000, 5
    started = time.monotonic()
    with migrated_postgres_database() as url:
        app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url)
        log(f"writing {args.tasks} tasks and {args.changes} logged changes, and a short history")
        sprint, task, token, owner = fill(app, args.tasks, args.changes)
        short, *_ = fill(app, args.tasks, args.short_changes, seed=8, name="Short history", owner=owner)
        with bench_lock():
            burndown, burndown_sql = measure(app, f"/api/sprints/{sprint}/burndown", token, args.requests)
            short_burndown, short_sql = measure(app, f"/api/sprints/{short}/burndown", token, args.requests)
            baseline, baseline_sql = measure(app, f"/api/tasks/{task}", token, args.requests)
        app.extensions["realtime"].stop()
        with app.app_context():
            db.engine.dispose()
    print(f"tasks {args.tasks} per sprint, requests {args.requests} (medians)")
    print()
    print("| request | ms | SQL statements |")
    print("|---|---|---|")
    print(f"| burndown, {args.changes} logged changes | {burndown * 1000:.1f} | {burndown_sql} |")
    print(f"| burndown, {args.short_changes} logged changes | {short_burndown * 1000:.1f} | {short_sql} |")
    print(f"| GET /api/tasks/<id> | {baseline * 1000:.1f} | {baseline_sql} |")
    print()
    print(
        ratios_table(
            [
                (
                    f"burndown, {args.changes} changes ÷ {args.short_changes} changes",
                    burndown * 1000,
                    short_burndown * 1000,
                    "ms",
                    1,
                ),
                (
                    f"burndown, {args.changes} changes ÷ GET a task",
                    burndown * 1000,
                    baseline * 1000,
                    "ms",
                    1,
                ),
            ]
        )
    )
    waited = lock_waited_s()
    print(f"\n{time.monotonic() - started:.0f} s, of which {waited:.0f} s waiting for the benchmark lock")


if __name__ == "__main__":
    main()
