"""projects and members

Every sprint and task now belongs to a project. An existing database's sprints
and tasks move into a project named "Default" whose members are all existing
users, the first of them its admin.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 14:30:00.000000

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('created', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects')),
    sa.UniqueConstraint('name', name=op.f('uq_projects_name'))
    )
    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.CheckConstraint("role IN ('admin', 'member', 'viewer')", name=op.f('ck_memberships_role_known')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_memberships_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships')),
    sa.UniqueConstraint('project_id', 'user_id', name='uq_memberships_project_user')
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memberships_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('project', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('subject', sa.String(length=150), nullable=True))
        batch_op.create_index('ix_events_project_seq', ['project', 'seq'], unique=False)

    for table in ('sprints', 'tasks'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('project_id', sa.Integer(), nullable=True))

    _move_into_default_project()

    with op.batch_alter_table('sprints', schema=None) as batch_op:
        batch_op.alter_column('project_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint('uq_sprints_end', type_='unique')
        batch_op.create_unique_constraint('uq_sprints_project_end', ['project_id', 'end'])
        batch_op.create_foreign_key(batch_op.f('fk_sprints_project_id_projects'), 'projects', ['project_id'], ['id'], ondelete='RESTRICT')

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.alter_column('project_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_tasks_project_id'), ['project_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_tasks_project_id_projects'), 'projects', ['project_id'], ['id'], ondelete='RESTRICT')


def _move_into_default_project():
    connection = op.get_bind()
    users = connection.execute(sa.text('SELECT id FROM users ORDER BY id')).scalars().all()
    has_work = any(
        connection.execute(sa.text(f'SELECT 1 FROM {table} LIMIT 1')).first() is not None
        for table in ('sprints', 'tasks')
    )
    if not users and not has_work:
        return
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    connection.execute(
        sa.text("INSERT INTO projects (name, description, created, version) VALUES ('Default', '', :now, 1)"),
        {'now': now},
    )
    project_id = connection.execute(sa.text("SELECT id FROM projects WHERE name = 'Default'")).scalar_one()
    for index, user_id in enumerate(users):
        connection.execute(
            sa.text('INSERT INTO memberships (project_id, user_id, role) VALUES (:project, :user, :role)'),
            {'project': project_id, 'user': user_id, 'role': 'admin' if index == 0 else 'member'},
        )
    for table in ('sprints', 'tasks'):
        connection.execute(sa.text(f'UPDATE {table} SET project_id = :project'), {'project': project_id})
    connection.execute(
        sa.text("UPDATE events SET project = :project WHERE model IN ('sprint', 'task')"),
        {'project': project_id},
    )


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tasks_project_id_projects'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_tasks_project_id'))
        batch_op.drop_column('project_id')

    with op.batch_alter_table('sprints', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_sprints_project_id_projects'), type_='foreignkey')
        batch_op.drop_constraint('uq_sprints_project_end', type_='unique')
        batch_op.create_unique_constraint('uq_sprints_end', ['end'])
        batch_op.drop_column('project_id')

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_project_seq')
        batch_op.drop_column('subject')
        batch_op.drop_column('project')

    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memberships_user_id'))

    op.drop_table('memberships')
    op.drop_table('projects')
