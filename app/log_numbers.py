"""How the change log's ``seq`` numbers come to follow commit order on PostgreSQL.

A reader that has seen ``seq`` N must never later find a smaller one appear, so
numbers must be handed out in the order transactions commit. A row of ``events``
is inserted with a provisional, negative number; a deferred trigger, which
PostgreSQL runs inside COMMIT, takes a transaction-level advisory lock and gives
the transaction's rows their real numbers, in the order they were inserted. The
lock is released when the commit is done, so the next committer numbers after
it. It is held only while PostgreSQL itself finishes the commit, never while the
app works or waits for its turn between statements.

SQLite has one writer at a time and numbers rows as they are inserted: nothing
is needed there.

``install`` puts this on a table made by ``create_all``; migration 0006 puts it
on an upgraded database.
"""

import sqlalchemy as sa

# The advisory lock that orders the commits of transactions that write to the log
# (0x5C120B0A, written out in the trigger function below).
LOG_LOCK_KEY = 1544686346

INSTALL = (
    "CREATE SEQUENCE events_provisional_seq",
    "ALTER TABLE events ALTER COLUMN seq SET DEFAULT -nextval('events_provisional_seq')",
    """
    CREATE FUNCTION events_number_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock(1544686346);
        UPDATE events SET seq = nextval('events_seq_seq') WHERE seq = NEW.seq;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE CONSTRAINT TRIGGER events_number_at_commit AFTER INSERT ON events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION events_number_at_commit()
    """,
)

REMOVE = (
    "DROP TRIGGER events_number_at_commit ON events",
    "DROP FUNCTION events_number_at_commit()",
    "ALTER TABLE events ALTER COLUMN seq SET DEFAULT nextval('events_seq_seq')",
    "DROP SEQUENCE events_provisional_seq",
)


def install(table):
    """Number ``table`` (the ``events`` table) at commit when ``create_all`` makes it on PostgreSQL."""
    for statement in INSTALL:
        sa.event.listen(table, "after_create", sa.DDL(statement).execute_if(dialect="postgresql"))
