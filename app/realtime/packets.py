"""Checks on every Engine.IO connection, made before Socket.IO decodes anything.

``install`` puts them between Engine.IO and Socket.IO on an app's server (its
documented ``connect``/``message``/``disconnect`` handlers, wrapped):

* **binary packets** are refused and the socket closed: no event of ours takes
  binary data, and python-socketio keeps an incomplete binary packet's
  attachments in memory for as long as the client keeps announcing more;
* **a message budget** (``limits.MESSAGE_BUDGET``): a socket sending faster is
  closed at once, before its messages cost a decode, a handler and an ack each;
* **undecodable packets** (malformed or pathologically nested JSON) close the socket;
* **a connect timeout** (``SOCKET_CONNECT_TIMEOUT``): an Engine.IO connection that
  has no connected Socket.IO socket that long after it opened (it never sent the
  connect packet, or its token was refused) is closed, as socket.io's
  ``connectTimeout`` does.

Both these deadlines and Engine.IO's heartbeat pings run on one ``DelayLine``
each (``timers.py``) for all connections, instead of a sleeping task per
connection per timer: Engine.IO's ``Socket.schedule_ping`` starts such a task
for every ping; the app's socket class (``websockets.py``, which also says what
else an open socket keeps) adds it to the ``DelayLine`` instead.

Messages run in the connection's reader (python-socketio turns Engine.IO's own
async handlers off), so a refused message costs nothing more and a closed
socket's remaining messages are dropped as they are read.
"""

import logging
import time

from engineio import packet

from app.realtime import websockets
from app.realtime.limits import MESSAGE_BUDGET, RateLimit
from app.realtime.timers import DelayLine

log = logging.getLogger(__name__)

BINARY_PACKET_TYPES = ("5", "6")  # Socket.IO BINARY_EVENT and BINARY_ACK


class PacketGuard:
    def __init__(self, server, connect_timeout):
        self.server = server
        self.eio = server.eio
        self.connect_timeout = connect_timeout
        self.budget = RateLimit(*MESSAGE_BUDGET)
        self.pings = DelayLine(self.eio, self.eio.ping_interval, self._ping)
        self.socket_class = websockets.Socket.for_server(self.pings)
        self.unconnected = DelayLine(self.eio, connect_timeout, self._close_if_never_connected)
        self._handlers = dict(self.eio.handlers)
        for event in ("connect", "message", "disconnect"):
            self.eio.on(event, getattr(self, f"on_{event}"))

    def on_connect(self, eio_sid, environ):
        accepted = self._handlers["connect"](eio_sid, environ)
        if accepted is not False:
            self.socket_class.adopt(self.eio.sockets[eio_sid])
            if self.connect_timeout:
                self.unconnected.add(eio_sid)
        return accepted

    def on_message(self, eio_sid, data):
        if eio_sid not in self.eio.sockets:
            pass  # closed here, still being read
        elif not isinstance(data, str) or data[:1] in BINARY_PACKET_TYPES:
            self._close(eio_sid, "sent a binary packet")
        elif not self.budget.allow(eio_sid):
            self._close(eio_sid, "sent more messages than its budget")
        else:
            try:
                return self._handlers["message"](eio_sid, data)
            except (ValueError, RecursionError):
                self._close(eio_sid, "sent a packet that cannot be decoded")
        # Let the writer send the close and everyone else run: a reader whose buffer is
        # never empty would otherwise go on dropping messages without ever yielding.
        self.eio.sleep(0)

    def on_disconnect(self, eio_sid, reason):
        try:
            return self._handlers["disconnect"](eio_sid, reason)
        finally:
            self.budget.forget(eio_sid)

    def _close(self, eio_sid, why, level=logging.WARNING):
        """Engine.IO's ``disconnect`` without its wait for the client to collect the close
        packet: a long-polling client that stopped polling would keep that wait forever."""
        log.log(level, "Closing socket %s: it %s", eio_sid, why)
        socket = self.eio.sockets.get(eio_sid)
        if socket is not None:
            socket.close(wait=False, reason=self.eio.reason.SERVER_DISCONNECT)
            self.eio.sockets.pop(eio_sid, None)

    def _ping(self, eio_sid):
        socket = self.eio.sockets.get(eio_sid)
        if socket is not None and not socket.closing and not socket.closed:
            socket.last_ping = time.time()  # Engine.IO's service task times the pong from here
            socket.send(packet.Packet(packet.PING))

    def _close_if_never_connected(self, eio_sid):
        if eio_sid in self.eio.sockets and not self.server.manager.sid_from_eio_sid(eio_sid, "/"):
            self._close(eio_sid, f"had no connected socket after {self.connect_timeout:g} s", logging.INFO)


def install(app, socketio):
    """Guard the Engine.IO connections of ``socketio``'s current server (call after init_app)."""
    app.extensions["packet_guard"] = PacketGuard(socketio.server, app.config["SOCKET_CONNECT_TIMEOUT"])
