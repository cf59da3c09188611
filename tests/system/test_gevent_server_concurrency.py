"""Twenty concurrent clients on PostgreSQL (``test_server_concurrency.py``),
with every server under gevent (``gevent_lane.py``)."""

from tests.system.gevent_lane import servers_under_gevent  # noqa: F401 (an autouse fixture)
from tests.system.test_server_concurrency import *  # noqa: F403 (its tests and fixtures, run here again)


def test_the_servers_of_this_lane_run_under_gevent():
    with migrated_postgres_database() as url, GunicornServer(database_url=url) as server:  # noqa: F405
        log = server.log()
        assert "Using worker: gevent" in log, log
        assert server.env["SOCKETIO_ASYNC_MODE"] == "gevent"
