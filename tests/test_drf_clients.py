"""Clients written for a Django REST Framework API work unchanged: the API root,
paths with a trailing slash for every method (never a redirect), and the
cross-origin headers such a client sends and reads.
"""

from app import create_app
from config import TestingConfig
from tests.api_helpers import day

DRF_CLIENT_HEADERS = ("authorization", "content-type", "if-match", "x-csrftoken", "x-requested-with")


def test_the_api_root_names_every_resource_without_a_login(client):
    for path in ("/api/", "/api"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.get_json() == {
            "projects": "http://localhost/api/projects",
            "sprints": "http://localhost/api/sprints",
            "tasks": "http://localhost/api/tasks",
            "users": "http://localhost/api/users",
            "token": "http://localhost/api/token",
            "docs": "http://localhost/api/docs",
        }


def test_every_path_answers_the_same_with_a_trailing_slash(client, headers, make_sprint, make_task):
    sprint = make_sprint()
    task = make_task("T", sprint_id=sprint)
    for path in (
        "/api/sprints",
        f"/api/sprints/{sprint}",
        "/api/tasks",
        f"/api/tasks/{task}",
        "/api/users/alice",
    ):
        plain, slashed = client.get(path, headers=headers), client.get(path + "/", headers=headers)
        assert slashed.status_code == plain.status_code == 200
        assert (
            slashed.get_json()["id" if "results" not in plain.get_json() else "count"]
            == plain.get_json()["id" if "results" not in plain.get_json() else "count"]
        )
    created = client.post("/api/sprints/", headers=headers, json={"end": day(40)})
    assert created.status_code == 201
    new = created.get_json()["id"]
    assert client.patch(f"/api/sprints/{new}/", headers=headers, json={"name": "Slashed"}).status_code == 200
    assert client.put(f"/api/sprints/{new}/", headers=headers, json={"end": day(41)}).status_code == 200
    assert client.delete(f"/api/sprints/{new}/", headers=headers).status_code == 204
    token = client.post("/api/token/", json={"username": "alice", "password": "correct horse"})
    assert token.status_code == 200
    assert (
        client.delete(
            "/api/token/", headers={"Authorization": f"Token {token.get_json()['token']}"}
        ).status_code
        == 204
    )
    assert client.get("/api/sprints/", headers=headers).status_code == 200  # no 30x anywhere


def test_a_preflight_allows_the_headers_drf_clients_send(database_uri):
    app = create_app(
        TestingConfig, SQLALCHEMY_DATABASE_URI=database_uri, CORS_ALLOWED_ORIGINS=["https://client.example"]
    )
    response = app.test_client().options(
        "/api/tasks/",
        headers={
            "Origin": "https://client.example",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": ", ".join(DRF_CLIENT_HEADERS),
        },
    )
    app.extensions["realtime"].stop()
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://client.example"
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert set(DRF_CLIENT_HEADERS) <= allowed
    exposed = {h.strip().lower() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"etag", "location"} <= exposed
