"""Response headers every page and API answer carries, cross-origin access for
the configured origins, the client address behind trusted proxies, and the checks
a production configuration must pass."""

from urllib.parse import urlsplit

from flask import current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src {connect}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
CORS_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    # X-CSRFToken and X-Requested-With: clients written for a DRF API send them on every call.
    "Access-Control-Allow-Headers": (
        "Authorization, Content-Type, If-Match, If-None-Match, X-CSRFToken, X-Requested-With"
    ),
    "Access-Control-Expose-Headers": "ETag, Location, Retry-After",
    "Access-Control-Max-Age": "600",
}
WEAK_SECRET_KEYS = {"changeme", "change-me", "secret", "dev", "development", "testing-secret-key"}
MIN_SECRET_KEY_LENGTH = 32


class InsecureConfiguration(RuntimeError):
    pass


def check_production_config(config):
    """Refuse to start in production with settings that would make the board unsafe."""
    key = config.get("SECRET_KEY") or ""
    if not key:
        raise InsecureConfiguration("SECRET_KEY must be set in production (48 random characters, say).")
    if len(key) < MIN_SECRET_KEY_LENGTH or key.lower() in WEAK_SECRET_KEYS or len(set(key)) < 10:
        raise InsecureConfiguration(
            f"SECRET_KEY is too weak for production: use at least {MIN_SECRET_KEY_LENGTH} random "
            "characters, e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))'."
        )
    if "*" in config.get("CORS_ALLOWED_ORIGINS", []):
        raise InsecureConfiguration(
            "CORS_ALLOWED_ORIGINS=* would let any web site use the API and open sockets with a "
            "visitor's token; list the allowed origins instead."
        )


def _websocket_origin(origin):
    """``https://host`` -> ``wss://host``: CSP's 'self' does not cover websockets in every browser."""
    scheme, _, rest = origin.partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}"


def content_security_policy(allowed_origins):
    """The policy for this request: the page may connect to its own origin (HTTP and
    websocket; ``PUBLIC_URL`` when set, else the host asked for) and to the configured
    origins, nowhere else."""
    own = current_app.config.get("PUBLIC_URL") or request.host_url
    origins = [urlsplit(own)._replace(path="", query="", fragment="").geturl(), *allowed_origins]
    connect = " ".join(["'self'", *dict.fromkeys(map(_websocket_origin, origins)), *allowed_origins])
    return CONTENT_SECURITY_POLICY.format(connect=connect)


def trust_proxies(app):
    """Behind ``TRUSTED_PROXIES`` reverse proxies, take the client's address and scheme from
    the X-Forwarded-For and X-Forwarded-Proto they set (so the login limits count clients,
    not the proxy). Off by default: a client could otherwise forge its address."""
    count = app.config["TRUSTED_PROXIES"]
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)


def register(app):
    allowed_origins = list(app.config["CORS_ALLOWED_ORIGINS"])
    hsts = app.config["HSTS_SECONDS"] if app.config.get("PRODUCTION") else 0

    @app.after_request
    def add_headers(response):
        response.headers.setdefault("Content-Security-Policy", content_security_policy(allowed_origins))
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts}; includeSubDomains")
        origin = request.headers.get("Origin")
        if origin and origin in allowed_origins and request.path.startswith("/api/"):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers.update(CORS_HEADERS)
            response.vary.add("Origin")
        return response
