"""Live updates: the change log, its feed to sockets, presence and hints.

``init_app`` wires it into an application; ``app.extensions["realtime"]``
holds this process's state.
"""

import logging

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

    def _housekeeping(self):
        from app.realtime.sockets import broadcast_presence

        interval = self.app.config["PRESENCE_REFRESH_INTERVAL"]
        while True:
            self.socketio.sleep(interval)
            try:
                for board in self.presence.refresh():
                    broadcast_presence(self, board)
            except Exception:
                log.exception("Presence refresh failed")


def init_app(app, socketio):
    from app.realtime import sockets

    app.extensions["realtime"] = Realtime(app, socketio)
    sockets.register(socketio)
