"""Response headers every page and API answer carries, cross-origin access for
the configured origins, and the checks a production configuration must pass."""

from flask import request

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
CORS_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match, If-None-Match",
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


def register(app):
    allowed_origins = set(app.config["CORS_ALLOWED_ORIGINS"])

    @app.after_request
    def add_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        origin = request.headers.get("Origin")
        if origin and origin in allowed_origins and request.path.startswith("/api/"):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers.update(CORS_HEADERS)
            response.vary.add("Origin")
        return response
