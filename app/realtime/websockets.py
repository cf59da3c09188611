"""What an open websocket keeps in the worker: its reader, waiting, and little else.

Engine.IO serves each websocket with two tasks: the connection's reader, and a
writer that waits on the socket's packet queue for as long as the socket is
open. Most sockets are idle most of the time, and each waiting green thread keeps
its saved C stack and the pages of frame stack it has touched. ``Socket`` changes
three things, all about memory (about 54 KB per idle socket before, 34 after;
``docs/benchmarks.md``):

* **the writer runs only while there is something to write**: it starts when a
  packet is queued and ends once the queue has stayed empty for
  ``WRITER_LINGER`` seconds. A socket on a busy board keeps its writer from one
  change to the next; an idle one holds its reader only.
* **the Socket.IO connect is handled beside the reader**, in a task that ends:
  its handler looks the token up in the database, many calls deep, and the frame
  stack pages it touched in the reader would stay with the socket for good.
* **an idle reader waits for bytes just above the hub** (eventlet), not ten
  calls deeper inside eventlet's websocket.

Everything else is Engine.IO's own: the same queue carries the packets (a
long-polling socket's requests still take them from it), in the same order, and
a closed socket's writer sends what was queued before the close, then closes
the websocket.

``SocketIOMiddleware`` spares every connection a copy of its WSGI environ and a
class of its own (about 2.4 KB each, kept for as long as the socket is open).
"""

import sys
import threading

import socketio
from engineio import exceptions, packet
from engineio import socket as engineio_socket

WRITER_LINGER = 2.0  # seconds a writer waits for the next packet before it ends

SOCKETIO_CONNECT = "0"  # the type of a Socket.IO CONNECT packet, carried in an Engine.IO MESSAGE
_FINISHED = object()  # the writer slot of a socket whose websocket is closed
_writer_slots = threading.Lock()  # held without yielding: starting a writer, or ending one


class Socket(engineio_socket.Socket):
    """An Engine.IO server socket whose websocket writer runs only while packets come."""

    _websocket = None  # set while the websocket transport serves this socket
    _writer = None  # the running writer task, or _FINISHED
    pings = None  # the server's ping timer (a ``timers.DelayLine``), set by ``for_server``

    @classmethod
    def for_server(cls, pings):
        """This class for one server's sockets, whose pings ``pings`` sends."""
        return type(cls.__name__, (cls,), {"pings": pings, "__module__": cls.__module__})

    @classmethod
    def adopt(cls, socket):
        """Serve ``socket``, as created by Engine.IO, with this class (same state, same layout)."""
        socket.__class__ = cls

    def schedule_ping(self):
        # Engine.IO calls this once the connection is accepted, and again on each pong. As
        # its own, a new ping only once the last one was answered; the server's timer sends
        # it, where Engine.IO would start a task that sleeps until then.
        if self.last_ping:
            self.last_ping = None
            self.pings.add(self.sid)

    def send(self, pkt):
        if self._writer is _FINISHED:
            return  # the websocket is closed: nothing more can go out
        super().send(pkt)
        self._start_writer()

    def close(self, wait=True, abort=False, reason=None):
        if self.closed or self.closing:
            return
        super().close(wait=False, abort=abort, reason=reason)
        if self._writer is _FINISHED:
            self._discard_queued()
            return
        self._start_writer()  # to take the CLOSE packet and the final None off the queue
        if wait:
            self.queue.join()

    def receive(self, pkt):
        if self._websocket is None or not _is_socketio_connect(pkt):
            return super().receive(pkt)
        # In a task of its own (python-socketio hands every other event to one already).
        # The reader waits for it: nothing the socket sends afterwards is handled before
        # it. (With an event: under eventlet, a task's ``join`` returns at once if the
        # task has not started yet.)
        handled = self.server.create_event()

        def handle():
            try:
                engineio_socket.Socket.receive(self, pkt)
            finally:
                handled.set()

        self.server.start_background_task(handle)
        handled.wait()

    def _websocket_handler(self, ws):
        timeout = self.server.ping_interval + self.server.ping_timeout
        for attr in ("_sock", "socket"):
            sock = getattr(ws, attr, None)
            if hasattr(sock, "settimeout"):
                sock.settimeout(timeout)  # the reader gives up on a client silent this long
        if self.connected:
            if not self._upgrade(ws):
                return []
        else:
            self.connected = True
            self.upgraded = True
        self._websocket = ws
        self._start_writer()  # for what was queued before the websocket took over
        self.server.logger.info("%s: Upgrade to websocket successful", self.sid)
        self._read(ws)
        self.queue.put(None)  # the writer closes the websocket once it has sent what is queued
        self._start_writer()
        self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)
        return []

    def _upgrade(self, ws):
        """The probe exchange that moves a long-polling socket onto ``ws``; False if it fails."""
        self.upgrading = True  # the polling transport hands out no more packets meanwhile
        try:
            received = packet.Packet(encoded_packet=self._wait(ws))
            if received.packet_type != packet.PING or received.data != "probe":
                self.server.logger.info("%s: Failed websocket upgrade, no PING packet", self.sid)
                return False
            ws.send(packet.Packet(packet.PONG, data="probe").encode())
            self.queue.put(packet.Packet(packet.NOOP))  # ends the pending poll
            received = packet.Packet(encoded_packet=self._wait(ws))
            if received.packet_type != packet.UPGRADE:
                self.upgraded = False
                self.server.logger.info(
                    "%s: Failed websocket upgrade, expected UPGRADE packet, received %s instead.",
                    self.sid,
                    received.packet_type,
                )
                return False
            self.upgraded = True
            return True
        finally:
            self.upgrading = False

    def _wait(self, ws):
        data = ws.wait()
        if data and len(data) > self.server.max_http_buffer_size:
            raise ValueError("packet is too large")
        return data

    def _read(self, ws):
        """Take the client's packets until it closes the websocket or it fails."""
        wait_for_bytes = _wait_for_bytes(ws)
        while True:
            try:
                if wait_for_bytes is not None:
                    wait_for_bytes()
                data = self._wait(ws)
            except Exception as error:
                if not self.closed:  # an error after a close is the close's doing
                    self.server.logger.info('%s: Unexpected error "%s", closing connection', self.sid, error)
                return
            if data is None:
                return  # closed by the client
            try:
                self.receive(packet.Packet(encoded_packet=data))
            except exceptions.UnknownPacketError:
                pass
            except exceptions.SocketIsClosedError:
                self.server.logger.info("Receive error -- socket is closed")
                return
            except Exception:
                self.server.logger.exception("Unknown receive error")
                return

    def _start_writer(self):
        if self._websocket is None or self._writer is not None:
            return
        with _writer_slots:
            if self._writer is None:
                self._writer = self.server.start_background_task(self._write)

    def _write(self):
        ws, queue, empty = self._websocket, self.queue, self.server.get_queue_empty_exception()
        while True:
            try:
                pkt = queue.get(timeout=WRITER_LINGER)
            except empty:
                with _writer_slots:
                    if queue.empty():  # else a packet came in just now: take it
                        self._writer = None
                        return
                continue
            queue.task_done()
            if pkt is None:
                break
            try:
                ws.send(pkt.encode())
            except Exception:
                break
        self._writer = _FINISHED
        _close_websocket(ws)
        self._discard_queued()

    def _discard_queued(self):
        """Empty the queue of a socket whose websocket is closed, so that nothing waits on it."""
        empty = self.server.get_queue_empty_exception()
        while True:
            try:
                self.queue.get(block=False)
            except empty:
                return
            self.queue.task_done()


def _eventlet_websocket(ws):
    module = sys.modules.get("eventlet.websocket")
    return module is not None and isinstance(ws, module.RFC6455WebSocket)


def _close_websocket(ws):
    """Close ``ws``, and under eventlet free its reader should it still wait on the socket.

    eventlet closes a socket without waking the green thread that waits to read it
    (here, when the server closes a socket: a disconnect, a refusal, a message too
    large). That thread would keep its hold on the descriptor's number until its
    timeout, and the next connection the OS gave that number, psycopg2's among them,
    would be refused by the hub ("Second simultaneous read on fileno"): a 500. Told
    that the number is in use again, the hub wakes the old reader with an error.
    """
    sock = getattr(ws, "socket", None)
    fileno = sock.fileno() if _eventlet_websocket(ws) and hasattr(sock, "fileno") else None
    ws.close()
    if fileno is not None and fileno >= 0:
        from eventlet.hubs import notify_opened

        notify_opened(fileno)


def _is_socketio_connect(pkt):
    return (
        pkt.packet_type == packet.MESSAGE and isinstance(pkt.data, str) and pkt.data[:1] == SOCKETIO_CONNECT
    )


def _wait_for_bytes(ws):
    """A call that returns once ``ws`` has bytes to read, for an idle reader to wait in; None
    where ``ws.wait()`` must do the waiting itself.

    Eventlet's websocket reads each frame's bytes exactly, so between messages
    nothing of the next one is held above the socket, and waiting for the socket to
    become readable is the same wait that ``ws.wait()`` makes. Made here, the wait
    sits ten calls less deep: an idle reader's frames then fit one page of its frame
    stack, and its saved C stack is shorter. (Not on TLS, whose layer holds
    decrypted bytes of its own; not for other websockets, which wait their own way.)
    """
    sock = getattr(ws, "socket", None)
    if not _eventlet_websocket(ws) or hasattr(sock, "pending"):
        return None
    from eventlet.hubs import trampoline

    def wait():
        trampoline(sock, read=True, timeout=sock.gettimeout(), timeout_exc=TimeoutError)

    return wait


class SocketIOMiddleware(socketio.WSGIApp):
    """Flask-SocketIO's middleware: hands Socket.IO requests to the server, everything else to
    the Flask app, and tells both which app this is. Without two costs per request of the
    one it replaces, each kept for as long as a socket is open: a copy of the environ
    (the server keeps the environ of every connection it accepts, and the WSGI server
    its own; here they are one), and a class made on the spot to show gunicorn's socket
    to eventlet's websocket as eventlet's own server would (about 2.4 KB each)."""

    def __init__(self, flask_app, server, wsgi_app, socketio_path):
        self.flask_app = flask_app
        super().__init__(server, wsgi_app, socketio_path=socketio_path)

    def __call__(self, environ, start_response):
        environ["flask.app"] = self.flask_app
        path = environ["PATH_INFO"]
        if path is None or not path.startswith(self.engineio_path):
            return self.wsgi_app(environ, start_response)
        if "gunicorn.socket" in environ:
            environ["eventlet.input"] = _GunicornInput(environ["gunicorn.socket"])
        return self.engineio_app.eio.handle_request(
            environ, start_response
        )  # Socket.IO's own just calls this

    @classmethod
    def replace(cls, app):
        """Put this in place of the middleware ``SocketIO.init_app`` installed on ``app``."""
        installed = app.wsgi_app
        app.wsgi_app = cls(app, installed.engineio_app, installed.wsgi_app, installed.engineio_path)


class _GunicornInput:
    """What eventlet's websocket asks of ``environ["eventlet.input"]``: the connection's socket."""

    __slots__ = ("socket",)

    def __init__(self, socket):
        self.socket = socket

    def get_socket(self):
        return self.socket
