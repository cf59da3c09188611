"""Real servers and real commands for tests: gunicorn processes, ``flask`` commands,
migrated PostgreSQL databases.

``GunicornServer`` starts ``gunicorn -k eventlet -w 1`` (or ``-k gevent``: its
``worker``, by default ``TEST_WORKER``) on a free port from the repository root,
waits for ``/healthz`` and stops it again; several can run at once against the
same database (and Redis) to test more than one process::

    with migrated_postgres_database() as url, GunicornServer(database_url=url) as server:
        requests.get(server.url + "/healthz")

Nothing here is a fixture, so any test module can build its own on top.
"""

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import NamedTuple

from tests.support import services

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SECRET_KEY = "server-test-secret-key"

# Settings that would otherwise leak from the environment (or a .env file) into
# a server or command; each is set explicitly from the arguments instead.
_CONTROLLED = ("APP_ENV", "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SOCKETIO_ASYNC_MODE")


def redis_server_command(port, *options):
    """``redis-server`` on ``port`` of 127.0.0.1, keeping nothing on disk; ``options`` add to it."""
    return [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        *options,
    ]


class ServerError(RuntimeError):
    """A server did not start, or did not stop, as expected; the message carries its log."""


def free_port(host="127.0.0.1"):
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _command(name):
    """The virtualenv's console script ``name``, else ``python -m name``."""
    script = BIN / name
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", name]


def app_environment(database_url, redis_url=None, secret_key=SECRET_KEY, env=None):
    """The environment for a server or ``flask`` command: this one, with the app's
    settings replaced. ``redis_url=None`` disables Redis (even if a .env sets it)."""
    result = {key: value for key, value in os.environ.items() if key not in _CONTROLLED}
    result.update(
        {
            "APP_ENV": "development",
            "DATABASE_URL": database_url,
            # An empty value counts as unset and keeps a .env file from setting it.
            "REDIS_URL": redis_url or "",
            "SECRET_KEY": secret_key or "",
            "PYTHONUNBUFFERED": "1",
        }
    )
    result.update(env or {})
    return result


def run_python_code(code, environment, timeout=60):
    """``python -c code`` in a fresh interpreter in the repository, with ``environment``."""
    return _run_python(["-c", code], environment, timeout)


def _run_python(args, environment, timeout):
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def http_get(url, timeout=2.0):
    """``(status, body)`` of a GET, or ``(None, error)`` when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (http only)
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")
    except (OSError, urllib.error.URLError) as error:
        return None, str(error)


def children_of(pid):
    """The process ids whose parent is ``pid``."""
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return kids


def rss_kb(pid):
    """A process's resident memory in KB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_python(database_url, *args, redis_url=None, env=None, timeout=60):
    """``python *args`` in the repository root, which is on the path, with the app's settings
    for that database (threading mode: a short synchronous job, as a ``flask`` command);
    returns the CompletedProcess."""
    environment = app_environment(
        database_url,
        redis_url,
        env={"SOCKETIO_ASYNC_MODE": "threading", "PYTHONPATH": str(ROOT), **(env or {})},
    )
    return _run_python(args, environment, timeout)


def wait_for_health(url, process, timeout, log, ready=(200,)):
    """Poll ``url + /healthz`` until it answers with a ``ready`` status; ServerError (with
    the log) otherwise."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(
                f"The server exited with code {process.returncode} before it was ready.\n{log()}"
            )
        status, body = http_get(url + "/healthz", timeout=2.0)
        if status in ready:
            return
        last = f"{status} {body}"
        time.sleep(0.1)
    raise ServerError(f"{url}/healthz did not answer {ready} within {timeout} s (last: {last}).\n{log()}")


def stop_process_group(process, timeout=10.0):
    """SIGTERM to ``process`` (a session leader), then SIGKILL to its whole group."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
    # Whatever is left of the group (a stuck worker, a child of a script) goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)


WORKERS = ("eventlet", "gevent")


def default_worker():
    """The worker class the system tests run servers under: ``TEST_WORKER``, else eventlet."""
    worker = os.environ.get("TEST_WORKER") or "eventlet"
    if worker not in WORKERS:
        raise ValueError(f"TEST_WORKER must be one of {', '.join(WORKERS)}, not {worker!r}")
    return worker


class GunicornServer:
    """``gunicorn -k <worker> -w 1 -b 127.0.0.1:<port> wsgi:app`` in its own process group.

    ``database_url`` is required (a migrated database); ``redis_url`` turns on the
    message queue; ``env`` adds or overrides variables; ``args`` adds gunicorn
    options (``access_log=True`` adds ``--access-logfile -``). ``worker`` is the
    worker class and async mode, ``eventlet`` or ``gevent``; by default ``TEST_WORKER``,
    else ``eventlet``. Use as a context manager, or call ``start()`` and ``stop()``.
    """

    ready = (200,)  # the /healthz statuses that mean the server has started

    def __init__(
        self,
        database_url,
        redis_url=None,
        secret_key=SECRET_KEY,
        env=None,
        args=(),
        port=None,
        host="127.0.0.1",
        startup_timeout=20.0,
        stop_timeout=10.0,
        access_log=False,
        cwd=ROOT,
        worker=None,
    ):
        self.worker = worker or default_worker()
        self.host = host
        self.port = port or free_port(host)
        self.url = f"http://{host}:{self.port}"
        # Links in responses and in change events alike point at this server.
        self.env = app_environment(
            database_url,
            redis_url,
            secret_key,
            {"PUBLIC_URL": self.url, "SOCKETIO_ASYNC_MODE": self.worker, **(env or {})},
        )
        self.args = list(args) + (["--access-logfile", "-"] if access_log else [])
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.cwd = str(cwd)
        self.process = None
        self._log_file = None

    @property
    def command(self):
        return [
            *_command("gunicorn"),
            "-k",
            self.worker,
            "-w",
            "1",
            "-b",
            f"{self.host}:{self.port}",
            "--graceful-timeout",
            str(max(1, int(self.stop_timeout) - 2)),
            # The default control socket is one path per user: servers side by side would fight over it.
            "--no-control-socket",
            *self.args,
            "wsgi:app",
        ]

    def start(self):
        if self.process is not None and self.process.poll() is None:
            raise ServerError(f"The server on port {self.port} is already running.")
        if self._log_file is None:
            self._log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in close())
                mode="w+b", prefix=f"gunicorn-{self.port}-", suffix=".log"
            )
        self.process = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for_health(self.url, self.process, self.startup_timeout, self.log, self.ready)
        except BaseException:
            self.stop()
            raise
        return self

    def log(self):
        """Everything the server wrote so far (stdout and stderr), across restarts."""
        if self._log_file is None:
            return ""
        self._log_file.flush()
        return Path(self._log_file.name).read_bytes().decode("utf-8", "replace")

    def pids(self):
        """The gunicorn master and its worker."""
        if not self.running:
            return []
        return [self.process.pid, *children_of(self.process.pid)]

    def worker_pid(self):
        kids = children_of(self.process.pid)
        return kids[0] if kids else None

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    def stop(self):
        """Graceful stop (SIGTERM), then SIGKILL after ``stop_timeout``; returns the exit code."""
        if self.process is None:
            return None
        stop_process_group(self.process, self.stop_timeout)
        return self.process.returncode

    def kill(self):
        """SIGKILL the master and its worker at once, as a crash would."""
        if self.process is None:
            return None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        return self.process.returncode

    def restart(self):
        self.stop()
        return self.start()

    def close(self):
        self.stop()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return f"<GunicornServer {self.url} {'running' if self.running else 'stopped'}>"


def flask_command(*args, database_url, redis_url=None, env=None, timeout=120, check=True):
    """Run ``flask --app wsgi ARGS`` from the repository root; returns the CompletedProcess.

    With ``check`` a non-zero exit raises AssertionError showing the output.
    """
    result = subprocess.run(
        [*_command("flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=app_environment(database_url, redis_url, env=env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"flask {' '.join(args)} exited with {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


def upgrade_database(database_url, revision="head"):
    """``flask --app wsgi db upgrade`` on this database."""
    return flask_command("db", "upgrade", revision, database_url=database_url)


def downgrade_database(database_url, revision="base"):
    return flask_command("db", "downgrade", revision, database_url=database_url)


TEAM = "Team"


def create_user(database_url, username, password, full_name=None, check=True, project=TEAM):
    """``flask --app wsgi create-user``, in ``project`` (the first user made there is its
    admin, the others members; None: in no project); returns the CompletedProcess."""
    args = ["create-user", username, "--password", password]
    if project is not None:
        args += ["--project", project]
    if full_name is not None:
        args += ["--full-name", full_name]
    return flask_command(*args, database_url=database_url, check=check)


@contextlib.contextmanager
def postgres_database():
    """A fresh, empty PostgreSQL database (its URL), dropped afterwards.
    Skips (or fails under REQUIRE_SERVICES=1) when PostgreSQL is unreachable."""
    services.require_postgres()
    url = services.create_postgres_database()
    try:
        yield url
    finally:
        services.drop_postgres_database(url)


class NewUser(NamedTuple):
    """A user that ``migrated_postgres_database`` makes with ``create-user``."""

    username: str
    password: str
    full_name: str | None = None
    project: str | None = TEAM


_templates = {}  # a tuple of NewUser → a migrated database holding them, made once per process


def _template_url(users=()):
    """A database brought to the latest migration with the real ``flask db upgrade`` and
    holding ``users``, made with the real ``create-user`` in that order; made once per test
    process and set of users, and dropped at exit. Test databases are copies of it."""
    if users not in _templates:
        url = services.create_postgres_database(template=_template_url() if users else None)
        atexit.register(services.drop_postgres_database, url)
        if users:
            for user in users:
                create_user(url, user.username, user.password, full_name=user.full_name, project=user.project)
        else:
            upgrade_database(url)
        _templates[users] = url
    return _templates[users]


@contextlib.contextmanager
def migrated_postgres_database(users=()):
    """A fresh PostgreSQL database at the latest migration holding ``users`` (NewUser, the
    first of a project its admin): a copy of one that the real ``flask db upgrade`` and
    ``create-user`` made; dropped afterwards."""
    services.require_postgres()
    url = services.create_postgres_database(template=_template_url(tuple(users)))
    try:
        yield url
    finally:
        services.drop_postgres_database(url)
