"""The outside services tests use: PostgreSQL and Redis.

A test that needs one and cannot reach it is skipped, or fails when
``REQUIRE_SERVICES=1`` (as in CI), so a missing service never passes silently.
"""

import os
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from config import as_bool, database_url

REQUIRE_SERVICES = as_bool(os.environ.get("REQUIRE_SERVICES"))
POSTGRES_URL = database_url(
    os.environ.get("TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"


def missing(reason):
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1: every service must be available)")
    pytest.skip(reason)


def postgres_admin_engine(server_url=POSTGRES_URL):
    return sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def require_postgres(server_url=POSTGRES_URL):
    try:
        with postgres_admin_engine(server_url).connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as error:
        missing(f"PostgreSQL is not reachable at {server_url}: {error.orig}")


def require_redis(url=REDIS_URL):
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        missing(f"Redis is not reachable at {url}: {error}")


def create_postgres_database(server_url=POSTGRES_URL, template=None):
    """Create a database on the server, empty or a copy of ``template`` (a URL); returns its URL."""
    name = f"scrum_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
    with postgres_admin_engine(server_url).connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"{copy}'))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url):
    name = make_url(url).database
    server_url = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    with postgres_admin_engine(server_url).connect() as connection:
        connection.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
            {"name": name},
        )
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
