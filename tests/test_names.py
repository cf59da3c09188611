"""Names of projects, sprints and tasks are kept without the whitespace around them, as
a DRF ``CharField`` keeps them; a name of whitespace alone is blank. Descriptions and
comment bodies are plain text kept exactly as written."""

import pytest

from tests.api_helpers import assert_invalid, day, unchanged

BLANK = {"name": ["This field may not be blank."]}
WHITESPACE = ["   ", " \t\n ", "\u00a0\u2003"]


@pytest.mark.parametrize("blank", WHITESPACE)
def test_a_project_or_task_name_of_whitespace_alone_is_blank(
    client, headers, make_project, make_task, snapshot, blank
):
    project = make_project("Apollo", alice="admin")
    task = make_task("Task")
    with unchanged(snapshot):
        assert_invalid(client.post("/api/projects", headers=headers, json={"name": blank}), BLANK)
        assert_invalid(client.patch(f"/api/projects/{project}", headers=headers, json={"name": blank}), BLANK)
        assert_invalid(client.post("/api/tasks", headers=headers, json={"name": blank}), BLANK)
        assert_invalid(client.patch(f"/api/tasks/{task}", headers=headers, json={"name": blank}), BLANK)
        assert_invalid(
            client.put(f"/api/tasks/{task}", headers=headers, json={"name": blank, "status": 1}), BLANK
        )


def test_names_are_stored_without_surrounding_whitespace(
    client, headers, make_project, make_task, make_sprint
):
    project = make_project("Apollo", alice="admin")
    response = client.post("/api/projects", headers=headers, json={"name": "  Hermes\t"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["name"] == "Hermes"
    response = client.patch(f"/api/projects/{project}", headers=headers, json={"name": " Apollo  11 "})
    assert response.get_json()["name"] == "Apollo  11"

    response = client.post("/api/tasks", headers=headers, json={"name": "\n Fix login ", "project": project})
    assert response.status_code == 201, response.get_data(as_text=True)
    task = response.get_json()["id"]
    assert response.get_json()["name"] == "Fix login"
    assert client.get(f"/api/tasks/{task}", headers=headers).get_json()["name"] == "Fix login"
    response = client.patch(f"/api/tasks/{task}", headers=headers, json={"name": " Fix logout "})
    assert response.get_json()["name"] == "Fix logout"

    response = client.post(
        "/api/sprints", headers=headers, json={"name": " Sprint 1 ", "end": day(10), "project": project}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["name"] == "Sprint 1"
    sprint = make_sprint(name="Old")
    response = client.patch(f"/api/sprints/{sprint}", headers=headers, json={"name": " Sprint 2"})
    assert response.get_json()["name"] == "Sprint 2"


def test_a_sprint_name_may_be_blank_and_whitespace_alone_leaves_it_empty(client, headers, make_sprint):
    response = client.post("/api/sprints", headers=headers, json={"name": "   ", "end": day(10)})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["name"] == ""
    sprint = make_sprint(name="Old")
    response = client.patch(f"/api/sprints/{sprint}", headers=headers, json={"name": " \t"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["name"] == ""


def test_the_length_limit_applies_to_the_trimmed_name(client, headers, snapshot):
    response = client.post("/api/tasks", headers=headers, json={"name": f"  {'n' * 100}  "})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["name"] == "n" * 100
    with unchanged(snapshot):
        assert_invalid(
            client.post("/api/tasks", headers=headers, json={"name": f" {'n' * 101} "}),
            {"name": ["This field may not be blank or longer than 100 characters."]},
        )


def test_a_padded_name_is_the_same_name_to_the_unique_check(client, headers, make_project, snapshot):
    make_project("Apollo", alice="admin")
    hermes = make_project("Hermes", alice="admin")
    taken = {"name": ["A project with this name already exists."]}
    with unchanged(snapshot):
        assert_invalid(client.post("/api/projects", headers=headers, json={"name": "Apollo "}), taken)
        assert_invalid(client.post("/api/projects", headers=headers, json={"name": "\tApollo"}), taken)
        assert_invalid(
            client.patch(f"/api/projects/{hermes}", headers=headers, json={"name": " Apollo"}), taken
        )
    # Its own name, padded, is no clash.
    response = client.patch(f"/api/projects/{hermes}", headers=headers, json={"name": "Hermes "})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["name"] == "Hermes"


def test_descriptions_and_comment_bodies_are_kept_as_written(client, headers, make_task):
    text = "  Steps:\n    1. open the board\n    2. drag a card\n"
    response = client.post("/api/tasks", headers=headers, json={"name": "T", "description": text})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["description"] == text
    response = client.post("/api/sprints", headers=headers, json={"end": day(10), "description": text})
    assert response.get_json()["description"] == text
    response = client.post(f"/api/tasks/{make_task('Task')}/comments", headers=headers, json={"body": text})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["body"] == text
