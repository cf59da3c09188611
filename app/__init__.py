"""The scrum board application: extension singletons and the app factory."""

import logging
import os

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy

from config import config_from_environment, random_secret_key

log = logging.getLogger(__name__)


class Base(so.DeclarativeBase):
    # Named constraints keep migrations reproducible on every database.
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
socketio = SocketIO()
limiter = Limiter(key_func=get_remote_address)


def create_app(config_class=None, **overrides):
    """Build the application; ``overrides`` replace configuration values (tests, wsgi)."""
    app = Flask(__name__)
    app.config.from_object(config_class or config_from_environment())
    app.config.update(overrides)
    if app.config.get("PRODUCTION"):
        from app.security import check_production_config

        check_production_config(app.config)
    _fill_in_defaults(app)

    db.init_app(app)
    limiter.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    with app.app_context():
        _configure_sqlite(db.engine)

    from app import errors, security

    errors.register(app)
    security.register(app)

    from app.api import bp as api_bp

    app.register_blueprint(api_bp)

    from app.health import bp as health_bp

    app.register_blueprint(health_bp)

    from app.web import bp as web_bp

    app.register_blueprint(web_bp)

    from app import cli

    cli.register(app)

    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        client_manager=_socket_manager(app.config),
        cors_allowed_origins=_origin_check(app.config["CORS_ALLOWED_ORIGINS"]),
        max_http_buffer_size=app.config["SOCKET_MAX_MESSAGE"],
    )
    from app import realtime

    realtime.init_app(app, socketio)
    return app


def _socket_manager(config):
    """Redis carries hints and presence between processes; without it, one process in memory.

    Made here rather than by Flask-SocketIO so that every app gets its own (the
    extension would keep the first one) and Redis calls give up quickly when it is down.
    """
    if not config["REDIS_URL"]:
        return None
    from app.realtime.queue import MonitoredRedisManager

    return MonitoredRedisManager(
        config["REDIS_URL"],
        channel=f"{config['REDIS_PREFIX']}:socketio",
        redis_options={"socket_connect_timeout": 1, "health_check_interval": 10},
        silence_limit=3 * config["HOUSEKEEPING_INTERVAL"],
    )


def _origin_check(allowed_origins):
    """Sockets from this site's own origin, and from the configured ones, are allowed."""
    if not allowed_origins:
        return None  # Engine.IO's default: same origin only

    def is_allowed(origin, environ):
        same_origin = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        return origin == same_origin or origin in allowed_origins

    return is_allowed


def _fill_in_defaults(app):
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
            app.instance_path, "scrum.sqlite3"
        )
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", f"{app.config['REDIS_PREFIX']}:limits")
    if not app.config.get("SECRET_KEY"):
        log.warning("SECRET_KEY is not set: using a random key that changes on every start")
        app.config["SECRET_KEY"] = random_secret_key()


def _configure_sqlite(engine):
    """SQLite enforces foreign keys only when asked; WAL lets readers run beside a writer."""
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, connection_record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=20000")
        if engine.url.database and engine.url.database != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
