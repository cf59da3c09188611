"""No lost change: resuming clients, a killed process, a Redis outage (``test_no_lost_changes.py``),
with every server under gevent (``gevent_lane.py``)."""

from tests.system.gevent_lane import servers_under_gevent  # noqa: F401 (an autouse fixture)
from tests.system.test_no_lost_changes import *  # noqa: F403 (its tests and fixtures, run here again)
