"""Presence on Redis, as two processes share it: one that stops refreshing (it died) and
one that goes on. Entries live a fraction of a second here, as they would live three
housekeeping intervals in a server."""

import time
import uuid

import pytest
import redis

from app.realtime.presence import RedisPresence
from tests.support import services

TTL = 1.0


@pytest.fixture
def prefix():
    services.require_redis()
    prefix = f"test-presence-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(services.REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def process(prefix):
    """``process()`` → the presence of one more process on the same Redis prefix."""
    return lambda: RedisPresence(services.REDIS_URL, prefix, TTL)


def test_a_dead_processs_unfinished_drags_are_handed_to_one_survivor_once(process):
    dead, survivor, another = process(), process(), process()
    dead.join(1, "ben-socket", "ben")
    dead.join(2, "ben-socket", "ben")
    survivor.join(1, "ann-socket", "ann")
    dead.note_drags("ben-socket", {1: [5, 7], 2: [7]})  # 7 from the backlog: on both boards
    dead.note_drags("ben-socket", {1: [7]})  # 5 dropped
    dead.join(3, "ben-socket", "ben")
    dead.note_drags("ben-socket", {3: [9]})
    dead.note_drags("ben-socket", {3: []})  # 9 dropped: nothing left on board 3
    assert survivor.users(1) == ["ann", "ben"]

    # The dead process has stopped refreshing its entries; the survivor goes on.
    time.sleep(TTL / 2)
    assert survivor.refresh() == []
    time.sleep(TTL / 2 + 0.2)
    # Expired entries are shown to no one even before a refresh removes them...
    assert survivor.users(1) == ["ann"]
    assert survivor.users(2) == []
    # ...and the refresh that removes them hands over their drags, once.
    assert sorted(survivor.refresh()) == [(1, [("ben", [7])]), (2, [("ben", [7])]), (3, [])]
    assert survivor.refresh() == []
    assert another.refresh() == []  # nor does any other process
    assert survivor.users(1) == ["ann"]


def test_a_socket_that_leaves_takes_its_drags_along(process, prefix):
    dead, survivor = process(), process()
    dead.join(1, "ben-socket", "ben")
    dead.note_drags("ben-socket", {1: [5]})
    dead.leave(1, "ben-socket")
    dead.join(1, "ben-socket", "ben")  # back on the board, dragging nothing
    time.sleep(TTL + 0.1)
    assert survivor.refresh() == [(1, [])]
    # Nothing is left behind once the board is empty.
    assert list(redis.Redis.from_url(services.REDIS_URL).scan_iter(match=f"{prefix}:*")) == []


def test_a_live_processs_entries_and_drags_stay(process):
    alive, other = process(), process()
    alive.join(1, "ann-socket", "ann")
    alive.note_drags("ann-socket", {1: [5]})
    for _ in range(4):
        time.sleep(TTL / 2)
        assert alive.refresh() == []
        assert other.refresh() == []
    assert other.users(1) == ["ann"]
