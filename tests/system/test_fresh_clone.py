"""The README's first step on a fresh machine: clone, ``scripts/serve``, log in.

The repository (its committed HEAD) is cloned into a temporary directory and
``scripts/serve`` runs there with nothing prepared: it makes its own ``.venv``,
installs ``requirements.txt``, migrates an SQLite database, adds the demo data
and serves. Then the demo login must work and list the demo sprint.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from app.cli import DEMO_PASSWORD, DEMO_SPRINT_NAME
from boardclient import http_session
from tests.support import services
from tests.support.servers import BIN, ROOT, free_port, stop_process_group, wait_for_health

pytestmark = [pytest.mark.server, pytest.mark.untimed]  # in the browser lane

SETUP_TIMEOUT = 300  # seconds: a new virtualenv and every requirement installed
# Settings of this test run that a fresh checkout must not see.
UNSET = (
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
    "APP_ENV",
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "CORS_ALLOWED_ORIGINS",
    "TOKEN_TTL",
    "SOCKETIO_ASYNC_MODE",
)


def fresh_environment(port):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in UNSET and not key.startswith(("FLASK_", "TEST_", "PYTEST_"))
    }
    # This checkout's virtualenv is not on the path: the clone must make its own.
    env["PATH"] = os.pathsep.join(
        entry for entry in env.get("PATH", "").split(os.pathsep) if entry and Path(entry) != BIN
    )
    env.update({"HOST": "127.0.0.1", "PORT": str(port)})
    return env


@pytest.mark.timeout(SETUP_TIMEOUT + 180)
def test_clone_serve_and_log_in_as_the_demo_user(tmp_path):
    if shutil.which("git") is None:
        services.missing("git is not installed")
    clone = tmp_path / "scrum-board"
    subprocess.run(
        ["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, capture_output=True, timeout=120
    )
    assert not (clone / ".venv").exists()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"

    def log():
        return log_path.read_bytes().decode("utf-8", "replace")

    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [str(clone / "scripts" / "serve")],
            cwd=clone,
            env=fresh_environment(port),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_health(url, process, SETUP_TIMEOUT, log)

        assert (clone / ".venv" / "bin" / "gunicorn").exists(), log()
        assert (clone / "instance" / "scrum.sqlite3").exists(), log()
        assert f"alice / {DEMO_PASSWORD}" in log()

        session = http_session()
        health = session.get(url + "/healthz", timeout=10)
        assert health.json() == {"status": "ok", "db": "ok", "redis": "disabled"}

        response = session.post(
            url + "/api/token", json={"username": "alice", "password": DEMO_PASSWORD}, timeout=10
        )
        assert response.status_code == 200, response.text
        session.headers["Authorization"] = f"Token {response.json()['token']}"

        response = session.get(url + "/api/sprints", timeout=10)
        assert response.status_code == 200, response.text
        assert DEMO_SPRINT_NAME in [sprint["name"] for sprint in response.json()["results"]]
    finally:
        stop_process_group(process)
    assert process.poll() is not None
