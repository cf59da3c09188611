"""The middleware in front of the app that hands Socket.IO requests to the Socket.IO server
(``SocketIOMiddleware`` in ``app/realtime/websockets.py``), driven with real requests."""

import json
import socket

from werkzeug.test import EnvironBuilder

OPEN = "/socket.io/"


def open_polling_session(app, **environ_extras):
    """Open an Engine.IO session by long-polling: ``(its id, the environ of the request)``."""
    environ = EnvironBuilder(path=OPEN, query_string="EIO=4&transport=polling").get_environ()
    environ.update(environ_extras)
    statuses = []
    body = app.wsgi_app(environ, lambda status, headers: statuses.append(status))  # as a WSGI server calls it
    assert statuses == ["200 OK"]
    opened = b"".join(body).decode()
    assert opened[0] == "0"  # Engine.IO's OPEN packet
    return json.loads(opened[1:])["sid"], environ


def test_the_socketio_server_keeps_the_environ_the_wsgi_server_gave_not_a_copy(app):
    eio_sid, environ = open_polling_session(app)
    server = app.extensions["realtime"].server
    assert server.environ[eio_sid] is environ
    assert environ["flask.app"] is app


def test_gunicorns_socket_is_shown_to_eventlet_without_a_class_per_request(app):
    first_socket, second_socket = socket.socketpair()
    try:
        _, first = open_polling_session(app, **{"gunicorn.socket": first_socket})
        _, second = open_polling_session(app, **{"gunicorn.socket": second_socket})
        assert first["eventlet.input"].get_socket() is first_socket
        assert second["eventlet.input"].get_socket() is second_socket
        assert type(first["eventlet.input"]) is type(second["eventlet.input"])
    finally:
        first_socket.close()
        second_socket.close()
