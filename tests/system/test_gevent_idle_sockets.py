"""What an open websocket keeps in the worker (``test_idle_sockets.py``), with the server
under gevent (``gevent_lane.py``). Its reader waits inside the websocket there (Engine.IO
serves gevent with simple-websocket), so that test is eventlet's only."""

from tests.system.gevent_lane import servers_under_gevent  # noqa: F401 (an autouse fixture)
from tests.system.test_idle_sockets import (  # noqa: F401 (its fixtures and tests, run here again)
    probed,
    sockets,
    test_an_idle_socket_keeps_its_reader_only_and_a_writer_comes_back_for_a_change,
    test_the_socketio_connect_is_handled_beside_its_socket_reader,
)
