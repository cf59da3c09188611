"""The schemas dump objects through a plan made once per schema (``ObjectSchema``): the
bodies must be exactly what marshmallow's own field-by-field dump gives, for every
schema and every kind of value (empty references, numbers with places, dates)."""

from datetime import date
from decimal import Decimal

import marshmallow
import pytest
import sqlalchemy as sa

from app import db, schemas
from app.models import Comment, Membership, Project, Sprint, Task, User

DUMPED = {
    Sprint: schemas.sprint_schema,
    Task: schemas.task_schema,
    User: schemas.user_schema,
    Project: schemas.project_schema,
    Membership: schemas.member_schema,
    Comment: schemas.comment_schema,
}


@pytest.fixture
def objects(app, alice, make_user, make_sprint, make_task):
    make_user("bob", full_name="Bob <b>Builder</b>", role="viewer")
    sprint = make_sprint(name="Sprint ✓", description="Line one\nline two")
    make_task("Plain", description="")
    make_task(
        "Full",
        sprint_id=sprint,
        status=4,
        order=-3,
        points=Decimal("2.5"),
        assigned="bob",
        started=date(2026, 11, 2),
        due=date(2026, 12, 24),
        completed=date(2026, 11, 30),
    )
    make_task("Whole points", points=Decimal("8"), assigned="alice")
    with app.app_context():
        task = db.session.scalar(sa.select(Task).where(Task.name == "Full"))
        db.session.add(Comment(task=task, project_id=task.project_id, author_id=alice.id, body="Looks done"))
        db.session.add(Comment(task=task, project_id=task.project_id, author_id=None, body="By a script"))
        db.session.commit()


@pytest.mark.parametrize("model", list(DUMPED), ids=lambda model: model.__name__)
def test_the_plan_dumps_what_marshmallow_dumps(app, objects, model):
    schema = DUMPED[model]
    with app.test_request_context("/api/"):
        found = db.session.scalars(sa.select(model)).unique().all()
        if model is Project:
            for project in found:
                project.role = "admin"
        assert found
        for obj in found:
            assert schema.dump(obj) == marshmallow.Schema._serialize(schema, obj)
        assert schema.dump(found, many=True) == [marshmallow.Schema._serialize(schema, obj) for obj in found]
