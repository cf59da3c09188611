"""Projects on sockets: rooms per project, subscribe and hints checked against
membership, membership changes acted on at once, replay within the project.

Users: ann (admin of Apollo), zed (admin of Zeus), bo (member of both), vic
(viewer of Apollo). That a change did *not* reach a socket is shown with a
sentinel: a later change that does reach it.
"""

import pytest
import sqlalchemy as sa

from app import db
from app.models import User
from tests.api_helpers import day
from tests.socket_helpers import Socket, changes_of

VIEWERS_CANNOT = "Viewers cannot change this project."


@pytest.fixture
def world(app, two_projects):
    """The two projects, and ``connect(username)``: a socket of that user's."""
    opened = []

    def connect(name):
        socket = Socket(app, two_projects.tokens[name])
        opened.append(socket)
        return socket

    two_projects.connect = connect
    yield two_projects
    for socket in opened:
        if socket.connected:
            socket.disconnect()


def post(client, headers, path, body):
    response = client.post(path, headers=headers, json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def patch(client, headers, path, body):
    response = client.patch(path, headers=headers, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)


def projects_in(changes):
    return {change["body"]["project"] for change in changes if change["body"]}


def test_nothing_of_another_project_reaches_a_socket(client, world):
    ann = world.connect("ann")
    assert ann.subscribe(world.apollo_sprint)["ok"]
    zed, bo = world.headers["zed"], world.headers["bo"]
    post(client, zed, "/api/tasks", {"name": "Zeus backlog"})
    post(client, zed, "/api/sprints", {"name": "Zeus next", "end": day(60)})
    patch(client, zed, f"/api/tasks/{world.zeus_task}", {"status": 2})
    patch(client, zed, f"/api/projects/{world.zeus}", {"description": "Secret"})
    client.put(f"/api/projects/{world.zeus}/members/vic", headers=zed, json={"role": "viewer"})
    sentinel = post(client, bo, "/api/tasks", {"name": "Apollo backlog", "project": world.apollo})
    _, earlier = ann.wait_change("task", sentinel, "add")
    assert projects_in(changes_of(earlier)) <= {world.apollo}
    assert not [c for c in changes_of(earlier) if c["model"] in ("project", "member")]


def test_backlog_changes_reach_every_board_of_their_project_only(client, world):
    bo_apollo, bo_zeus = world.connect("bo"), world.connect("bo")
    assert bo_apollo.subscribe(world.apollo_sprint)["ok"]
    assert bo_zeus.subscribe(world.zeus_sprint)["ok"]
    zeus_backlog = post(client, world.headers["zed"], "/api/tasks", {"name": "Zeus backlog"})
    change, _ = bo_zeus.wait_change("task", zeus_backlog, "add")
    assert change["body"]["project"] == world.zeus
    sentinel = post(client, world.headers["ann"], "/api/tasks", {"name": "Apollo backlog"})
    _, earlier = bo_apollo.wait_change("task", sentinel, "add")
    assert zeus_backlog not in [c["id"] for c in changes_of(earlier, "task")]


def test_another_projects_sprint_and_task_are_unknown_on_sockets(world):
    ann = world.connect("ann")
    assert ann.subscribe(world.zeus_sprint) == {
        "ok": False,
        "error": f"Sprint {world.zeus_sprint} does not exist.",
    }
    assert ann.subscribe(999_999) == {"ok": False, "error": "Sprint 999999 does not exist."}
    assert ann.subscribe(world.apollo_sprint)["ok"]
    assert ann.hint(world.zeus_task) == {"ok": False, "error": f"Task {world.zeus_task} does not exist."}


def test_a_viewer_follows_the_board_but_its_hints_are_refused(client, world):
    vic = world.connect("vic")
    assert vic.subscribe(world.apollo_sprint)["ok"]
    assert vic.hint(world.apollo_task) == {"ok": False, "error": VIEWERS_CANNOT}
    patch(client, world.headers["ann"], f"/api/tasks/{world.apollo_task}", {"status": 2})
    change, _ = vic.wait_change("task", world.apollo_task, "update")
    assert change["body"]["status"] == 2


def test_a_demoted_members_next_hint_is_refused_without_reconnecting(client, world):
    bo, ann = world.connect("bo"), world.connect("ann")
    assert ann.subscribe(world.apollo_sprint)["ok"]
    assert bo.subscribe(world.apollo_sprint)["ok"]
    assert bo.hint(world.apollo_task) == {"ok": True}
    ann.wait_for("hint", lambda h: h["user"] == "bo")
    response = client.put(
        f"/api/projects/{world.apollo}/members/bo", headers=world.headers["ann"], json={"role": "viewer"}
    )
    assert response.status_code == 200
    change, _ = bo.wait_for("change", lambda c: c["model"] == "member")
    assert change["action"] == "update"
    assert change["body"]["project"] == world.apollo
    assert change["body"]["username"] == "bo"
    assert change["body"]["role"] == "viewer"
    assert bo.hint(world.apollo_task, "dragend") == {"ok": False, "error": VIEWERS_CANNOT}


def test_a_removed_member_leaves_the_projects_boards_at_once(client, world):
    bo, ann = world.connect("bo"), world.connect("ann")
    assert bo.subscribe(world.apollo_sprint)["ok"]
    assert bo.subscribe(world.zeus_sprint)["ok"]
    assert ann.subscribe(world.apollo_sprint)["ok"]
    ann.wait_for("presence", lambda p: p["users"] == ["ann", "bo"])
    response = client.delete(f"/api/projects/{world.apollo}/members/bo", headers=world.headers["ann"])
    assert response.status_code == 204
    change, _ = bo.wait_for("change", lambda c: c["model"] == "member")
    assert change["action"] == "remove"
    assert change["body"] == {"project": world.apollo, "username": "bo"}
    ann.wait_for("presence", lambda p: p["users"] == ["ann"])
    patch(client, world.headers["ann"], f"/api/tasks/{world.apollo_task}", {"status": 2})
    post(client, world.headers["ann"], "/api/tasks", {"name": "Apollo backlog"})
    sentinel = post(client, world.headers["zed"], "/api/tasks", {"name": "Zeus backlog"})
    _, earlier = bo.wait_change("task", sentinel, "add")
    assert projects_in(changes_of(earlier)) <= {world.zeus}
    assert bo.subscribe(world.apollo_sprint) == {
        "ok": False,
        "error": f"Sprint {world.apollo_sprint} does not exist.",
    }


def test_an_added_member_hears_the_project_at_once(client, world):
    zed = world.connect("zed")
    response = client.put(
        f"/api/projects/{world.apollo}/members/zed", headers=world.headers["ann"], json={"role": "member"}
    )
    assert response.status_code == 201
    change, _ = zed.wait_for("change", lambda c: c["model"] == "member")
    assert change["action"] == "add"
    sprint = post(client, world.headers["ann"], "/api/sprints", {"name": "New", "end": day(70)})
    zed.wait_change("sprint", sprint, "add")
    assert zed.subscribe(sprint)["ok"]


def test_replay_after_reconnecting_holds_nothing_of_another_project(client, world):
    bo = world.connect("bo")
    seq = bo.subscribe(world.apollo_sprint)["seq"]
    bo.disconnect()
    apollo_backlog = post(client, world.headers["ann"], "/api/tasks", {"name": "Apollo backlog"})
    post(client, world.headers["zed"], "/api/tasks", {"name": "Zeus backlog"})
    patch(client, world.headers["zed"], f"/api/tasks/{world.zeus_task}", {"status": 3})
    patch(client, world.headers["ann"], f"/api/tasks/{world.apollo_task}", {"status": 2})
    again = world.connect("bo")
    answer = again.subscribe(world.apollo_sprint, since=seq)
    assert answer["ok"] and "resync" not in answer
    # Replayed up to the feed's position, the rest live: either way, each once, in order.
    again.wait_change("task", world.apollo_task, "update")
    replayed = changes_of(again.received())
    assert [(c["model"], c["id"]) for c in replayed] == [
        ("task", apollo_backlog),
        ("task", world.apollo_task),
    ]


def test_a_drag_ends_when_its_socket_leaves_the_board(world):
    ann, bo = world.connect("ann"), world.connect("bo")
    assert ann.subscribe(world.apollo_sprint)["ok"]
    assert bo.subscribe(world.apollo_sprint)["ok"]
    assert bo.hint(world.apollo_task, "dragstart") == {"ok": True}
    ann.wait_for("hint", lambda h: h["action"] == "dragstart")
    bo.disconnect()
    hint, _ = ann.wait_for("hint", lambda h: h["action"] == "dragend")
    assert hint == {"task": world.apollo_task, "action": "dragend", "user": "bo"}


def test_a_deactivated_users_sockets_are_closed(app, world):

    vic = world.connect("vic")
    assert vic.subscribe(world.apollo_sprint)["ok"]
    with app.app_context():
        db.session.scalar(sa.select(User).where(User.username == "vic")).is_active = False
        db.session.commit()
    vic.wait_disconnected()


def project_news(messages, project):
    """The changes among ``messages`` that tell of ``project`` or of its memberships."""
    return [
        change
        for change in changes_of(messages)
        if (change["model"] == "project" and change["id"] == project)
        or (change["model"] == "member" and change["body"]["project"] == project)
    ]


def lobby_sentinel(make_user, sockets):
    """A user added now reaches every socket (the lobby): what came before it, per socket."""
    sentinel = make_user("sentinel", project=None).id
    return [socket.wait_change("user", sentinel, "add")[1] for socket in sockets]


def test_a_new_project_reaches_its_creators_sockets_and_no_one_else(client, world, make_user):
    ann, ann_again, bo, zed, nobody = (world.connect(name) for name in ("ann", "ann", "bo", "zed", "nobody"))
    project = post(client, world.headers["ann"], "/api/projects", {"name": "Hermes"})
    for socket in (ann, ann_again):
        added, _ = socket.wait_change("project", project, "add")
        assert added["actor"] == "ann"
        assert added["body"]["name"] == "Hermes"
        joined, _ = socket.wait_for("change", lambda c: c["model"] == "member")
        assert joined["body"]["project"] == project
        assert joined["seq"] > added["seq"]
    for earlier in lobby_sentinel(make_user, (bo, zed, nobody)):
        assert project_news(earlier, project) == []


def test_a_member_added_after_the_creation_hears_of_the_membership_only(client, world, make_user):
    ann, bo = world.connect("ann"), world.connect("bo")
    project = post(client, world.headers["ann"], "/api/projects", {"name": "Hermes"})
    response = client.put(
        f"/api/projects/{project}/members/bo", headers=world.headers["ann"], json={"role": "member"}
    )
    assert response.status_code == 201
    ann.wait_change("project", project, "add")
    (earlier,) = lobby_sentinel(make_user, (bo,))
    assert [(c["model"], c["action"], c["body"]["username"]) for c in project_news(earlier, project)] == [
        ("member", "add", "bo")
    ]


def test_a_removed_project_reaches_the_members_it_had_and_no_one_else(client, world, make_user):
    ann = world.headers["ann"]
    project = post(client, ann, "/api/projects", {"name": "Hermes"})
    for name, role in (("bo", "member"), ("vic", "viewer"), ("zed", "member")):
        response = client.put(f"/api/projects/{project}/members/{name}", headers=ann, json={"role": role})
        assert response.status_code == 201
    sockets = {name: world.connect(name) for name in ("ann", "bo", "vic", "zed", "nobody")}
    # zed leaves first, in a transaction of its own: no longer a member when the project goes.
    assert client.delete(f"/api/projects/{project}/members/zed", headers=ann).status_code == 204
    assert client.delete(f"/api/projects/{project}", headers=ann).status_code == 204
    for name in ("ann", "bo", "vic"):
        removed, _ = sockets[name].wait_change("project", project, "remove")
        assert removed["body"] is None
        assert removed["actor"] == "ann"
    zed_saw, nobody_saw = lobby_sentinel(make_user, (sockets["zed"], sockets["nobody"]))
    assert [(c["model"], c["action"]) for c in project_news(zed_saw, project)] == [("member", "remove")]
    assert changes_of(nobody_saw) == []


def test_a_project_change_shows_each_member_its_own_role(client, world):
    sockets = {name: world.connect(name) for name in ("ann", "bo", "vic")}
    patch(client, world.headers["ann"], f"/api/projects/{world.apollo}", {"description": "Moon"})
    for name, socket in sockets.items():
        change, _ = socket.wait_change("project", world.apollo, "update")
        shown = client.get(f"/api/projects/{world.apollo}", headers=world.headers[name]).get_json()
        assert change["body"] == shown
        assert list(change["body"]) == list(shown)  # in the REST view's order too
    assert [sockets[name].received("change")[-1]["body"]["role"] for name in sockets] == [
        "admin",
        "member",
        "viewer",
    ]
    # A new role shows in the next change.
    response = client.put(
        f"/api/projects/{world.apollo}/members/bo", headers=world.headers["ann"], json={"role": "viewer"}
    )
    assert response.status_code == 200
    patch(client, world.headers["ann"], f"/api/projects/{world.apollo}", {"name": "Apollo 11"})
    change, _ = sockets["bo"].wait_change("project", world.apollo, "update")
    assert change["body"]["role"] == "viewer"
    assert change["body"]["name"] == "Apollo 11"


def test_a_new_projects_add_shows_its_creator_the_rest_view(client, world):
    ann = world.connect("ann")
    response = client.post("/api/projects", headers=world.headers["ann"], json={"name": "Hermes"})
    assert response.status_code == 201
    change, _ = ann.wait_change("project", response.get_json()["id"], "add")
    assert change["body"] == response.get_json()
    assert change["body"]["role"] == "admin"
