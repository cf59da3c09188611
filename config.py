"""Configuration: every value comes from the environment, with a default.

``APP_ENV`` picks the class (``development``, ``testing`` or ``production``).
"""

import math
import os
import secrets
import sys

import limits
from dotenv import load_dotenv

basedir = os.path.abspath(os.path.dirname(__file__))
load_dotenv(os.path.join(basedir, ".env"))


def as_bool(value):
    """Read an environment flag: 1/true/yes/on mean True."""
    if value is None:
        return False
    return value.strip().lower() in ("1", "true", "yes", "on")


def as_list(value):
    """Read a comma-separated environment value into a list of non-empty items."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


# The longest span a setting in seconds may give: longer ones overflow dates and timers.
CENTURY = 100 * 365 * 24 * 3600
# The exit status when a setting cannot be read: gunicorn takes 3 for a worker that cannot
# start and stops, instead of starting one worker after another.
BAD_SETTING = 3


def refuse_setting(name, rule, value):
    """Stop the process with one line saying which setting is wrong and what it must be."""
    print(f"Error: {name} must be {rule}, not {value!r}.", file=sys.stderr)
    raise SystemExit(BAD_SETTING)


def as_number(name, default, *, whole=False, seconds=True, minimum=0, above_minimum=False):
    """The environment variable ``name`` as a number (``whole``: an integer) of at least
    ``minimum`` (``above_minimum``: more than it) and, for ``seconds``, at most a century;
    ``default`` when it is unset or empty. Anything else stops the process (``refuse_setting``)."""
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        value = math.nan
    high_enough = value > minimum if above_minimum else value >= minimum
    if not (high_enough and value <= (CENTURY if seconds else math.inf)):
        kind = ("a whole number" if whole else "a number") + (" of seconds" if seconds else "")
        bounds = (f"above {minimum}" if above_minimum else f"at least {minimum}") + (
            f" and at most {CENTURY} (a century)" if seconds else ""
        )
        refuse_setting(name, f"{kind}, {bounds}", text)
    return value


def as_rate(name, default):
    """The environment variable ``name`` as a rate limit ("10 per 5 minutes"), checked now:
    Flask-Limiter would skip a malformed one at each request, leaving the limit off."""
    text = os.environ.get(name)
    if not text:
        return default
    try:
        limits.parse_many(text)
    except ValueError:
        refuse_setting(name, 'a rate limit such as "10 per 5 minutes"', text)
    return text


def database_url(value):
    """Normalise a database URL to the drivers we ship.

    ``postgres://`` (as some hosts give it) is an old alias, and a bare
    ``postgresql://`` would pick psycopg 3, which blocks an eventlet worker;
    psycopg2 is made cooperative by monkey-patching.
    """
    if not value:
        return value
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            return "postgresql+psycopg2://" + value[len(prefix) :]
    return value


class Config:
    # None means "an SQLite file in the instance folder" (filled in by create_app).
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    # A pooled database connection unused for longer than this is checked before use.
    DATABASE_PING_AFTER_IDLE = as_number("DATABASE_PING_AFTER_IDLE", 1.0)
    REDIS_URL = os.environ.get("REDIS_URL") or None
    # Names of this deployment's Redis channels and keys start with this, so that
    # several boards (or test runs) can share one Redis.
    REDIS_PREFIX = os.environ.get("REDIS_PREFIX") or "scrum"
    # A random key per start keeps sessions from being forged, at the price of
    # invalidating them on restart; create_app warns when it has to do this.
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    CORS_ALLOWED_ORIGINS = as_list(os.environ.get("CORS_ALLOWED_ORIGINS"))
    TOKEN_TTL = as_number("TOKEN_TTL", 7 * 24 * 3600, whole=True, minimum=1)
    # eventlet (default) or gevent, matching the gunicorn worker class; threading for tests.
    SOCKETIO_ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE") or "eventlet"
    MAX_CONTENT_LENGTH = 1024 * 1024
    # A socket that sends a larger message is closed (only that socket).
    SOCKET_MAX_MESSAGE = 64 * 1024
    RESTX_ERROR_404_HELP = False
    RESTX_MASK_SWAGGER = False
    SWAGGER_UI_DOC_EXPANSION = "list"
    JSON_SORT_KEYS = False
    # The site's address, e.g. https://board.example.com: every link in API bodies and
    # change events is built from it. Unset: responses link to the host they were asked
    # for, and links in change events (stored and broadcast) are paths only.
    PUBLIC_URL = os.environ.get("PUBLIC_URL") or None
    # Host names requests may name (Flask refuses others with 400), e.g. board.example.com.
    # Unset: any host, except in production, where PUBLIC_URL's host is the one allowed.
    TRUSTED_HOSTS = as_list(os.environ.get("TRUSTED_HOSTS")) or None
    # How often each process reads the change log when no wake-up message came.
    EVENT_POLL_INTERVAL = as_number("EVENT_POLL_INTERVAL", 1.0, above_minimum=True)
    # Changes older than this are pruned by `flask prune-events`; older `since` gets a resync.
    EVENT_RETENTION = as_number("EVENT_RETENTION", 7 * 24 * 3600, whole=True)
    # A `subscribe` replays at most this many changes; more asks the client to reload.
    EVENT_REPLAY_LIMIT = 5000
    # Seconds between each process's chores: refresh presence, disconnect sockets
    # whose token expired, probe the Redis listener.
    HOUSEKEEPING_INTERVAL = as_number("HOUSEKEEPING_INTERVAL", 15.0, above_minimum=True)
    # Failed logins (POST /api/token answered 401) allowed per username and per client
    # address before further attempts get 429; counted in Redis when REDIS_URL is set.
    LOGIN_FAILURES_PER_USERNAME = as_rate("LOGIN_FAILURES_PER_USERNAME", "10 per 5 minutes")
    LOGIN_FAILURES_PER_ADDRESS = as_rate("LOGIN_FAILURES_PER_ADDRESS", "50 per 5 minutes")
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True  # a Redis outage must not lock everyone out
    # (and while Redis is down, counting goes on in memory: see _fill_in_defaults in app/__init__.py)
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
    # Abuse limits: one client must not starve a process (docs/security.md).
    # Password checks hashing at once, each in a worker thread off the event loop.
    PASSWORD_HASH_CONCURRENCY = as_number(
        "PASSWORD_HASH_CONCURRENCY", 2, whole=True, seconds=False, minimum=1
    )
    # Seconds a client has to send a whole request body; then 408 and the connection is closed.
    REQUEST_BODY_TIMEOUT = as_number("REQUEST_BODY_TIMEOUT", 30.0, above_minimum=True)
    # Seconds an Engine.IO connection may stay open without a connected (authenticated) socket.
    SOCKET_CONNECT_TIMEOUT = as_number("SOCKET_CONNECT_TIMEOUT", 10.0, above_minimum=True)
    # Reverse proxies in front that set X-Forwarded-For/-Proto (werkzeug's ProxyFix); 0: none.
    TRUSTED_PROXIES = as_number("TRUSTED_PROXIES", 0, whole=True, seconds=False)
    # Strict-Transport-Security max-age in seconds, sent in production; 0 turns it off.
    HSTS_SECONDS = as_number("HSTS_SECONDS", 365 * 24 * 3600, whole=True)
    # The server process's garbage collector tuned for fan-out (app/collector.py); 0: Python's own.
    GC_TUNING = as_bool(os.environ.get("GC_TUNING") or "1")
    PAGE_SIZE = 25
    MAX_PAGE_SIZE = 100


class DevelopmentConfig(Config):
    pass


class TestingConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL")) or None
    REDIS_URL = None  # tests that need Redis ask for it explicitly
    SECRET_KEY = "testing-secret-key"  # noqa: S105
    SOCKETIO_ASYNC_MODE = "threading"
    # The test client's host, so that links read the same in responses and in change events.
    PUBLIC_URL = "http://localhost"
    # Fast hashing: the suite creates thousands of users.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # noqa: S105


class ProductionConfig(Config):
    # create_app refuses to start without a strong SECRET_KEY or with a wildcard origin.
    PRODUCTION = True


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_environment():
    name = os.environ.get("APP_ENV") or "development"
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"APP_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None


def random_secret_key():
    return secrets.token_urlsafe(32)
