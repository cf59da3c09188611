"""The Socket.IO message queue on Redis, watched so that it cannot go deaf.

python-socketio's Redis listener can stop hearing messages without a word: its
thread may end, or its connection may hang half-open. Every process therefore
publishes a small probe on the queue's channel now and then and notes when its
listener last heard anything (its own probes included). A listener that has
been silent too long is restarted, and ``/healthz`` says so meanwhile.
"""

import logging
import time

import redis
from socketio import RedisManager

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT = 2  # seconds


def _alive(task):
    if task is None:
        return False
    if hasattr(task, "is_alive"):
        return task.is_alive()
    return not getattr(task, "dead", False)


class MonitoredRedisManager(RedisManager):
    def __init__(self, *args, silence_limit=45.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.silence_limit = silence_limit
        self.last_heard = time.monotonic()
        self.restarts = 0
        self._publisher = None

    def _publish(self, data):
        """Publish with a time limit: Redis that accepts connections but never answers
        must not hang the socket handler that emits (the stock client waits forever)."""
        if self._publisher is None:
            self._publisher = redis.Redis.from_url(
                self.redis_url, socket_connect_timeout=1, socket_timeout=PUBLISH_TIMEOUT
            )
        try:
            return self._publisher.publish(self.channel, self.json.dumps(data))
        except redis.RedisError as error:
            log.error("Cannot publish to Redis (%s); the message is dropped", error)
            return None

    def _listen(self):
        for message in super()._listen():
            self.last_heard = time.monotonic()
            yield message

    def probe(self):
        """Publish a message that only this listener's liveness check uses."""
        self._publish({"method": "probe", "host_id": self.host_id})

    def problem(self):
        """None when the listener is running and heard something recently, else what is wrong."""
        if self.write_only or not hasattr(self, "thread"):
            return None  # not listening (yet): nothing to watch
        if not _alive(self.thread):
            return "listener stopped"
        if time.monotonic() - self.last_heard > self.silence_limit:
            return "listener silent"
        return None

    def recover(self):
        """Restart a stopped or silent listener; returns what was wrong, or None."""
        problem = self.problem()
        if problem is None:
            return None
        log.error("Socket.IO Redis %s; resubscribing", problem)
        self.restarts += 1
        self.last_heard = time.monotonic()
        if _alive(self.thread):
            # Break the hanging connection: the listener's own retry loop reconnects.
            self.connected = False
            try:
                self.pubsub.close()
            except Exception:  # noqa: BLE001 - whatever state the connection is in
                log.debug("closing the Redis subscription failed", exc_info=True)
        else:
            self.thread = self.server.start_background_task(self._thread)
        return problem
