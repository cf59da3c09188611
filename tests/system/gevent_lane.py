"""Run another module's server tests again with every server under gevent.

A module ``test_gevent_<name>.py`` star-imports ``test_<name>.py`` (its tests and its
fixtures, which pytest then runs as the new module's own) and this fixture, which
makes ``GunicornServer`` start ``gunicorn -k gevent`` with ``SOCKETIO_ASYNC_MODE=gevent``
for the whole module: being a module-scoped autouse fixture, it is set up before
the module's own server fixtures.
"""

import os

import pytest


@pytest.fixture(scope="module", autouse=True)
def servers_under_gevent():
    previous = os.environ.get("TEST_WORKER")
    os.environ["TEST_WORKER"] = "gevent"
    yield
    if previous is None:
        os.environ.pop("TEST_WORKER", None)
    else:
        os.environ["TEST_WORKER"] = previous
