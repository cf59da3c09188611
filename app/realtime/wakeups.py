"""Redis messages that tell every server process "the change log has news".

They carry nothing but that: each process reads the changes themselves from
the log. Publishing happens on a background task, so a commit never waits on
Redis; a lost message costs at most one poll interval of delay.
"""

import atexit
import logging
import queue
import threading

import redis

log = logging.getLogger(__name__)


class Wakeups:
    def __init__(self, redis_url, prefix, socketio):
        self.redis_url = redis_url
        self.channel = f"{prefix}:log"
        self.socketio = socketio
        self._pending = queue.Queue()
        # Announcements not yet published: the publisher takes them off the queue
        # before it sends, so an empty queue does not mean nothing is left to send.
        self._unpublished = 0
        self._unpublished_lock = threading.Lock()
        self._publisher_started = False
        self._listener_started = False

    def announce(self):
        """Tell the other processes, soon, that something was committed."""
        if not self.redis_url:
            return
        if not self._publisher_started:
            self._publisher_started = True
            self.socketio.start_background_task(self._publish_forever)
            atexit.register(self._drain)
        with self._unpublished_lock:
            self._unpublished += 1
        self._pending.put(True)

    def _client(self, **options):
        return redis.Redis.from_url(self.redis_url, socket_connect_timeout=1, **options)

    def _publish_forever(self):
        client = self._client(socket_timeout=2)
        while True:
            self._pending.get()
            while not self._pending.empty():  # many commits, one message
                self._pending.get_nowait()
            with self._unpublished_lock:
                covered = self._unpublished
            self._publish(client)
            with self._unpublished_lock:
                self._unpublished -= covered

    def _publish(self, client):
        try:
            client.publish(self.channel, b"1")
        except redis.RedisError as error:
            log.warning("Could not announce a commit on Redis (%s); others will poll", error)

    def _drain(self):
        """At exit (a CLI command, a script): send what is still pending, also what the
        publisher had taken but not yet sent (at exit its thread is stopped, mid-way or not)."""
        with self._unpublished_lock:
            unpublished = self._unpublished
        if unpublished:
            self._publish(self._client(socket_timeout=1))

    def listen(self, on_news):
        """Call ``on_news()`` for every announcement, reconnecting as needed (once per process)."""
        if not self.redis_url or self._listener_started:
            return
        self._listener_started = True
        self.socketio.start_background_task(self._listen_forever, on_news)

    def _listen_forever(self, on_news):
        delay = 0.5
        while True:
            try:
                pubsub = self._client(health_check_interval=10).pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                delay = 0.5
                on_news()  # anything committed while we were not listening
                while True:
                    message = pubsub.get_message(timeout=5)
                    if message is not None:
                        on_news()
            except redis.RedisError as error:
                log.warning("Redis listener lost (%s); retrying in %.1fs", error, delay)
                self.socketio.sleep(delay)
                delay = min(delay * 2, 10)
