"""sprint start dates, task points, indexes for sprint histories

Existing sprints start two weeks before their end.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 15:00:00.000000

"""
from datetime import date, timedelta

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sprints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('start', sa.Date(), nullable=True))

    connection = op.get_bind()
    for sprint_id, end in connection.execute(sa.text('SELECT id, "end" FROM sprints')).all():
        if isinstance(end, str):  # SQLite hands dates back as text here
            end = date.fromisoformat(end)
        connection.execute(
            sa.text('UPDATE sprints SET start = :start WHERE id = :id'),
            {'start': end - timedelta(days=14), 'id': sprint_id},
        )

    with op.batch_alter_table('sprints', schema=None) as batch_op:
        batch_op.alter_column('start', existing_type=sa.Date(), nullable=False)

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('points', sa.Numeric(precision=4, scale=1), nullable=True))

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_board_seq', ['board', 'seq'], unique=False)
        batch_op.create_index('ix_events_previous_board_seq', ['previous_board', 'seq'], unique=False)


def downgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_previous_board_seq')
        batch_op.drop_index('ix_events_board_seq')

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('points')

    with op.batch_alter_table('sprints', schema=None) as batch_op:
        batch_op.drop_column('start')
