"""API tokens: exchange a username and password for a token; revoke it."""

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_restx import Namespace, Resource, fields
from marshmallow import ValidationError

from app import db, limiter
from app.api.docs import ERROR
from app.auth import auth, authenticate, current_token
from app.errors import ApiError, ValidationFailed
from app.models import Token
from app.schemas import token_request_schema

ns = Namespace("token", description="API tokens")

credentials_model = ns.model(
    "Credentials",
    {"username": fields.String(required=True), "password": fields.String(required=True)},
)
token_model = ns.model(
    "Token",
    {
        "token": fields.String(required=True, description="send as: Authorization: Token <token>"),
        "expires": fields.DateTime(required=True, description="ISO-8601 expiry time"),
    },
)


TOO_MANY_FAILURES = "Too many failed logins; wait before trying again."

# Failed logins are counted in these two scopes, shared by every way of presenting a
# password: POST /api/token and HTTP Basic on any API request.
USERNAME_SCOPE = "login-failures-username"
ADDRESS_SCOPE = "login-failures-address"


def _login_failed(response):
    return response.status_code == 401


def _username_key(username):
    return f"username:{str(username).lower()[:150]}" if username else "username:"


def _attempted_username():
    """The username a login attempt names, for counting failures per account."""
    data = request.get_json(silent=True) if request.is_json else request.form
    username = data.get("username") if isinstance(data, dict) or hasattr(data, "get") else None
    return _username_key(username)


def _basic_username():
    return _username_key(request.authorization.username if request.authorization else None)


def _not_a_basic_login():
    """Only requests that present a password with HTTP Basic count (the token endpoint counts its own)."""
    authorization = request.authorization
    return authorization is None or authorization.type != "basic" or request.endpoint == "api.token"


def _failure_limits(key_funcs, exempt_when=None):
    """The per-username and per-address limits on failed logins, as decorators."""
    username_key, address_key = key_funcs
    common = {"deduct_when": _login_failed, "error_message": TOO_MANY_FAILURES, "exempt_when": exempt_when}
    return (
        limiter.shared_limit(
            lambda: current_app.config["LOGIN_FAILURES_PER_USERNAME"],
            USERNAME_SCOPE,
            key_func=username_key,
            **common,
        ),
        limiter.shared_limit(
            lambda: current_app.config["LOGIN_FAILURES_PER_ADDRESS"],
            ADDRESS_SCOPE,
            key_func=address_key,
            **common,
        ),
    )


def throttle_basic_auth(blueprint):
    """Count HTTP Basic failures on every API route with the token endpoint's failures: otherwise
    any route would let a client guess passwords without limit."""
    for limit in _failure_limits((_basic_username, get_remote_address), exempt_when=_not_a_basic_login):
        limit(blueprint)


_per_username, _per_address = _failure_limits((_attempted_username, get_remote_address))


def _credentials():
    """Username and password from a JSON or a form body."""
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise ApiError(400, "The request body is not a valid JSON object.")
    else:
        data = request.form.to_dict()
    try:
        return token_request_schema.load(data)
    except ValidationError as error:
        raise ValidationFailed(error.messages) from None


@ns.route("", endpoint="token")
class TokenResource(Resource):
    @_per_username
    @_per_address
    @ns.doc(security=[])
    @ns.expect(credentials_model, validate=False)
    @ns.response(200, "A new token", token_model)
    @ns.response(400, "Missing username or password", ERROR)
    @ns.response(401, "Wrong credentials or inactive user", ERROR)
    @ns.response(429, "Too many failed attempts: wait Retry-After seconds", ERROR)
    def post(self):
        """Get an API token for a username and password"""
        credentials = _credentials()
        user = authenticate(credentials["username"], credentials["password"])
        if user is None:
            raise ApiError(
                401,
                "Unable to log in with the provided credentials.",
                headers={"WWW-Authenticate": 'Token realm="api"'},
            )
        token, value = Token.issue(user, current_app.config["TOKEN_TTL"])
        db.session.add(token)
        db.session.commit()
        return {"token": value, "expires": token.expires.isoformat()}

    @auth.login_required
    @ns.response(204, "Revoked")
    @ns.response(400, "The request was not authenticated with a token", ERROR)
    @ns.response(401, "Not authenticated", ERROR)
    def delete(self):
        """Revoke the token used on this request"""
        token = current_token()
        if token is None:
            raise ApiError(
                400, "This request was not authenticated with a token; there is nothing to revoke."
            )
        token.revoke()
        db.session.commit()
        return "", 204
