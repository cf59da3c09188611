"""Command-line tasks: ``flask --app wsgi create-user``, ``create-project``, ``add-member``,
``seed-demo`` and ``prune-events``."""

import re
from datetime import date, timedelta

import click
import sqlalchemy as sa

from app import db
from app.models import Membership, Project, Role, Sprint, Status, Task, User
from app.realtime.changelog import prune_log
from config import CENTURY

USERNAME_PATTERN = re.compile(r"^[\w.@+-]{1,150}$")
FULL_NAME_MAX_LENGTH = 200  # users.full_name
PROJECT_NAME_MAX_LENGTH = 100  # projects.name

DEMO_PASSWORD = "scrum-demo"  # noqa: S105  (printed for anyone to try the demo)
DEMO_USERS = [("alice", "Alice Archer"), ("bob", "Bob Baker"), ("carol", "Carol Chen")]
DEMO_PROJECT_NAME = "Demo team"
ROLE_OPTION = click.Choice([role.value for role in Role])
DEMO_SPRINT_NAME = "Demo sprint"
DEMO_TASKS = [
    # name, status, assigned (index into DEMO_USERS), in the sprint?
    ("Sketch the board layout", Status.DONE, 0, True),
    ("Token authentication", Status.DONE, 1, True),
    ("Live updates over Socket.IO", Status.TESTING, 0, True),
    ("Drag and drop between columns", Status.IN_PROGRESS, 2, True),
    ("Burndown chart", Status.IN_PROGRESS, 1, True),
    ("Presence list", Status.NOT_STARTED, 2, True),
    ("Keyboard moves", Status.NOT_STARTED, None, True),
    ("Dark theme", Status.NOT_STARTED, None, False),
    ("Export a sprint to CSV", Status.NOT_STARTED, None, False),
]


def text(value, what):
    """``value``, if the database can store it; else a clear error about ``what``.

    An argument that is not valid UTF-8 reaches Python with lone surrogates in it, which
    no database driver can send."""
    try:
        value.encode()
    except UnicodeEncodeError:
        raise click.ClickException(f"{what} is not valid UTF-8 text.") from None
    if "\x00" in value:
        raise click.ClickException(f"{what} may not contain null characters.")
    return value


def create_user(username, password, full_name=""):
    if not USERNAME_PATTERN.match(username):
        raise click.ClickException("A username has 1 to 150 letters, digits or the characters . @ + - _")
    if not password:
        raise click.ClickException("The password may not be empty.")
    text(password, "The password")
    full_name = text(full_name or "", "The full name")
    if len(full_name) > FULL_NAME_MAX_LENGTH:
        raise click.ClickException(
            f"A full name has at most {FULL_NAME_MAX_LENGTH} characters (this one has {len(full_name)})."
        )
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise click.ClickException(f'A user named "{username}" already exists.')
    user = User(username=username, full_name=full_name)
    user.set_password(password)
    db.session.add(user)
    return user


def find_project(name):
    project = db.session.scalar(sa.select(Project).where(Project.name == text(name, "The project name")))
    if project is None:
        raise click.ClickException(f'There is no project named "{name}".')
    return project


def find_user(username):
    user = db.session.scalar(sa.select(User).where(User.username == text(username, "The username")))
    if user is None:
        raise click.ClickException(f'There is no user named "{username}".')
    return user


class ProjectExists(click.ClickException):
    pass


def create_project(name, admin):
    if not text(name, "The project name").strip() or len(name) > PROJECT_NAME_MAX_LENGTH:
        raise click.ClickException(f"A project name has 1 to {PROJECT_NAME_MAX_LENGTH} characters.")
    if db.session.scalar(sa.select(Project.id).where(Project.name == name)) is not None:
        raise ProjectExists(f'A project named "{name}" already exists.')
    project = Project(name=name)
    db.session.add(project)
    db.session.add(Membership(project=project, user=admin, role=Role.ADMIN.value))
    return project


def add_member(project, user, role):
    """Add ``user`` to ``project`` with ``role``, or change their role; the last admin stays one."""
    membership = db.session.scalar(
        sa.select(Membership).where(Membership.project_id == project.id, Membership.user_id == user.id)
    )
    if membership is None:
        db.session.add(Membership(project=project, user=user, role=role))
        return
    admins = db.session.scalar(
        sa.select(sa.func.count()).where(
            Membership.project_id == project.id, Membership.role == Role.ADMIN.value
        )
    )
    if membership.role == Role.ADMIN and role != Role.ADMIN and admins <= 1:
        raise click.ClickException("A project needs at least one admin.")
    membership.role = role


def create_user_in_project(username, password, full_name, project_name, role):
    """Create the user, adding them to ``project_name`` if given; returns what was done."""
    project = None
    if project_name is not None:
        project = db.session.scalar(
            sa.select(Project).where(Project.name == text(project_name, "The project name"))
        )
    user = create_user(username, password, full_name)
    if project_name is None:
        return f'Created user "{username}".'
    if project is None:
        create_project(project_name, user)
        db.session.flush()
        return f'Created user "{username}" and project "{project_name}", with "{username}" as its admin.'
    add_member(project, user, role)
    db.session.flush()
    return f'Created user "{username}" in "{project_name}" as {role}.'


def seed_demo():
    """Add the demo users, their project, a current sprint and its tasks, unless they are already there."""
    users = []
    for username, full_name in DEMO_USERS:
        user = db.session.scalar(sa.select(User).where(User.username == username))
        if user is None:
            user = create_user(username, DEMO_PASSWORD, full_name)
        users.append(user)
    project = db.session.scalar(sa.select(Project).where(Project.name == DEMO_PROJECT_NAME))
    if project is None:
        project = create_project(DEMO_PROJECT_NAME, users[0])
        project.description = "The demo team's board."
        for user in users[1:]:
            db.session.add(Membership(project=project, user=user, role=Role.MEMBER.value))
    if (
        db.session.scalar(
            sa.select(Sprint.id).where(Sprint.project_id == project.id, Sprint.name == DEMO_SPRINT_NAME)
        )
        is not None
    ):
        db.session.commit()
        return False
    db.session.flush()
    end = date.today() + timedelta(days=10)
    while (
        db.session.scalar(sa.select(Sprint.id).where(Sprint.project_id == project.id, Sprint.end == end))
        is not None
    ):
        end += timedelta(days=1)
    sprint = Sprint(
        project_id=project.id,
        name=DEMO_SPRINT_NAME,
        description="A two-week sprint to try the board.",
        end=end,
    )
    db.session.add(sprint)
    today = date.today()
    for order, (name, status, user_index, in_sprint) in enumerate(DEMO_TASKS):
        db.session.add(
            Task(
                project_id=project.id,
                name=name,
                sprint=sprint if in_sprint else None,
                status=status,
                order=order,
                assigned=users[user_index] if user_index is not None else None,
                started=today - timedelta(days=3) if status != Status.NOT_STARTED else None,
                completed=today - timedelta(days=1) if status == Status.DONE else None,
                due=end,
            )
        )
    db.session.commit()
    return True


def register(app):
    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @click.option("--full-name", default="", help="The name shown on the board.")
    @click.option(
        "--project",
        "project_name",
        default=None,
        help="Add the user to this project (by name); a project that does not exist yet is made, "
        "with the user as its admin.",
    )
    @click.option("--role", type=ROLE_OPTION, default="member", show_default=True, help="Role in --project.")
    def create_user_command(username, password, full_name, project_name, role):
        """Create a user who can log in to the board and the API."""
        for attempt in range(2):
            try:
                message = create_user_in_project(username, password, full_name, project_name, role)
                db.session.commit()
                break
            except (sa.exc.IntegrityError, ProjectExists):
                # Another command made the same project (or user) meanwhile: look again.
                db.session.rollback()
                if attempt:
                    raise click.ClickException("The user or project changed meanwhile; try again.") from None
        click.echo(message)

    @app.cli.command("deactivate-user")
    @click.argument("username")
    def deactivate_user_command(username):
        """Stop a user from logging in; their tokens stop working and their sockets close at once."""
        find_user(username).is_active = False
        db.session.commit()
        click.echo(f'Deactivated user "{username}".')

    @app.cli.command("create-project")
    @click.argument("name")
    @click.option("--admin", "admin_username", required=True, help="The username of its first admin.")
    def create_project_command(name, admin_username):
        """Create a project with its first admin."""
        create_project(name, find_user(admin_username))
        db.session.commit()
        click.echo(f'Created project "{name}" with admin "{admin_username}".')

    @app.cli.command("add-member")
    @click.argument("project_name", metavar="PROJECT")
    @click.argument("username")
    @click.option("--role", type=ROLE_OPTION, default="member", show_default=True)
    def add_member_command(project_name, username, role):
        """Add a user to a project (by name), or change their role in it."""
        add_member(find_project(project_name), find_user(username), role)
        db.session.commit()
        click.echo(f'"{username}" is now {role} of "{project_name}".')

    @app.cli.command("prune-events")
    @click.option(
        "--older-than",
        # A century at most, as for the settings: a far longer one put the cutoff before the year 1.
        type=click.IntRange(min=0, max=CENTURY),
        default=None,
        help="Age in seconds; default: EVENT_RETENTION (a week).",
    )
    def prune_events_command(older_than):
        """Delete old entries of the change log (clients further behind must reload)."""
        age = app.config["EVENT_RETENTION"] if older_than is None else older_than
        click.echo(f"Deleted {prune_log(age)} logged changes older than {age} seconds.")

    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Add demo users, a current sprint and tasks (safe to run again)."""
        created = seed_demo()
        click.echo("Demo data created." if created else "Demo data already present.")
        click.echo("Demo logins (username / password):")
        for username, _ in DEMO_USERS:
            click.echo(f"  {username} / {DEMO_PASSWORD}")
