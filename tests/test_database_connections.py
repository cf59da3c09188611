"""Pooled database connections: one that sat idle is checked before use, so that a
restarted PostgreSQL (here: every connection of the app's terminated by the server)
costs a reconnect, not a failed request."""

import time

import sqlalchemy as sa

from app import db
from app.models import Token, User


def terminate_connections(url):
    """PostgreSQL ends every session on the database at ``url`` but this one."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as control:
            return control.scalar(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        engine.dispose()


def test_a_connection_that_sat_idle_is_checked_and_replaced(make_postgres_app, postgres_url):
    app = make_postgres_app(DATABASE_PING_AFTER_IDLE=0.2)
    with app.app_context():
        alice = User(username="alice")
        token, value = Token.issue(alice, 3600)
        db.session.add_all([alice, token])
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Token {value}"}
    assert client.get("/api/users/alice", headers=headers).status_code == 200

    assert terminate_connections(postgres_url) >= 1
    time.sleep(0.3)
    for _ in range(3):
        response = client.get("/api/users/alice", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.json["username"] == "alice"
