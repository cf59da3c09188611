"""gunicorn reads this file from the directory it is started in, before it loads its worker.

A request line may be as long as gunicorn allows (8,190 bytes, against 4,094 by
default): gunicorn refuses a longer one itself, in HTML, before the API could answer
in JSON. A long ``search`` then gets the API's own 400.

eventlet announces on import that it is in maintenance mode, and gunicorn's eventlet
worker imports it before ``wsgi.py`` runs. We know: the async mode is a setting, and
gevent (``SOCKETIO_ASYNC_MODE=gevent gunicorn -k gevent``) runs the same code. This is
the one place that says so. (gunicorn's own log line about its eventlet worker stays.)
"""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

limit_request_line = 8190
