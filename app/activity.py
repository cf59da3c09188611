"""Activity: the change log read as a history people can follow.

Each logged change becomes an entry with one sentence a person would write
("bob moved “Fix login” from In Progress to Testing") and, for an update, the
fields that changed with their old and new values, stored with the change
when it was made (see ``realtime/changes.py``).
"""

from datetime import UTC, datetime

import sqlalchemy as sa

from app import db
from app.models import STATUS_LABELS, Event, Sprint

SHOWN_MODELS = ("project", "member", "sprint", "task", "comment")


def of_task(task):
    return Event.task == task.id


def of_sprint(sprint):
    # A sprint's own changes and its board's: its tasks (also those that left it) and their comments.
    return sa.or_(Event.board == sprint.id, Event.previous_board == sprint.id)


def of_project(project):
    return Event.project == project.id


def entries(condition, since=None):
    """SQL: the entries matching ``condition``, newest first, newer than ``since`` if given."""
    statement = sa.select(Event).where(condition, Event.model.in_(SHOWN_MODELS))
    if since is not None:
        statement = statement.where(Event.created > since)
    return statement.order_by(Event.seq.desc())


def parse_since(text):
    """An ISO-8601 date and time (UTC when it names no zone), or ValueError."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class ActivityView:
    """Dumps logged changes as activity entries (a page at a time, like a schema)."""

    def dump(self, events, many=False):
        events = list(events) if many else [events]
        sprint_names = self._sprint_names(events)
        result = [self.entry(event, sprint_names) for event in events]
        return result if many else result[0]

    @staticmethod
    def _sprint_names(events):
        ids = {
            value
            for event in events
            for value in ((event.details or {}).get("changes") or {}).get("sprint", [])
            if event.model == "task" and value is not None
        }
        if not ids:
            return {}
        rows = db.session.execute(sa.select(Sprint.id, Sprint.name, Sprint.end).where(Sprint.id.in_(ids)))
        return {sprint_id: name or f"Sprint ending {end}" for sprint_id, name, end in rows}

    def entry(self, event, sprint_names):
        changes = (event.details or {}).get("changes") if event.action == "update" else None
        return {
            "seq": event.seq,
            "at": event.created.isoformat(),
            "actor": event.actor,
            "model": event.model,
            "id": event.object_id,
            "action": event.action,
            "summary": Sentence(event, changes or {}, sprint_names).text(),
            "changes": changes,
        }


activity_view = ActivityView()


def _quoted(text):
    return f"“{text}”"


SIMPLE_SENTENCES = {
    ("task", "remove"): "deleted {name}",
    ("comment", "update"): "edited a comment on {name}",
    ("comment", "remove"): "deleted a comment on {name}",
    ("sprint", "add"): "created the sprint {name}",
    ("sprint", "remove"): "deleted the sprint {name}",
    ("project", "add"): "created the project {name}",
    ("project", "remove"): "deleted the project {name}",
}


class Sentence:
    """The one sentence that says what a logged change did."""

    def __init__(self, event, changes, sprint_names):
        self.event = event
        self.changes = changes
        self.sprint_names = sprint_names
        self.who = event.actor or "Someone"
        self.name = _quoted(event.label or "")

    def text(self):
        key = (self.event.model, self.event.action)
        if key in SIMPLE_SENTENCES:
            return f"{self.who} {SIMPLE_SENTENCES[key].format(name=self.name)}."
        build = getattr(self, f"_{self.event.model}_{self.event.action}", None)
        return f"{self.who} {build() if build else self._generic()}."

    def _generic(self):
        verb = {"add": "added", "update": "changed", "remove": "deleted"}.get(
            self.event.action, self.event.action
        )
        return f"{verb} the {self.event.model} {self.name}"

    # Tasks

    def _restored(self):
        return bool((self.event.details or {}).get("restored"))

    def _task_add(self):
        if self._restored():
            return f"restored {self.name}"
        return f"added {self.name}"

    def _comment_add(self):
        if not self._restored():
            return f"commented on {self.name}"
        author = (self.event.body or {}).get("author")
        by = f" by {author}" if author else ""
        return f"restored a comment{by} on {self.name}"

    def _task_update(self):
        clauses = []
        changes = dict(self.changes)
        if "name" in changes:
            old, new = changes.pop("name")
            clauses.append(f"renamed {_quoted(old)} to {_quoted(new)}")
        if "status" in changes:
            old, new = changes.pop("status")
            changes.pop("order", None)  # a move between columns also places the card
            clauses.append(f"moved {self.name} from {STATUS_LABELS[old]} to {STATUS_LABELS[new]}")
        if "sprint" in changes:
            new = changes.pop("sprint")[1]
            where = "the backlog" if new is None else _quoted(self.sprint_names.get(new, f"sprint {new}"))
            clauses.append(f"moved {self.name} to {where}")
        if "points" in changes:
            new = changes.pop("points")[1]
            clauses.append(
                f"cleared the points of {self.name}" if new is None else f"set points of {self.name} to {new}"
            )
        if "assigned" in changes:
            new = changes.pop("assigned")[1]
            clauses.append(f"unassigned {self.name}" if new is None else f"assigned {self.name} to {new}")
        if changes.keys() == {"order"}:
            changes.pop("order")
            clauses.append(f"reordered {self.name}")
        if changes:
            fields = " and ".join(field.replace("_", " ") for field in changes)
            clauses.append(f"changed the {fields} of {self.name}")
        return self._join(clauses) or f"changed {self.name}"

    @staticmethod
    def _join(clauses):
        if len(clauses) <= 1:
            return "".join(clauses)
        return ", ".join(clauses[:-1]) + " and " + clauses[-1]

    def _sprint_update(self):
        return self._settings_update("sprint")

    def _project_update(self):
        return self._settings_update("project")

    def _settings_update(self, noun):
        clauses = []
        for field, (old, new) in self.changes.items():
            if field == "name":
                clauses.append(f"renamed the {noun} {_quoted(old)} to {_quoted(new)}")
            elif field in ("start", "end"):
                clauses.append(f"moved the {field} of {self.name} from {old} to {new}")
            else:
                clauses.append(f"changed the {field} of {self.name}")
        return self._join(clauses) or f"changed the {noun} {self.name}"

    # Members

    def _member_add(self):
        return f"added {self.event.subject} as {self.event.body['role']}"

    def _member_update(self):
        return f"made {self.event.subject} {self.event.body['role']}"

    def _member_remove(self):
        if self.event.actor == self.event.subject:
            return "left the project"
        return f"removed {self.event.subject} from the project"
