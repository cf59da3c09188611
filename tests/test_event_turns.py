"""A socket's events take turns in the order they started (``app.realtime.turns``); the
same against a real server: ``tests/system/test_realtime_servers.py``."""

import threading
import time

from app.realtime.turns import EventTurns


def test_events_of_one_socket_run_one_at_a_time_in_the_order_they_started():
    turns = EventTurns(threading.Event)
    order, first_may_end = [], threading.Event()

    def event(name, sid, hold=None):
        with turns.turn(sid):
            order.append(f"{name} starts")
            if hold is not None:
                hold.wait(5)
            order.append(f"{name} ends")

    first = threading.Thread(target=event, args=("first", "s1", first_may_end))
    first.start()
    while not order:
        time.sleep(0.001)
    later = []
    for name in ("second", "third"):
        later.append(threading.Thread(target=event, args=(name, "s1")))
        later[-1].start()
        while len(turns._queues["s1"]) < len(later) + 1:  # queued behind the first
            time.sleep(0.001)
    other_socket = threading.Thread(target=event, args=("other socket", "s2"))
    other_socket.start()
    other_socket.join(5)
    assert order == ["first starts", "other socket starts", "other socket ends"]  # not held up

    first_may_end.set()
    for thread in (first, *later):
        thread.join(5)
    assert [step for step in order if "other" not in step] == [
        "first starts",
        "first ends",
        "second starts",
        "second ends",
        "third starts",
        "third ends",
    ]
    assert turns._queues == {}  # nothing kept once a socket's events are done
