"""The scrum board application: extension singletons and the app factory."""

import logging
import os
from urllib.parse import urlsplit

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

    from app import database

    database.init_app(app, db, migrate)
    limiter.init_app(app)

    from app import errors, security

    errors.register(app)
    security.register(app)

    from app import api, hosts

    api.init_app(app)

    from app.health import bp as health_bp

    app.register_blueprint(health_bp)

    from app.web import bp as web_bp

    app.register_blueprint(web_bp)

    from app import cli

    cli.register(app)

    from app import realtime

    realtime.init_app(app, socketio)
    # Around the Socket.IO middleware, so that Socket.IO's requests pass them too: the
    # client's address and scheme from the trusted proxies, then the host check.
    security.trust_proxies(app)
    hosts.init_app(app)
    return app


def _fill_in_defaults(app):
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
            app.instance_path, "scrum.sqlite3"
        )
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    # Counting in memory while Redis is unreachable. Not with memory storage: there any
    # error would switch counting to a second, empty store and back, forgetting failures.
    app.config.setdefault(
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", not app.config["RATELIMIT_STORAGE_URI"].startswith("memory:")
    )
    app.config.setdefault("RATELIMIT_KEY_PREFIX", f"{app.config['REDIS_PREFIX']}:limits")
    if app.config.get("PRODUCTION") and not app.config.get("TRUSTED_HOSTS"):
        if app.config.get("PUBLIC_URL"):
            app.config["TRUSTED_HOSTS"] = [urlsplit(app.config["PUBLIC_URL"]).hostname]
        else:
            log.warning("Neither TRUSTED_HOSTS nor PUBLIC_URL is set: requests may name any host")
    if not app.config.get("SECRET_KEY"):
        log.warning("SECRET_KEY is not set: using a random key that changes on every start")
        app.config["SECRET_KEY"] = random_secret_key()
