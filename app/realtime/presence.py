"""Who has each board open, across every server process.

With Redis, each board is a sorted set of ``sid<TAB>username`` members scored
by an expiry time; each process refreshes its own members, so a process that
dies leaves entries that expire on their own. Without Redis, a dict.
"""

import threading
import time
from collections import defaultdict

import redis

PRESENCE_TTL = 45  # seconds an entry lives without a refresh


class MemoryPresence:
    def __init__(self):
        self._boards = defaultdict(dict)
        self._lock = threading.Lock()

    def join(self, board, sid, username):
        with self._lock:
            self._boards[board][sid] = username

    def leave(self, board, sid):
        with self._lock:
            self._boards[board].pop(sid, None)
            if not self._boards[board]:
                del self._boards[board]

    def users(self, board):
        with self._lock:
            return sorted(set(self._boards.get(board, {}).values()))

    def refresh(self):
        """Boards whose set of users changed by expiry (never, in memory)."""
        return []


class RedisPresence:
    def __init__(self, url, prefix):
        self.redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1)
        self.prefix = prefix
        self.boards_key = f"{prefix}:presence:boards"
        self._mine = {}  # (board, sid) -> member, for refreshing
        self._lock = threading.Lock()

    def _key(self, board):
        return f"{self.prefix}:presence:{board}"

    def join(self, board, sid, username):
        member = f"{sid}\t{username}"
        with self._lock:
            self._mine[(board, sid)] = member
        pipe = self.redis.pipeline()
        pipe.zadd(self._key(board), {member: time.time() + PRESENCE_TTL})
        pipe.sadd(self.boards_key, board)
        pipe.execute()

    def leave(self, board, sid):
        with self._lock:
            member = self._mine.pop((board, sid), None)
        if member is not None:
            self.redis.zrem(self._key(board), member)

    def users(self, board):
        key = self._key(board)
        now = time.time()
        pipe = self.redis.pipeline()
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zrange(key, 0, -1)
        _, members = pipe.execute()
        return sorted({member.decode().split("\t", 1)[1] for member in members})

    def refresh(self):
        """Extend this process's entries; drop expired ones. Returns boards that changed."""
        expiry = time.time() + PRESENCE_TTL
        with self._lock:
            mine = dict(self._mine)
        pipe = self.redis.pipeline()
        for (board, _), member in mine.items():
            pipe.zadd(self._key(board), {member: expiry})
        pipe.execute()
        changed = []
        for raw in self.redis.smembers(self.boards_key):
            board = int(raw)
            if self.redis.zremrangebyscore(self._key(board), "-inf", time.time()):
                changed.append(board)
            if not self.redis.exists(self._key(board)):
                self.redis.srem(self.boards_key, raw)
        return changed


def make_presence(redis_url, prefix):
    return RedisPresence(redis_url, prefix) if redis_url else MemoryPresence()
