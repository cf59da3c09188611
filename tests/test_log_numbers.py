"""The change log's ``seq`` follows commit order (``app/log_numbers.py``): on PostgreSQL
a transaction's rows get their numbers when it commits, under a lock held only
while it commits.

These run on a PostgreSQL database of their own whichever database the rest of the
suite uses: SQLite has one writer at a time and needs no numbering at commit.
"""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app import db
from app.models import Event, Project, Task


def make_tasks(app, *names):
    with app.app_context():
        project = Project(name="Team")
        db.session.add(project)
        db.session.flush()
        tasks = [Task(name=name, project_id=project.id) for name in names]
        db.session.add_all(tasks)
        db.session.commit()
        return [task.id for task in tasks]


def rename(session, task_id, name):
    session.get(Task, task_id).name = name
    session.flush()


def logged_names(app):
    with app.app_context():
        events = db.session.scalars(sa.select(Event).where(Event.model == "task").order_by(Event.seq))
        return [(event.seq, event.body["name"]) for event in events if event.action == "update"]


def test_a_transaction_that_commits_later_gets_the_later_numbers(postgres_app):
    first, second, third = make_tasks(postgres_app, "First", "Second", "Third")
    with postgres_app.app_context():
        early = so.Session(db.engine)
        late = so.Session(db.engine)
        try:
            # The early one writes to the log first, twice, and commits last.
            rename(early, first, "First, renamed")
            rename(early, second, "Second, renamed")
            # Nothing is held before commit: the other writer neither waits nor fails.
            late.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
            rename(late, third, "Third, renamed")
            late.commit()
            early.commit()
        finally:
            early.close()
            late.close()

    numbered = logged_names(postgres_app)
    assert [name for _, name in numbered] == ["Third, renamed", "First, renamed", "Second, renamed"]
    seqs = [seq for seq, _ in numbered]
    assert all(seq > 0 for seq in seqs) and seqs == sorted(set(seqs))


def test_a_rolled_back_transaction_leaves_no_number_behind(postgres_app):
    (task,) = make_tasks(postgres_app, "Kept")
    with postgres_app.app_context():
        session = so.Session(db.engine)
        try:
            rename(session, task, "Never")
            session.rollback()
        finally:
            session.close()
        db.session.get(Task, task).name = "Renamed"
        db.session.commit()
        provisional = db.session.scalar(sa.select(sa.func.count()).where(Event.seq <= 0))
    assert provisional == 0
    assert [name for _, name in logged_names(postgres_app)] == ["Renamed"]
