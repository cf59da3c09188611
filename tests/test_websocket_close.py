"""A websocket the server closes frees its descriptor's number for whatever opens next.

eventlet closes a socket without waking a green thread waiting to read it. That reader
kept its hold on the descriptor's number, and the next descriptor the OS gave the same
number, a database connection's among them, was refused by eventlet's hub ("Second
simultaneous read on fileno"): the request that opened it failed with a 500. Under
eventlet, so in an interpreter of its own.
"""

import json

from tests.support.servers import app_environment, run_python_code

PROBE = """
import eventlet
eventlet.monkey_patch()
import json, os, socket
from eventlet import hubs, websocket
from app.realtime import websockets

ours, theirs = socket.socketpair()
ws = websocket.RFC6455WebSocket(ours, {}, None)
events = []

def reader():  # a socket's reader, waiting for the client's next message
    try:
        websockets._wait_for_bytes(ws)()
        events.append("reader woke")
    except Exception as error:
        events.append(f"reader got {type(error).__name__}")

eventlet.spawn(reader)
eventlet.sleep(0.05)
number = ours.fileno()
websockets._close_websocket(ws)  # the server closes the socket under its reader
eventlet.sleep(0.05)
reused = os.dup(theirs.fileno())  # the next descriptor, not a socket eventlet made (psycopg2's)
assert reused == number, (reused, number)
try:
    hubs.trampoline(reused, read=True, timeout=0.1, timeout_exc=TimeoutError)
    events.append("new descriptor served")
except TimeoutError:
    events.append("new descriptor served")
except RuntimeError as error:
    events.append(f"new descriptor refused: {error}")
print(json.dumps(events))
"""


def test_closing_a_websocket_frees_its_reader_and_its_descriptor_number():
    result = run_python_code(PROBE, app_environment("sqlite://"))
    assert result.returncode == 0, result.stderr
    events = json.loads(result.stdout.strip().splitlines()[-1])
    assert events == ["reader got IOClosed", "new descriptor served"]
