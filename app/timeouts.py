"""The guard in front of the whole application (``wsgi.py`` puts it there): a request
body must arrive whole within ``REQUEST_BODY_TIMEOUT`` seconds, and may not be
larger than the route takes.

Without it a client that announces a body and never sends it holds a connection
(and a green thread) for as long as it likes; ten thousand of them fill the
worker. The guard reads the body itself, under one deadline for all of it (as
Node's ``requestTimeout``; nginx's ``client_body_timeout`` is per read), before
Flask or Engine.IO see the request, so no route can forget it:

* too slow: ``408`` and the connection is closed;
* announced larger than the limit: left unread for the application to refuse
  (Flask answers ``413`` in the one error shape, with the usual headers); for
  Socket.IO's long-polling POSTs (``SOCKET_MAX_MESSAGE``), which Engine.IO would
  drop without an answer, ``413`` here, and the connection is closed;
* a chunked body that grows past the limit: ``413`` here, connection closed.

Request *headers* are bounded by the server: gunicorn's async workers give each
request's headers ``--keep-alive`` seconds (2 by default) to arrive.

The deadline is the async library's timeout (eventlet's or gevent's, by
``SOCKETIO_ASYNC_MODE``): it interrupts the blocked read, whatever the worker
class. In threading mode (``flask run``) there is no guard.

Socket.IO requests also get a quieter error stream: eventlet's websocket writes
``socket shutdown error: [Errno 9] Bad file descriptor`` when it closes a
connection that Engine.IO closed already; that line says nothing and is dropped.
"""

import io
import json

SOCKET_PATH = "/socket.io"
CHUNK = 64 * 1024


class BodyTimeout(Exception):
    pass


class BodyTooLarge(Exception):
    pass


def _timeout_class(async_mode):
    if async_mode == "eventlet":
        import eventlet

        return eventlet.Timeout
    if async_mode == "gevent":
        import gevent

        return gevent.Timeout
    return None


def _answer(start_response, status, message):
    body = json.dumps({"message": message}).encode()
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(body))), ("Connection", "close")],
    )
    return [body]


def _size(limit):
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"


class QuietSocketErrors:
    """An error stream that drops eventlet's note on closing an already closed websocket."""

    NOISE = ("socket shutdown error", "Bad file descriptor")

    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        if not all(part in text for part in self.NOISE):
            self.stream.write(text)

    def __getattr__(self, name):
        return getattr(self.stream, name)


class RequestGuard:
    def __init__(self, wsgi_app, config):
        self.wsgi_app = wsgi_app
        self.timeout = config["REQUEST_BODY_TIMEOUT"]
        self.max_body = config["MAX_CONTENT_LENGTH"]
        self.max_socket_body = config["SOCKET_MAX_MESSAGE"]
        self.timeout_class = _timeout_class(config["SOCKETIO_ASYNC_MODE"])

    def __call__(self, environ, start_response):
        socket_request = environ.get("PATH_INFO", "").startswith(SOCKET_PATH)
        if socket_request and "wsgi.errors" in environ:
            environ["wsgi.errors"] = QuietSocketErrors(environ["wsgi.errors"])
        limit = self.max_socket_body if socket_request else self.max_body
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _answer(start_response, "400 Bad Request", "The Content-Length header is not a number.")
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if (not length and not chunked) or (length > limit and not socket_request):
            return self.wsgi_app(environ, start_response)
        too_large = f"The request body is larger than {_size(limit)}."
        if length > limit:
            return _answer(start_response, "413 Request Entity Too Large", too_large)
        try:
            body = self._read(environ["wsgi.input"], length if not chunked else None, limit)
        except BodyTooLarge:
            return _answer(start_response, "413 Request Entity Too Large", too_large)
        except BodyTimeout:
            return _answer(
                start_response,
                "408 Request Timeout",
                f"The request body did not arrive within {self.timeout:g} seconds.",
            )
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.wsgi_app(environ, start_response)

    def _read(self, stream, length, limit):
        """The whole body (``length`` bytes, or up to the end of a chunked one) within the deadline."""
        if self.timeout_class is None or not self.timeout:
            return self._read_all(stream, length, limit)
        with self.timeout_class(self.timeout, BodyTimeout()):
            return self._read_all(stream, length, limit)

    @staticmethod
    def _read_all(stream, length, limit):
        body = bytearray()
        while length is None or len(body) < length:
            chunk = stream.read(CHUNK if length is None else min(CHUNK, length - len(body)))
            if not chunk:
                break
            body += chunk
            if len(body) > limit:
                raise BodyTooLarge()
        return bytes(body)
