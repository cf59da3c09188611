"""WSGI entry point: ``gunicorn -k eventlet -w 1 wsgi:app``.

It puts the request guard (body deadline and size, ``app/timeouts.py``) in front
of the whole application, Socket.IO included.

The async library is patched in before anything else is imported, so that
sockets, the database driver and Redis all cooperate with it. The ``flask``
command imports this module after Flask itself, too late to patch safely; its
commands are short synchronous jobs, so they run unpatched in threading mode.
"""

import os
import sys

RUN_BY_FLASK_COMMAND = "flask.cli" in sys.modules
ASYNC_MODE = "threading" if RUN_BY_FLASK_COMMAND else os.environ.get("SOCKETIO_ASYNC_MODE") or "eventlet"

if ASYNC_MODE == "eventlet":
    import eventlet  # its deprecation notice is silenced in gunicorn.conf.py

    eventlet.monkey_patch()
elif ASYNC_MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()
    # psycopg2 waits on its socket in C; this makes it yield to other greenlets instead.
    from psycogreen.gevent import patch_psycopg

    patch_psycopg()

from app import collector, create_app  # noqa: E402
from app.timeouts import RequestGuard  # noqa: E402

app = create_app(SOCKETIO_ASYNC_MODE=ASYNC_MODE)
# Request bodies arrive whole and in time before anything else sees them (app/timeouts.py).
app.wsgi_app = RequestGuard(app.wsgi_app, app.config)

if app.config["GC_TUNING"] and not RUN_BY_FLASK_COMMAND:
    # Last: what is loaded by now lives as long as the process (app/collector.py).
    collector.tune()
