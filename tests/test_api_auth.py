"""Authentication: the three schemes, their failures, and getting and revoking tokens."""

from datetime import UTC, datetime, timedelta

import pytest

from app import create_app
from config import TestingConfig
from tests.api_helpers import assert_error, assert_invalid, assert_unauthorized, unchanged
from tests.support.rest import basic_header

PROTECTED = [
    ("get", "/api/sprints"),
    ("post", "/api/sprints"),
    ("get", "/api/sprints/1"),
    ("put", "/api/sprints/1"),
    ("patch", "/api/sprints/1"),
    ("delete", "/api/sprints/1"),
    ("get", "/api/tasks"),
    ("post", "/api/tasks"),
    ("get", "/api/tasks/1"),
    ("put", "/api/tasks/1"),
    ("patch", "/api/tasks/1"),
    ("delete", "/api/tasks/1"),
    ("get", "/api/users"),
    ("get", "/api/users/alice"),
    ("delete", "/api/token"),
]
LOGIN_FAILED = "Unable to log in with the provided credentials."


# Public endpoints


def test_health_needs_no_credentials(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "db": "ok", "redis": "disabled"}


def test_health_names_an_unreachable_redis(app, client):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.get_json() == {"status": "error", "db": "ok", "redis": "error: ConnectionError"}


def test_health_names_an_unreachable_database():
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI="postgresql+psycopg2://nobody@127.0.0.1:1/none")
    r = app.test_client().get("/healthz")
    assert r.status_code == 503
    assert r.get_json() == {"status": "error", "db": "error: OperationalError", "redis": "disabled"}


def test_api_docs_need_no_credentials(client):
    spec = client.get("/api/swagger.json")
    assert spec.status_code == 200
    assert {"/sprints", "/sprints/{sprint_id}", "/tasks", "/tasks/{task_id}", "/token"} <= set(
        spec.get_json()["paths"]
    )
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert page.mimetype == "text/html"


# The three schemes


@pytest.mark.parametrize("scheme", ["Token", "Bearer"])
def test_token_schemes(client, alice, make_token, scheme):
    r = client.get("/api/users/alice", headers={"Authorization": f"{scheme} {make_token(alice)}"})
    assert r.status_code == 200
    assert r.get_json()["username"] == "alice"


def test_basic_scheme(client, alice):
    r = client.get("/api/users/alice", headers=basic_header("alice", alice.password))
    assert r.status_code == 200
    assert r.get_json()["username"] == "alice"


@pytest.mark.parametrize(("method", "url"), PROTECTED)
def test_every_endpoint_needs_credentials(client, method, url):
    assert_unauthorized(getattr(client, method)(url))


def _bad_credentials(case, alice, make_user, make_token):
    """The Authorization header for one way of getting authentication wrong."""
    if case == "no header":
        return {}
    if case == "empty header":
        return {"Authorization": ""}
    if case == "unknown scheme":
        return {"Authorization": f"Digest {make_token(alice)}"}
    if case == "scheme without a token":
        return {"Authorization": "Token"}
    if case in ("unknown token", "unknown bearer token"):
        return {"Authorization": f"{case.split()[1].title()} not-a-token"}
    if case == "expired token":
        return {"Authorization": f"Token {make_token(alice, ttl=-1)}"}
    if case == "token of an inactive user":
        return {"Authorization": f"Bearer {make_token(make_user('ivan', is_active=False))}"}
    if case == "wrong password":
        return basic_header("alice", "wrong")
    if case == "unknown user":
        return basic_header("nobody", "correct horse")
    if case == "inactive user":
        make_user("ivan", password="pw", is_active=False)
        return basic_header("ivan", "pw")
    if case == "malformed basic":
        return {"Authorization": "Basic !!!"}
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "no header",
        "empty header",
        "unknown scheme",
        "scheme without a token",
        "unknown token",
        "unknown bearer token",
        "expired token",
        "token of an inactive user",
        "wrong password",
        "unknown user",
        "inactive user",
        "malformed basic",
    ],
)
def test_bad_credentials_are_401(client, alice, make_user, make_token, case):
    headers = _bad_credentials(case, alice, make_user, make_token)
    assert_unauthorized(client.get("/api/sprints", headers=headers))


# POST /api/token


@pytest.mark.parametrize("as_form", [False, True], ids=["json", "form"])
def test_get_a_token(app, client, alice, as_form):
    credentials = {"username": "alice", "password": alice.password}
    r = client.post("/api/token", **{"data" if as_form else "json": credentials})
    assert r.status_code == 200
    body = r.get_json()
    assert set(body) == {"token", "expires"}
    expires = datetime.fromisoformat(body["expires"])
    assert expires.tzinfo is not None
    ttl = timedelta(seconds=app.config["TOKEN_TTL"])
    assert abs(expires - (datetime.now(UTC) + ttl)) < timedelta(minutes=1)
    for scheme in ("Token", "Bearer"):
        r = client.get("/api/users", headers={"Authorization": f"{scheme} {body['token']}"})
        assert r.status_code == 200


def test_each_token_is_new(client, alice):
    credentials = {"username": "alice", "password": alice.password}
    first, second = (client.post("/api/token", json=credentials).get_json()["token"] for _ in range(2))
    assert first != second


MISSING = ["Missing data for required field."]


@pytest.mark.parametrize("as_form", [False, True], ids=["json", "form"])
@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"username": MISSING, "password": MISSING}),
        ({"username": "alice"}, {"password": MISSING}),
        ({"password": "correct horse"}, {"username": MISSING}),
        ({"username": "", "password": "correct horse"}, {"username": ["Length must be between 1 and 150."]}),
        ({"username": "alice", "password": "x", "remember": "1"}, {"remember": ["Unknown field."]}),
    ],
)
def test_token_request_with_missing_or_bad_fields_is_400(client, alice, snapshot, as_form, body, errors):
    with unchanged(snapshot):
        r = client.post("/api/token", **{"data" if as_form else "json": body})
    assert_invalid(r, errors)


@pytest.mark.parametrize("body", [b"{", b"[]", b'"alice"', b"null"])
def test_token_request_that_is_not_a_json_object_is_400(client, snapshot, body):
    with unchanged(snapshot):
        r = client.post("/api/token", data=body, content_type="application/json")
    assert_error(r, 400, "The request body is not a valid JSON object.")


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong"), ("nobody", "correct horse"), ("ivan", "pw"), ("ALICE", "correct horse")],
    ids=["wrong password", "unknown user", "inactive user", "username is case-sensitive"],
)
def test_token_request_with_wrong_credentials_is_401(client, alice, make_user, snapshot, username, password):
    make_user("ivan", password="pw", is_active=False)
    with unchanged(snapshot):
        r = client.post("/api/token", json={"username": username, "password": password})
    assert_error(r, 401, LOGIN_FAILED)
    assert r.headers["WWW-Authenticate"]


# DELETE /api/token


@pytest.mark.parametrize("scheme", ["Token", "Bearer"])
def test_revoke_token(client, alice, make_token, scheme):
    revoked = {"Authorization": f"{scheme} {make_token(alice)}"}
    other = {"Authorization": f"Token {make_token(alice)}"}
    r = client.delete("/api/token", headers=revoked)
    assert r.status_code == 204
    assert r.data == b""
    assert_unauthorized(client.get("/api/sprints", headers=revoked))
    assert_unauthorized(client.delete("/api/token", headers=revoked))
    assert client.get("/api/sprints", headers=other).status_code == 200


def test_revoke_needs_a_token_and_answers_a_right_password_as_a_wrong_one(client, alice, snapshot):
    with unchanged(snapshot):
        right = client.delete("/api/token", headers=basic_header("alice", alice.password))
        wrong = client.delete("/api/token", headers=basic_header("alice", "wrong"))
    assert_unauthorized(right)
    assert (right.get_json(), right.headers["WWW-Authenticate"]) == (
        wrong.get_json(),
        wrong.headers["WWW-Authenticate"],
    )
