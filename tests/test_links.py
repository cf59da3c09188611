"""Link paths (``app.links``): built from templates and kept values, they must be what the
URL map builds, for any whole numbers, usernames that need quoting, and query strings."""

import pytest
from flask import url_for

from app import links

CASES = [
    ("api.task", {"task_id": 7}),
    ("api.task", {"task_id": 123456}),
    ("api.member", {"project_id": 3, "username": "ann"}),
    ("api.member", {"project_id": 4, "username": "ann"}),
    ("api.user", {"username": "ann lee/ü?#%{0}"}),
    ("api.user", {"username": "{1}"}),
    ("api.tasks", {"sprint": 5, "page": 2}),
    ("api.tasks", {"page": 2, "sprint": 5}),
    ("api.tasks", {"sprint": 5, "assigned": "me & you"}),
    ("api.tasks", {"status": [1, 2]}),
]


@pytest.mark.parametrize("repeat", [1, 3])
def test_link_paths_are_what_the_url_map_builds(app, repeat):
    with app.test_request_context():
        for _ in range(repeat):  # the second time from the templates and kept paths
            for endpoint, values in CASES:
                assert links.path(endpoint, values) == url_for(endpoint, **values), (endpoint, values)


def test_kept_paths_are_bounded_and_still_right_after_they_are_dropped(app):
    with app.test_request_context():
        links.path("api.user", {"username": "first"})
        paths = app.extensions["link_paths"]
        paths.KEPT = 3
        for number in range(10):
            assert links.path("api.user", {"username": f"user {number}"}) == f"/api/users/user%20{number}"
            assert len(paths.kept) <= 3
        assert links.path("api.user", {"username": "first"}) == "/api/users/first"
