"""Database models: users and their API tokens, projects and their members, sprints, tasks,
and the change log."""

import enum
import hashlib
import secrets
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, has_app_context
from werkzeug.security import check_password_hash, generate_password_hash

from app import db, log_numbers

# Ids and other integer columns are 32-bit: a larger number can name nothing stored.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def utcnow():
    return datetime.now(UTC)


def password_hash_method():
    """werkzeug's hashing method: its strong default, unless the app configures a cheaper one
    (the test suite, which creates thousands of users)."""
    if has_app_context():
        return current_app.config.get("PASSWORD_HASH_METHOD") or "scrypt"
    return "scrypt"


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored naive in UTC and always read back timezone-aware.

    SQLite keeps no zone, PostgreSQL does; this makes both behave the same.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


# On SQLite, an id is never given again once its row is deleted (AUTOINCREMENT): a deleted
# task keeps its id for a restore, and an ETag or a logged id never names a newer object.
# PostgreSQL's sequences never hand one out twice anyway.
IDS_NEVER_REUSED = {"sqlite_autoincrement": True}


class Versioned:
    """A row version that changes on every update; the ETag is built from it."""

    version: so.Mapped[int] = so.mapped_column(default=1, server_default="1")

    @property
    def etag(self):
        return f'"{self.__tablename__}-{self.id}-{self.version}"'


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = IDS_NEVER_REUSED

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(150), unique=True)
    full_name: so.Mapped[str] = so.mapped_column(sa.String(200), default="", server_default="")
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(256))
    is_active: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    created: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    tokens: so.WriteOnlyMapped["Token"] = so.relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    def set_password(self, password):
        self.password_hash = generate_password_hash(password, method=password_hash_method())

    def check_password(self, password):
        return self.password_hash is not None and check_password_hash(self.password_hash, password)

    def __repr__(self):
        return f"<User {self.username}>"


class Token(db.Model):
    """An API token. Only its SHA-256 digest is stored; the token itself is shown once."""

    __tablename__ = "tokens"
    __table_args__ = IDS_NEVER_REUSED

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    digest: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    expires: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    revoked: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    user: so.Mapped[User] = so.relationship(back_populates="tokens")

    @staticmethod
    def hash(value):
        return hashlib.sha256(value.encode("utf-8")).hexdigest()

    @classmethod
    def issue(cls, user, ttl_seconds):
        """Make a token for ``user``; returns the row and the secret value (shown once)."""
        value = secrets.token_urlsafe(32)
        token = cls(user=user, digest=cls.hash(value), expires=utcnow() + timedelta(seconds=ttl_seconds))
        return token, value

    def revoke(self):
        self.revoked = utcnow()


class Role(enum.StrEnum):
    """A member's role in a project: viewers read, members also write, admins also manage."""

    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"

    def can_write(self):
        return self != Role.VIEWER


class Project(Versioned, db.Model):
    """A team's space: its sprints, tasks and members. Users see only their projects."""

    __tablename__ = "projects"
    __table_args__ = IDS_NEVER_REUSED

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100), unique=True)
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    created: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    # The caller's role, filled in by the query that loads the project (see access.py).
    role: so.Mapped[str | None] = so.query_expression()

    def __repr__(self):
        return f"<Project {self.id} {self.name!r}>"


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (
        sa.UniqueConstraint("project_id", "user_id", name="uq_memberships_project_user"),
        sa.CheckConstraint("role IN ('admin', 'member', 'viewer')", name="role_known"),
        IDS_NEVER_REUSED,
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    project_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: so.Mapped[str] = so.mapped_column(sa.String(10))

    project: so.Mapped[Project] = so.relationship()
    user: so.Mapped[User] = so.relationship(lazy="joined")

    def __repr__(self):
        return f"<Membership {self.user_id} in {self.project_id} as {self.role}>"


SPRINT_LENGTH = timedelta(days=14)


def _default_start(context):
    """A sprint starts two weeks before its end unless told otherwise."""
    return context.get_current_parameters()["end"] - SPRINT_LENGTH


class Sprint(Versioned, db.Model):
    __tablename__ = "sprints"
    __table_args__ = (
        sa.UniqueConstraint("project_id", "end", name="uq_sprints_project_end"),
        IDS_NEVER_REUSED,
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    project_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("projects.id", ondelete="RESTRICT"))
    name: so.Mapped[str] = so.mapped_column(sa.String(100), default="", server_default="")
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    start: so.Mapped[date] = so.mapped_column(default=lambda context: _default_start(context))
    end: so.Mapped[date]

    # The database refuses to delete a sprint that still has tasks (ON DELETE RESTRICT).
    tasks: so.WriteOnlyMapped["Task"] = so.relationship(back_populates="sprint", passive_deletes="all")

    def has_ended(self, today=None):
        return self.end < (today or date.today())

    def __repr__(self):
        return f"<Sprint {self.id} ending {self.end}>"


class Status(enum.IntEnum):
    NOT_STARTED = 1
    IN_PROGRESS = 2
    TESTING = 3
    DONE = 4


STATUS_LABELS = {
    Status.NOT_STARTED: "Not Started",
    Status.IN_PROGRESS: "In Progress",
    Status.TESTING: "Testing",
    Status.DONE: "Done",
}
# "1 (Not Started), 2 (In Progress), 3 (Testing), 4 (Done)"
STATUS_CHOICES_TEXT = ", ".join(f"{int(status)} ({label})" for status, label in STATUS_LABELS.items())


class Task(Versioned, db.Model):
    __tablename__ = "tasks"
    __table_args__ = (
        sa.CheckConstraint("status BETWEEN 1 AND 4", name="status_range"),
        sa.Index("ix_tasks_order_id", "order", "id"),
        IDS_NEVER_REUSED,
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    project_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("projects.id", ondelete="RESTRICT"), index=True
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    sprint_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("sprints.id", ondelete="RESTRICT"), index=True
    )
    status: so.Mapped[int] = so.mapped_column(
        sa.SmallInteger, default=Status.NOT_STARTED, server_default="1", index=True
    )
    order: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    points: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(4, 1))
    assigned_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    started: so.Mapped[date | None]
    due: so.Mapped[date | None]
    completed: so.Mapped[date | None]

    sprint: so.Mapped[Sprint | None] = so.relationship(back_populates="tasks")
    assigned: so.Mapped[User | None] = so.relationship(lazy="joined")
    # Deleted one by one with their task, so that the log records (and can restore) them.
    comments: so.Mapped[list["Comment"]] = so.relationship(
        back_populates="task", cascade="all, delete-orphan", order_by="Comment.id"
    )

    def __repr__(self):
        return f"<Task {self.id} {self.name!r}>"


class Comment(Versioned, db.Model):
    """A plain-text comment on a task; it lives and dies with its task."""

    __tablename__ = "comments"
    __table_args__ = IDS_NEVER_REUSED

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # The task's project, kept here so that comments are scoped like everything else (access.py).
    project_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    task_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    author_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    created: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    edited: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    task: so.Mapped["Task"] = so.relationship(back_populates="comments")
    author: so.Mapped[User | None] = so.relationship(lazy="joined")

    def __repr__(self):
        return f"<Comment {self.id} on task {self.task_id}>"


class Event(db.Model):
    """The change log: one row per add, update or remove, written in the same
    transaction as the change. ``seq`` orders every change across the system.

    ``project`` is the project the change belongs to (None for users and
    tokens), ``board`` the sprint whose board the change concerns (for a task,
    its sprint), ``previous_board`` the sprint a task moved out of, and
    ``all_boards`` marks backlog tasks, which every board of the project shows.
    ``subject`` is the user a membership change is about, ``task`` the task a
    task or comment change concerns, ``label`` the object's name when it changed
    (for activity sentences, also after a removal), and ``details`` what an
    update changed (``{"changes": {field: [old, new]}}``) or, for a removed
    task, the comments removed with it (``{"comments": [ids]}``).
    """

    __tablename__ = "events"
    __table_args__ = (
        sa.Index("ix_events_project_seq", "project", "seq"),
        # A sprint's history (burndown, velocity): the changes of its board, and of tasks that left it.
        sa.Index("ix_events_board_seq", "board", "seq"),
        sa.Index("ix_events_previous_board_seq", "previous_board", "seq"),
        # A task's history: its own changes and its comments'.
        sa.Index("ix_events_task_seq", "task", "seq"),
        # Never reuse a number on SQLite either, even after the newest rows are pruned.
        {"sqlite_autoincrement": True},
    )

    seq: so.Mapped[int] = so.mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    model: so.Mapped[str] = so.mapped_column(sa.String(20))
    object_id: so.Mapped[int]
    action: so.Mapped[str] = so.mapped_column(sa.String(20))
    body: so.Mapped[dict | None] = so.mapped_column(sa.JSON)
    actor: so.Mapped[str | None] = so.mapped_column(sa.String(150))
    project: so.Mapped[int | None]
    subject: so.Mapped[str | None] = so.mapped_column(sa.String(150))
    board: so.Mapped[int | None]
    previous_board: so.Mapped[int | None]
    all_boards: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    task: so.Mapped[int | None]
    label: so.Mapped[str | None] = so.mapped_column(sa.String(150))
    details: so.Mapped[dict | None] = so.mapped_column(sa.JSON)
    created: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)

    def as_change(self):
        """The ``change`` event clients receive."""
        return {
            "seq": self.seq,
            "model": self.model,
            "id": self.object_id,
            "action": self.action,
            "body": self.body,
            "actor": self.actor,
        }


log_numbers.install(Event.__table__)
