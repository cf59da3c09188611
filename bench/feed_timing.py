"""gunicorn config file for the fan-out benchmark's many-boards mode
(``python -m bench.fanout --boards …``): times, inside the worker, what the log
feed does for each batch of changes, and appends one line per batch to the file
named by ``FEED_TIMING_FILE``:

    <monotonic s> <changes> <sends> <batch> <read> <sql> <dispatch> <route> <emit> <tail>
    <batch CPU> <read CPU> <dispatch CPU> <tail CPU>          (all in ms)

- batch: all of ``LogFeed.deliver_new`` (app context, the log read, every
  dispatch, the session given back);
- read: from its start to the first dispatch: the log read (the query and the
  ``Event`` objects built from its rows);
- sql: the cursor executes within the batch, outside dispatch (SQLAlchemy
  cursor events);
- dispatch: ``LogFeed._dispatch`` for every change of the batch (access hook,
  rooms, emit);
- route: ``rooms_for`` plus the Socket.IO manager's ``get_participants`` (the
  room's sockets collected into one list), within dispatch;
- emit: ``Server.emit`` without ``get_participants``: the packet encoded once
  and queued to each socket (the websocket writes happen later, in each socket's
  own writer greenthread, and are not in these figures);
- sends: Engine.IO packets queued by those emits;
- tail: after the last dispatch (the session's connection given back to the
  pool). Its wait for PostgreSQL is where the sockets' writer greenthreads
  send the change on their websockets, so at many sockets most of the
  delivery work lands here;
- CPU: the worker thread's CPU time (``time.thread_time``) over the same spans.

Times are wall time in the worker's one OS thread: whatever other greenthreads
run while the feed waits for PostgreSQL (the request that made the change
finishing, the websocket writes) counts in the span where the wait happened,
and so does any time the process waits for the core. The CPU columns leave the
waiting for the core out, not the other greenthreads' work.

The app's code is unchanged: this file wraps the feed's methods on the one
instance after the worker has loaded the app (``post_worker_init``). With
``GC_LOG=1`` it also logs full collections, as ``bench/gc_log.py`` does.
"""

import gc
import os
import sys
import time

_clock = time.perf_counter


def post_fork(server, worker):
    if os.environ.get("GC_LOG") == "1":
        started = [0.0]

        def on_gc(phase, info):
            if info.get("generation") != 2:
                return
            if phase == "start":
                started[0] = _clock()
            else:
                ms = 1000 * (_clock() - started[0])
                sys.stderr.write(f"GC2 {time.monotonic():.3f} {ms:.1f} collected={info.get('collected')}\n")
                sys.stderr.flush()

        gc.callbacks.append(on_gc)


def post_worker_init(worker):
    path = os.environ.get("FEED_TIMING_FILE")
    if not path:
        return
    try:
        install(worker.wsgi, path)
    except Exception as error:  # noqa: BLE001 - a diagnostic must not stop the worker
        sys.stderr.write(f"feed timing not installed: {type(error).__name__}: {error}\n")


def install(flask_app, path):
    import threading

    import sqlalchemy as sa

    import app.realtime.feed as feed_module

    feed = flask_app.extensions["realtime"].feed
    server = feed.server
    manager = server.manager
    out = open(path, "a", buffering=1)  # noqa: SIM115 - lives as long as the worker
    # Accumulators for the batch under way; only the feed's greenthread (or a replay,
    # which takes the same lock) runs deliver_new, so one set is enough.
    # Flags count only for the greenthread that runs the batch (threading is patched).
    acc = {"in_batch": False, "in_dispatch": False, "owner": None}
    ident = threading.get_ident

    def mine(flag):
        return acc[flag] and acc["owner"] == ident()

    def now():
        return _clock(), time.thread_time()

    original_deliver = feed.deliver_new
    original_dispatch = feed._dispatch
    original_rooms_for = feed_module.rooms_for
    original_emit = server.emit
    original_participants = manager.get_participants
    original_send = server._send_eio_packet

    def deliver_new():
        acc.update(sql=0.0, dispatch=0.0, dispatch_cpu=0.0, route=0.0, emit=0.0, sends=0)
        acc.update(first=None, last=None, in_batch=True, owner=ident())
        start = now()
        try:
            changes = original_deliver()
        finally:
            acc["in_batch"] = False
        end = now()
        if changes and acc["first"] is not None:
            first, last = acc["first"], acc["last"]
            fields = (
                end[0] - start[0],  # batch
                first[0] - start[0],  # read: up to the first dispatch
                acc["sql"],
                acc["dispatch"],
                acc["route"],
                acc["emit"],
                end[0] - last[0],  # tail: after the last dispatch
                end[1] - start[1],
                first[1] - start[1],
                acc["dispatch_cpu"],
                end[1] - last[1],
            )
            ms = " ".join(f"{1000 * x:.4f}" for x in fields)
            out.write(f"{time.monotonic():.4f} {changes} {acc['sends']} {ms}\n")
        return changes

    def dispatch(event):
        if not mine("in_batch"):
            return original_dispatch(event)
        acc["in_dispatch"] = True
        begin = now()
        if acc["first"] is None:
            acc["first"] = begin
        try:
            return original_dispatch(event)
        finally:
            acc["last"] = now()
            acc["dispatch"] += acc["last"][0] - begin[0]
            acc["dispatch_cpu"] += acc["last"][1] - begin[1]
            acc["in_dispatch"] = False

    def rooms_for(event):
        t0 = _clock()
        try:
            return original_rooms_for(event)
        finally:
            if mine("in_dispatch"):
                acc["route"] += _clock() - t0

    def get_participants(namespace, room):
        if not mine("in_dispatch"):
            return original_participants(namespace, room)
        t0 = _clock()
        participants = list(original_participants(namespace, room))
        spent = _clock() - t0
        acc["route"] += spent
        acc["emit"] -= spent  # counted as routing, not as emit
        return iter(participants)

    def emit(*args, **kwargs):
        if not mine("in_dispatch"):
            return original_emit(*args, **kwargs)
        t0 = _clock()
        try:
            return original_emit(*args, **kwargs)
        finally:
            acc["emit"] += _clock() - t0

    def send_eio_packet(eio_sid, eio_pkt):
        if mine("in_dispatch"):
            acc["sends"] += 1
        return original_send(eio_sid, eio_pkt)

    def before_cursor(conn, cursor, statement, parameters, context, executemany):
        if mine("in_batch") and not acc["in_dispatch"]:
            conn.info["bench_t0"] = _clock()

    def after_cursor(conn, cursor, statement, parameters, context, executemany):
        t0 = conn.info.pop("bench_t0", None)
        if t0 is not None:
            acc["sql"] += _clock() - t0

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", before_cursor)
    sa.event.listen(sa.engine.Engine, "after_cursor_execute", after_cursor)
    feed.deliver_new = deliver_new
    feed._dispatch = dispatch
    feed_module.rooms_for = rooms_for
    server.emit = emit
    manager.get_participants = get_participants
    server._send_eio_packet = send_eio_packet
    sys.stderr.write(f"feed timing: writing to {path}\n")
