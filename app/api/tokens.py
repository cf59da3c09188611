"""API tokens: exchange a username and password for a token; revoke it."""

from flask import current_app, request
from flask_restx import Namespace, Resource, fields
from marshmallow import ValidationError

from app import db
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
