"""The database: Flask-SQLAlchemy and Flask-Migrate on an app, SQLite made to behave,
and the row versions that ETags are built from."""

import time

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.models import Sprint, Task, Versioned


def init_app(app, db, migrate):
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    with app.app_context():
        _configure_sqlite(db.engine)
        _ping_after_idle(db.engine, app.config["DATABASE_PING_AFTER_IDLE"])
        _transactions_back_on_return(db.engine)
    for hook in (refuse_writes_while_reading, bump_versions, tasks_take_their_sprints_project):
        if not sa.event.contains(so.Session, "before_flush", hook):
            sa.event.listen(so.Session, "before_flush", hook)


def read_without_a_transaction(db):
    """Run the rest of this request's statements outside a transaction, on PostgreSQL.

    For a request that only reads. PostgreSQL's READ COMMITTED gives each statement a
    snapshot of its own inside a transaction too, so the answer is the same; what goes
    is the transaction's BEGIN and ROLLBACK, two of a GET's five round trips. (SQLite
    reads a whole transaction from one snapshot, so it keeps its transactions.) A write
    is refused: it could not be rolled back.
    """
    if db.engine.dialect.name == "postgresql":
        # psycopg2's own switch: SQLAlchemy's AUTOCOMMIT isolation level would cost a
        # SET statement on the way in and another on the way out. The pool switches it
        # back when the connection returns (``_transactions_back_on_return``).
        db.session.connection().connection.dbapi_connection.autocommit = True
        db.session.info["reading"] = True


def refuse_writes_while_reading(session, flush_context, instances):
    if session.info.get("reading") and (session.new or session.deleted or session.dirty):
        raise RuntimeError("A request that only reads tried to write.")


def tasks_take_their_sprints_project(session, flush_context, instances):
    """A new task made in a sprint without naming a project (a script) belongs to the sprint's."""
    for obj in session.new:
        if isinstance(obj, Task) and obj.project_id is None:
            sprint = obj.sprint
            if sprint is None and obj.sprint_id is not None:
                sprint = session.get(Sprint, obj.sprint_id)
            if sprint is not None:
                obj.project_id = sprint.project_id


def bump_versions(session, flush_context, instances):
    """Every real change to a versioned row, from any code path, gets a new ETag."""
    for obj in session.dirty:
        if isinstance(obj, Versioned) and session.is_modified(obj, include_collections=False):
            obj.version = (obj.version or 0) + 1


def _ping_after_idle(engine, idle_seconds):
    """Before a pooled connection is handed out, ask the server whether it is still there,
    if it sat unused for longer than ``idle_seconds``: a restarted server or a dropped
    idle connection then costs a reconnect, not a failed request. A connection in steady
    use is not asked (that would be a round trip more on every request); if the server
    goes away under load, the first statement that finds a connection dead makes the
    pool replace them all.
    """
    if engine.dialect.name == "sqlite":
        return

    @sa.event.listens_for(engine, "checkin")
    def returned(dbapi_connection, connection_record):
        connection_record.info["returned"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def ping(dbapi_connection, connection_record, connection_proxy):
        returned = connection_record.info.get("returned")
        if returned is None or time.monotonic() - returned <= idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise sa.exc.DisconnectionError(str(error)) from error
            raise


def _transactions_back_on_return(engine):
    """A connection that served a request that only read goes back to the pool with its
    transactions on again (``read_without_a_transaction``)."""
    if engine.dialect.name != "postgresql":
        return

    @sa.event.listens_for(engine, "checkin")
    def transactions_on(dbapi_connection, connection_record):
        if dbapi_connection is not None and not dbapi_connection.closed:
            dbapi_connection.autocommit = False


def _configure_sqlite(engine):
    """SQLite enforces foreign keys only when asked; WAL lets readers run beside a writer."""
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, connection_record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=20000")
        if engine.url.database and engine.url.database != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
