"""API tokens: exchange a username and password for a token; revoke it."""

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_restx import Namespace, Resource, fields
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from app import db, limiter
from app.api.docs import ERROR
from app.auth import auth, authenticate, basic_auth, current_token, password_rejected
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
# password: a POST /api/token body and HTTP Basic on any API request (DELETE /api/token
# included). A failure is a password that ``authenticate`` refused, whatever the
# request then answered.
USERNAME_SCOPE = "login-failures-username"
ADDRESS_SCOPE = "login-failures-address"


def _username_key(username):
    return f"username:{str(username).lower()[:150]}" if username else "username:"


def _logging_in():
    return request.endpoint == "api.token" and request.method == "POST"


def _presented_username():
    """The username whose password this request presents: the body's on POST /api/token,
    else the HTTP Basic one.

    It never raises: the limiter would take an error here for its storage failing, and
    count elsewhere for a while, forgetting the failures counted so far. A body that
    cannot be read (too large, say) presents no username; the view then refuses it.
    """
    if _logging_in():
        try:
            data = request.get_json(silent=True) if request.is_json else request.form
        except HTTPException:
            data = None
        username = data.get("username") if hasattr(data, "get") else None
    else:
        username = request.authorization.username if request.authorization else None
    return _username_key(username)


def _presents_no_password():
    authorization = request.authorization
    return not _logging_in() and (authorization is None or authorization.type != "basic")


def throttle_password_attempts(blueprint):
    """Throttle every password attempt on the API's routes, by username and by address:
    POST /api/token and HTTP Basic alike, so that no route lets a client guess without limit.
    Requests with a token are never throttled."""
    common = {
        "deduct_when": lambda response: password_rejected(),
        "error_message": TOO_MANY_FAILURES,
        "exempt_when": _presents_no_password,
    }
    # These are the app's only limits, so a request that presents no password skips the
    # limiter altogether, before it looks up the limits of the route.
    limiter.request_filter(_presents_no_password)
    for scope, setting, key_func in (
        (USERNAME_SCOPE, "LOGIN_FAILURES_PER_USERNAME", _presented_username),
        (ADDRESS_SCOPE, "LOGIN_FAILURES_PER_ADDRESS", get_remote_address),
    ):
        limiter.shared_limit(
            lambda setting=setting: current_app.config[setting], scope, key_func=key_func, **common
        )(blueprint)


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
    @ns.response(401, "Not authenticated with a token", ERROR)
    @ns.response(429, "Too many failed attempts: wait Retry-After seconds", ERROR)
    def delete(self):
        """Revoke the token used on this request"""
        token = current_token()
        if token is None:
            # A password, right or wrong, is answered alike: there is no token to revoke,
            # and the answer must not tell a guesser that the password was right.
            return basic_auth.auth_error_callback(401)
        stored = db.session.get(Token, token.id)
        if stored is not None:  # else deleted with its user meanwhile: nothing left to revoke
            stored.revoke()
            db.session.commit()
        return "", 204
