"""The one JSON error shape: ``{"message": "...", "errors": {"field": ["..."]}}``."""

import logging

from flask import jsonify
from werkzeug.exceptions import HTTPException, InternalServerError

from app.json_input import StrictJSONProvider

log = logging.getLogger(__name__)

DEFAULT_MESSAGES = {
    400: "The request is not valid.",
    401: "Authentication credentials were not provided or are not valid.",
    403: "You do not have permission to do this.",
    404: "Not found.",
    405: "This method is not allowed here.",
    406: "The requested format is not available.",
    409: "The request conflicts with the current state.",
    412: "The object has changed since you read it.",
    413: "The request body is larger than 1 MB.",
    415: "The request body must be JSON.",
    429: "Too many requests; try again later.",
    500: "Internal server error.",
    503: "The service is unavailable.",
}


class ApiError(Exception):
    """An error answered as JSON; raise it anywhere in a request."""

    def __init__(self, status, message=None, errors=None, headers=None, body=None):
        super().__init__(message)
        self.status = status
        self.message = message or DEFAULT_MESSAGES.get(status, "Error.")
        self.errors = errors
        self.headers = headers or {}
        self.body = body


class ValidationFailed(ApiError):
    def __init__(self, errors, message="The submitted data is not valid."):
        super().__init__(400, message, errors=errors)


def error_response(status, message=None, errors=None, headers=None, body=None):
    if body is None:
        body = {"message": message or DEFAULT_MESSAGES.get(status, "Error.")}
        if errors:
            body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_api_error(error):
    return error_response(error.status, error.message, error.errors, error.headers, error.body)


def handle_http_exception(error):
    status = error.code or 500
    message = None
    if error.description and error.description != type(error).description:
        message = error.description
    response = error.get_response()
    headers = {
        name: value
        for name, value in response.headers.items()
        if name in ("Allow", "WWW-Authenticate", "Retry-After")
    }
    return error_response(status, message, headers=headers)


def handle_unexpected(error):
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    if isinstance(error, ApiError):
        return handle_api_error(error)
    log.exception("Unhandled error", exc_info=error)
    return handle_http_exception(InternalServerError())


def register(app):
    app.json = StrictJSONProvider(app)
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
