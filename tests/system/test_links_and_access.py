"""Against real gunicorn processes: links in changes never come from a request's
Host header, production refuses unknown hosts, and a deactivated user's or a
removed member's sockets lose their access at once.
"""

import json
import secrets

import pytest

from tests.support.live import LiveClient
from tests.support.rest import RestClient, issue_token
from tests.support.servers import (
    GunicornServer,
    NewUser,
    create_user,
    flask_command,
    migrated_postgres_database,
)

pytestmark = [pytest.mark.server, pytest.mark.untimed]  # in the browser lane
PASSWORD = "links and access"
WAIT = 10


@pytest.fixture(scope="module")
def database():
    users = [NewUser(username, PASSWORD) for username in ("ann", "ben", "cat")]  # ann: Team's admin
    with migrated_postgres_database(users) as url:
        yield url


def token_of(server, username):
    return issue_token(server.url, username, PASSWORD)


def rest(server, token, method, path, body=None, headers=None):
    """The response as it is (the status is the test's to check)."""
    return RestClient(server.url, token).request(method, path, json=body, headers=headers)


def new_sprint(server, token, days):
    return RestClient(server.url, token).sprint(f"Sprint {days}", end=days)["id"]


def watching(server, token, sprint, since=None):
    """A socket subscribed to that board."""
    client = LiveClient("watching").connect(server.url, token)
    ack = client.subscribe(sprint, since)
    assert ack["ok"], ack
    client.ack = ack
    return client


def test_a_forged_host_header_never_reaches_the_links_of_changes(database):
    with GunicornServer(database_url=database, env={"PUBLIC_URL": ""}) as server:
        token = token_of(server, "ann")
        sprint = new_sprint(server, token, 20)
        live = watching(server, token, sprint)
        try:
            response = rest(
                server,
                token,
                "POST",
                "/api/tasks",
                {"name": "Poisoned?", "sprint": sprint},
                {"Host": "evil.example"},
            )
            assert response.status_code == 201
            change = live.next("change", lambda c: c["model"] == "task")
            seq = live.ack["seq"]
        finally:
            live.close()
        assert "evil.example" not in json.dumps(change)
        assert change["body"]["links"]["self"] == f"/api/tasks/{change['id']}"
        replay = watching(server, token, sprint, since=seq)  # and as the log replays it later
        try:
            replayed = replay.next("change", lambda c: c["id"] == change["id"])
        finally:
            replay.close()
        assert replayed["body"] == change["body"]


def test_production_refuses_unknown_hosts_and_links_to_its_public_url(database):
    settings = {"APP_ENV": "production", "TRUSTED_HOSTS": "127.0.0.1,board.example"}
    with GunicornServer(database_url=database, secret_key=secrets.token_urlsafe(48), env=settings) as server:
        token = token_of(server, "ann")
        refused = rest(server, token, "GET", "/api/sprints", headers={"Host": "evil.example"})
        assert refused.status_code == 400
        assert refused.json()["message"]
        handshake = "/socket.io/?EIO=4&transport=polling"  # Socket.IO's requests too
        assert rest(server, token, "GET", handshake, headers={"Host": "evil.example"}).status_code == 400
        assert (
            rest(server, token, "GET", "/api/sprints", headers={"Host": "board.example"}).status_code == 200
        )
        sprint = new_sprint(server, token, 21)
        live = watching(server, token, sprint)
        try:
            rest(server, token, "POST", "/api/tasks", {"name": "Linked", "sprint": sprint})
            change = live.next("change", lambda c: c["model"] == "task")
        finally:
            live.close()
        assert change["body"]["links"]["self"] == f"{server.url}/api/tasks/{change['id']}"


def test_a_deactivated_user_and_a_removed_member_lose_their_sockets_at_once(database):
    with GunicornServer(database_url=database) as server:
        ann, ben, cat = (token_of(server, name) for name in ("ann", "ben", "cat"))
        sprint = new_sprint(server, ann, 22)
        bens, cats = watching(server, ben, sprint), watching(server, cat, sprint)
        try:
            flask_command("deactivate-user", "ben", database_url=database)
            bens.sio.sleep(0)
            for _ in range(WAIT * 10):
                if not bens.sio.connected:
                    break
                bens.sio.sleep(0.1)
            assert not bens.sio.connected, "ben's socket outlived his account"
            assert rest(server, ben, "GET", "/api/sprints").status_code == 401

            project = rest(server, ann, "GET", "/api/projects").json()["results"][0]["id"]
            assert rest(server, ann, "DELETE", f"/api/projects/{project}/members/cat").status_code == 204
            removal = cats.next("change", lambda c: c["model"] == "member")
            assert removal["action"] == "remove"
            assert removal["body"] == {"project": project, "username": "cat"}
            hidden = rest(
                server, ann, "POST", "/api/tasks", {"name": "After cat left", "sprint": sprint}
            ).json()
            create_user(database, "dan", PASSWORD, project=None)  # a lobby change cat does receive
            sentinel = cats.next("change", lambda c: c["model"] == "user")
            assert sentinel["body"]["username"] == "dan"
            assert not cats.changes("task", {hidden["id"]})
        finally:
            bens.close()
            cats.close()
