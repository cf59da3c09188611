"""The Socket.IO message queue on Redis, watched so that it cannot go deaf.

python-socketio's Redis listener can stop hearing messages without a word: its
thread may end, or its connection may hang half-open. Every process therefore
publishes a small probe on the queue's channel now and then and notes when its
listener last heard anything (its own probes included). A listener that has
been silent too long is restarted, and ``/healthz`` says so until it hears again.
"""

import logging
import time

import redis
from socketio import RedisManager

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT = 2  # seconds
# The listener waits at most this long for a message before it looks whether it was
# asked to resubscribe; a blocking read on a hung connection would never look.
LISTEN_POLL = 1.0  # seconds
# Longest pause between attempts to subscribe while Redis is down: once it is back,
# hints and presence flow again within this long.
RETRY_LIMIT = 2  # seconds


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
        self.restarted = None  # when recover() last restarted the listener
        self.restarts = 0
        self._publisher = None
        self._subscription = 0  # bumped to make the listener drop its connection and subscribe anew

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

    def _redis_listen_with_retries(self):
        """Messages from the queue's channel, on a subscription of the listener's own.

        Unlike the stock loop (a blocking ``listen()``), this one wakes up every
        LISTEN_POLL seconds, so ``recover()`` can make it resubscribe even when its
        connection hangs without an error; and any exception, not only a Redis one,
        leads to a new subscription rather than the end of the listener.
        """
        retry_sleep = 1
        while True:
            client = pubsub = None
            subscription = self._subscription
            try:
                client = redis.Redis.from_url(self.redis_url, **self.redis_options)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                retry_sleep = 1
                while subscription == self._subscription:
                    message = pubsub.get_message(timeout=LISTEN_POLL)
                    if message is not None:
                        yield message
            except Exception as error:  # noqa: BLE001 - the listener must outlive any failure
                log.error("Cannot receive from Redis (%s); retrying in %s s", error, retry_sleep)
                self.server.sleep(retry_sleep)
                retry_sleep = min(retry_sleep * 2, RETRY_LIMIT)
            finally:
                for connection in (pubsub, client):
                    try:
                        if connection is not None:
                            connection.close()
                    except Exception:  # noqa: BLE001 - whatever state the connection is in
                        log.debug("closing the Redis subscription failed", exc_info=True)

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
        """Restart a stopped or silent listener; returns what was wrong, or None.

        A silent listener stays reported (``problem()``) until it hears something again,
        its own next probe at the latest; it is restarted again only if it stays silent
        for another ``silence_limit`` after a restart.
        """
        problem = self.problem()
        if problem is None:
            return None
        now = time.monotonic()
        if _alive(self.thread) and self.restarted is not None and now - self.restarted <= self.silence_limit:
            return problem  # restarted lately: its new subscription gets time to hear a probe
        log.error("Socket.IO Redis %s; resubscribing", problem)
        self.restarts += 1
        self.restarted = now
        if _alive(self.thread):
            # The listener notices within LISTEN_POLL, drops its connection and subscribes anew.
            # (Closing its connection from here is not enough: redis-py may reconnect that
            # very connection, unsubscribed, and go on waiting on it.)
            self._subscription += 1
        else:
            self.thread = self.server.start_background_task(self._thread)
        return problem
