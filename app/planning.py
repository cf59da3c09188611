"""Burndown and velocity, from what the change log recorded each day.

A sprint's history is replayed from its logged task changes (the board's and
those of tasks that left it), read once per request through an index: a task
added on day 3 raises day 3, a task done and then reopened counts again. Days
are UTC calendar days of the log's timestamps. Where the log has been pruned,
the oldest state it still holds stands for the days before; a task with no
logged change at all counts as it is now. The unit is points when a task the
sprint holds now has points, else every day counts tasks.

No sprint may last longer than ``LONGEST_SPRINT``; a row written before that
rule with a longer span (a start in year 1) lists its days from the log's
oldest change of its tasks, the days before only repeating the state it started
with, and never more than ``LONGEST_SPRINT`` of them.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from app import db
from app.fields import json_number
from app.models import Event, Sprint, Status, Task
from app.schemas import LONGEST_SPRINT

DONE = int(Status.DONE)


@dataclass(frozen=True)
class TaskState:
    in_sprint: bool
    done: bool
    points: Decimal | None


def _state(body, sprint_id):
    points = body.get("points")
    return TaskState(
        in_sprint=body.get("sprint") == sprint_id,
        done=body.get("status") == DONE,
        points=None if points is None else Decimal(str(points)),
    )


class SprintHistory:
    """The states of a sprint's tasks, day by day."""

    def __init__(self, sprint, changes, current_tasks):
        self.sprint = sprint
        self.changes = []  # (day, task id, TaskState or None when gone), in seq order
        self.initial = {}  # task id -> state before the first change the log holds
        for created, task_id, action, body, moved_in in changes:
            state = None if action == "remove" or body is None else _state(body, sprint.id)
            if task_id not in self.initial:
                self.initial[task_id] = self._before_first_change(action, state, moved_in)
            self.changes.append((created.date(), task_id, state))
        for task in current_tasks:
            if task.id not in self.initial:
                self.initial[task.id] = TaskState(True, task.status == DONE, task.points)
        # Points when a task the sprint holds now has them: tasks that only passed through
        # do not decide it, and with none pointed every day counts tasks, theirs too.
        self.unit = "points" if any(task.points is not None for task in current_tasks) else "tasks"

    def _before_first_change(self, action, state, moved_in):
        """A task's state before the first of its changes this board's log holds."""
        if action == "add" or moved_in:
            return None  # made here, or moved in from elsewhere
        if state is None:  # removed, and nothing older is known
            return TaskState(True, False, None)
        # Moved out of the sprint, or changed in it with older changes pruned: the oldest
        # state the log holds stands for the time before, in this sprint.
        return TaskState(True, state.done, state.points)

    def size(self, state):
        if self.unit == "points":
            return state.points or Decimal(0)
        return Decimal(1)

    def days(self, first, last):
        """``(day, {task id: state})`` at the end of each day from ``first`` to ``last``."""
        states = dict(self.initial)
        changes = iter(self.changes)
        pending = next(changes, None)
        day = first
        while day <= last:
            while pending is not None and pending[0] <= day:
                states[pending[1]] = pending[2]
                pending = next(changes, None)
            yield day, states
            day += timedelta(days=1)

    def on(self, day):
        """``{task id: state}`` at the end of ``day``."""
        _, states = next(self.days(day, day))
        return states

    def first_listed_day(self, last):
        """The sprint's start; for a span longer than any sprint may have, the later of the
        day of the log's oldest change of its tasks and ``LONGEST_SPRINT`` before ``last``."""
        start = self.sprint.start
        if last - start <= LONGEST_SPRINT:
            return start
        oldest = min((day for day, _, _ in self.changes), default=last)
        return max(start, min(oldest, last), last - LONGEST_SPRINT)

    def held(self, states, done=None):
        """The size of the tasks in the sprint (only those done, or not done, if ``done`` is given)."""
        return sum(
            (
                self.size(state)
                for state in states.values()
                if state is not None and state.in_sprint and (done is None or state.done == done)
            ),
            Decimal(0),
        )

    def burndown(self, today=None):
        sprint = self.sprint
        last = min(today or date.today(), sprint.end)
        days = [
            (day, self.held(states, done=False))
            for day, states in self.days(self.first_listed_day(last), last)
        ]
        # What it held at the end of its first day; before it has started, what it holds now.
        total = self.held(self.on(min(sprint.start, last)), done=False)
        length = (sprint.end - sprint.start).days
        return {
            "sprint": sprint.id,
            "start": sprint.start.isoformat(),
            "end": sprint.end.isoformat(),
            "unit": self.unit,
            "total": json_number(total),
            "days": [
                {
                    "date": day.isoformat(),
                    "remaining": json_number(remaining),
                    "ideal": json_number(round(total * (sprint.end - day).days / length, 2) if length else 0),
                }
                for day, remaining in days
            ],
        }

    def velocity(self):
        """(committed at the end of its first day, completed at the end of its last)."""
        sprint = self.sprint
        return self.held(self.on(sprint.start)), self.held(self.on(sprint.end), done=True)


def histories(sprints):
    """A SprintHistory for each sprint, from one read of the log and one of the tasks."""
    ids = [sprint.id for sprint in sprints]
    rows = db.session.execute(
        sa.select(
            Event.board,
            Event.previous_board,
            Event.all_boards,
            Event.created,
            Event.object_id,
            Event.action,
            Event.body,
        )
        .where(Event.model == "task", sa.or_(Event.board.in_(ids), Event.previous_board.in_(ids)))
        .order_by(Event.seq)
    ).all()
    tasks = db.session.scalars(sa.select(Task).where(Task.sprint_id.in_(ids))).all()
    result = []
    for sprint in sprints:
        changes = [
            # Moved in: now on this board, and before in another sprint or the backlog.
            (created, task_id, action, body, board == sprint.id and (all_boards or previous is not None))
            for board, previous, all_boards, created, task_id, action, body in rows
            if sprint.id in (board, previous)
        ]
        result.append(SprintHistory(sprint, changes, [task for task in tasks if task.sprint_id == sprint.id]))
    return result


def burndown(sprint):
    return histories([sprint])[0].burndown()


VELOCITY_SPRINTS = 6


def velocity(project_id, today=None):
    """The project's last six ended sprints, oldest first: committed and completed work."""
    sprints = db.session.scalars(
        sa.select(Sprint)
        .where(Sprint.project_id == project_id, Sprint.end < (today or date.today()))
        .order_by(Sprint.end.desc())
        .limit(VELOCITY_SPRINTS)
    ).all()[::-1]
    entries = histories(sprints)
    # One unit for all of them: points when a task one of them holds has points.
    unit = "points" if any(history.unit == "points" for history in entries) else "tasks"
    result = []
    for history in entries:
        history.unit = unit
        committed, completed = history.velocity()
        sprint = history.sprint
        result.append(
            {
                "id": sprint.id,
                "name": sprint.name,
                "start": sprint.start.isoformat(),
                "end": sprint.end.isoformat(),
                "committed": json_number(committed),
                "completed": json_number(completed),
            }
        )
    return {"unit": unit, "sprints": result}
