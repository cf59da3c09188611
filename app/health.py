"""``/healthz``: is this process able to serve? Checks the database and Redis."""

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify

from app import db

bp = Blueprint("health", __name__)


def _check_database():
    try:
        db.session.execute(sa.text("SELECT 1"))
        return "ok"
    except sa.exc.SQLAlchemyError as error:
        db.session.rollback()
        return f"error: {type(error).__name__}"


def _check_redis():
    url = current_app.config.get("REDIS_URL")
    if not url:
        return "disabled"
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError as error:
        return f"error: {type(error).__name__}"
    problem = current_app.extensions["realtime"].queue_problem()
    return f"error: {problem}" if problem else "ok"


@bp.get("/healthz")
def healthz():
    report = {"db": _check_database(), "redis": _check_redis()}
    healthy = all(value in ("ok", "disabled") for value in report.values())
    response = jsonify({"status": "ok" if healthy else "error", **report})
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
