"""The browser client's static files: compressed, and cacheable for a year under a
versioned prefix.

The client is ES modules that import each other by relative paths, with no build
step, so files cannot be renamed one by one. Instead the whole static tree gets
one version, a hash of every file's path and content computed at start-up, and
every file is also served under ``/static/<version>/…``: relative imports inherit
the prefix, the page names it, and any change to any file makes a new prefix. A
versioned answer never changes, so browsers keep it a year without asking again;
the page itself stays ``no-cache`` (see ``app/web.py``), so a new version is seen on
the next load.

The plain ``/static/…`` keeps working with a short lifetime (the API docs page
uses it), as does a prefix other than the current one (a page served by another
process of an older or newer deployment), which could name other content.

Files are read and gzipped once, at start-up (the tree is a few hundred KB); in
debug mode the tree is read again for each page, so edits show on a reload.
"""

import gzip
import hashlib
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from flask import Response, abort, current_app, request, url_for

VERSIONED_CACHE = "public, max-age=31536000, immutable"
UNVERSIONED_CACHE = "public, max-age=300"
VERSION_LENGTH = 12
VERSION = re.compile(rf"[0-9a-f]{{{VERSION_LENGTH}}}")
COMPRESSIBLE = re.compile(r"^(text/|application/(json|javascript|xml)|image/svg\+xml)")
MIN_COMPRESSED_SIZE = 512  # below this, gzip's header costs more than it saves
EXTENSION_KEY = "static_tree"


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None  # None: not worth compressing
    mimetype: str
    etag: str


def compress(body, mimetype):
    """``body`` gzipped, when that is worth it for its type and size (else None)."""
    if len(body) < MIN_COMPRESSED_SIZE or not COMPRESSIBLE.match(mimetype):
        return None
    gzipped = gzip.compress(body, compresslevel=9, mtime=0)
    return gzipped if len(gzipped) < len(body) else None


class StaticTree:
    """Every file under ``folder``, in memory, and the tree's version."""

    def __init__(self, folder):
        self.assets = {}
        tree_digest = hashlib.sha256()
        root = Path(folder)
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            name = path.relative_to(root).as_posix()
            body = path.read_bytes()
            digest = hashlib.sha256(body).hexdigest()
            tree_digest.update(f"{name}\0{digest}\n".encode())
            mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
            self.assets[name] = Asset(body, compress(body, mimetype), mimetype, digest[:32])
        self.version = tree_digest.hexdigest()[:VERSION_LENGTH]

    def find(self, filename):
        """The asset for a path after ``/static/`` and its Cache-Control, or (None, None)."""
        head, _, rest = filename.partition("/")
        if rest and VERSION.fullmatch(head):
            cache = VERSIONED_CACHE if head == self.version else UNVERSIONED_CACHE
            return self.assets.get(rest), cache
        return self.assets.get(filename), UNVERSIONED_CACHE


def accepts_gzip():
    return request.accept_encodings["gzip"] > 0


def compressed_response(body, gzipped, mimetype, etag, cache_control):
    """An answer with ``body``, gzipped when the client takes it and ``gzipped`` is given,
    with a strong ETag per encoding and a 304 for a client that has it already."""
    use_gzip = gzipped is not None and accepts_gzip()
    response = Response(gzipped if use_gzip else body, mimetype=mimetype)
    if gzipped is not None:
        response.vary.add("Accept-Encoding")
    if use_gzip:
        response.headers["Content-Encoding"] = "gzip"
    response.set_etag(f"{etag}-gzip" if use_gzip else etag)
    response.headers["Cache-Control"] = cache_control
    return response.make_conditional(request)


def static_tree():
    return current_app.extensions[EXTENSION_KEY]


def refresh_in_debug():
    """In debug mode, read the tree again (edited files get a new version)."""
    if current_app.debug:
        current_app.extensions[EXTENSION_KEY] = StaticTree(current_app.static_folder)


def serve_static(filename):
    asset, cache_control = static_tree().find(filename)
    if asset is None:
        abort(404)
    return compressed_response(asset.body, asset.gzipped, asset.mimetype, asset.etag, cache_control)


def asset_url(filename):
    """The versioned address of a static file, for pages (``{{ asset_url('js/main.js') }}``)."""
    return url_for("static", filename=f"{static_tree().version}/{filename}")


def init_app(app):
    """Read the static tree and serve it in place of Flask's static view (same endpoint,
    so ``url_for('static', …)`` keeps working)."""
    app.extensions[EXTENSION_KEY] = StaticTree(app.static_folder)
    app.view_functions["static"] = serve_static
    app.jinja_env.globals["asset_url"] = asset_url
