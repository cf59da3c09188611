"""Lists: filters, search, ordering and pages, and a 400 for every bad parameter."""

import pytest

from app import create_app, db
from app.models import Sprint, Task, User
from config import TestingConfig
from tests.api_helpers import BASE, QUERY_MESSAGE, assert_error, in_days, names
from tests.conftest import TEAM, project_id_named

BAD_PAGE = "Must be between 1 and 2147483647."


def fill(app, kind, count):
    """Add ``count`` more sprints, tasks or users (a bob-000, bob-001… sequence) in one commit."""
    with app.app_context():
        team = project_id_named(TEAM)
        if kind == "sprints":
            rows = [Sprint(project_id=team, name=f"S{i:03}", end=in_days(100 + i)) for i in range(count)]
        elif kind == "tasks":
            rows = [Task(project_id=team, name=f"T{i:03}", order=i) for i in range(count)]
        else:
            rows = [User(username=f"bob-{i:03}") for i in range(count)]
        db.session.add_all(rows)
        db.session.commit()


# Sprints


@pytest.fixture
def sprints(make_sprint):
    """Three sprints, in 30, 10 and 20 days."""
    make_sprint(name="alpha", description="Gamma", end=in_days(30))
    make_sprint(name="alphabet", end=in_days(10))
    make_sprint(name="beta", description="alpha", end=in_days(20))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["alphabet", "beta", "alpha"]),
        (f"end_min={in_days(20)}", ["beta", "alpha"]),
        (f"end_max={in_days(20)}", ["alphabet", "beta"]),
        (f"end_min={in_days(20)}&end_max={in_days(20)}", ["beta"]),
        (f"end_min={in_days(21)}&end_max={in_days(29)}", []),
        ("search=ALP", ["alphabet", "alpha"]),
        ("search=Bet", ["alphabet", "beta"]),
        ("search=gamma", []),
        ("ordering=end", ["alphabet", "beta", "alpha"]),
        ("ordering=-end", ["alpha", "beta", "alphabet"]),
        ("ordering=name", ["alpha", "alphabet", "beta"]),
        ("ordering=-name", ["beta", "alphabet", "alpha"]),
        (f"search=a&end_min={in_days(15)}&ordering=-end", ["alpha", "beta"]),
    ],
)
def test_sprint_list(client, headers, sprints, query, expected):
    assert names(client.get(f"/api/sprints?{query}", headers=headers)) == expected


def test_sprint_ordering_by_name_then_end(client, headers, make_sprint):
    late, early, other = (make_sprint(name=n, end=in_days(d)) for n, d in [("A", 30), ("A", 10), ("B", 20)])
    r = client.get("/api/sprints?ordering=name,-end", headers=headers)
    assert [s["id"] for s in r.get_json()["results"]] == [late, early, other]
    r = client.get("/api/sprints?ordering=-name,end", headers=headers)
    assert [s["id"] for s in r.get_json()["results"]] == [other, early, late]


# Tasks


@pytest.fixture
def tasks(alice, make_user, make_sprint, make_task):
    """Five tasks over two sprints and the backlog; returns the sprint ids."""
    make_user("bob")
    one, two = make_sprint(), make_sprint()
    make_task("Write docs", description="For the API", order=2, due=in_days(5))
    make_task(
        "Fix bug", sprint_id=one, status=2, order=1, assigned="alice", started=in_days(-3), due=in_days(2)
    )
    make_task("Review", sprint_id=one, status=4, order=1, assigned="bob", started=in_days(-5), due=in_days(7))
    make_task(
        "Deploy 100%_done", description="write the NOTES", sprint_id=two, status=3, order=-1, due=in_days(1)
    )
    make_task("Plan", sprint_id=two, order=5, assigned="alice", due=in_days(9))
    return {"one": one, "two": two}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Deploy 100%_done", "Fix bug", "Review", "Write docs", "Plan"]),
        ("sprint={one}", ["Fix bug", "Review"]),
        ("sprint={two}", ["Deploy 100%_done", "Plan"]),
        ("status=1", ["Write docs", "Plan"]),
        ("status=4", ["Review"]),
        ("assigned=alice", ["Fix bug", "Plan"]),
        ("assigned=bob", ["Review"]),
        ("backlog=true", ["Write docs"]),
        ("backlog=false", ["Deploy 100%_done", "Fix bug", "Review", "Plan"]),
        ("backlog=False", ["Deploy 100%_done", "Fix bug", "Review", "Plan"]),
        ("backlog=1", ["Write docs"]),
        ("sprint={two}&assigned=alice", ["Plan"]),
        ("sprint={one}&backlog=true", []),
        ("status=2&assigned=bob", []),
        ("search=WRITE", ["Deploy 100%_done", "Write docs"]),
        ("search=api", ["Write docs"]),
        ("search=%25", ["Deploy 100%_done"]),
        ("search=0%25_d", ["Deploy 100%_done"]),
        ("search=_", ["Deploy 100%_done"]),
        ("search=f_x", []),
        ("search=d&sprint={two}", ["Deploy 100%_done"]),
        ("ordering=name", ["Deploy 100%_done", "Fix bug", "Plan", "Review", "Write docs"]),
        ("ordering=-name", ["Write docs", "Review", "Plan", "Fix bug", "Deploy 100%_done"]),
        ("ordering=-order", ["Plan", "Write docs", "Fix bug", "Review", "Deploy 100%_done"]),
        ("ordering=order,-name", ["Deploy 100%_done", "Review", "Fix bug", "Write docs", "Plan"]),
        ("ordering=-order&status=1", ["Plan", "Write docs"]),
        ("ordering=started&sprint={one}", ["Review", "Fix bug"]),
        ("ordering=-started&sprint={one}", ["Fix bug", "Review"]),
        ("ordering=due", ["Deploy 100%_done", "Fix bug", "Write docs", "Review", "Plan"]),
        ("ordering=-due", ["Plan", "Review", "Write docs", "Fix bug", "Deploy 100%_done"]),
        ("ordering=-due&search=i", ["Review", "Write docs", "Fix bug", "Deploy 100%_done"]),
    ],
)
def test_task_list(client, headers, tasks, query, expected):
    assert names(client.get("/api/tasks?" + query.format(**tasks), headers=headers)) == expected


def test_task_ordering_by_dates(client, headers, make_sprint, make_task):
    sprint = make_sprint()
    days = {"started": [-1, -3, -2], "completed": [-4, -5, -6]}
    ids = [
        make_task(
            f"T{i}", sprint_id=sprint, status=4, started=in_days(days["started"][i]), completed=in_days(d)
        )
        for i, d in enumerate(days["completed"])
    ]
    by = {field: client.get(f"/api/tasks?ordering={field}", headers=headers) for field in days}
    assert [t["id"] for t in by["started"].get_json()["results"]] == [ids[1], ids[2], ids[0]]
    assert [t["id"] for t in by["completed"].get_json()["results"]] == [ids[2], ids[1], ids[0]]


def test_default_task_order_breaks_ties_by_id(client, headers, make_task):
    ids = [make_task(f"T{i}", order=order) for i, order in enumerate([3, 1, 1, 2, 1])]
    r = client.get("/api/tasks", headers=headers)
    assert [t["id"] for t in r.get_json()["results"]] == [ids[1], ids[2], ids[4], ids[3], ids[0]]


# Users


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["alice", "bob", "carol"]),
        ("ordering=username", ["alice", "bob", "carol"]),
        ("ordering=-username", ["carol", "bob", "alice"]),
        ("search=O", ["bob", "carol"]),
        ("search=CAR", ["carol"]),
        ("search=Archer", []),
        ("search=o&ordering=-username", ["carol", "bob"]),
    ],
)
def test_user_list(client, headers, make_user, query, expected):
    make_user("carol")
    make_user("bob")
    assert names(client.get(f"/api/users?{query}", headers=headers)) == expected


# Bad parameters


def _ordering_error(name, allowed):
    return f'Cannot order by "{name}"; choose from: {allowed}.'


TASK_FIELDS = "completed, due, name, order, started"


@pytest.mark.parametrize(
    ("url", "errors"),
    [
        ("/api/sprints?end_min=tomorrow", {"end_min": ["Enter a date as YYYY-MM-DD."]}),
        ("/api/sprints?end_max=2030-02-30", {"end_max": ["Enter a date as YYYY-MM-DD."]}),
        ("/api/sprints?ordering=description", {"ordering": [_ordering_error("description", "end, name")]}),
        ("/api/sprints?ordering=id", {"ordering": [_ordering_error("id", "end, name")]}),
        ("/api/sprints?ordering=-", {"ordering": [_ordering_error("", "end, name")]}),
        ("/api/tasks?sprint=one", {"sprint": ["Enter a whole number."]}),
        ("/api/tasks?sprint=1.5", {"sprint": ["Enter a whole number."]}),
        ("/api/tasks?sprint=999", {"sprint": ["Sprint 999 does not exist."]}),
        # An unknown object is named beside other bad parameters, and before an empty page.
        (
            "/api/tasks?sprint=999&project=998&status=9",
            {
                "sprint": ["Sprint 999 does not exist."],
                "project": ["Project 998 does not exist."],
                "status": ["Must be between 1 and 4."],
            },
        ),
        ("/api/tasks?sprint=999&page=2", {"sprint": ["Sprint 999 does not exist."]}),
        ("/api/sprints?project=997&page=3", {"project": ["Project 997 does not exist."]}),
        ("/api/tasks?sprint=99999999999", {"sprint": ["Must be between -2147483648 and 2147483647."]}),
        ("/api/tasks?status=0", {"status": ["Must be between 1 and 4."]}),
        ("/api/tasks?status=5", {"status": ["Must be between 1 and 4."]}),
        ("/api/tasks?status=done", {"status": ["Enter a whole number."]}),
        ("/api/tasks?assigned=nobody", {"assigned": ['User "nobody" does not exist.']}),
        ("/api/tasks?assigned=" + "a" * 151, {"assigned": ["Enter at most 150 characters."]}),
        ("/api/tasks?assigned=al%00ice", {"assigned": ["Null characters are not allowed."]}),
        ("/api/tasks?backlog=maybe", {"backlog": ["Enter true or false."]}),
        ("/api/tasks?ordering=status", {"ordering": [_ordering_error("status", TASK_FIELDS)]}),
        ("/api/tasks?ordering=name,-sprint", {"ordering": [_ordering_error("sprint", TASK_FIELDS)]}),
        ("/api/tasks?search=" + "x" * 201, {"search": ["Enter at most 200 characters."]}),
        ("/api/tasks?search=a%00b", {"search": ["Null characters are not allowed."]}),
        ("/api/users?search=%00", {"search": ["Null characters are not allowed."]}),
        ("/api/projects?search=" + "x" * 200 + "%00", {"search": ["Enter at most 200 characters."]}),
        ("/api/users?ordering=full_name", {"ordering": [_ordering_error("full_name", "username")]}),
        ("/api/users?page=0", {"page": [BAD_PAGE]}),
        ("/api/users?page=-1", {"page": [BAD_PAGE]}),
        ("/api/users?page=first", {"page": ["Enter a whole number."]}),
        ("/api/users?page=2147483648", {"page": [BAD_PAGE]}),
        ("/api/sprints?page_size=0", {"page_size": [BAD_PAGE]}),
        ("/api/tasks?page_size=all", {"page_size": ["Enter a whole number."]}),
        (
            "/api/tasks?status=9&backlog=no&ordering=id&page=0",
            {
                "status": ["Must be between 1 and 4."],
                "backlog": ["Enter true or false."],
                "ordering": [_ordering_error("id", TASK_FIELDS)],
                "page": [BAD_PAGE],
            },
        ),
    ],
)
def test_bad_parameter_is_400(client, headers, url, errors):
    assert_error(client.get(url, headers=headers), 400, QUERY_MESSAGE, errors)


# Pages


@pytest.mark.parametrize("kind", ["sprints", "tasks", "users"])
def test_pages_and_their_links(app, client, headers, kind):
    fill(app, kind, 29)
    count = 30 if kind == "users" else 29
    url = f"{BASE}/api/{kind}"

    first = client.get(f"/api/{kind}", headers=headers).get_json()
    assert (first["count"], len(first["results"])) == (count, 25)
    assert (first["next"], first["previous"]) == (f"{url}?page=2", None)
    second = client.get(first["next"], headers=headers).get_json()
    assert (second["count"], len(second["results"])) == (count, count - 25)
    assert (second["next"], second["previous"]) == (None, url)
    all_ids = [item["id"] for item in first["results"] + second["results"]]
    assert len(set(all_ids)) == count

    r = client.get(f"/api/{kind}?page_size=10&page=2", headers=headers)
    body = r.get_json()
    assert [item["id"] for item in body["results"]] == all_ids[10:20]
    assert body["next"] == f"{url}?page_size=10&page=3"
    assert body["previous"] == f"{url}?page_size=10"


def test_links_keep_the_filters(app, client, headers, make_sprint):
    fill(app, "tasks", 5)
    r = client.get("/api/tasks?search=T&backlog=true&page_size=2&page=2", headers=headers)
    body = r.get_json()
    assert names(r) == ["T002", "T003"]
    assert body["next"] == f"{BASE}/api/tasks?search=T&backlog=true&page_size=2&page=3"
    assert body["previous"] == f"{BASE}/api/tasks?search=T&backlog=true&page_size=2"


@pytest.mark.parametrize(("page_size", "expected"), [("1", 1), ("100", 100), ("101", 100), ("100000", 100)])
def test_page_size_is_at_most_100(app, client, headers, page_size, expected):
    fill(app, "tasks", 105)
    body = client.get(f"/api/tasks?page_size={page_size}", headers=headers).get_json()
    assert body["count"] == 105
    assert len(body["results"]) == expected
    assert body["next"] == f"{BASE}/api/tasks?page_size={page_size}&page=2"


ASKED_FOR = "http://localhost:5101"
EVERY_LIST = [
    "/api/sprints",
    "/api/tasks",
    "/api/users",
    "/api/projects",
    "/api/projects/{project}/members",
    "/api/tasks/{task}/comments",
    "/api/tasks/{task}/activity",
    "/api/sprints/{sprint}/activity",
    "/api/projects/{project}/activity",
]


@pytest.fixture
def two_of_each(client, headers, make_user, make_sprint):
    """At least two items in each of alice's lists; the ids of her team, a sprint and a task."""
    make_user("bob")
    sprint = make_sprint()
    make_sprint()
    assert client.post("/api/projects", headers=headers, json={"name": "Second"}).status_code == 201
    task = client.post("/api/tasks", headers=headers, json={"name": "One", "sprint": sprint}).get_json()["id"]
    client.post("/api/tasks", headers=headers, json={"name": "Two", "sprint": sprint})
    for text in ("first", "second"):
        client.post(f"/api/tasks/{task}/comments", headers=headers, json={"body": text})
    with client.application.app_context():
        team = project_id_named(TEAM)
    return {"project": team, "sprint": sprint, "task": task}


@pytest.mark.parametrize(
    ("public_url", "base"),
    [
        ("http://127.0.0.1:5101", "http://127.0.0.1:5101"),
        ("https://board.example.com/scrum/", "https://board.example.com/scrum"),
        (None, ASKED_FOR),
    ],
)
@pytest.mark.parametrize("path", EVERY_LIST)
def test_page_links_start_like_every_other_link(database_uri, headers, two_of_each, public_url, base, path):
    """From PUBLIC_URL when it is set (whatever host the request named), else from the request."""
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=database_uri, PUBLIC_URL=public_url)
    try:
        client = app.test_client()
        path = path.format(**two_of_each)
        first = client.get(f"{path}?page_size=1", headers=headers, base_url=ASKED_FOR).get_json()
        second = client.get(f"{path}?page_size=1&page=2", headers=headers, base_url=ASKED_FOR).get_json()
    finally:
        app.extensions["realtime"].stop()
    assert first["next"] == f"{base}{path}?page_size=1&page=2"
    assert second["previous"] == f"{base}{path}?page_size=1"
    item_links = [url for url in first["results"][0].get("links", {}).values() if url]
    assert all(url.startswith(f"{base}/api/") for url in item_links), item_links


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["alice", "bob"]),
        ("ordering=username", ["alice", "bob"]),
        ("ordering=-username", ["bob", "alice"]),
    ],
)
def test_members_are_ordered_by_username(client, headers, two_of_each, query, expected):
    response = client.get(f"/api/projects/{two_of_each['project']}/members?{query}", headers=headers)
    assert names(response) == expected


def _fixed_order_error(name, order):
    return f'Cannot order by "{name}"; this list is always {order}.'


@pytest.mark.parametrize(
    ("url", "errors"),
    [
        ("/api/projects/{project}/members?ordering=role", [_ordering_error("role", "username")]),
        (
            "/api/projects/{project}/members?ordering=username,-bogus,full_name",
            [_ordering_error("bogus", "username"), _ordering_error("full_name", "username")],
        ),
        ("/api/tasks/{task}/comments?ordering=bogus", [_fixed_order_error("bogus", "oldest first")]),
        (
            "/api/tasks/{task}/comments?ordering=-created,id",
            [_fixed_order_error("created", "oldest first"), _fixed_order_error("id", "oldest first")],
        ),
        ("/api/tasks/{task}/comments?ordering=-", [_fixed_order_error("", "oldest first")]),
        ("/api/tasks/{task}/activity?ordering=bogus", [_fixed_order_error("bogus", "newest first")]),
        ("/api/sprints/{sprint}/activity?ordering=seq", [_fixed_order_error("seq", "newest first")]),
        ("/api/projects/{project}/activity?ordering=-at", [_fixed_order_error("at", "newest first")]),
    ],
)
def test_unknown_ordering_is_400_on_every_list(client, headers, two_of_each, url, errors):
    response = client.get(url.format(**two_of_each), headers=headers)
    assert_error(response, 400, QUERY_MESSAGE, {"ordering": errors})


@pytest.mark.parametrize(
    "path", ["/api/tasks/{task}/comments", "/api/tasks/{task}/activity", "/api/projects/{project}/activity"]
)
def test_an_empty_ordering_leaves_a_fixed_order_as_it_is(client, headers, two_of_each, path):
    path = path.format(**two_of_each)
    expected = client.get(path, headers=headers).get_json()
    assert expected["count"] >= 2
    for query in ("ordering=", "ordering=,"):
        assert client.get(f"{path}?{query}", headers=headers).get_json()["results"] == expected["results"]


@pytest.mark.parametrize("kind", ["sprints", "tasks", "users"])
def test_a_page_past_the_end_is_404(client, headers, kind):
    count = 1 if kind == "users" else 0  # alice
    body = client.get(f"/api/{kind}?page=1", headers=headers).get_json()
    assert (body["count"], len(body["results"]), body["next"], body["previous"]) == (count, count, None, None)
    r = client.get(f"/api/{kind}?page=2", headers=headers)
    assert_error(r, 404, "Invalid page: there are not that many pages.")
