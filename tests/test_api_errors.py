"""The JSON error shape for every failure, bad bodies, and concurrent edits (ETag, If-Match)."""

from types import SimpleNamespace

import pytest

from tests.api_helpers import (
    assert_error,
    assert_invalid,
    assert_unauthorized,
    day,
    unchanged,
)
from tests.support.rest import basic_header

ONE_MB = 1024 * 1024
NOT_JSON = "The request body is not valid JSON."
NOT_OBJECT = "The request body must be a JSON object."
MUST_BE_JSON = "The request body must be JSON (Content-Type: application/json)."
STALE = "The object has changed since you read it."
NULL_CHAR = ["Null characters are not allowed."]
NOT_NULL = ["Field may not be null."]
NOT_INTEGER = ["Not a valid integer."]
NOT_STRING = ["Not a valid string."]
NOT_DATE = ["Not a valid date."]
UNKNOWN = ["Unknown field."]
INT32 = ["Must be between -2147483648 and 2147483647."]
TASK_NAME = ["This field may not be blank or longer than 100 characters."]


@pytest.fixture(params=["sprints", "tasks"])
def item(request, make_sprint, make_task):
    """One sprint or one task, with a valid body for each kind of write."""
    if request.param == "sprints":
        object_id = make_sprint(name="Old")
        create, change = {"name": "New", "end": day(60)}, {"name": "Changed"}
        replace = {"name": "Replaced", "end": day(61)}
    else:
        object_id = make_task(name="Old", sprint_id=make_sprint())
        create, change = {"name": "New"}, {"name": "Changed"}
        replace = {"name": "Replaced", "order": 4}
    return SimpleNamespace(
        kind=request.param,
        list_url=f"/api/{request.param}",
        url=f"/api/{request.param}/{object_id}",
        bodies={"get": None, "post": create, "put": replace, "patch": change, "delete": None},
    )


def send(client, item, method, headers, **kwargs):
    """One write of ``item``: POST to its list, anything else to the item itself."""
    if "json" not in kwargs and "data" not in kwargs and item.bodies[method] is not None:
        kwargs["json"] = item.bodies[method]
    url = item.list_url if method == "post" else item.url
    return getattr(client, method)(url, headers=headers, **kwargs)


# The error shape, status by status


def test_400_shape(client, headers, snapshot):
    with unchanged(snapshot):
        r = client.post("/api/sprints", headers=headers, json={"name": "No end"})
    assert_invalid(r, {"end": ["Missing data for required field."]})


def test_401_shape(client):
    assert_unauthorized(client.get("/api/tasks"))


@pytest.mark.parametrize("url", ["/api/nothing-here", "/api/sprints/one", "/nothing-here", "/api/tasks/-1"])
def test_404_shape_for_unknown_urls(client, headers, url):
    assert_error(client.get(url, headers=headers), 404)


@pytest.mark.parametrize(
    ("method", "url", "allowed"),
    [
        ("put", "/api/sprints", {"GET", "POST", "HEAD", "OPTIONS"}),
        ("delete", "/api/tasks", {"GET", "POST", "HEAD", "OPTIONS"}),
        ("post", "/api/tasks/1", {"GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}),
        ("get", "/api/token", {"POST", "DELETE", "OPTIONS"}),
    ],
)
def test_405_shape(client, headers, snapshot, method, url, allowed):
    with unchanged(snapshot):
        r = getattr(client, method)(url, headers=headers, json={})
    assert_error(r, 405)
    assert set(r.headers["Allow"].split(", ")) == allowed


def test_409_shape(client, headers, make_sprint, make_task, snapshot):
    sprint_id = make_sprint()
    make_task(sprint_id=sprint_id)
    with unchanged(snapshot):
        r = client.delete(f"/api/sprints/{sprint_id}", headers=headers)
    assert_error(r, 409, "This sprint still has tasks: move or delete them first.")


def test_500_shape(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/explode")
    def explode():
        raise RuntimeError("internal detail")

    r = client.get("/explode")
    assert_error(r, 500, "Internal server error.")
    assert "internal detail" not in r.get_data(as_text=True)


# Bodies that are not JSON objects, or too large


@pytest.mark.parametrize("method", ["post", "put", "patch"])
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", NOT_JSON),
        (b"{'name': 'single quotes'}", NOT_JSON),
        (b'{"name": "trailing comma",}', NOT_JSON),
        (b"", NOT_JSON),
        (b"\xff\xfe", NOT_JSON),
        (b"[]", NOT_OBJECT),
        (b'[{"name": "in a list"}]', NOT_OBJECT),
        (b"null", NOT_OBJECT),
        (b'"name"', NOT_OBJECT),
        (b"42", NOT_OBJECT),
    ],
)
def test_body_that_is_not_a_json_object_is_400(client, headers, item, snapshot, method, body, message):
    with unchanged(snapshot):
        r = send(client, item, method, headers, data=body, content_type="application/json")
    assert_error(r, 400, message)


@pytest.mark.parametrize("method", ["post", "put", "patch"])
@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/plain", b'{"name": "x"}'), ("application/x-www-form-urlencoded", b"name=x"), (None, b"")],
)
def test_body_that_is_not_json_is_415(client, headers, item, snapshot, method, content_type, body):
    with unchanged(snapshot):
        r = send(client, item, method, headers, data=body, content_type=content_type)
    assert_error(r, 415, MUST_BE_JSON)


@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_body_over_1_mb_is_413(client, headers, item, snapshot, method):
    body = b'{"name": "x", "description": "' + b"d" * ONE_MB + b'"}'
    with unchanged(snapshot):
        r = send(client, item, method, headers, data=body, content_type="application/json")
    assert_error(r, 413, "The request body is larger than 1 MB.")


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_token_request_over_1_mb_is_413(client, alice, snapshot, content_type):
    with unchanged(snapshot):
        r = client.post("/api/token", data=b"p" * (ONE_MB + 1), content_type=content_type)
    assert_error(r, 413)


@pytest.mark.parametrize(("size", "status"), [(ONE_MB, 201), (ONE_MB + 1, 413)])
def test_1_mb_is_the_limit(client, headers, size, status):
    prefix, suffix = b'{"name": "Big", "description": "', b'"}'
    body = prefix + b"d" * (size - len(prefix) - len(suffix)) + suffix
    r = client.post("/api/tasks", headers=headers, data=body, content_type="application/json")
    assert r.status_code == status
    if status == 201:
        assert len(r.get_json()["description"]) == size - len(prefix) - len(suffix)


# Fields: unknown, wrong types, too long, NUL characters

SPRINT_ERRORS = [
    ({"bogus": 1}, {"bogus": UNKNOWN}),
    ({"tasks": []}, {"tasks": UNKNOWN}),
    ({"end": 20300101}, {"end": NOT_DATE}),
    ({"end": "2030-02-30"}, {"end": NOT_DATE}),
    ({"end": "next friday"}, {"end": NOT_DATE}),
    ({"end": None}, {"end": NOT_NULL}),
    ({"name": 5}, {"name": NOT_STRING}),
    ({"name": None}, {"name": NOT_NULL}),
    ({"description": ["a", "b"]}, {"description": NOT_STRING}),
    ({"name": "n" * 101}, {"name": ["Ensure this field has no more than 100 characters."]}),
    ({"name": "a\x00b"}, {"name": NULL_CHAR}),
    ({"description": "\x00"}, {"description": NULL_CHAR}),
    ({"name": 1, "bogus": 2}, {"name": NOT_STRING, "bogus": UNKNOWN}),
]
TASK_ERRORS = [
    ({"bogus": 1}, {"bogus": UNKNOWN}),
    ({"sprint_id": 1}, {"sprint_id": UNKNOWN}),
    ({"assigned_id": 1}, {"assigned_id": UNKNOWN}),
    ({"name": None}, {"name": NOT_NULL}),
    ({"name": ""}, {"name": TASK_NAME}),
    ({"name": "n" * 101}, {"name": TASK_NAME}),
    ({"name": ["list"]}, {"name": NOT_STRING}),
    ({"description": None}, {"description": NOT_NULL}),
    ({"status": "doing"}, {"status": NOT_INTEGER}),
    ({"status": True}, {"status": NOT_INTEGER}),
    ({"status": 0}, {"status": ["Must be one of: 1 (Not Started), 2 (In Progress), 3 (Testing), 4 (Done)."]}),
    ({"status": None}, {"status": NOT_NULL}),
    ({"order": 1.5}, {"order": NOT_INTEGER}),
    ({"order": "first"}, {"order": NOT_INTEGER}),
    ({"order": 2**31}, {"order": INT32}),
    ({"order": -(2**31) - 1}, {"order": INT32}),
    ({"order": 10**400}, {"order": INT32}),
    ({"order": None}, {"order": NOT_NULL}),
    ({"sprint": "one"}, {"sprint": NOT_INTEGER}),
    ({"sprint": {"id": 1}}, {"sprint": NOT_INTEGER}),
    ({"sprint": 0.5}, {"sprint": NOT_INTEGER}),
    ({"sprint": 2**31}, {"sprint": INT32}),
    ({"assigned": 7}, {"assigned": NOT_STRING}),
    ({"assigned": "u" * 151}, {"assigned": ["Ensure this field has no more than 150 characters."]}),
    ({"started": "yesterday"}, {"started": NOT_DATE}),
    ({"due": 5}, {"due": NOT_DATE}),
    ({"completed": "2030-13-01"}, {"completed": NOT_DATE}),
    ({"name": "a\x00"}, {"name": NULL_CHAR}),
    ({"description": "line\x00"}, {"description": NULL_CHAR}),
    ({"assigned": "al\x00ice"}, {"assigned": NULL_CHAR}),
]


@pytest.mark.parametrize("method", ["post", "put", "patch"])
@pytest.mark.parametrize(
    ("item", "body", "errors"),
    [("sprints", *case) for case in SPRINT_ERRORS] + [("tasks", *case) for case in TASK_ERRORS],
    indirect=["item"],
)
def test_bad_field_is_400(client, headers, alice, item, snapshot, method, body, errors):
    with unchanged(snapshot):
        r = send(client, item, method, headers, json={**item.bodies[method], **body})
    assert_invalid(r, errors)


@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_read_only_fields_are_ignored(client, headers, item, method):
    read_only = {"id": 999_999, "links": {"self": "http://elsewhere/"}}
    if item.kind == "tasks":
        read_only["status_display"] = "Done"
    r = send(client, item, method, headers, json={**item.bodies[method], **read_only})
    assert r.status_code == (201 if method == "post" else 200)
    body = r.get_json()
    assert body["id"] != 999_999
    assert body["links"]["self"].startswith("http://localhost/api/")
    assert body.get("status_display", "Not Started") == "Not Started"


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/sprints", {"name": "n" * 100, "end": day(50)}),
        ("/api/tasks", {"name": "n" * 100, "description": "ü" * 100_000}),
        ("/api/tasks", {"name": "Ünïcødé ✓ 日本", "order": -(2**31)}),
    ],
)
def test_longest_allowed_values(client, headers, url, body):
    r = client.post(url, headers=headers, json=body)
    assert r.status_code == 201
    assert {key: r.get_json()[key] for key in body} == body


# NUL characters outside the body


@pytest.mark.parametrize(
    "credentials",
    [{"username": "ali\x00ce", "password": "correct horse"}, {"username": "alice", "password": "x\x00"}],
)
def test_nul_in_credentials(client, alice, snapshot, credentials):
    with unchanged(snapshot):
        r = client.post("/api/token", json=credentials)
    assert_error(r, 401, "Unable to log in with the provided credentials.")
    assert_unauthorized(
        client.get("/api/sprints", headers=basic_header(credentials["username"], credentials["password"]))
    )


# Concurrent edits: ETag and If-Match


def etag_of(client, headers, item):
    r = client.get(item.url, headers=headers)
    assert r.status_code == 200
    return r.headers["ETag"]


@pytest.mark.parametrize("method", ["get", "post", "put", "patch"])
def test_every_response_carries_an_etag(client, headers, item, method):
    r = send(client, item, method, headers)
    assert r.status_code in (200, 201)
    etag = r.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2
    url = r.headers.get("Location", item.url)
    assert client.get(url, headers=headers).headers["ETag"] == etag


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_change_makes_a_new_etag(client, headers, item, method):
    before = etag_of(client, headers, item)
    r = send(client, item, method, headers)
    assert r.status_code == 200
    assert r.headers["ETag"] != before
    assert etag_of(client, headers, item) == r.headers["ETag"]


def test_a_write_that_changes_nothing_keeps_the_etag(client, headers, item):
    before = etag_of(client, headers, item)
    r = client.patch(item.url, headers=headers, json={"name": "Old"})
    assert r.status_code == 200
    assert r.headers["ETag"] == before


@pytest.mark.parametrize("if_match", ["{etag}", '"other", {etag}', "*"])
@pytest.mark.parametrize(
    ("item", "method"),
    [
        ("sprints", "put"),
        ("sprints", "patch"),
        ("sprints", "delete"),
        ("tasks", "put"),
        ("tasks", "patch"),
        ("tasks", "delete"),
    ],
    indirect=["item"],
)
def test_matching_if_match_goes_through(client, headers, item, method, if_match):
    etag = etag_of(client, headers, item)
    r = send(client, item, method, {**headers, "If-Match": if_match.format(etag=etag)})
    assert r.status_code == (204 if method == "delete" else 200)
    assert client.get(item.url, headers=headers).status_code == (404 if method == "delete" else 200)


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
@pytest.mark.parametrize("stale", ["old", '"sprints-1-0"', 'W/"{etag}"'])
def test_stale_if_match_is_412_with_the_current_object(client, headers, item, snapshot, method, stale):
    old = etag_of(client, headers, item)
    assert client.patch(item.url, headers=headers, json={"name": "Changed elsewhere"}).status_code == 200
    current = client.get(item.url, headers=headers)
    if_match = old if stale == "old" else stale.format(etag=current.headers["ETag"].strip('"'))
    with unchanged(snapshot):
        r = send(client, item, method, {**headers, "If-Match": if_match})
    assert r.status_code == 412
    assert r.get_json() == {"message": STALE, **current.get_json()}
    assert r.headers["ETag"] == current.headers["ETag"]


def test_stale_if_match_wins_over_a_bad_body(client, headers, item, snapshot):
    stale = '"stale"'
    with unchanged(snapshot):
        r = client.patch(item.url, headers={**headers, "If-Match": stale}, json={"bogus": 1})
    assert r.status_code == 412


def test_unknown_id_with_if_match_is_404(client, headers, snapshot):
    with unchanged(snapshot):
        r = client.patch("/api/tasks/999", headers={**headers, "If-Match": '"x"'}, json={"name": "x"})
    assert_error(r, 404, "Task 999 not found.")


def test_if_none_match_on_get(client, headers, item):
    etag = etag_of(client, headers, item)
    r = client.get(item.url, headers={**headers, "If-None-Match": etag})
    assert r.status_code == 304
    assert r.headers["ETag"] == etag
    assert client.get(item.url, headers={**headers, "If-None-Match": '"other"'}).status_code == 200
