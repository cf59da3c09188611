"""gunicorn config file for the write benchmark (``python -m bench.writes``): times,
in each worker, every transaction that takes the change log's advisory lock.

The app itself is unchanged; gunicorn loads this file with ``-c``. Once the worker
has loaded the app, SQLAlchemy event listeners (on every engine and session) note,
per greenthread, when the ``pg_advisory_xact_lock`` statement was sent and when it
returned, when the log ``INSERT`` was sent and returned, when ``COMMIT`` was sent
and when the commit was done, and how many statements the transaction ran. Each
such transaction becomes one line of ``$LOCK_TIMING_DIR/locks-<pid>.txt``:

    lock_sent lock_granted insert_sent insert_done commit_sent commit_done statements

(``CLOCK_MONOTONIC`` nanoseconds, the benchmarks' one clock). Lines are written
as they happen, so the orchestrator can read a measured window while the server
runs.

Since the log is numbered at commit (``app/log_numbers.py``) the app sends no
lock statement: the lock is taken inside PostgreSQL, and only the benchmark's
sampling of ``pg_locks`` sees it. This file still times revisions before that.
"""

import os
import time

LOCK_STATEMENT = "pg_advisory_xact_lock"
LOG_INSERT = "INSERT INTO events"


def post_worker_init(worker):
    directory = os.environ.get("LOCK_TIMING_DIR")
    if not directory:
        return
    import greenlet
    import sqlalchemy as sa
    import sqlalchemy.orm as so

    clock = time.clock_gettime_ns
    mono = time.CLOCK_MONOTONIC
    out = open(os.path.join(directory, f"locks-{os.getpid()}.txt"), "a", buffering=1)  # noqa: SIM115
    # Per greenthread: [statements, lock_sent, lock_granted, insert_sent, insert_done, commit_sent]
    current = {}

    def state():
        key = greenlet.getcurrent()
        found = current.get(key)
        if found is None:
            found = current[key] = [0, 0, 0, 0, 0, 0]
        return found

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        now = clock(mono)
        s = state()
        s[0] += 1
        if LOCK_STATEMENT in statement:
            s[1] = now
        elif s[2] and statement.startswith(LOG_INSERT):
            s[3] = now

    def after_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        now = clock(mono)
        s = state()
        if LOCK_STATEMENT in statement:
            s[2] = now
        elif s[3] and not s[4] and statement.startswith(LOG_INSERT):
            s[4] = now

    def on_commit(conn):
        s = current.get(greenlet.getcurrent())
        if s is not None and s[2]:
            s[5] = clock(mono)

    def after_commit(session):
        now = clock(mono)
        s = current.pop(greenlet.getcurrent(), None)
        if s is not None and s[2]:
            out.write(f"{s[1]} {s[2]} {s[3]} {s[4]} {s[5]} {now} {s[0]}\n")

    def after_transaction_end(session, transaction):
        if transaction.parent is None:  # a request's transaction, committed or not, is over
            current.pop(greenlet.getcurrent(), None)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", before_cursor_execute)
    sa.event.listen(sa.engine.Engine, "after_cursor_execute", after_cursor_execute)
    sa.event.listen(sa.engine.Engine, "commit", on_commit)
    sa.event.listen(so.Session, "after_commit", after_commit)
    sa.event.listen(so.Session, "after_transaction_end", after_transaction_end)
