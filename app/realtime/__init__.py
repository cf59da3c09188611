"""Live updates: the change log, its feed to sockets, presence and hints.

``init_app`` wires it into an application; ``app.extensions["realtime"]``
holds this process's state.
"""

import logging

from app.models import utcnow
from app.realtime import changelog, packets, sessions, websockets
from app.realtime.feed import LogFeed
from app.realtime.presence import TTL_IN_INTERVALS, make_presence
from app.realtime.turns import EventTurns
from app.realtime.wakeups import Wakeups

log = logging.getLogger(__name__)


class Realtime:
    def __init__(self, app, socketio):
        self.app = app
        self.socketio = socketio
        self.feed = LogFeed(app, socketio, self._access_changed, self._to_members)
        # This app's server: ``socketio.server`` is replaced by every later init_app
        # (several apps in one process, as in tests).
        self.server = self.feed.server
        self.wakeups = Wakeups(app.config["REDIS_URL"], app.config["REDIS_PREFIX"], socketio)
        self.presence = make_presence(
            app.config["REDIS_URL"],
            app.config["REDIS_PREFIX"],
            ttl=TTL_IN_INTERVALS * app.config["HOUSEKEEPING_INTERVAL"],
        )
        self.sockets = {}  # sid -> sessions.SocketUser, for this process's sockets
        self.turns = EventTurns(self.server.eio.create_event)  # each socket's events in order
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
        server = self.server
        for sid, user in list(self.sockets.items()):
            if user.expires <= now:
                server.disconnect(sid, namespace="/", ignore_queue=True)

    def _refresh_presence(self):
        for board, drags in self.presence.refresh():
            sessions.end_abandoned_drags(self, board, drags)
            sessions.broadcast_presence(self, board)

    def _access_changed(self, event):
        sessions.apply_access_change(self, event)

    def _to_members(self, change, project_id, rooms):
        sessions.send_to_members(self, change, project_id, rooms)

    def _watch_queue(self):
        manager = self.socketio.server.manager
        if hasattr(manager, "recover"):
            manager.recover()
            manager.probe()


def init_app(app, socketio):
    from app.realtime.sockets import BoardNamespace

    changelog.install()
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        client_manager=_socket_manager(app.config),
        cors_allowed_origins=_origin_check(app.config["CORS_ALLOWED_ORIGINS"]),
        max_http_buffer_size=app.config["SOCKET_MAX_MESSAGE"],
    )
    app.extensions["realtime"] = Realtime(app, socketio)
    socketio.on_namespace(BoardNamespace("/"))
    packets.install(app, socketio)
    websockets.SocketIOMiddleware.replace(app)


def _socket_manager(config):
    """Redis carries hints and presence between processes; without it, one process in memory.

    Made here rather than by Flask-SocketIO so that every app gets its own (the
    extension would keep the first one) and Redis calls give up quickly when it is down.
    """
    if not config["REDIS_URL"]:
        return None
    from app.realtime.queue import MonitoredRedisManager

    return MonitoredRedisManager(
        config["REDIS_URL"],
        channel=f"{config['REDIS_PREFIX']}:socketio",
        redis_options={"socket_connect_timeout": 1, "health_check_interval": 10},
        silence_limit=3 * config["HOUSEKEEPING_INTERVAL"],
    )


def _origin_check(allowed_origins):
    """Sockets from this site's own origin, and from the configured ones, are allowed."""
    if not allowed_origins:
        return None  # Engine.IO's default: same origin only

    def is_allowed(origin, environ):
        same_origin = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        return origin == same_origin or origin in allowed_origins

    return is_allowed
