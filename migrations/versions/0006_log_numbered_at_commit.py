"""change log numbered at commit on PostgreSQL

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 21:30:00.000000

"""
from alembic import op

from app import log_numbers


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in log_numbers.INSTALL:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in log_numbers.REMOVE:
            op.execute(statement)
