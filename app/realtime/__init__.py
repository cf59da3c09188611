"""Live updates: the change log, its feed to sockets, presence and hints.

``init_app`` wires it into an application; ``app.extensions["realtime"]``
holds this process's state.
"""

import logging

from app.models import utcnow
from app.realtime import changelog  # noqa: F401  (registers the session hooks)
from app.realtime.feed import LogFeed
from app.realtime.presence import make_presence
from app.realtime.wakeups import Wakeups

log = logging.getLogger(__name__)


class Realtime:
    def __init__(self, app, socketio):
        self.app = app
        self.socketio = socketio
        self.feed = LogFeed(app, socketio)
        self.wakeups = Wakeups(app.config["REDIS_URL"], app.config["REDIS_PREFIX"], socketio)
        self.presence = make_presence(app.config["REDIS_URL"], app.config["REDIS_PREFIX"])
        self.sockets = {}  # sid -> SocketUser, for this process's sockets
        self._housekeeping_started = False

    def committed(self):
        """Called after every commit that wrote to the change log."""
        if self.feed.started:
            self.feed.kick()
        self.wakeups.announce()

    def serving(self):
        """Called on the first socket connection: start following the log."""
        if self.feed.started:
            return
        self.feed.start()
        self.wakeups.listen(self.feed.kick)
        if not self._housekeeping_started:
            self._housekeeping_started = True
            self.socketio.start_background_task(self._housekeeping)

    def stop(self):
        """End this app's background work, for an app torn down while its process goes on (tests)."""
        self.feed.stop()

    def queue_problem(self):
        """What is wrong with the Socket.IO message queue's listener, or None."""
        manager = self.socketio.server.manager
        return manager.problem() if hasattr(manager, "problem") else None

    def _housekeeping(self):
        interval = self.app.config["HOUSEKEEPING_INTERVAL"]
        while True:
            self.socketio.sleep(interval)
            if self.feed.stopped.is_set():
                return
            for chore in (self._disconnect_expired, self._refresh_presence, self._watch_queue):
                try:
                    chore()
                except Exception:
                    log.exception("Housekeeping failed: %s", chore.__name__)

    def _disconnect_expired(self):
        now = utcnow()
        server = self.socketio.server
        for sid, user in list(self.sockets.items()):
            if user.expires <= now:
                server.disconnect(sid, namespace="/", ignore_queue=True)

    def _refresh_presence(self):
        from app.realtime.sockets import broadcast_presence

        for board in self.presence.refresh():
            broadcast_presence(self, board)

    def _watch_queue(self):
        manager = self.socketio.server.manager
        if hasattr(manager, "recover"):
            manager.recover()
            manager.probe()


def init_app(app, socketio):
    from app.realtime import sockets

    app.extensions["realtime"] = Realtime(app, socketio)
    sockets.register(socketio)
