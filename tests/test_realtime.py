"""Live updates over Socket.IO, in process: who may connect, which sockets each
committed change reaches and in what shape, replay on subscribe, hints,
presence and revocation.

Changes are delivered by the log feed's background thread, so every wait is
bounded polling (``Socket.wait_for``). That something did *not* arrive is
shown with a sentinel: a later message that does reach the same socket, after
which the unwanted one can no longer be on its way.
"""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app import db
from app.models import Event, Status, Task, Token, User
from tests.socket_helpers import Socket, changes_of

MISSING = 999_999


@pytest.fixture
def connect(app):
    """``connect(token)`` (or ``connect(auth=…)``) → a Socket; all are closed after the test."""
    opened = []

    def open_socket(token=None, auth=None):
        socket = Socket(app, token, auth)
        opened.append(socket)
        return socket

    yield open_socket
    for socket in opened:
        if socket.connected:
            socket.disconnect()


@pytest.fixture
def token(headers):
    """Alice's token (the one in ``headers``)."""
    return headers["Authorization"].removeprefix("Token ")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def bob_token(bob, make_token):
    return make_token(bob)


def token_header(value):
    return {"Authorization": f"Token {value}"}


def later(days):
    return (date.today() + timedelta(days=days)).isoformat()


def fetch(client, headers, path, **kwargs):
    """What GET ``path`` answers (the REST view of one object)."""
    response = client.get(path, headers=headers, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def fetch_public(app, client, headers, path):
    """GET ``path`` as seen at PUBLIC_URL, where links in changes made outside a request point."""
    return fetch(client, headers, path, base_url=app.config["PUBLIC_URL"])


def send(client, method, path, headers, status, json=None):
    response = client.open(path, method=method, headers=headers, json=json)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json() if response.data else None


def assert_change(change, model, object_id, action, body, actor):
    """``change`` is exactly the contract's payload for this change."""
    assert change == {
        "seq": change["seq"],
        "model": model,
        "id": object_id,
        "action": action,
        "body": body,
        "actor": actor,
    }
    assert type(change["seq"]) is int


def assert_increasing(socket):
    seqs = [change["seq"] for change in socket.received("change")]
    assert seqs == sorted(set(seqs)), seqs


def log_rows(app):
    """Every row of the change log, as (seq, model, object id, action)."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(Event.seq, Event.model, Event.object_id, Event.action).order_by(Event.seq)
        ).all()
        return [tuple(row) for row in rows]


def latest_seq(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.max(Event.seq)))


def run_cli(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result


# -- connecting ---------------------------------------------------------------------------------


def test_connect_needs_a_live_token(app, client, connect, alice, make_user, make_token):
    expired = make_token(alice, ttl=-1)
    revoked = make_token(alice)
    send(client, "DELETE", "/api/token", token_header(revoked), 204)
    inactive = make_token(make_user("idle", is_active=False))
    refused = [
        connect(),
        connect(auth={}),
        connect(auth={"token": None}),
        connect(auth={"token": 42}),
        connect(auth="not a dict"),
        connect("not-a-token"),
        connect(expired),
        connect(revoked),
        connect(inactive),
    ]
    assert [socket.connected for socket in refused] == [False] * len(refused)
    assert app.extensions["realtime"].sockets == {}

    accepted = connect(make_token(alice))
    assert accepted.connected
    assert [user.username for user in app.extensions["realtime"].sockets.values()] == ["alice"]
    # accepted sockets are in the lobby
    carol = make_user("carol")
    accepted.wait_change("user", carol.id, "add")


# -- which sockets a change reaches, and its shape ------------------------------------------------


def test_task_changes_reach_their_board_only(app, client, headers, token, connect, make_sprint, make_task):
    sprint_a, sprint_b = make_sprint(name="A"), make_sprint(name="B")
    other = make_task(name="On B", sprint_id=sprint_b)
    on_a, on_b, lobby = connect(token), connect(token), connect(token)
    assert on_a.subscribe(sprint_a)["ok"]
    assert on_b.subscribe(sprint_b)["ok"]

    task = send(client, "POST", "/api/tasks", headers, 201, {"name": "Write tests", "sprint": sprint_a})["id"]
    added, _ = on_a.wait_change("task", task, "add")
    assert_change(added, "task", task, "add", fetch(client, headers, f"/api/tasks/{task}"), "alice")

    send(client, "PATCH", f"/api/tasks/{task}", headers, 200, {"status": 2, "name": "Writing tests"})
    updated, _ = on_a.wait_change("task", task, "update")
    body = fetch(client, headers, f"/api/tasks/{task}")
    assert (body["name"], body["status_display"]) == ("Writing tests", "In Progress")
    assert_change(updated, "task", task, "update", body, "alice")

    send(client, "DELETE", f"/api/tasks/{task}", headers, 204)
    removed, _ = on_a.wait_change("task", task, "remove")
    assert_change(removed, "task", task, "remove", None, "alice")
    assert added["seq"] < updated["seq"] < removed["seq"]
    assert [row for row in log_rows(app) if row[1:3] == ("task", task)] == [
        (added["seq"], "task", task, "add"),
        (updated["seq"], "task", task, "update"),
        (removed["seq"], "task", task, "remove"),
    ]

    # sentinels: a task on B reaches B; a sprint change reaches every socket through the lobby
    send(client, "PATCH", f"/api/tasks/{other}", headers, 200, {"order": 1})
    on_b.wait_change("task", other, "update")
    send(client, "PATCH", f"/api/sprints/{sprint_b}", headers, 200, {"name": "B2"})
    for socket in (on_a, on_b, lobby):
        socket.wait_change("sprint", sprint_b, "update")
        assert_increasing(socket)
    assert changes_of(on_b.received(), "task", task) == []
    assert changes_of(on_a.received(), "task", other) == []
    assert changes_of(on_a.received(), "task") == [added, updated, removed]
    assert changes_of(lobby.received(), "task") == []


def test_a_moved_task_reaches_both_boards(client, headers, token, connect, make_sprint, make_task):
    sprint_a, sprint_b, sprint_c = make_sprint(), make_sprint(), make_sprint()
    task = make_task(name="Mover", sprint_id=sprint_a)
    on_a, on_b, on_c = connect(token), connect(token), connect(token)
    for socket, sprint in ((on_a, sprint_a), (on_b, sprint_b), (on_c, sprint_c)):
        assert socket.subscribe(sprint)["ok"]

    send(client, "PATCH", f"/api/tasks/{task}", headers, 200, {"sprint": sprint_b})
    body = fetch(client, headers, f"/api/tasks/{task}")
    assert body["sprint"] == sprint_b
    moved_out, _ = on_a.wait_change("task", task, "update")
    moved_in, _ = on_b.wait_change("task", task, "update")
    assert moved_out == moved_in
    assert_change(moved_in, "task", task, "update", body, "alice")

    sentinel = send(client, "POST", "/api/tasks", headers, 201, {"name": "On C", "sprint": sprint_c})["id"]
    on_c.wait_change("task", sentinel, "add")
    assert changes_of(on_c.received(), "task", task) == []


def test_backlog_task_changes_reach_every_board(client, headers, token, connect, make_sprint):
    sprint_a, sprint_b = make_sprint(), make_sprint()
    on_a, on_b, lobby = connect(token), connect(token), connect(token)
    assert on_a.subscribe(sprint_a)["ok"]
    assert on_b.subscribe(sprint_b)["ok"]

    def expect_on_both(task, action, body):
        first, _ = on_a.wait_change("task", task, action)
        second, _ = on_b.wait_change("task", task, action)
        assert first == second
        assert_change(first, "task", task, action, body, "alice")

    task = send(client, "POST", "/api/tasks", headers, 201, {"name": "Someday"})["id"]
    task_url = f"/api/tasks/{task}"
    expect_on_both(task, "add", fetch(client, headers, task_url))
    # into a sprint: every board showed it in the backlog, so every board hears
    send(client, "PATCH", task_url, headers, 200, {"sprint": sprint_a})
    expect_on_both(task, "update", fetch(client, headers, task_url))
    # and back to the backlog
    send(client, "PATCH", task_url, headers, 200, {"sprint": None})
    expect_on_both(task, "update", fetch(client, headers, task_url))
    send(client, "DELETE", task_url, headers, 204)
    expect_on_both(task, "remove", None)

    # a socket with no board open gets no task changes
    send(client, "PATCH", f"/api/sprints/{sprint_a}", headers, 200, {"name": "Sentinel"})
    lobby.wait_change("sprint", sprint_a, "update")
    assert changes_of(lobby.received(), "task") == []
    assert [change["action"] for change in changes_of(on_a.received(), "task")] == [
        "add",
        "update",
        "update",
        "remove",
    ]


def test_sprint_changes_reach_their_board_and_the_lobby(client, headers, token, connect, make_sprint):
    sprint = make_sprint(name="Current")
    on_board, lobby = connect(token), connect(token)
    assert on_board.subscribe(sprint)["ok"]

    created = send(client, "POST", "/api/sprints", headers, 201, {"name": "Next", "end": later(90)})
    for socket in (lobby, on_board):
        added, _ = socket.wait_change("sprint", created["id"], "add")
        assert_change(added, "sprint", created["id"], "add", created, "alice")

    send(client, "PATCH", f"/api/sprints/{sprint}", headers, 200, {"description": "Ship it"})
    body = fetch(client, headers, f"/api/sprints/{sprint}")
    assert body["description"] == "Ship it"
    for socket in (lobby, on_board):
        updated, _ = socket.wait_change("sprint", sprint, "update")
        assert_change(updated, "sprint", sprint, "update", body, "alice")

    # the board socket is in both rooms, and still gets each change once
    send(client, "PATCH", f"/api/sprints/{created['id']}", headers, 200, {"name": "Later"})
    on_board.wait_change("sprint", created["id"], "update")
    assert len(changes_of(on_board.received(), "sprint", sprint)) == 1
    assert_increasing(on_board)


def test_a_user_created_with_the_cli_reaches_the_lobby(app, client, headers, token, connect, make_sprint):
    sprint = make_sprint()
    lobby, on_board = connect(token), connect(token)
    assert on_board.subscribe(sprint)["ok"]

    run_cli(app, "create-user", "dave", "--password", "pw", "--full-name", "Dave Doe")
    body = fetch_public(app, client, headers, "/api/users/dave")
    assert body["full_name"] == "Dave Doe"
    for socket in (lobby, on_board):
        added, _ = socket.wait_change("user", body["id"], "add")
        assert_change(added, "user", body["id"], "add", body, None)


# -- commits, rollbacks, failures ---------------------------------------------------------------


def test_changes_made_with_the_models_are_delivered(
    app, client, headers, token, connect, alice, make_sprint, make_task
):
    sprint = make_sprint()
    kept = make_task(name="Kept", sprint_id=sprint)
    on_board = connect(token)
    assert on_board.subscribe(sprint)["ok"]

    with app.app_context():
        task = Task(name="Scripted", sprint_id=sprint, assigned_id=alice.id, status=Status.IN_PROGRESS)
        db.session.add(task)
        db.session.commit()
        task_id = task.id
    added, _ = on_board.wait_change("task", task_id, "add")
    body = fetch_public(app, client, headers, f"/api/tasks/{task_id}")
    assert (body["assigned"], body["sprint"]) == ("alice", sprint)
    assert_change(added, "task", task_id, "add", body, None)

    with app.app_context():
        task = db.session.get(Task, kept)
        task.order = 5
        task.assigned_id = alice.id  # the id alone: the loaded relationship still says None
        db.session.get(User, alice.id).full_name = "Alice A."
        db.session.commit()
    updated, _ = on_board.wait_change("task", kept, "update")
    body = fetch_public(app, client, headers, f"/api/tasks/{kept}")
    assert (body["order"], body["assigned"]) == (5, "alice")
    assert_change(updated, "task", kept, "update", body, None)
    renamed, _ = on_board.wait_change("user", alice.id, "update")
    assert_change(
        renamed, "user", alice.id, "update", fetch_public(app, client, headers, "/api/users/alice"), None
    )

    with app.app_context():
        db.session.delete(db.session.get(Task, task_id))
        db.session.commit()
    removed, _ = on_board.wait_change("task", task_id, "remove")
    assert_change(removed, "task", task_id, "remove", None, None)
    assert_increasing(on_board)


def test_a_rolled_back_transaction_emits_and_logs_nothing(app, token, connect, make_sprint, make_task):
    sprint = make_sprint()
    task = make_task(name="Kept", sprint_id=sprint)
    on_board = connect(token)
    assert on_board.subscribe(sprint)["ok"]
    before = log_rows(app)

    with app.app_context():
        db.session.add(Task(name="Never", sprint_id=sprint))
        db.session.get(Task, task).name = "Never renamed"
        db.session.flush()
        # the hooks wrote both changes into this transaction…
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == len(before) + 2
        db.session.rollback()
    assert log_rows(app) == before  # …and the rollback took them away

    with app.app_context():
        sentinel = Task(name="Committed", sprint_id=sprint)
        db.session.add(sentinel)
        db.session.commit()
        sentinel_id = sentinel.id
    change, _ = on_board.wait_change("task", sentinel_id, "add")
    assert changes_of(on_board.received()) == [change]
    assert change["body"]["name"] == "Committed"


def test_a_failed_request_emits_and_logs_nothing(
    client, headers, token, connect, snapshot, make_sprint, make_task
):
    sprint, other = make_sprint(), make_sprint()
    ended = make_sprint(end=date.today() - timedelta(days=1))
    done = make_task(name="Done", sprint_id=sprint, status=Status.DONE)
    on_board, lobby = connect(token), connect(token)
    assert on_board.subscribe(sprint)["ok"]
    end = fetch(client, headers, f"/api/sprints/{sprint}")["end"]
    etag = client.get(f"/api/tasks/{done}", headers=headers).headers["ETag"]
    before = snapshot()

    send(client, "POST", "/api/tasks", headers, 400, {"sprint": sprint})  # no name
    send(client, "POST", "/api/tasks", headers, 400, {"name": "Late", "sprint": ended})
    send(client, "POST", "/api/tasks", headers, 400, {"name": "Started backlog", "status": 2})
    send(client, "PATCH", f"/api/tasks/{done}", headers, 400, {"sprint": other, "name": "Moved"})
    send(client, "PATCH", f"/api/tasks/{done}", headers, 400, {"name": "x" * 101})
    send(client, "POST", "/api/sprints", headers, 400, {"name": "Same end", "end": end})
    send(client, "PATCH", f"/api/sprints/{sprint}", headers, 400, {"end": "2000-01-01"})
    assert snapshot() == before
    send(client, "PATCH", f"/api/tasks/{done}", headers, 200, {"order": 1})  # moves the ETag on
    before = snapshot()
    send(client, "PATCH", f"/api/tasks/{done}", {**headers, "If-Match": etag}, 412, {"order": 2})
    assert snapshot() == before

    order_change, _ = on_board.wait_change("task", done, "update")
    assert order_change["body"]["order"] == 1
    send(client, "PATCH", f"/api/sprints/{other}", headers, 200, {"name": "Sentinel"})
    on_board.wait_change("sprint", other, "update")
    lobby.wait_change("sprint", other, "update")
    assert [(c["model"], c["id"]) for c in changes_of(on_board.received())] == [
        ("task", done),
        ("sprint", other),
    ]
    assert [(c["model"], c["id"]) for c in changes_of(lobby.received())] == [("sprint", other)]


# -- hints --------------------------------------------------------------------------------------


@pytest.fixture
def hint_board(make_sprint, make_task, make_token, alice, bob, token, bob_token, connect):
    """Alice and Bob on board A, Bob and Alice (other sockets) on board B, Bob in the lobby."""
    sprint_a, sprint_b = make_sprint(), make_sprint()
    board = {
        "task_a": make_task(name="On A", sprint_id=sprint_a),
        "task_b": make_task(name="On B", sprint_id=sprint_b),
        "backlog": make_task(name="Backlog"),
        "alice_a": connect(token),
        "bob_a": connect(bob_token),
        "bob_b": connect(bob_token),
        "alice_b": connect(make_token(alice)),
        "lobby": connect(bob_token),
    }
    for name, sprint in (
        ("alice_a", sprint_a),
        ("bob_a", sprint_a),
        ("bob_b", sprint_b),
        ("alice_b", sprint_b),
    ):
        assert board[name].subscribe(sprint)["ok"]
    return board


def test_hints_reach_the_others_on_the_board(hint_board):
    alice_a, bob_a, bob_b, alice_b = (hint_board[k] for k in ("alice_a", "bob_a", "bob_b", "alice_b"))
    task_a, backlog = hint_board["task_a"], hint_board["backlog"]

    for action in ("dragstart", "dragend", "drop"):
        assert alice_a.hint(task_a, action) == {"ok": True}
        hint, _ = bob_a.wait_for("hint")
        assert hint == {"task": task_a, "action": action, "user": "alice"}
    # a backlog task: to the boards the sender has open
    assert alice_a.hint(backlog, "drop") == {"ok": True}
    hint, _ = bob_a.wait_for("hint")
    assert hint == {"task": backlog, "action": "drop", "user": "alice"}

    # sentinels: Bob's hint reaches Alice on A; Alice's hint on B reaches Bob on B
    assert bob_a.hint(task_a, "dragend") == {"ok": True}
    assert alice_a.wait_for("hint")[0] == {"task": task_a, "action": "dragend", "user": "bob"}
    assert alice_b.hint(hint_board["task_b"], "drop") == {"ok": True}
    bob_b.wait_for("hint")
    assert alice_a.received("hint") == [{"task": task_a, "action": "dragend", "user": "bob"}]
    assert bob_b.received("hint") == [{"task": hint_board["task_b"], "action": "drop", "user": "alice"}]
    assert alice_b.received("hint") == []
    assert hint_board["lobby"].received("hint") == []


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(lambda board: {"task": board["task_a"], "action": "drag"}, id="unknown action"),
        pytest.param(lambda board: {"task": board["task_a"]}, id="no action"),
        pytest.param(lambda board: {"action": "drop"}, id="no task"),
        pytest.param(
            lambda board: {"task": board["task_a"], "action": "drop", "user": "mallory"}, id="extra key"
        ),
        pytest.param(lambda board: {"task": str(board["task_a"]), "action": "drop"}, id="string id"),
        pytest.param(lambda board: {"task": True, "action": "drop"}, id="boolean id"),
        pytest.param(lambda board: {"task": 1.0, "action": "drop"}, id="float id"),
        pytest.param(lambda board: {"task": 2**70, "action": "drop"}, id="huge id"),
        pytest.param(lambda board: {"task": MISSING, "action": "drop"}, id="unknown task"),
        pytest.param(lambda board: {"task": board["task_b"], "action": "drop"}, id="board not open"),
        pytest.param(lambda board: [board["task_a"], "drop"], id="list"),
        pytest.param(lambda board: None, id="nothing"),
    ],
)
def test_malformed_hints_are_refused_and_relayed_to_no_one(hint_board, payload):
    alice_a = hint_board["alice_a"]
    ack = alice_a.emit("hint", payload(hint_board))
    assert set(ack) == {"ok", "error"} and ack["ok"] is False
    assert isinstance(ack["error"], str) and ack["error"]

    # sentinels on both boards
    assert alice_a.hint(hint_board["task_a"], "drop") == {"ok": True}
    sentinel_a, _ = hint_board["bob_a"].wait_for("hint")
    assert hint_board["bob_a"].received("hint") == [sentinel_a]
    assert hint_board["alice_b"].hint(hint_board["task_b"], "drop") == {"ok": True}
    sentinel_b, _ = hint_board["bob_b"].wait_for("hint")
    assert hint_board["bob_b"].received("hint") == [sentinel_b]
    assert alice_a.received("hint") == []
    assert hint_board["lobby"].received("hint") == []


def test_a_socket_without_a_board_cannot_hint(hint_board):
    ack = hint_board["lobby"].hint(hint_board["backlog"], "dragstart")
    assert ack["ok"] is False and ack["error"]
    assert hint_board["alice_a"].hint(hint_board["task_a"]) == {"ok": True}
    assert hint_board["bob_a"].wait_for("hint")[0]["user"] == "alice"
    assert hint_board["alice_a"].received("hint") == []


# -- presence -----------------------------------------------------------------------------------


def test_presence_follows_who_has_the_board_open(
    token, bob_token, connect, make_user, make_token, make_sprint, alice
):
    sprint, other = make_sprint(), make_sprint()
    zoe_token, mia_token = make_token(make_user("zoe")), make_token(make_user("mia"))
    on_other = connect(token)
    assert on_other.subscribe(other)["ok"]
    assert on_other.wait_for("presence")[0] == {"sprint": other, "users": ["alice"]}

    def users(*names):
        return {"sprint": sprint, "users": list(names)}

    # they open the board in reverse alphabetical order; the list is sorted
    zoe = connect(zoe_token)
    assert zoe.subscribe(sprint)["ok"]
    assert zoe.wait_for("presence")[0] == users("zoe")
    mia = connect(mia_token)
    assert mia.subscribe(sprint)["ok"]
    assert zoe.wait_for("presence")[0] == mia.wait_for("presence")[0] == users("mia", "zoe")
    first = connect(token)
    assert first.subscribe(sprint)["ok"]
    everyone = users("alice", "mia", "zoe")
    assert zoe.wait_for("presence")[0] == first.wait_for("presence")[0] == everyone

    assert first.unsubscribe(sprint) == {"ok": True}
    assert zoe.wait_for("presence")[0] == users("mia", "zoe")
    assert first.subscribe(sprint)["ok"]
    assert zoe.wait_for("presence")[0] == everyone

    second = connect(token)
    assert second.subscribe(sprint)["ok"]
    first.disconnect()  # Alice still has the board open on her second socket
    second.disconnect()
    without_alice, earlier = zoe.wait_for("presence", lambda p: "alice" not in p["users"])
    assert without_alice == users("mia", "zoe")
    meanwhile = [payload for name, payload in earlier if name == "presence"]
    assert all(payload == everyone for payload in meanwhile)  # if any was sent
    mia.disconnect()
    assert zoe.wait_for("presence")[0] == users("zoe")

    # nothing about this board reached the other board (sentinel: Bob opens it)
    bob = connect(bob_token)
    assert bob.subscribe(other)["ok"]
    on_other.wait_for("presence", lambda p: p["users"] == ["alice", "bob"])
    assert {payload["sprint"] for payload in on_other.received("presence")} == {other}


# -- revocation ---------------------------------------------------------------------------------


def test_revoking_a_token_disconnects_its_sockets_only(
    app, client, headers, bob_token, connect, alice, make_token, make_sprint
):
    sprint = make_sprint()
    revoked, kept = make_token(alice), make_token(alice)
    doomed = [connect(revoked), connect(revoked)]
    survivors = [connect(kept), connect(bob_token)]
    for socket in doomed + survivors:
        assert socket.subscribe(sprint)["ok"]

    send(client, "DELETE", "/api/token", token_header(revoked), 204)
    for socket in doomed:
        socket.wait_disconnected()
    assert not connect(revoked).connected
    with app.app_context():
        revoked_id = db.session.scalar(sa.select(Token.id).where(Token.digest == Token.hash(revoked)))
    remaining = list(app.extensions["realtime"].sockets.values())
    assert sorted(user.username for user in remaining) == ["alice", "bob"]
    assert revoked_id not in {user.token_id for user in remaining}

    task = send(client, "POST", "/api/tasks", headers, 201, {"name": "After", "sprint": sprint})["id"]
    for socket in survivors:
        assert socket.connected
        socket.wait_change("task", task, "add")
        assert [change["model"] for change in socket.received("change")] == ["task"]  # no "token"


def test_a_revocation_and_a_change_in_one_transaction(app, token, connect, alice, make_token, make_sprint):
    """The feed disconnects the revoked token's sockets and goes on delivering the same batch."""
    sprint = make_sprint()
    revoked = make_token(alice)
    doomed, survivor = connect(revoked), connect(token)
    assert doomed.subscribe(sprint)["ok"]
    assert survivor.subscribe(sprint)["ok"]

    with app.app_context():
        db.session.scalar(sa.select(Token).where(Token.digest == Token.hash(revoked))).revoke()
        db.session.flush()
        task = Task(name="Same commit", sprint_id=sprint)
        db.session.add(task)
        db.session.commit()
        task_id = task.id
    survivor.wait_change("task", task_id, "add")
    doomed.wait_disconnected()
    assert changes_of(doomed.received(), "task", task_id) == []


# -- subscribe ----------------------------------------------------------------------------------


def test_subscribe_answers_the_latest_seq(app, token, connect, make_sprint):
    sprint = make_sprint()
    socket = connect(token)
    assert socket.subscribe(sprint) == {"ok": True, "seq": latest_seq(app)}
    refused = socket.subscribe(MISSING)
    assert set(refused) == {"ok", "error"} and refused["ok"] is False and refused["error"]


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(lambda sprint: None, id="nothing"),
        pytest.param(lambda sprint: sprint, id="bare id"),
        pytest.param(lambda sprint: [sprint], id="list"),
        pytest.param(lambda sprint: {}, id="no sprint"),
        pytest.param(lambda sprint: {"sprint": str(sprint)}, id="string id"),
        pytest.param(lambda sprint: {"sprint": True}, id="boolean id"),
        pytest.param(lambda sprint: {"sprint": 1.5}, id="float id"),
        pytest.param(lambda sprint: {"sprint": None}, id="null id"),
        pytest.param(lambda sprint: {"sprint": MISSING}, id="unknown sprint"),
        pytest.param(lambda sprint: {"sprint": 2**40}, id="huge id"),
        pytest.param(lambda sprint: {"sprint": sprint, "since": "0"}, id="string since"),
        pytest.param(lambda sprint: {"sprint": sprint, "since": False}, id="boolean since"),
        pytest.param(lambda sprint: {"sprint": sprint, "since": 1.5}, id="float since"),
    ],
)
def test_a_refused_subscribe_joins_nothing(app, client, headers, token, connect, make_sprint, payload):
    sprint, other = make_sprint(), make_sprint()
    socket = connect(token)
    ack = socket.emit("subscribe", payload(sprint))
    assert set(ack) == {"ok", "error"} and ack["ok"] is False
    assert isinstance(ack["error"], str) and ack["error"]

    send(client, "POST", "/api/tasks", headers, 201, {"name": "On the board", "sprint": sprint})
    send(client, "POST", "/api/tasks", headers, 201, {"name": "Backlog"})
    send(client, "PATCH", f"/api/sprints/{other}", headers, 200, {"name": "Sentinel"})
    socket.wait_change("sprint", other, "update")
    assert changes_of(socket.received(), "task") == []
    assert socket.received("presence") == []
    assert app.extensions["realtime"].presence.users(sprint) == []


def test_subscribe_since_replays_what_the_board_missed(
    app, client, headers, token, bob_token, connect, make_sprint
):
    sprint_a, sprint_b = make_sprint(name="A"), make_sprint(name="B")
    recorder = connect(token)  # sees every change: both boards and the lobby
    since = recorder.subscribe(sprint_a)["seq"]
    assert recorder.subscribe(sprint_b)["ok"]

    def post_task(name, sprint=None):
        return send(client, "POST", "/api/tasks", headers, 201, {"name": name, "sprint": sprint})["id"]

    t1 = post_task("t1", sprint_a)
    t2 = post_task("t2", sprint_b)
    t3 = post_task("t3 (backlog)")
    send(client, "PATCH", f"/api/sprints/{sprint_a}", headers, 200, {"name": "A2"})
    send(client, "PATCH", f"/api/sprints/{sprint_b}", headers, 200, {"name": "B2"})
    run_cli(app, "create-user", "erin", "--password", "pw")
    send(client, "PATCH", f"/api/tasks/{t2}", headers, 200, {"sprint": sprint_a})  # B → A
    send(client, "PATCH", f"/api/tasks/{t1}", headers, 200, {"sprint": sprint_b})  # A → B
    send(client, "DELETE", f"/api/tasks/{t3}", headers, 204)
    send(client, "PATCH", f"/api/tasks/{t2}", headers, 200, {"status": 2})
    send(client, "PATCH", f"/api/sprints/{sprint_b}", headers, 200, {"name": "B3"})
    recorder.wait_for("change", lambda c: c["model"] == "sprint" and c["body"]["name"] == "B3")

    recorded = recorder.received("change")
    assert [(c["model"], c["id"], c["action"]) for c in recorded] == [
        ("task", t1, "add"),
        ("task", t2, "add"),
        ("task", t3, "add"),
        ("sprint", sprint_a, "update"),
        ("sprint", sprint_b, "update"),
        ("user", recorded[5]["id"], "add"),
        ("task", t2, "update"),
        ("task", t1, "update"),
        ("task", t3, "remove"),
        ("task", t2, "update"),
        ("sprint", sprint_b, "update"),
    ]
    on_board_a = [recorded[i] for i in (0, 2, 3, 6, 7, 8, 9)]
    latest = recorded[-1]["seq"]
    assert latest == latest_seq(app)

    late = connect(bob_token)
    ack = late.subscribe(sprint_a, since=since)
    # the handler has returned: the replay came before the ack, in seq order, and only A's changes
    assert ack == {"ok": True, "seq": latest}
    assert late.received("change") == on_board_a

    midway = connect(bob_token)
    assert midway.subscribe(sprint_a, since=recorded[6]["seq"]) == {"ok": True, "seq": latest}
    assert midway.received("change") == on_board_a[4:]

    current = connect(bob_token)
    assert current.subscribe(sprint_a, since=latest) == {"ok": True, "seq": latest}
    assert current.received("change") == []

    # then live changes, once each
    t5 = post_task("t5", sprint_a)
    for socket, replayed in ((late, on_board_a), (midway, on_board_a[4:]), (current, [])):
        live, _ = socket.wait_for("change", lambda c: c["seq"] > latest)
        assert (live["model"], live["id"], live["action"]) == ("task", t5, "add")
        assert socket.received("change") == [*replayed, live]


def test_subscribe_since_older_than_the_log_asks_for_a_resync(
    app, client, headers, token, connect, make_sprint
):
    sprint = make_sprint()
    recorder = connect(token)
    start = recorder.subscribe(sprint)["seq"]
    first = send(client, "POST", "/api/tasks", headers, 201, {"name": "First", "sprint": sprint})["id"]
    send(client, "PATCH", f"/api/tasks/{first}", headers, 200, {"order": 3})
    last = send(client, "POST", "/api/tasks", headers, 201, {"name": "Last", "sprint": sprint})["id"]
    newest, _ = recorder.wait_change("task", last, "add")

    # while the log still reaches back to ``start``, it replays
    before_pruning = connect(token)
    assert before_pruning.subscribe(sprint, since=start) == {"ok": True, "seq": newest["seq"]}
    assert len(before_pruning.received("change")) == 3

    run_cli(app, "prune-events", "--older-than", "0")
    assert [row[0] for row in log_rows(app)] == [newest["seq"]]  # the newest row is kept

    for since in (0, start, newest["seq"] - 2):
        behind = connect(token)
        assert behind.subscribe(sprint, since=since) == {"ok": True, "seq": newest["seq"], "resync": True}
        assert behind.received("change") == []
        assert behind.received("presence")  # it did join the board

    # one short of the kept row: nothing is missing, so it replays that row
    just_behind = connect(token)
    assert just_behind.subscribe(sprint, since=newest["seq"] - 1) == {"ok": True, "seq": newest["seq"]}
    assert just_behind.received("change") == [newest]


def test_subscribe_since_a_seq_the_log_never_reached_asks_for_a_resync(
    client, headers, token, connect, make_sprint
):
    """A client that has seen seq 1000 of a log now at 3 (the database was replaced) would
    skip every change up to 1000 as one it already has."""
    sprint = make_sprint()
    task = send(client, "POST", "/api/tasks", headers, 201, {"name": "Only", "sprint": sprint})["id"]
    current = connect(token)
    latest = current.subscribe(sprint)["seq"]
    assert connect(token).subscribe(sprint, since=latest) == {"ok": True, "seq": latest}
    ahead = connect(token)
    assert ahead.subscribe(sprint, since=latest + 1000) == {"ok": True, "seq": latest, "resync": True}
    assert ahead.received("change") == []
    send(client, "PATCH", f"/api/tasks/{task}", headers, 200, {"order": 5})
    change, _ = ahead.wait_change("task", task, "update")  # and it gets what comes next
    assert change["seq"] > latest


# -- unsubscribe --------------------------------------------------------------------------------


def test_unsubscribe_stops_delivery_for_that_board(client, headers, token, connect, make_sprint):
    sprint_a, sprint_b = make_sprint(), make_sprint()
    socket = connect(token)
    assert socket.subscribe(sprint_a)["ok"] and socket.subscribe(sprint_b)["ok"]

    def post_task(name, sprint=None):
        return send(client, "POST", "/api/tasks", headers, 201, {"name": name, "sprint": sprint})["id"]

    assert socket.unsubscribe(sprint_a) == {"ok": True}
    on_a = post_task("On A", sprint_a)
    on_b = post_task("On B", sprint_b)
    socket.wait_change("task", on_b, "add")
    backlog = post_task("Backlog, still shown on B")
    socket.wait_change("task", backlog, "add")
    assert changes_of(socket.received(), "task", on_a) == []
    refused = socket.hint(on_a)
    assert refused["ok"] is False

    assert socket.unsubscribe(sprint_b) == {"ok": True}
    assert socket.unsubscribe(sprint_b) == {"ok": True}  # again: nothing to do
    assert socket.emit("unsubscribe", {"sprint": "b"})["ok"] is False
    on_b_again = post_task("On B again", sprint_b)
    backlog_again = post_task("Backlog again")
    send(client, "PATCH", f"/api/sprints/{sprint_a}", headers, 200, {"name": "Sentinel"})
    socket.wait_change("sprint", sprint_a, "update")  # still in the lobby
    received = {change["id"] for change in changes_of(socket.received(), "task")}
    assert received == {on_b, backlog}
    assert not {on_b_again, backlog_again} & received
