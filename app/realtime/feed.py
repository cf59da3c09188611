"""The log feed: delivers committed changes from the change log to this
process's sockets, in ``seq`` order, and replays them on ``subscribe``.

Every server process follows the log on its own. A commit in this process
wakes its feed at once; commits elsewhere (another process, the CLI, a script)
wake it through a Redis message, and a short poll catches whatever a lost
message, a dead process or a Redis outage would otherwise have dropped. The
database, not memory or Redis, decides what is delivered.
"""

import logging
import threading

import sqlalchemy as sa

from app import db
from app.models import Event
from app.realtime.rooms import rooms_for, seen_by_board, token_room, user_room

log = logging.getLogger(__name__)

NAMESPACE = "/"
BATCH = 500


class LogFeed:
    def __init__(self, app, socketio, on_access_change, to_members):
        self.app = app
        # Called with each logged change before it is delivered, to adjust sockets' rooms and roles.
        self.on_access_change = on_access_change
        # Called with a project's change, its id and rooms: sends it to its members' sockets there.
        self.to_members = to_members
        # (log time, project id, change) of a project just added, while the rest of its
        # transaction is delivered: the members added with it get its add as they join.
        self._new_project = None
        self.socketio = socketio
        # This app's server: ``socketio.server`` is replaced by every later init_app
        # (several apps in one process, as in tests), and must not get our changes.
        self.server = socketio.server
        self.poll_interval = app.config["EVENT_POLL_INTERVAL"]
        self.replay_limit = app.config["EVENT_REPLAY_LIMIT"]
        self.position = None  # the last seq delivered to this process's sockets
        self.lock = threading.Lock()  # delivery and replay never interleave
        self.wakeup = threading.Event()
        self.stopped = threading.Event()
        self._start_lock = threading.Lock()

    def start(self):
        """Start following the log (once), from its current end."""
        with self._start_lock:
            if self.position is not None:
                return
            with self.app.app_context():
                try:
                    self.position = db.session.scalar(sa.select(sa.func.max(Event.seq))) or 0
                finally:
                    db.session.remove()
            self.socketio.start_background_task(self._follow)

    @property
    def started(self):
        return self.position is not None

    def kick(self):
        self.wakeup.set()

    def stop(self):
        """Stop following the log; once this returns, nothing more is delivered."""
        self.stopped.set()
        self.wakeup.set()
        with self.lock:  # a delivery under way finishes first
            pass

    def _follow(self):
        while not self.stopped.is_set():
            self.wakeup.wait(self.poll_interval)
            self.wakeup.clear()
            try:
                if self.deliver_new() == BATCH:
                    self.wakeup.set()
            except Exception:
                log.exception("Could not read the change log; retrying")
                self.socketio.sleep(self.poll_interval)

    def deliver_new(self):
        """Send every change committed since the last one delivered; returns how many."""
        with self.app.app_context():
            try:
                with self.lock:
                    if self.stopped.is_set():
                        return 0
                    events = db.session.scalars(
                        sa.select(Event).where(Event.seq > self.position).order_by(Event.seq).limit(BATCH)
                    ).all()
                    for event in events:
                        self._dispatch(event)
                        self.position = event.seq
                    return len(events)
            finally:
                db.session.remove()

    def _dispatch(self, event):
        server = self.server
        if event.model == "token":
            room = token_room(event.object_id)
            for sid, _ in list(server.manager.get_participants(NAMESPACE, room)):
                server.disconnect(sid, namespace=NAMESPACE, ignore_queue=True)
            return
        self.on_access_change(event)
        change = event.as_change()
        rooms = rooms_for(event)
        if event.model == "project":
            self.to_members(change, event.project, rooms)
            self._new_project = (event.created, event.project, change) if event.action == "add" else None
            return
        if self._new_project is not None:
            self._tell_new_member(event)
        if rooms:
            server.emit("change", change, to=rooms, namespace=NAMESPACE, ignore_queue=True)

    def _tell_new_member(self, event):
        """A project's add reaches its members as of that change: none had joined its room
        yet, since their memberships are logged after it. The members added in the same
        transaction (its creator), told by the log time they share, get it as they join;
        one added later does not."""
        created, project_id, change = self._new_project
        if event.created != created:
            self._new_project = None
        elif event.model == "member" and event.action == "add" and event.project == project_id:
            self.to_members(change, project_id, [user_room(event.subject)])

    def replay_and_join(self, sid, sprint_id, project_id, since, rooms, still_allowed):
        """Send ``sid`` the board's changes after ``since``, then join it to ``rooms``.

        Under the delivery lock, so the socket gets every change exactly once:
        replayed up to the feed's position, live after it. Returns (latest seq,
        whether the client must reload because ``since`` is older than the log),
        or None when ``still_allowed()`` says the socket lost access meanwhile.
        """
        self.start()
        server = self.server
        with self.lock:
            if not still_allowed():
                return None
            latest = self.position
            resync = False
            if since is not None and since > latest:
                # Seen a change the log never numbered (the database was replaced): what the
                # client holds is not this log's. A feed that has not yet read the newest
                # rows is no reason: the client then gets them live, and skips those it has.
                newest = db.session.scalar(sa.select(sa.func.max(Event.seq)))
                resync = newest is None or since > newest
            elif since is not None and since < latest:
                oldest = db.session.scalar(sa.select(sa.func.min(Event.seq)))
                events = db.session.scalars(
                    sa.select(Event)
                    .where(Event.seq > since, Event.seq <= latest, seen_by_board(sprint_id, project_id))
                    .order_by(Event.seq)
                    .limit(self.replay_limit + 1)
                ).all()
                if oldest is None or since < oldest - 1 or len(events) > self.replay_limit:
                    resync = True
                else:
                    for event in events:
                        server.emit(
                            "change", event.as_change(), to=sid, namespace=NAMESPACE, ignore_queue=True
                        )
            for room in rooms:
                server.enter_room(sid, room, namespace=NAMESPACE)
        return latest, resync
