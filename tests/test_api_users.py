"""Users over HTTP: read only."""

import pytest

from tests.api_helpers import BASE, assert_error, unchanged


def user_body(user, full_name="", is_active=True):
    return {
        "id": user.id,
        "username": user.username,
        "full_name": full_name,
        "is_active": is_active,
        "links": {
            "self": f"{BASE}/api/users/{user.username}",
            "tasks": f"{BASE}/api/tasks?assigned={user.username}",
        },
    }


def test_list(client, headers, alice, make_user):
    carol = make_user("carol", full_name="Carol Chen")
    r = client.get("/api/users", headers=headers)
    assert r.status_code == 200
    assert r.get_json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [user_body(alice, "Alice Archer"), user_body(carol, "Carol Chen")],
    }


def test_list_leaves_out_deactivated_users_but_each_can_still_be_read(client, headers, alice, make_user):
    albert = make_user("albert", full_name="Albert Ames", is_active=False)
    for query in ("", "?search=al", "?ordering=-username", "?page_size=1"):
        body = client.get(f"/api/users{query}", headers=headers).get_json()
        assert (body["count"], [user["username"] for user in body["results"]]) == (1, ["alice"])
    r = client.get("/api/users/albert", headers=headers)
    assert r.status_code == 200
    assert r.get_json() == user_body(albert, "Albert Ames", is_active=False)


def test_get(client, headers, alice):
    r = client.get("/api/users/alice", headers=headers)
    assert r.status_code == 200
    assert r.get_json() == user_body(alice, "Alice Archer")


def test_get_a_username_with_unusual_characters(client, headers, make_user):
    user = make_user("o'brien.x@example")
    r = client.get("/api/users/o'brien.x@example", headers=headers)
    assert r.status_code == 200
    assert r.get_json()["id"] == user.id


@pytest.mark.parametrize("username", ["nobody", "ALICE", "alice%00"])
def test_unknown_user_is_404(client, headers, username):
    r = client.get(f"/api/users/{username}", headers=headers)
    assert_error(r, 404, f'User "{username.replace("%00", chr(0))}" not found.')


def test_tasks_link_lists_the_users_tasks(client, headers, alice, make_user, make_task):
    make_user("bob")
    mine = [make_task(name="Mine", assigned="alice"), make_task(name="Also mine", assigned="alice")]
    make_task(name="Bob's", assigned="bob")
    make_task(name="Nobody's")
    link = client.get("/api/users/alice", headers=headers).get_json()["links"]["tasks"]
    r = client.get(link, headers=headers)
    assert r.status_code == 200
    assert [task["id"] for task in r.get_json()["results"]] == mine


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/users"),
        ("put", "/api/users"),
        ("patch", "/api/users"),
        ("delete", "/api/users"),
        ("post", "/api/users/alice"),
        ("put", "/api/users/alice"),
        ("patch", "/api/users/alice"),
        ("delete", "/api/users/alice"),
    ],
)
def test_users_are_read_only(client, headers, snapshot, method, url):
    with unchanged(snapshot):
        r = getattr(client, method)(url, headers=headers, json={"username": "mallory", "is_active": False})
    assert_error(r, 405)
    assert set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
