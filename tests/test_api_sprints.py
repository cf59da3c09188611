"""Sprints over HTTP: create, read, replace, change and delete, and their validation."""

from datetime import date, timedelta

import pytest

from tests.api_helpers import BASE, assert_error, assert_invalid, day, in_days, unchanged

IN_PAST = {"end": ["End date cannot be in the past."]}
DUPLICATE = {"end": ["A sprint with this end date already exists."]}


def sprint_body(sprint_id, name, end, description="", project=1, start=None):
    return {
        "id": sprint_id,
        "project": project,
        "name": name,
        "description": description,
        "start": start or (date.fromisoformat(end) - timedelta(days=14)).isoformat(),
        "end": end,
        "links": {
            "self": f"{BASE}/api/sprints/{sprint_id}",
            "tasks": f"{BASE}/api/tasks?sprint={sprint_id}",
            "project": f"{BASE}/api/projects/{project}",
            "burndown": f"{BASE}/api/sprints/{sprint_id}/burndown",
            "activity": f"{BASE}/api/sprints/{sprint_id}/activity",
        },
    }


def test_create(client, headers):
    r = client.post(
        "/api/sprints", headers=headers, json={"name": "One", "description": "First", "end": day(7)}
    )
    assert r.status_code == 201
    body = r.get_json()
    assert body == sprint_body(body["id"], "One", day(7), "First")
    assert r.headers["Location"] == body["links"]["self"]
    assert r.headers["ETag"]
    fetched = client.get(r.headers["Location"], headers=headers)
    assert fetched.get_json() == body
    assert fetched.headers["ETag"] == r.headers["ETag"]


@pytest.mark.parametrize("offset", [0, 1, 3650])
def test_create_with_only_an_end(client, headers, offset):
    r = client.post("/api/sprints", headers=headers, json={"end": day(offset)})
    assert r.status_code == 201
    assert r.get_json() == sprint_body(r.get_json()["id"], "", day(offset))


def test_get(client, headers, make_sprint):
    sprint_id = make_sprint(name="Get me", description="Here", end=None)
    r = client.get(f"/api/sprints/{sprint_id}", headers=headers)
    assert r.status_code == 200
    assert r.get_json() == sprint_body(sprint_id, "Get me", r.get_json()["end"], "Here")
    assert r.headers["ETag"]


def test_put_replaces(client, headers, make_sprint):
    sprint_id = make_sprint(name="Old", description="Old text")
    start = client.get(f"/api/sprints/{sprint_id}", headers=headers).get_json()["start"]
    r = client.put(f"/api/sprints/{sprint_id}", headers=headers, json={"name": "New", "end": day(30)})
    assert r.status_code == 200
    # Fields left out keep their values: the start date stays where it was.
    assert r.get_json() == sprint_body(sprint_id, "New", day(30), "Old text", start=start)
    assert client.get(f"/api/sprints/{sprint_id}", headers=headers).get_json() == r.get_json()


def test_put_what_was_got(client, headers, make_sprint):
    url = f"/api/sprints/{make_sprint(name='Same')}"
    got = client.get(url, headers=headers).get_json()
    r = client.put(url, headers=headers, json=got)
    assert r.status_code == 200
    assert r.get_json() == got


def test_put_needs_an_end(client, headers, make_sprint, snapshot):
    sprint_id = make_sprint()
    with unchanged(snapshot):
        r = client.put(f"/api/sprints/{sprint_id}", headers=headers, json={"name": "No end"})
    assert_invalid(r, {"end": ["Missing data for required field."]})


@pytest.mark.parametrize(
    ("changes", "expected"),
    [({"name": "Renamed"}, {"name": "Renamed"}), ({"description": "More"}, {"description": "More"})],
)
def test_patch_changes_only_what_is_sent(client, headers, make_sprint, changes, expected):
    sprint_id = make_sprint(name="Before", description="Text")
    before = client.get(f"/api/sprints/{sprint_id}", headers=headers)
    r = client.patch(f"/api/sprints/{sprint_id}", headers=headers, json=changes)
    assert r.status_code == 200
    assert r.get_json() == {**before.get_json(), **expected}
    assert r.headers["ETag"] != before.headers["ETag"]


def test_patch_the_end(client, headers, make_sprint):
    sprint_id = make_sprint()
    r = client.patch(f"/api/sprints/{sprint_id}", headers=headers, json={"end": day(200)})
    assert r.status_code == 200
    assert r.get_json()["end"] == day(200)


def test_an_ended_sprint_can_be_edited_while_its_end_stays(client, headers, make_sprint):
    ended = make_sprint(name="Ended", end=in_days(-3))
    r = client.patch(f"/api/sprints/{ended}", headers=headers, json={"name": "Renamed", "end": day(-3)})
    assert r.status_code == 200
    assert r.get_json() == sprint_body(ended, "Renamed", day(-3))
    r = client.put(f"/api/sprints/{ended}", headers=headers, json={"end": day(-3), "description": "x"})
    assert r.status_code == 200
    assert r.get_json() == sprint_body(ended, "Renamed", day(-3), "x")


def test_delete(client, headers, make_sprint):
    sprint_id = make_sprint()
    r = client.delete(f"/api/sprints/{sprint_id}", headers=headers)
    assert r.status_code == 204
    assert r.data == b""
    assert_error(
        client.get(f"/api/sprints/{sprint_id}", headers=headers), 404, f"Sprint {sprint_id} not found."
    )


def test_delete_a_sprint_with_tasks_is_409(client, headers, make_sprint, make_task, snapshot):
    sprint_id = make_sprint()
    make_task(sprint_id=sprint_id)
    with unchanged(snapshot):
        r = client.delete(f"/api/sprints/{sprint_id}", headers=headers)
    assert_error(r, 409, "This sprint still has tasks: move or delete them first.")


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
@pytest.mark.parametrize("sprint_id", [999, 2**31 - 1, 2**31, 2**63, 10**30])
def test_unknown_id_is_404(client, headers, snapshot, method, sprint_id):
    with unchanged(snapshot):
        r = getattr(client, method)(f"/api/sprints/{sprint_id}", headers=headers, json={"end": day(5)})
    assert_error(r, 404, f"Sprint {sprint_id} not found.")


# Validation


@pytest.mark.parametrize("offset", [-1, -400])
def test_create_ending_in_the_past(client, headers, snapshot, offset):
    with unchanged(snapshot):
        r = client.post("/api/sprints", headers=headers, json={"name": "Late", "end": day(offset)})
    assert_invalid(r, IN_PAST)


@pytest.mark.parametrize("method", ["put", "patch"])
def test_change_the_end_to_the_past(client, headers, make_sprint, snapshot, method):
    sprint_id = make_sprint()
    with unchanged(snapshot):
        r = getattr(client, method)(f"/api/sprints/{sprint_id}", headers=headers, json={"end": day(-1)})
    assert_invalid(r, IN_PAST)


def test_create_with_a_taken_end(client, headers, make_sprint, snapshot):
    make_sprint(end=in_days(9))
    with unchanged(snapshot):
        r = client.post("/api/sprints", headers=headers, json={"end": day(9)})
    assert_invalid(r, DUPLICATE)


@pytest.mark.parametrize("method", ["put", "patch"])
def test_change_to_a_taken_end(client, headers, make_sprint, snapshot, method):
    make_sprint(end=in_days(9))
    sprint_id = make_sprint()
    with unchanged(snapshot):
        r = getattr(client, method)(f"/api/sprints/{sprint_id}", headers=headers, json={"end": day(9)})
    assert_invalid(r, DUPLICATE)


def test_missing_end_on_create(client, headers, snapshot):
    with unchanged(snapshot):
        r = client.post("/api/sprints", headers=headers, json={"name": "Endless"})
    assert_invalid(r, {"end": ["Missing data for required field."]})
