def test_health(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "db": "ok", "redis": "disabled"}


def test_list_sprints(client, headers, make_sprint):
    sid = make_sprint(name="One")
    r = client.get("/api/sprints", headers=headers)
    assert r.status_code == 200
    assert r.get_json()["results"][0]["id"] == sid
