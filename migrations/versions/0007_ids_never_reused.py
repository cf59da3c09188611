"""ids never reused on SQLite

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 08:30:00.000000

SQLite gives a deleted row's id to the next new row unless the table is made with
AUTOINCREMENT, which only CREATE TABLE can say: each table is rebuilt with it. The
counter starts past every id the table or the change log has seen, so that an id
deleted before this upgrade is not handed out again either. PostgreSQL's sequences
never reuse an id: nothing changes there.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# table -> the model name its rows have in the change log
TABLES = {
    "users": "user",
    "tokens": "token",
    "projects": "project",
    "memberships": "member",
    "sprints": "sprint",
    "tasks": "task",
    "comments": "comment",
}


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass
    for table, model in TABLES.items():
        rows = sa.table(table, sa.column("id"))
        events = sa.table("events", sa.column("model"), sa.column("object_id"))
        highest = max(
            bind.scalar(sa.select(sa.func.max(rows.c.id))) or 0,
            bind.scalar(sa.select(sa.func.max(events.c.object_id)).where(events.c.model == model)) or 0,
        )
        bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = :table"), {"table": table})
        bind.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:table, :seq)"),
            {"table": table, "seq": highest},
        )


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always"):
            pass
