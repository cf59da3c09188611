"""One background task for many timers of the same length.

An idle socket used to keep a sleeping task of its own for each of its timers
(its next heartbeat ping, its connect deadline): a green thread and its saved
stack, about 8 KB each. A ``DelayLine`` serves every timer of one length from a
single task instead. As every timer lasts the same time, they fall due in the
order they were started, and a queue in that order is all the bookkeeping needed.
"""

import collections
import logging
import threading
import time

log = logging.getLogger(__name__)


class DelayLine:
    """Calls ``action(item)`` ``delay`` seconds after each ``add(item)``.

    ``server`` is the Engine.IO server whose async mode runs the task; it starts
    with the first item.
    """

    def __init__(self, server, delay, action):
        self.server = server
        self.delay = delay
        self.action = action
        self._due = collections.deque()  # (time due, item), in the order they fall due
        self._start = threading.Lock()
        self._task = None

    def __len__(self):
        return len(self._due)

    def add(self, item):
        self._due.append((time.monotonic() + self.delay, item))
        if self._task is None:
            with self._start:
                if self._task is None:
                    self._task = self.server.start_background_task(self._run)

    def _run(self):
        while True:
            if not self._due:
                self.server.sleep(self.delay)  # anything added meanwhile falls due after this
                continue
            wait = self._due[0][0] - time.monotonic()
            if wait > 0:
                self.server.sleep(wait)
                continue
            _, item = self._due.popleft()
            try:
                self.action(item)
            except Exception:
                log.exception("A timer's action failed")
