"""Each socket's events handled one after another, in the order they came in."""

import collections
import contextlib


class EventTurns:
    """Each socket's events one after another, in the order their tasks started (the order
    the events came in). Only sockets with an event under way have a queue."""

    def __init__(self, create_event):
        self.create_event = create_event
        self._queues = {}  # sid -> deque of the turns waiting, the running one first

    @contextlib.contextmanager
    def turn(self, sid):
        queue = self._queues.get(sid)
        if queue is None:
            queue = self._queues[sid] = collections.deque()
        # Only an event that has to wait needs something to wait on.
        mine = self.create_event() if queue else object()
        queue.append(mine)
        try:
            if queue[0] is not mine:
                mine.wait()
            yield
        finally:  # also when the task is stopped while it waits
            first = queue[0] is mine
            queue.remove(mine)
            if not queue:
                del self._queues[sid]
            elif first:
                queue[0].set()
