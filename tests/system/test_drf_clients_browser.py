"""A Django REST Framework-era browser client, served from another origin, works unchanged
against a real server (Chromium)."""

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.api_helpers import day
from tests.support.servers import GunicornServer, NewUser, free_port, migrated_postgres_database

ORIGIN_PORT = free_port()
ORIGIN = f"http://127.0.0.1:{ORIGIN_PORT}"


CLIENT_PAGE = """<!doctype html><title>Old scrum client</title>
<script>
// As a jQuery/Backbone app written for the DRF API would: discover the root, log in at
// /api/token/, and send X-CSRFToken and X-Requested-With on every write.
function ajax(method, url, data, token) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    if (method !== "GET") xhr.setRequestHeader("X-CSRFToken", "not-used-by-token-auth");
    if (token) xhr.setRequestHeader("Authorization", "Token " + token);
    if (data) xhr.setRequestHeader("Content-Type", "application/json");
    xhr.onload = () => resolve({
      status: xhr.status,
      body: xhr.responseText ? JSON.parse(xhr.responseText) : null,
      etag: xhr.getResponseHeader("ETag"),
      location: xhr.getResponseHeader("Location"),
    });
    xhr.onerror = () => reject(new Error("network error on " + method + " " + url));
    xhr.send(data ? JSON.stringify(data) : null);
  });
}
async function run(api, username, password, end) {
  const root = (await ajax("GET", api + "/api/")).body;
  const login = await ajax("POST", root.token + "/", {username, password});
  const token = login.body.token;
  const sprints = await ajax("GET", root.sprints + "/", null, token);
  const sprint = await ajax("POST", root.sprints + "/", {name: "From the old client", end}, token);
  const task = await ajax("POST", root.tasks + "/", {name: "Old client task", sprint: sprint.body.id}, token);
  const moved = await ajax("PATCH", task.body.links.self + "/", {status: 2}, token);
  return {root, login: login.status, listed: sprints.status, sprint: sprint.status, location: sprint.location,
          task: task.status, etag: task.etag, moved: moved.status, status: moved.body.status};
}
</script>"""


@pytest.fixture(scope="module")
def client_origin(tmp_path_factory):
    folder = tmp_path_factory.mktemp("client")
    (folder / "index.html").write_text(CLIENT_PAGE)
    handler = partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    httpd = ThreadingHTTPServer(("127.0.0.1", ORIGIN_PORT), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield ORIGIN
    httpd.shutdown()


@pytest.mark.server
@pytest.mark.browser
def test_a_drf_style_client_from_another_origin_works_unchanged(client_origin):
    from tests.system.browser_support import CHROMIUM, CHROMIUM_ARGS

    sync_api = pytest.importorskip("playwright.sync_api")
    with migrated_postgres_database([NewUser("olga", "old client pass")]) as url:
        cors = {"CORS_ALLOWED_ORIGINS": client_origin}
        with GunicornServer(database_url=url, env=cors) as server, sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(client_origin + "/index.html")
                result = page.evaluate(
                    "([api, end]) => run(api, 'olga', 'old client pass', end)", [server.url, day(30)]
                )
            finally:
                browser.close()
    assert result["root"]["sprints"] == f"{server.url}/api/sprints"
    assert (result["login"], result["listed"], result["sprint"], result["task"], result["moved"]) == (
        200,
        200,
        201,
        201,
        200,
    )
    assert result["location"].startswith(f"{server.url}/api/sprints/")
    assert result["etag"]
    assert result["status"] == 2
