"""Who has each board open, and what they are dragging there, across every server process.

With Redis, each board is a sorted set of ``sid<TAB>username`` members scored
by an expiry time, beside a hash from those members to the tasks each is
dragging on that board. Each process refreshes its own members, so a process
that dies leaves entries that expire on their own: whichever process finds them
expired first removes them with their drags, in one script, so exactly one
process ends those drags for the others. Without Redis, a dict (one process: its
sockets' drags end as they leave).
"""

import threading
import time
from collections import defaultdict

import redis

# An entry lives this many housekeeping intervals without a refresh (45 s with the default
# 15 s): a process that misses a refresh or two still shows its sockets, and a dead
# process's sockets leave, and their drags end, within this and one more interval.
TTL_IN_INTERVALS = 3

# Finds a board's expired entries (score at most ARGV[1]), removes them with their drags, and
# forgets the board (ARGV[2]) once no one has it open. Returns how many expired, and the
# drags they left as a flat list: member, tasks, member, tasks...
# KEYS: the board's presence, its drags, the set of boards.
_EXPIRE = """
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local drags = {}
if #expired > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
    for _, member in ipairs(expired) do
        local tasks = redis.call('HGET', KEYS[2], member)
        if tasks then
            redis.call('HDEL', KEYS[2], member)
            table.insert(drags, member)
            table.insert(drags, tasks)
        end
    end
end
if redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('DEL', KEYS[2])
    redis.call('SREM', KEYS[3], ARGV[2])
end
return {#expired, drags}
"""


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

    def note_drags(self, sid, drags):
        """Nothing to keep: the process that holds the drags is the only one."""

    def refresh(self):
        """Boards whose set of users changed by expiry (never, in memory)."""
        return []


class RedisPresence:
    def __init__(self, url, prefix, ttl):
        self.redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1)
        self.prefix = prefix
        self.ttl = ttl  # seconds an entry lives without a refresh
        self.boards_key = f"{prefix}:presence:boards"
        self._mine = {}  # (board, sid) -> member, for refreshing
        self._lock = threading.Lock()
        self._expire = self.redis.register_script(_EXPIRE)

    def _key(self, board):
        return f"{self.prefix}:presence:{board}"

    def _drags_key(self, board):
        return f"{self.prefix}:drags:{board}"

    def join(self, board, sid, username):
        member = f"{sid}\t{username}"
        with self._lock:
            self._mine[(board, sid)] = member
        pipe = self.redis.pipeline()
        pipe.zadd(self._key(board), {member: time.time() + self.ttl})
        pipe.sadd(self.boards_key, board)
        pipe.execute()

    def leave(self, board, sid):
        with self._lock:
            member = self._mine.pop((board, sid), None)
        if member is not None:
            pipe = self.redis.pipeline()
            pipe.zrem(self._key(board), member)
            pipe.hdel(self._drags_key(board), member)
            pipe.execute()

    def users(self, board):
        """The users whose entries have not expired (expired ones are removed by ``refresh``,
        which ends their drags)."""
        members = self.redis.zrangebyscore(self._key(board), f"({time.time()}", "+inf")
        return sorted({member.decode().split("\t", 1)[1] for member in members})

    def note_drags(self, sid, drags):
        """Keep the tasks ``sid`` is dragging on each of its boards (``{board: [task ids]}``)
        beside its presence there, so that they end for the others should this process die."""
        with self._lock:
            members = {board: self._mine.get((board, sid)) for board in drags}
        pipe = self.redis.pipeline()
        for board, tasks in drags.items():
            member = members[board]
            if member is None:
                continue
            if tasks:
                pipe.hset(self._drags_key(board), member, ",".join(map(str, sorted(tasks))))
            else:
                pipe.hdel(self._drags_key(board), member)
        pipe.execute()

    def refresh(self):
        """Extend this process's entries; drop expired ones with their drags.

        Returns ``[(board, drags)]`` for the boards whose entries expired, where ``drags``
        lists ``(username, [task ids])`` for the drags they left unfinished.
        """
        expiry = time.time() + self.ttl
        with self._lock:
            mine = dict(self._mine)
        pipe = self.redis.pipeline()
        for (board, _), member in mine.items():
            pipe.zadd(self._key(board), {member: expiry})
        if mine:
            # Listed again, in case another process forgot a board it found empty meanwhile.
            pipe.sadd(self.boards_key, *{board for board, _ in mine})
        pipe.execute()
        now = time.time()
        expired = []
        for raw in self.redis.smembers(self.boards_key):
            board = int(raw)
            count, drags = self._expire(
                keys=[self._key(board), self._drags_key(board), self.boards_key], args=[now, board]
            )
            if count:
                expired.append((board, _unfinished(drags)))
        return expired


def _unfinished(flat):
    """``(username, [task ids])`` from the script's ``member, tasks, ...``."""
    pairs = zip(flat[::2], flat[1::2], strict=True)
    return [
        (member.decode().split("\t", 1)[1], [int(task) for task in tasks.decode().split(",")])
        for member, tasks in pairs
    ]


def make_presence(redis_url, prefix, ttl):
    return RedisPresence(redis_url, prefix, ttl) if redis_url else MemoryPresence()
