"""Projects, members and roles over REST: what each user can read and write.

Four users: ann (admin of Apollo), zed (admin of Zeus), bo (member of both) and
nobody (in no project); vic is Apollo's viewer. Nothing of a project reaches
anyone outside it, and an object outside the caller's projects is answered
exactly as an id that does not exist.
"""

import pytest

from tests.api_helpers import assert_error, assert_invalid, day, unchanged

VIEWERS_CANNOT = "Viewers cannot change this project."
ADMINS_ONLY = "Only project admins can do this."
LAST_ADMIN = "A project needs at least one admin."
MISSING = 999_999


@pytest.fixture
def world(two_projects, make_task):
    two_projects.zeus_backlog = make_task("Zeus backlog", project="Zeus")
    return two_projects


def ids(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return sorted(item["id"] for item in response.get_json()["results"])


def not_found_like_unknown(client, method, path_of, hidden_id, headers, **kwargs):
    """The answer for ``hidden_id`` is the answer for an id that does not exist."""
    hidden = getattr(client, method)(path_of(hidden_id), headers=headers, **kwargs)
    unknown = getattr(client, method)(path_of(MISSING), headers=headers, **kwargs)
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.get_json()["message"] == unknown.get_json()["message"].replace(str(MISSING), str(hidden_id))
    assert {k for k, _ in hidden.headers} == {k for k, _ in unknown.headers}  # no ETag, no Location


class TestVisibility:
    def test_lists_show_only_the_callers_projects(self, client, world):
        ann, zed, bo, nobody = (world.headers[n] for n in ("ann", "zed", "bo", "nobody"))
        assert ids(client.get("/api/projects", headers=ann)) == [world.apollo]
        assert ids(client.get("/api/projects", headers=bo)) == [world.apollo, world.zeus]
        assert ids(client.get("/api/projects", headers=nobody)) == []
        assert ids(client.get("/api/sprints", headers=ann)) == [world.apollo_sprint]
        assert ids(client.get("/api/sprints", headers=zed)) == [world.zeus_sprint]
        assert ids(client.get("/api/tasks", headers=ann)) == [world.apollo_task]
        assert ids(client.get("/api/tasks", headers=zed)) == [world.zeus_task, world.zeus_backlog]
        assert ids(client.get("/api/tasks?backlog=true", headers=ann)) == []
        assert ids(client.get("/api/tasks", headers=nobody)) == []
        assert ids(client.get(f"/api/tasks?project={world.zeus}", headers=bo)) == [
            world.zeus_task,
            world.zeus_backlog,
        ]

    def test_a_project_carries_the_callers_role(self, client, world):
        body = client.get(f"/api/projects/{world.apollo}", headers=world.headers["vic"]).get_json()
        assert body["role"] == "viewer"
        assert body["name"] == "Apollo"
        assert body["links"]["members"].endswith(f"/api/projects/{world.apollo}/members")
        roles = {
            p["name"]: p["role"]
            for p in client.get("/api/projects", headers=world.headers["bo"]).json["results"]
        }
        assert roles == {"Apollo": "member", "Zeus": "member"}

    @pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
    @pytest.mark.parametrize("kind", ["projects", "sprints", "tasks"])
    def test_another_projects_object_is_an_unknown_id(self, client, world, snapshot, method, kind):
        hidden = {"projects": world.zeus, "sprints": world.zeus_sprint, "tasks": world.zeus_task}[kind]
        body = {"projects": {"name": "X"}, "sprints": {"end": day(30)}, "tasks": {"name": "X"}}[kind]
        kwargs = {} if method in ("get", "delete") else {"json": body}
        with unchanged(snapshot):
            not_found_like_unknown(
                client, method, lambda i: f"/api/{kind}/{i}", hidden, world.headers["ann"], **kwargs
            )
            # A stale If-Match, or a sprint with tasks (409 for a member), shows nothing either.
            not_found_like_unknown(
                client,
                method,
                lambda i: f"/api/{kind}/{i}",
                hidden,
                {**world.headers["ann"], "If-Match": '"x"'},
                **kwargs,
            )

    @pytest.mark.parametrize(
        "method, suffix, body",
        [
            ("get", "/members", None),
            ("put", "/members/ann", {"role": "admin"}),
            ("delete", "/members/zed", None),
        ],
    )
    def test_another_projects_members_are_unknown(self, client, world, snapshot, method, suffix, body):
        kwargs = {"json": body} if body else {}
        with unchanged(snapshot):
            not_found_like_unknown(
                client,
                method,
                lambda i: f"/api/projects/{i}{suffix}",
                world.zeus,
                world.headers["ann"],
                **kwargs,
            )

    def test_naming_another_projects_objects_is_an_unknown_id(self, client, world, snapshot):
        ann = world.headers["ann"]
        with unchanged(snapshot):
            for name, hidden in (("project", world.zeus), ("sprint", world.zeus_sprint)):
                response = client.get(f"/api/tasks?{name}={hidden}", headers=ann)
                assert_error(
                    response,
                    400,
                    "A query parameter is not valid.",
                    {name: [f"{name.title()} {hidden} does not exist."]},
                )
            assert_invalid(
                client.post("/api/tasks", headers=ann, json={"name": "T", "sprint": world.zeus_sprint}),
                {"sprint": [f"Sprint {world.zeus_sprint} does not exist."]},
            )
            assert_invalid(
                client.post("/api/sprints", headers=ann, json={"end": day(40), "project": world.zeus}),
                {"project": [f"Project {world.zeus} does not exist."]},
            )
            assert_invalid(
                client.patch(
                    f"/api/tasks/{world.apollo_task}", headers=ann, json={"sprint": world.zeus_sprint}
                ),
                {"sprint": [f"Sprint {world.zeus_sprint} does not exist."]},
            )


class TestCreatingWithoutNamingTheProject:
    def test_a_user_of_one_project_need_not_name_it(self, client, world):
        ann = world.headers["ann"]
        sprint = client.post("/api/sprints", headers=ann, json={"name": "S", "end": day(40)})
        assert sprint.status_code == 201, sprint.get_data(as_text=True)
        assert sprint.json["project"] == world.apollo
        task = client.post("/api/tasks", headers=ann, json={"name": "Backlog item"})
        assert task.status_code == 201
        assert task.json["project"] == world.apollo
        assert task.json["links"]["project"].endswith(f"/api/projects/{world.apollo}")

    def test_a_task_takes_its_sprints_project(self, client, world):
        response = client.post(
            "/api/tasks", headers=world.headers["bo"], json={"name": "T", "sprint": world.zeus_sprint}
        )
        assert response.status_code == 201
        assert response.json["project"] == world.zeus

    def test_a_user_of_several_projects_must_name_one(self, client, world, snapshot):
        with unchanged(snapshot):
            response = client.post("/api/sprints", headers=world.headers["bo"], json={"end": day(40)})
            assert_invalid(
                response, {"project": ["This field is required: you can write to several projects."]}
            )
            response = client.post("/api/tasks", headers=world.headers["nobody"], json={"name": "T"})
            assert_invalid(
                response, {"project": ["This field is required: you can write to several projects."]}
            )
        response = client.post(
            "/api/sprints", headers=world.headers["bo"], json={"end": day(40), "project": world.zeus}
        )
        assert response.status_code == 201
        assert response.json["project"] == world.zeus

    def test_the_sprint_and_project_must_agree_and_the_project_never_changes(self, client, world, snapshot):
        bo = world.headers["bo"]
        with unchanged(snapshot):
            response = client.post(
                "/api/tasks",
                headers=bo,
                json={"name": "T", "sprint": world.apollo_sprint, "project": world.zeus},
            )
            assert_invalid(response, {"project": ["The sprint belongs to another project."]})
            response = client.patch(
                f"/api/tasks/{world.apollo_task}", headers=bo, json={"project": world.zeus}
            )
            assert_invalid(response, {"project": ["Cannot move to another project."]})
            response = client.patch(
                f"/api/sprints/{world.apollo_sprint}", headers=bo, json={"project": world.zeus}
            )
            assert_invalid(response, {"project": ["Cannot move to another project."]})
            response = client.patch(
                f"/api/tasks/{world.apollo_task}", headers=bo, json={"sprint": world.zeus_sprint}
            )
            assert_invalid(response, {"project": ["The sprint belongs to another project."]})
            response = client.patch(f"/api/tasks/{world.apollo_task}", headers=bo, json={"assigned": "zed"})
            assert_invalid(response, {"assigned": ['User "zed" is not a member of this project.']})

    def test_sprint_ends_are_unique_within_a_project_only(self, client, world):
        end = day(50)
        bo = world.headers["bo"]
        assert (
            client.post("/api/sprints", headers=bo, json={"end": end, "project": world.apollo}).status_code
            == 201
        )
        assert (
            client.post("/api/sprints", headers=bo, json={"end": end, "project": world.zeus}).status_code
            == 201
        )
        response = client.post("/api/sprints", headers=bo, json={"end": end, "project": world.zeus})
        assert_invalid(response, {"end": ["A sprint with this end date already exists."]})


class TestRoles:
    def test_a_viewer_reads_but_every_write_is_refused(self, client, world, snapshot):
        vic = world.headers["vic"]
        assert client.get(f"/api/tasks/{world.apollo_task}", headers=vic).status_code == 200
        assert client.get(f"/api/projects/{world.apollo}/members", headers=vic).status_code == 200
        writes = [
            ("post", "/api/sprints", {"end": day(40)}),
            ("post", "/api/sprints", {"end": day(40), "project": world.apollo}),
            ("post", "/api/tasks", {"name": "T"}),
            ("post", "/api/tasks", {"name": "T", "sprint": world.apollo_sprint}),
            ("patch", f"/api/sprints/{world.apollo_sprint}", {"name": "X"}),
            ("put", f"/api/sprints/{world.apollo_sprint}", {"end": day(40)}),
            ("delete", f"/api/sprints/{world.apollo_sprint}", None),
            ("patch", f"/api/tasks/{world.apollo_task}", {"status": 2}),
            ("put", f"/api/tasks/{world.apollo_task}", {"name": "X"}),
            ("delete", f"/api/tasks/{world.apollo_task}", None),
            ("patch", f"/api/projects/{world.apollo}", {"name": "X"}),
            ("delete", f"/api/projects/{world.apollo}", None),
            ("put", f"/api/projects/{world.apollo}/members/nobody", {"role": "member"}),
            ("delete", f"/api/projects/{world.apollo}/members/bo", None),
        ]
        with unchanged(snapshot):
            for method, path, body in writes:
                response = getattr(client, method)(path, headers=vic, **({"json": body} if body else {}))
                assert_error(response, 403, VIEWERS_CANNOT)

    def test_a_member_writes_work_but_not_the_project_or_its_members(self, client, world, snapshot):
        bo = world.headers["bo"]
        assert (
            client.patch(f"/api/tasks/{world.apollo_task}", headers=bo, json={"status": 2}).status_code == 200
        )
        with unchanged(snapshot):
            for method, path, body in [
                ("patch", f"/api/projects/{world.apollo}", {"name": "X"}),
                ("put", f"/api/projects/{world.apollo}", {"name": "X"}),
                ("delete", f"/api/projects/{world.apollo}", None),
                ("put", f"/api/projects/{world.apollo}/members/nobody", {"role": "member"}),
                ("put", f"/api/projects/{world.apollo}/members/vic", {"role": "admin"}),
                ("delete", f"/api/projects/{world.apollo}/members/vic", None),
            ]:
                response = getattr(client, method)(path, headers=bo, **({"json": body} if body else {}))
                assert_error(response, 403, ADMINS_ONLY)

    def test_a_member_may_leave(self, client, world):
        response = client.delete(f"/api/projects/{world.apollo}/members/bo", headers=world.headers["bo"])
        assert response.status_code == 204
        assert client.get(f"/api/tasks/{world.apollo_task}", headers=world.headers["bo"]).status_code == 404
        assert ids(client.get("/api/projects", headers=world.headers["bo"])) == [world.zeus]


class TestMembers:
    def test_the_members_list(self, client, world):
        response = client.get(f"/api/projects/{world.apollo}/members", headers=world.headers["vic"])
        assert response.status_code == 200
        body = response.get_json()
        assert body["count"] == 3
        assert [(m["username"], m["role"]) for m in body["results"]] == [
            ("ann", "admin"),
            ("bo", "member"),
            ("vic", "viewer"),
        ]
        assert body["results"][0] == {
            "username": "ann",
            "full_name": "",
            "role": "admin",
            "links": {"user": "http://localhost/api/users/ann"},
        }

    def test_an_admin_adds_a_member_and_changes_roles(self, client, world):
        ann = world.headers["ann"]
        path = f"/api/projects/{world.apollo}/members/nobody"
        response = client.put(path, headers=ann, json={"role": "viewer"})
        assert response.status_code == 201
        assert response.get_json()["role"] == "viewer"
        assert response.headers["Location"] == f"http://localhost{path}"
        assert ids(client.get("/api/sprints", headers=world.headers["nobody"])) == [world.apollo_sprint]
        response = client.put(path, headers=ann, json={"role": "member"})
        assert response.status_code == 200
        assert response.get_json() == {
            "username": "nobody",
            "full_name": "",
            "role": "member",
            "links": {"user": "http://localhost/api/users/nobody"},
        }
        response = client.patch(
            f"/api/tasks/{world.apollo_task}", headers=world.headers["nobody"], json={"name": "Y"}
        )
        assert response.status_code == 200

    def test_bad_membership_changes(self, client, world, snapshot):
        ann = world.headers["ann"]
        base = f"/api/projects/{world.apollo}/members"
        with unchanged(snapshot):
            assert_invalid(
                client.put(f"{base}/bo", headers=ann, json={"role": "owner"}),
                {"role": ["Must be one of: admin, member, viewer."]},
            )
            assert_invalid(
                client.put(f"{base}/bo", headers=ann, json={}), {"role": ["Missing data for required field."]}
            )
            assert_error(
                client.put(f"{base}/ghost", headers=ann, json={"role": "member"}),
                404,
                'User "ghost" not found.',
            )
            assert_error(
                client.delete(f"{base}/zed", headers=ann), 404, 'User "zed" is not a member of this project.'
            )
            assert_error(client.put(f"{base}/ann", headers=ann, json={"role": "member"}), 409, LAST_ADMIN)
            assert_error(client.delete(f"{base}/ann", headers=ann), 409, LAST_ADMIN)

    def test_with_a_second_admin_the_first_may_step_down(self, client, world):
        ann = world.headers["ann"]
        base = f"/api/projects/{world.apollo}/members"
        assert client.put(f"{base}/bo", headers=ann, json={"role": "admin"}).status_code == 200
        assert client.put(f"{base}/ann", headers=ann, json={"role": "viewer"}).status_code == 200
        assert_error(
            client.put(f"{base}/bo", headers=world.headers["ann"], json={"role": "admin"}),
            403,
            VIEWERS_CANNOT,
        )


class TestProjects:
    def test_create_makes_the_creator_its_admin(self, client, world):
        response = client.post("/api/projects", headers=world.headers["nobody"], json={"name": "Hermes"})
        assert response.status_code == 201
        body = response.get_json()
        assert body["name"] == "Hermes"
        assert body["role"] == "admin"
        assert body["description"] == ""
        assert response.headers["Location"] == body["links"]["self"]
        assert response.headers["ETag"]
        members = client.get(
            f"/api/projects/{body['id']}/members", headers=world.headers["nobody"]
        ).get_json()
        assert [(m["username"], m["role"]) for m in members["results"]] == [("nobody", "admin")]

    def test_bad_projects(self, client, world, snapshot):
        nobody = world.headers["nobody"]
        with unchanged(snapshot):
            assert_invalid(
                client.post("/api/projects", headers=nobody, json={"name": ""}),
                {"name": ["This field may not be blank or longer than 100 characters."]},
            )
            assert_invalid(
                client.post("/api/projects", headers=nobody, json={}),
                {"name": ["Missing data for required field."]},
            )
            # A name taken by a project the caller cannot see is still taken: names are unique.
            assert_invalid(
                client.post("/api/projects", headers=nobody, json={"name": "Zeus"}),
                {"name": ["A project with this name already exists."]},
            )
            assert_invalid(
                client.patch(
                    f"/api/projects/{world.apollo}", headers=world.headers["ann"], json={"name": "Zeus"}
                ),
                {"name": ["A project with this name already exists."]},
            )

    def test_an_admin_renames_and_deletes_an_empty_project(self, client, world):
        ann = world.headers["ann"]
        response = client.patch(f"/api/projects/{world.apollo}", headers=ann, json={"name": "Apollo 11"})
        assert response.status_code == 200
        assert response.get_json()["name"] == "Apollo 11"
        assert response.get_json()["role"] == "admin"
        assert_error(
            client.delete(f"/api/projects/{world.apollo}", headers=ann),
            409,
            "This project still has sprints or tasks: delete them first.",
        )
        client.delete(f"/api/tasks/{world.apollo_task}", headers=ann)
        client.delete(f"/api/sprints/{world.apollo_sprint}", headers=ann)
        assert client.delete(f"/api/projects/{world.apollo}", headers=ann).status_code == 204
        assert client.get(f"/api/projects/{world.apollo}", headers=ann).status_code == 404
