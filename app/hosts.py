"""Requests must name a host this site serves (``TRUSTED_HOSTS``); others get a 400
before anything reads the Host header."""

import json

from werkzeug.exceptions import SecurityError
from werkzeug.wsgi import get_host

UNKNOWN_HOST = {"message": "This site is not served under that host name."}


class TrustedHosts:
    def __init__(self, wsgi_app, trusted_hosts):
        self.wsgi_app = wsgi_app
        self.trusted_hosts = trusted_hosts

    def __call__(self, environ, start_response):
        try:
            get_host(environ, trusted_hosts=self.trusted_hosts)
        except SecurityError:
            body = json.dumps(UNKNOWN_HOST).encode()
            start_response(
                "400 Bad Request", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            )
            return [body]
        return self.wsgi_app(environ, start_response)


def init_app(app):
    if app.config.get("TRUSTED_HOSTS"):
        app.wsgi_app = TrustedHosts(app.wsgi_app, app.config["TRUSTED_HOSTS"])
