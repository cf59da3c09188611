"""The reference client's rule for changes, in process: a change older than what the
client shows of that object never rolls it back (``boardclient``); against real servers
in ``tests/system/test_no_lost_changes.py``."""

from boardclient import BoardClient


def _change(seq, task_id, name=None, sprint=7, action="update"):
    body = None if action == "remove" else {"id": task_id, "name": name, "sprint": sprint}
    return {"seq": seq, "model": "task", "id": task_id, "action": action, "body": body, "actor": None}


def test_a_late_or_repeated_change_never_rolls_an_object_back():
    client = BoardClient("http://127.0.0.1:9", "no-token", 7)
    client._on_change(_change(10, 1, "added", action="add"))
    client._on_change(_change(12, 1, "renamed"))
    client._on_change(_change(11, 1, "late"))  # older than what it shows
    client._on_change(_change(12, 1, "repeated"))  # the same seq again
    client._on_change(_change(9, 1, action="remove"))  # an old removal
    assert client.tasks[1]["name"] == "renamed"

    # The rule is per object: a lower seq of another object still applies.
    client._on_change(_change(5, 2, "other", action="add"))
    assert client.tasks[2]["name"] == "other"

    client._on_change(_change(13, 1, "moved away", sprint=8))
    client._on_change(_change(12, 1, "back again"))
    assert 1 not in client.tasks
    client._on_change(_change(14, 2, action="remove"))
    client._on_change(_change(6, 2, "resurrected"))
    assert 2 not in client.tasks

    sprint = {"seq": 20, "model": "sprint", "id": 7, "action": "update", "body": {"id": 7, "name": "new"}}
    client._on_change(sprint)
    client._on_change({**sprint, "seq": 19, "body": {"id": 7, "name": "old"}})
    assert client.sprint == {"id": 7, "name": "new"}
