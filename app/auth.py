"""Authentication shared by the REST API and the sockets.

REST accepts ``Authorization: Token <token>``, ``Bearer <token>`` and HTTP Basic;
sockets pass the same token in their connect ``auth`` payload.

Every password check goes through ``authenticate``: it marks a rejected password
on ``g`` (the login throttle counts those, whichever way the password came), and
it hashes in a worker thread, a few at a time, so that the seconds of CPU a burst
of guesses costs never stop the event loop that serves everyone else.
"""

import threading
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, g
from flask_httpauth import HTTPBasicAuth, HTTPTokenAuth, MultiAuth
from werkzeug.security import check_password_hash, generate_password_hash

from app import db
from app.errors import error_response
from app.models import Token, User, password_hash_method, utcnow


class _AnyCaseScheme:
    """Scheme names are case-insensitive (RFC 9110): ``bearer x`` is ``Bearer x``."""

    def is_compatible_auth(self, headers):
        scheme = headers.get("Authorization", "").split(" ", 1)[0]
        return scheme.lower() == self.scheme.lower()


class TokenAuth(_AnyCaseScheme, HTTPTokenAuth):
    pass


class BasicAuth(_AnyCaseScheme, HTTPBasicAuth):
    pass


token_auth = TokenAuth(scheme="Token")
bearer_auth = TokenAuth(scheme="Bearer")
basic_auth = BasicAuth()
auth = MultiAuth(token_auth, bearer_auth, basic_auth)

# Checked against when the username is unknown, so that a wrong username takes
# as long as a wrong password and does not reveal which usernames exist.
_unknown_user_hashes = {}


def _unknown_user_hash():
    method = password_hash_method()
    if method not in _unknown_user_hashes:
        _unknown_user_hashes[method] = off_the_loop(generate_password_hash, "not a real password", method)
    return _unknown_user_hashes[method]


# Created after wsgi.py has patched the async library, so it is a green semaphore there.
_hashing_slots = {}


def _slots():
    size = current_app.config["PASSWORD_HASH_CONCURRENCY"]
    if size not in _hashing_slots:
        _hashing_slots[size] = threading.BoundedSemaphore(size)
    return _hashing_slots[size]


def off_the_loop(function, *args):
    """Run CPU-bound ``function`` (password hashing) where it does not block the event loop:
    in a real OS thread (eventlet's tpool, gevent's threadpool), at most
    ``PASSWORD_HASH_CONCURRENCY`` at a time; waiting for a slot is a green wait. In
    threading mode (tests, ``flask`` commands) each request has its own thread already."""
    mode = current_app.config["SOCKETIO_ASYNC_MODE"]
    if mode not in ("eventlet", "gevent"):
        return function(*args)
    with _slots():
        if mode == "eventlet":
            from eventlet import tpool

            return tpool.execute(function, *args)
        import gevent

        return gevent.get_hub().threadpool.apply(function, args)


def find_user(username):
    """The user with this username, or None. No username holds a NUL, which PostgreSQL refuses."""
    if "\x00" in username:
        return None
    return db.session.scalar(sa.select(User).where(User.username == username))


def authenticate(username, password):
    """The active user with this username and password, or None (and the request is
    marked as a failed login, for the throttle)."""
    user = find_user(username) if username else None
    stored = user.password_hash if user is not None and user.password_hash else _unknown_user_hash()
    matches = off_the_loop(check_password_hash, stored, password or "")
    if user is None or not matches or not user.is_active:
        g.password_rejected = True
        return None
    return user


def password_rejected():
    """Whether this request presented a password that was refused."""
    return g.get("password_rejected", False)


# Made once: a statement object used again keeps its cache key (every request runs this one).
# The user is the one entity loaded; the token contributes two columns, and a revoked token or
# an inactive user finds no row.
_LIVE_TOKEN_BY_DIGEST = (
    sa.select(User, Token.id, Token.expires)
    .join(Token, Token.user_id == User.id)
    .where(Token.digest == sa.bindparam("digest"), Token.revoked.is_(None), User.is_active)
)


@dataclass(frozen=True)
class LiveToken:
    """The API token a request or a socket authenticated with."""

    id: int
    expires: datetime
    user: User


def token_for(value):
    """The live API token with this value, or None. Tokens are ASCII; anything else (a
    socket's auth may carry any JSON string, lone surrogates included) is no token."""
    if not value or not value.isascii():
        return None
    row = db.session.execute(_LIVE_TOKEN_BY_DIGEST, {"digest": Token.hash(value)}).first()
    if row is None:
        return None
    user, token_id, expires = row
    if expires <= utcnow():
        return None
    return LiveToken(token_id, expires, user)


@token_auth.verify_token
@bearer_auth.verify_token
def verify_token(value):
    token = token_for(value)
    if token is None:
        return None
    g.current_user = token.user
    g.current_token = token
    return token.user


@basic_auth.verify_password
def verify_password(username, password):
    user = authenticate(username, password)
    if user is not None:
        g.current_user = user
        g.current_token = None
    return user


def _unauthorized(status):
    if status == 403:
        return error_response(403)
    return error_response(401)


for _scheme in (token_auth, bearer_auth, basic_auth):
    _scheme.error_handler(_unauthorized)


def current_user():
    return g.get("current_user")


def current_token():
    return g.get("current_token")
