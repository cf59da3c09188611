"""Per-socket limits on what a client sends.

Two tiers, so that no single socket can starve its process:

* every Engine.IO message counts against ``MESSAGE_BUDGET`` before it is even
  decoded (``app.realtime.packets``); a socket that exceeds it is disconnected at once;
* each event has its own, lower rate (``SocketLimits``): past it the event is refused
  with an acknowledgement, and each refusal counts against ``REFUSAL_BUDGET``; a socket
  that keeps being refused is disconnected.

An honest client stays far below both: the board sends a hint per drag and a
subscribe per board it opens.
"""

import threading
import time

from flask_socketio import disconnect


class RateLimit:
    """A token bucket per socket: ``rate`` events a second, bursts up to ``burst``."""

    def __init__(self, rate, burst):
        self.rate, self.burst = rate, burst
        self._buckets = {}
        self._lock = threading.Lock()

    def allow(self, key):
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            allowed = tokens >= 1
            self._buckets[key] = (tokens - 1 if allowed else tokens, now)
            return allowed

    def forget(self, key):
        with self._lock:
            self._buckets.pop(key, None)


# Messages of any kind a socket may send: 50 a second, bursts of 200.
MESSAGE_BUDGET = (50, 200)
# Refused events a socket may earn: 100 at once, then 10 a second; a client that pauses
# when told to slow down never gets near it.
REFUSAL_BUDGET = (10, 100)


class SocketLimits:
    """The event limits a namespace puts on its sockets, e.g.
    ``SocketLimits(hint=(10, 20, "Too many hints; slow down."))``."""

    def __init__(self, **events):
        self.events = {
            name: (RateLimit(rate, burst), message) for name, (rate, burst, message) in events.items()
        }
        self.refusals = RateLimit(*REFUSAL_BUDGET)

    def check(self, event, sid):
        """None when ``sid`` may send ``event`` now, else the refusal to answer with."""
        limit, message = self.events[event]
        if limit.allow(sid):
            return None
        return self.refuse_or_disconnect(sid, message)

    def refuse_or_disconnect(self, sid, message):
        """The acknowledgement refusing an event; a socket refused more than the refusal
        budget allows is disconnected as well (call from inside its event handler)."""
        if not self.refusals.allow(sid):
            disconnect(sid)
        return {"ok": False, "error": message}

    def forget(self, sid):
        """Drop what is kept about ``sid`` (call on disconnect)."""
        for limit, _ in self.events.values():
            limit.forget(sid)
        self.refusals.forget(sid)
