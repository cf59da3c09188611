"""Conversation and history: comments, activity from the change log, and restore.

ann is Apollo's admin, bo a member, vic a viewer; zed is in Zeus only.
"""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from app import db
from app.models import Event
from tests.api_helpers import assert_error, assert_invalid, unchanged
from tests.socket_helpers import Socket

VIEWERS_CANNOT = "Viewers cannot change this project."


@pytest.fixture
def team(app, make_user, make_token, make_project, make_sprint, make_task):
    users = {name: make_user(name, project=None) for name in ("ann", "bo", "vic", "zed")}
    make_project("Apollo", ann="admin", bo="member", vic="viewer")
    make_project("Zeus", zed="admin")
    sprint = make_sprint(name="Sprint 1", project="Apollo")
    return SimpleNamespace(
        headers={name: {"Authorization": f"Token {make_token(user)}"} for name, user in users.items()},
        sprint=sprint,
        task=make_task("Fix login", sprint_id=sprint),
        zeus_task=make_task("Zeus task", project="Zeus"),
    )


def comment(client, headers, task, text):
    response = client.post(f"/api/tasks/{task}/comments", headers=headers, json={"body": text})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


class TestComments:
    def test_a_comment_and_its_shape(self, client, team):
        body = comment(client, team.headers["bo"], team.task, "Looks good\nsee https://example.com")
        assert body["task"] == team.task
        assert body["author"] == "bo"
        assert body["body"] == "Looks good\nsee https://example.com"
        assert body["edited"] is None
        assert datetime.fromisoformat(body["created"]).tzinfo is not None
        assert body["links"] == {
            "self": f"http://localhost/api/comments/{body['id']}",
            "task": f"http://localhost/api/tasks/{team.task}",
            "author": "http://localhost/api/users/bo",
        }
        listed = client.get(f"/api/tasks/{team.task}/comments", headers=team.headers["vic"]).get_json()
        assert listed["count"] == 1 and listed["results"] == [body]

    def test_comments_are_listed_oldest_first_a_page_at_a_time(self, client, team):
        ids = [comment(client, team.headers["ann"], team.task, f"c{i}")["id"] for i in range(3)]
        page = client.get(
            f"/api/tasks/{team.task}/comments?page_size=2", headers=team.headers["bo"]
        ).get_json()
        assert [c["id"] for c in page["results"]] == ids[:2]
        assert page["next"].endswith("page_size=2&page=2")

    def test_only_the_author_edits_and_the_author_or_an_admin_deletes(self, client, team, snapshot):
        mine = comment(client, team.headers["bo"], team.task, "first")["id"]
        with unchanged(snapshot):
            assert_error(
                client.patch(f"/api/comments/{mine}", headers=team.headers["ann"], json={"body": "x"}),
                403,
                "Only the author can edit a comment.",
            )
            assert_error(
                client.patch(f"/api/comments/{mine}", headers=team.headers["vic"], json={"body": "x"}),
                403,
                VIEWERS_CANNOT,
            )
        edited = client.patch(f"/api/comments/{mine}", headers=team.headers["bo"], json={"body": "second"})
        assert edited.status_code == 200
        assert edited.get_json()["body"] == "second" and edited.get_json()["edited"] is not None
        theirs = comment(client, team.headers["ann"], team.task, "admin's")["id"]
        with unchanged(snapshot):
            assert_error(
                client.delete(f"/api/comments/{theirs}", headers=team.headers["bo"]),
                403,
                "Only the author or a project admin can delete a comment.",
            )
        assert client.delete(f"/api/comments/{mine}", headers=team.headers["ann"]).status_code == 204
        assert client.delete(f"/api/comments/{theirs}", headers=team.headers["ann"]).status_code == 204
        assert (
            client.get(f"/api/tasks/{team.task}/comments", headers=team.headers["ann"]).get_json()["count"]
            == 0
        )

    def test_bad_comments_are_refused(self, client, team, snapshot):
        path = f"/api/tasks/{team.task}/comments"
        assert comment(client, team.headers["bo"], team.task, "x" * 10_000)
        with unchanged(snapshot):
            too_long = {"body": ["This field may not be blank or longer than 10000 characters."]}
            assert_invalid(
                client.post(path, headers=team.headers["bo"], json={"body": "x" * 10_001}), too_long
            )
            assert_invalid(client.post(path, headers=team.headers["bo"], json={"body": ""}), too_long)
            assert_invalid(
                client.post(path, headers=team.headers["bo"], json={"body": " \n "}),
                {"body": ["This field may not be blank."]},
            )
            assert_invalid(
                client.post(path, headers=team.headers["bo"], json={}),
                {"body": ["Missing data for required field."]},
            )
            assert_invalid(
                client.post(
                    path, headers=team.headers["bo"], json={"body": "x", "author": "ann", "extra": 1}
                ),
                {"extra": ["Unknown field."]},
            )
            assert_error(
                client.post(path, headers=team.headers["vic"], json={"body": "x"}), 403, VIEWERS_CANNOT
            )

    def test_comments_of_another_project_are_unknown(self, client, team, snapshot):
        theirs = comment(client, team.headers["zed"], team.zeus_task, "secret")["id"]
        with unchanged(snapshot):
            for method, path in [
                ("get", f"/api/comments/{theirs}"),
                ("patch", f"/api/comments/{theirs}"),
                ("delete", f"/api/comments/{theirs}"),
                ("get", f"/api/tasks/{team.zeus_task}/comments"),
                ("post", f"/api/tasks/{team.zeus_task}/comments"),
            ]:
                kwargs = {"json": {"body": "x"}} if method in ("post", "patch") else {}
                response = getattr(client, method)(path, headers=team.headers["ann"], **kwargs)
                assert response.status_code == 404

    def test_a_comment_reaches_the_tasks_board_live(self, app, client, team):
        board = Socket(app, team.headers["vic"]["Authorization"].removeprefix("Token "))
        try:
            assert board.subscribe(team.sprint)["ok"]
            posted = comment(client, team.headers["bo"], team.task, "<script>alert(1)</script>")
            change, _ = board.wait_change("comment", posted["id"], "add")
            assert change["body"] == posted
            assert change["actor"] == "bo"
        finally:
            board.disconnect()


def entries(client, headers, path, **params):
    response = client.get(path, headers=headers, query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_activity_tells_who_changed_what(client, team):
    ann, bo = team.headers["ann"], team.headers["bo"]
    task = client.post(
        "/api/tasks", headers=bo, json={"name": "Write docs", "sprint": team.sprint}
    ).get_json()["id"]
    client.patch(f"/api/tasks/{task}", headers=bo, json={"status": 2})
    client.patch(f"/api/tasks/{task}", headers=ann, json={"points": 3})
    client.patch(f"/api/tasks/{task}", headers=ann, json={"assigned": "bo", "name": "Write the docs"})
    comment(client, bo, task, "On it")
    client.patch(f"/api/tasks/{task}", headers=bo, json={"sprint": None, "status": 1})
    body = entries(client, ann, f"/api/tasks/{task}/activity")
    got = [(e["actor"], e["model"], e["action"], e["summary"], e["changes"]) for e in body["results"]]
    assert got == [
        (
            "bo",
            "task",
            "update",
            "bo moved “Write the docs” from In Progress to Not Started"
            " and moved “Write the docs” to the backlog.",
            {"sprint": [team.sprint, None], "status": [2, 1]},
        ),
        ("bo", "comment", "add", "bo commented on “Write the docs”.", None),
        (
            "ann",
            "task",
            "update",
            "ann renamed “Write docs” to “Write the docs” and assigned “Write the docs” to bo.",
            {"name": ["Write docs", "Write the docs"], "assigned": [None, "bo"]},
        ),
        ("ann", "task", "update", "ann set points of “Write docs” to 3.", {"points": [None, 3]}),
        (
            "bo",
            "task",
            "update",
            "bo moved “Write docs” from Not Started to In Progress.",
            {"status": [1, 2]},
        ),
        ("bo", "task", "add", "bo added “Write docs”.", None),
    ]
    assert body["count"] == 6
    seqs = [e["seq"] for e in body["results"]]
    assert seqs == sorted(seqs, reverse=True)


def test_activity_pages_filters_by_time_and_keeps_to_the_project(app, client, team):
    ann = team.headers["ann"]
    for i in range(3):
        client.patch(f"/api/tasks/{team.task}", headers=ann, json={"description": f"v{i}"})
    client.patch(f"/api/tasks/{team.zeus_task}", headers=team.headers["zed"], json={"description": "secret"})
    comment(client, team.headers["zed"], team.zeus_task, "secret")
    with app.app_context():  # the task was made, and first changed, a day ago
        seqs = db.session.scalars(
            sa.select(Event.seq).where(Event.task == team.task).order_by(Event.seq)
        ).all()
        db.session.execute(
            sa.update(Event).where(Event.seq <= seqs[1]).values(created=datetime.now(UTC) - timedelta(days=1))
        )
        db.session.commit()
    page = entries(client, ann, f"/api/tasks/{team.task}/activity", page_size=2)
    assert page["count"] == 4 and len(page["results"]) == 2 and page["next"]
    last_page = client.get(page["next"], headers=ann).get_json()
    assert last_page["results"][-1]["summary"] == "Someone added “Fix login”."
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    recent = entries(client, ann, f"/api/tasks/{team.task}/activity", since=since)
    assert [e["summary"] for e in recent["results"]] == ["ann changed the description of “Fix login”."] * 2
    project = client.get("/api/projects", headers=ann).get_json()["results"][0]["id"]
    everything = entries(client, ann, f"/api/projects/{project}/activity", page_size=100)["results"]
    sprint = entries(client, ann, f"/api/sprints/{team.sprint}/activity", page_size=100)["results"]
    for listing in (everything, sprint):
        assert "secret" not in str(listing) and "Zeus" not in str(listing)
    assert {e["model"] for e in sprint} == {"sprint", "task"}
    assert_invalid_query = client.get(f"/api/tasks/{team.task}/activity?since=yesterday", headers=ann)
    assert_error(
        assert_invalid_query,
        400,
        "A query parameter is not valid.",
        {"since": ["Enter a date and time in ISO-8601, e.g. 2026-11-30T12:00:00Z."]},
    )
    assert client.get(f"/api/tasks/{team.zeus_task}/activity", headers=ann).status_code == 404


class TestRestore:
    def test_a_deleted_task_comes_back_with_its_id_fields_and_comments(self, app, client, team):
        ann = team.headers["ann"]
        client.patch(
            f"/api/tasks/{team.task}", headers=ann, json={"points": 5, "status": 2, "assigned": "bo"}
        )
        before = client.get(f"/api/tasks/{team.task}", headers=ann).get_json()
        comments = [comment(client, team.headers["bo"], team.task, f"note {i}") for i in range(3)]
        board = Socket(app, team.headers["bo"]["Authorization"].removeprefix("Token "))
        try:
            assert board.subscribe(team.sprint)["ok"]
            assert client.delete(f"/api/tasks/{team.task}", headers=ann).status_code == 204
            assert client.get(f"/api/tasks/{team.task}", headers=ann).status_code == 404
            response = client.post(f"/api/tasks/{team.task}/restore", headers=ann)
            assert response.status_code == 201, response.get_data(as_text=True)
            assert response.get_json() == before
            board.wait_change("task", team.task, "add")
            for posted in comments:
                change, _ = board.wait_change("comment", posted["id"], "add")
                assert change["body"] == posted
        finally:
            board.disconnect()
        listed = client.get(f"/api/tasks/{team.task}/comments", headers=ann).get_json()["results"]
        assert listed == comments
        assert_error(
            client.post(f"/api/tasks/{team.task}/restore", headers=ann),
            409,
            "This task exists: there is nothing to restore.",
        )
        summaries = [
            e["summary"] for e in entries(client, ann, f"/api/tasks/{team.task}/activity")["results"]
        ]
        # Newest first: the comments came back after their task.
        # Newest first: the comments came back after their task, as they went with it.
        assert summaries[:8] == [
            *["ann restored a comment by bo on “Fix login”."] * 3,
            "ann restored “Fix login”.",
            *["ann deleted a comment on “Fix login”."] * 3,
            "ann deleted “Fix login”.",
        ]

    def test_a_task_whose_sprint_has_ended_comes_back_in_the_backlog(
        self, app, client, team, make_sprint, make_task
    ):
        ended = make_sprint(end=datetime.now(UTC).date() - timedelta(days=1), name="Over", project="Apollo")
        task = make_task("Late", sprint_id=ended, status=2)
        assert client.delete(f"/api/tasks/{task}", headers=team.headers["bo"]).status_code == 204
        response = client.post(f"/api/tasks/{task}/restore", headers=team.headers["bo"])
        assert response.status_code == 201
        body = response.get_json()
        assert (body["id"], body["sprint"], body["status"], body["name"]) == (task, None, 1, "Late")

    def test_what_cannot_be_restored(self, app, client, team, snapshot):
        client.delete(f"/api/tasks/{team.zeus_task}", headers=team.headers["zed"])
        with unchanged(snapshot):
            assert (
                client.post(f"/api/tasks/{team.zeus_task}/restore", headers=team.headers["ann"]).status_code
                == 404
            )
            assert client.post("/api/tasks/999999/restore", headers=team.headers["ann"]).status_code == 404
        assert client.delete(f"/api/tasks/{team.task}", headers=team.headers["ann"]).status_code == 204
        with unchanged(snapshot):
            assert_error(
                client.post(f"/api/tasks/{team.task}/restore", headers=team.headers["vic"]),
                403,
                VIEWERS_CANNOT,
            )
        with app.app_context():  # the log no longer holds the task's removal
            db.session.execute(sa.delete(Event).where(Event.task == team.task))
            db.session.commit()
        with unchanged(snapshot):
            assert (
                client.post(f"/api/tasks/{team.task}/restore", headers=team.headers["ann"]).status_code == 404
            )

    def test_the_removal_alone_is_enough_and_old_etags_stay_stale(self, app, client, team):
        ann, bo = team.headers["ann"], team.headers["bo"]
        for points in (1, 2, 3):
            client.patch(f"/api/tasks/{team.task}", headers=ann, json={"points": points})
        posted = comment(client, bo, team.task, "keep me")
        read = client.get(f"/api/tasks/{team.task}", headers=ann)
        assert client.delete(f"/api/tasks/{team.task}", headers=ann).status_code == 204
        with app.app_context():  # older entries pruned: only the removals are left
            db.session.execute(sa.delete(Event).where(Event.task == team.task, Event.action != "remove"))
            db.session.commit()
        response = client.post(f"/api/tasks/{team.task}/restore", headers=ann)
        assert response.status_code == 201, response.get_data(as_text=True)
        assert response.get_json() == read.get_json()
        assert response.headers["ETag"] != read.headers["ETag"]
        restored_comments = client.get(f"/api/tasks/{team.task}/comments", headers=ann).get_json()["results"]
        assert restored_comments == [posted]
        # However many changes follow, no version repeats one read before the removal.
        etags = {response.headers["ETag"]}
        for points in (4, 5, 6, 7):
            etags.add(
                client.patch(f"/api/tasks/{team.task}", headers=ann, json={"points": points}).headers["ETag"]
            )
        assert read.headers["ETag"] not in etags
        stale = client.patch(
            f"/api/tasks/{team.task}", headers={**ann, "If-Match": read.headers["ETag"]}, json={"points": 8}
        )
        assert stale.status_code == 412


def test_a_role_change_shows_the_old_and_new_role(client, team):
    ann = team.headers["ann"]
    project = client.get("/api/projects", headers=ann).get_json()["results"][0]["id"]
    assert (
        client.put(f"/api/projects/{project}/members/bo", headers=ann, json={"role": "admin"}).status_code
        == 200
    )
    newest = entries(client, ann, f"/api/projects/{project}/activity")["results"][0]
    assert (newest["model"], newest["action"], newest["summary"], newest["changes"]) == (
        "member",
        "update",
        "ann made bo admin.",
        {"role": ["member", "admin"]},
    )


def test_a_deleted_tasks_id_is_never_given_to_a_new_task(client, team):
    ann = team.headers["ann"]
    created = client.post("/api/tasks", headers=ann, json={"name": "Newest", "sprint": team.sprint})
    old = created.get_json()["id"]
    assert client.delete(f"/api/tasks/{old}", headers=ann).status_code == 204
    again = client.post("/api/tasks", headers=ann, json={"name": "Unrelated", "sprint": team.sprint})
    assert again.get_json()["id"] != old
    stale = client.delete(
        f"/api/tasks/{again.get_json()['id']}", headers={**ann, "If-Match": created.headers["ETag"]}
    )
    assert stale.status_code == 412
    restored = client.post(f"/api/tasks/{old}/restore", headers=ann)
    assert restored.status_code == 201 and restored.get_json()["name"] == "Newest"
