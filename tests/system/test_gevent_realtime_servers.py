"""Two processes sharing Redis and PostgreSQL, and Redis failing under them (``test_realtime_servers.py``),
with every server under gevent (``gevent_lane.py``)."""

from tests.system.gevent_lane import servers_under_gevent  # noqa: F401 (an autouse fixture)
from tests.system.test_realtime_servers import *  # noqa: F403 (its tests and fixtures, run here again)
