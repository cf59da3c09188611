"""Real gunicorn (eventlet, one worker) on PostgreSQL under 20 concurrent clients.

For 20 seconds every client creates tasks and edits them: status moves that
follow the validation rules, sprint moves, renames, order changes, and edits of
other clients' tasks with and without ``If-Match``. Every answer must be the
expected one (no 5xx, no 400, no dropped connection), and at the end the rows,
seen through the API and directly in the database, must be exactly what the
last successful write of each task answered. The ETag's version orders the
writes of one task: it grows by one on every real change, so one version is one
state, and the highest version a client was given is the last write.
"""

import random
import re
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import requests
import sqlalchemy as sa

from boardclient import http_session
from tests.support.servers import GunicornServer, NewUser, migrated_postgres_database

pytestmark = pytest.mark.server

CLIENTS = 20
DURATION = 20.0  # seconds of load
MAX_REQUESTS_PER_CLIENT = 5000
MAX_TASKS_PER_CLIENT = 30
MAX_FAILURES = 50  # stop early once this many things went wrong
REQUEST_TIMEOUT = 30
USERS = ("ann", "ben", "cat")
PASSWORD = "concurrent-clients"
SEED = 20261125

WRITABLE = ("name", "description", "sprint", "status", "order", "assigned", "started", "due", "completed")
RULE_FIELDS = ("sprint", "status", "started", "completed")  # changed by the task's creator only
ETAG = re.compile(r'^"tasks-(\d+)-(\d+)"$')
TODAY = date.today()


@pytest.fixture(scope="module")
def board():
    users = [NewUser(username, PASSWORD) for username in USERS]
    with migrated_postgres_database(users) as url, GunicornServer(database_url=url) as server:
        yield SimpleNamespace(url=server.url, database_url=url, server=server)


class Ledger:
    """Everything the server told the clients, shared by their threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.bodies = defaultdict(dict)  # task id -> {version: (body, what it answered)}
        self.last_write = {}  # task id -> (version, body) of the highest successful write
        self.max_seen = defaultdict(int)  # task id -> highest version anyone was given
        self.owner = {}  # task id -> index of the client that created it
        self.task_ids = []
        self.failures = []
        self.statuses = Counter()
        self.events = Counter()

    def fail(self, message):
        with self.lock:
            self.failures.append(message)

    @property
    def failing(self):
        return len(self.failures) >= MAX_FAILURES

    def count(self, status):
        with self.lock:
            self.statuses[status] += 1

    def event(self, name):
        with self.lock:
            self.events[name] += 1

    def created(self, task_id, client):
        with self.lock:
            self.owner[task_id] = client
            self.task_ids.append(task_id)

    def seen_version(self, task_id):
        with self.lock:
            return self.max_seen[task_id]

    def observe(self, task_id, version, body, write, source):
        """Record a body the server answered for ``task_id`` at ``version``."""
        body = {key: value for key, value in body.items() if key != "message"}
        with self.lock:
            known, known_source = self.bodies[task_id].setdefault(version, (body, source))
            if known != body:
                self.failures.append(
                    f"task {task_id} version {version} was answered with two different bodies "
                    f"(a lost or unversioned write): for {known_source}: {known}; for {source}: {body}"
                )
            self.max_seen[task_id] = max(self.max_seen[task_id], version)
            if write:
                last = self.last_write.get(task_id)
                if last is None or version >= last[0]:
                    self.last_write[task_id] = (version, body)


def dates_for(status, started=None):
    """``started``/``completed`` that the rules allow for ``status``."""
    return {
        "started": None if status == 1 else (started or TODAY.isoformat()),
        "completed": TODAY.isoformat() if status == 4 else None,
    }


class Client:
    """One user at a keyboard: its own session, token and random choices."""

    def __init__(self, index, base_url, ledger, sprints):
        self.index = index
        self.base_url = base_url
        self.ledger = ledger
        self.sprints = sprints
        self.username = USERS[index % len(USERS)]
        self.rng = random.Random(SEED + index)
        self.session = http_session()
        self.own = {}  # task id -> the last body the server answered for my task
        self.versions = {}  # task id -> the latest version I was given
        self.requests = 0
        self.serial = 0

    def next_serial(self):
        self.serial += 1
        return self.serial

    def call(self, method, path, expected, **kwargs):
        """One request; None (and a recorded failure) unless its status is expected."""
        self.requests += 1
        description = (
            f"client {self.index}: {method} {path} {kwargs.get('json', '')} {kwargs.get('headers', '')}"
        )
        try:
            response = self.session.request(method, self.base_url + path, timeout=REQUEST_TIMEOUT, **kwargs)
        except requests.RequestException as error:
            self.ledger.fail(f"{description} -> {type(error).__name__}: {error}")
            return None
        self.ledger.count(response.status_code)
        if response.status_code not in expected:
            answer = f"{response.status_code} (expected {sorted(expected)}): {response.text[:500]}"
            self.ledger.fail(f"{description} -> {answer}")
            return None
        return response

    def version(self, response, task_id):
        match = ETAG.match(response.headers.get("ETag", ""))
        if not match or int(match[1]) != task_id:
            self.ledger.fail(f"task {task_id}: bad ETag {response.headers.get('ETag')!r}")
            return None
        return int(match[2])

    def saw(self, task_id, response, write, source):
        """Record an answer about a task; returns (version, body) or None."""
        version = self.version(response, task_id)
        if version is None:
            return None
        body = response.json()
        if body.get("id") != task_id:
            self.ledger.fail(f"{source}: asked about task {task_id}, answered with {body}")
            return None
        previous = self.versions.get(task_id, 0)
        if version < previous:
            self.ledger.fail(f"{source}: task {task_id} went back from version {previous} to {version}")
        self.versions[task_id] = max(previous, version)
        self.ledger.observe(task_id, version, body, write, source)
        return version, body

    def check_applied(self, payload, body, source):
        wrong = {key: (value, body.get(key)) for key, value in payload.items() if body.get(key) != value}
        if wrong:
            self.ledger.fail(f"{source}: the answer does not show the write (sent, answered): {wrong}")

    # The session

    def login(self):
        response = self.call(
            "POST", "/api/token", {200}, json={"username": self.username, "password": PASSWORD}
        )
        if response is None:
            return False
        self.session.headers["Authorization"] = f"Token {response.json()['token']}"
        return True

    def run(self, deadline):
        while (
            time.monotonic() < deadline
            and self.requests < MAX_REQUESTS_PER_CLIENT
            and not self.ledger.failing
        ):
            roll = self.rng.random()
            if not self.own or (len(self.own) < MAX_TASKS_PER_CLIENT and roll < 0.12):
                self.create()
            elif roll < 0.55:
                self.edit_own()
            elif roll < 0.85:
                self.edit_other()
            else:
                self.read()

    # What a user does

    def create(self):
        rng = self.rng
        sprint = rng.choice([*self.sprints, None])
        status = 1 if sprint is None else rng.randint(1, 4)
        payload = {
            "name": f"c{self.index}-task-{self.next_serial()}",
            "sprint": sprint,
            "status": status,
            "order": rng.randint(0, 999),
            **dates_for(status),
        }
        if rng.random() < 0.5:
            payload["assigned"] = rng.choice(USERS)
        if rng.random() < 0.3:
            payload["due"] = (TODAY + timedelta(days=rng.randint(0, 30))).isoformat()
        if rng.random() < 0.3:
            payload["description"] = f"created by client {self.index}"
        response = self.call("POST", "/api/tasks", {201}, json=payload)
        if response is None:
            return
        task_id = response.json().get("id")
        if response.headers.get("Location") != f"{self.base_url}/api/tasks/{task_id}":
            self.ledger.fail(f"task {task_id}: Location {response.headers.get('Location')!r}")
        self.ledger.created(task_id, self.index)
        seen = self.saw(task_id, response, write=True, source=f"POST by client {self.index}")
        if seen is not None:
            self.own[task_id] = seen[1]
            self.check_applied(payload, seen[1], f"POST task {task_id}")
            self.ledger.event("create")

    def own_change(self, known):
        """A change to my own task that the validation rules allow."""
        rng = self.rng
        sprint, status = known["sprint"], known["status"]
        kind = rng.choice(["status", "status", "sprint", "rename", "order", "due"])
        if kind == "sprint" and status == 4:
            kind = "rename"  # a Done task keeps its sprint
        if kind == "status":
            if sprint is None:  # out of the backlog, onto a board, in any column
                new_status = rng.randint(1, 4)
                return {"sprint": rng.choice(self.sprints), "status": new_status, **dates_for(new_status)}
            new_status = rng.choice([s for s in (1, 2, 3, 4) if s != status])
            return {"status": new_status, **dates_for(new_status, known["started"])}
        if kind == "sprint":
            target = rng.choice([s for s in (*self.sprints, None) if s != sprint])
            if target is None:  # back to the backlog: Not Started
                return {"sprint": None, "status": 1, "started": None, "completed": None}
            return {"sprint": target}
        if kind == "rename":
            return {"name": f"c{self.index}-renamed-{self.next_serial()}"}
        if kind == "order":
            return {"order": rng.randint(-50, 5000)}
        due = TODAY + timedelta(days=rng.randint(0, 60))
        return {"due": rng.choice([due.isoformat(), None])}

    def edit_own(self):
        task_id = self.rng.choice(list(self.own))
        known = self.own[task_id]
        changes = self.own_change(known)
        if self.rng.random() < 0.3:
            method, payload = "PUT", {**{key: known[key] for key in WRITABLE}, **changes}
        else:
            method, payload = "PATCH", changes
        self.write(task_id, method, payload, if_match=self.rng.random() < 0.3, own=True)

    def edit_other(self):
        with self.ledger.lock:
            others = [task_id for task_id in self.ledger.task_ids if task_id not in self.own]
        if not others:
            return self.edit_own()
        task_id = self.rng.choice(others)
        if task_id not in self.versions or self.rng.random() < 0.5:
            response = self.call("GET", f"/api/tasks/{task_id}", {200})
            if response is None:
                return None
            self.saw(task_id, response, write=False, source=f"GET by client {self.index}")
        serial = self.next_serial()
        change = self.rng.choice(
            [
                {"name": f"c{self.index}-took-{serial}"},
                {"order": self.rng.randint(-50, 5000)},
                {"description": f"edited by client {self.index}, #{serial}"},
                {"assigned": self.rng.choice([*USERS, None])},
            ]
        )
        return self.write(task_id, "PATCH", change, if_match=self.rng.random() < 0.6, own=False)

    def read(self):
        if self.rng.random() < 0.5:
            with self.ledger.lock:
                task_id = self.rng.choice(self.ledger.task_ids) if self.ledger.task_ids else None
            if task_id is not None:
                response = self.call("GET", f"/api/tasks/{task_id}", {200})
                if response is not None:
                    self.saw(task_id, response, write=False, source=f"GET by client {self.index}")
                return
        sprint = self.rng.choice(self.sprints)
        response = self.call("GET", f"/api/tasks?sprint={sprint}&page_size=50", {200})
        if response is not None:
            page = response.json()
            if any(task["sprint"] != sprint for task in page["results"]):
                self.ledger.fail(f"GET tasks?sprint={sprint} listed a task of another sprint")

    def write(self, task_id, method, payload, if_match, own):
        source = f"{method} task {task_id} by client {self.index} {payload}"
        headers = {}
        expected = {200}
        before = self.versions.get(task_id)
        # A version someone was already given before this request left: the server
        # is at least there, so an older If-Match must be refused.
        floor = self.ledger.seen_version(task_id)
        if if_match and before is not None:
            headers["If-Match"] = f'"tasks-{task_id}-{before}"'
            expected = {412} if before < floor else {200, 412}
            source += f" If-Match version {before}"
        response = self.call(method, f"/api/tasks/{task_id}", expected, json=payload, headers=headers)
        if response is None:
            return
        seen = self.saw(task_id, response, write=response.status_code == 200, source=source)
        if seen is None:
            return
        version, body = seen
        if version < floor:
            self.ledger.fail(f"{source}: answered version {version}, but version {floor} was already given")
        if response.status_code == 412:
            self.ledger.event("412")
            if own:
                # Only I change these fields of my task, so the current object must still show them.
                lost = {key: (self.own[task_id][key], body[key]) for key in RULE_FIELDS}
                lost = {key: pair for key, pair in lost.items() if pair[0] != pair[1]}
                if lost:
                    self.ledger.fail(f"{source}: 412 shows other values than my last write: {lost}")
                self.own[task_id] = body
            return
        if headers and version not in (before, before + 1):
            self.ledger.fail(
                f"{source}: went through If-Match version {before} but answered version {version}"
            )
        self.check_applied(payload, body, source)
        self.ledger.event(f"{'own' if own else 'other'} {method}{' If-Match' if headers else ''}")
        if own:
            self.own[task_id] = body


def api_session(base_url):
    session = http_session()
    response = session.post(
        base_url + "/api/token", json={"username": USERS[0], "password": PASSWORD}, timeout=REQUEST_TIMEOUT
    )
    assert response.status_code == 200, response.text
    session.headers["Authorization"] = f"Token {response.json()['token']}"
    return session


def all_tasks(session, base_url):
    """Every task, page by page through the ``next`` links."""
    tasks, url, pages = [], base_url + "/api/tasks?page_size=100", 0
    count = None
    while url is not None and pages < 1000:
        response = session.get(url, timeout=REQUEST_TIMEOUT)
        assert response.status_code == 200, response.text
        page = response.json()
        count = page["count"] if count is None else count
        assert page["count"] == count, "the count changed between pages"
        tasks.extend(page["results"])
        url, pages = page["next"], pages + 1
    assert len(tasks) == count
    return tasks


def database_rows(database_url):
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    'SELECT t.id, t.name, t.description, t.sprint_id, t.status, t."order", '
                    "u.username AS assigned, t.started, t.due, t.completed, t.version "
                    "FROM tasks t LEFT JOIN users u ON u.id = t.assigned_id"
                )
            )
            return {row.id: row for row in rows}
    finally:
        engine.dispose()


def as_api(row):
    """A database row in the API's terms (dates as ISO strings)."""
    iso = lambda value: None if value is None else value.isoformat()  # noqa: E731
    return {
        "name": row.name,
        "description": row.description,
        "sprint": row.sprint_id,
        "status": row.status,
        "order": row.order,
        "assigned": row.assigned,
        "started": iso(row.started),
        "due": iso(row.due),
        "completed": iso(row.completed),
    }


def report(ledger, limit=20):
    lines = [f"{len(ledger.failures)} failure(s); statuses {dict(ledger.statuses)}; {dict(ledger.events)}"]
    lines += ledger.failures[:limit]
    return "\n".join(lines)


@pytest.mark.timeout(DURATION + 240)
def test_twenty_concurrent_clients_lose_nothing(board):
    admin = api_session(board.url)
    sprints = []
    for days in (20, 40):
        response = admin.post(
            board.url + "/api/sprints",
            json={"name": f"Load sprint +{days}", "end": (TODAY + timedelta(days=days)).isoformat()},
            timeout=REQUEST_TIMEOUT,
        )
        assert response.status_code == 201, response.text
        sprints.append(response.json()["id"])

    ledger = Ledger()
    clients = [Client(index, board.url, ledger, sprints) for index in range(CLIENTS)]
    start = threading.Barrier(CLIENTS, timeout=60)

    def drive(client):
        logged_in = client.login()
        start.wait()
        if logged_in:
            client.run(time.monotonic() + DURATION)
        client.session.close()
        return client.requests

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        futures = [pool.submit(drive, client) for client in clients]
        total_requests = sum(future.result(timeout=DURATION + 180) for future in futures)
    elapsed = time.monotonic() - began
    print(
        f"\n{CLIENTS} clients, {total_requests} requests in {elapsed:.1f} s "
        f"({total_requests / elapsed:.0f}/s); statuses {dict(ledger.statuses)}; {dict(ledger.events)}"
    )

    assert not ledger.failures, report(ledger)
    assert not [status for status in ledger.statuses if status >= 500], report(ledger)
    # The run did what it says: real load, writes across clients, both outcomes of If-Match.
    assert elapsed >= DURATION
    assert ledger.events["create"] >= CLIENTS, report(ledger)
    assert sum(n for name, n in ledger.events.items() if name.startswith("other")) > 0, report(ledger)
    assert ledger.events["412"] > 0, report(ledger)
    assert sum(n for name, n in ledger.events.items() if "If-Match" in name) > 0, report(ledger)

    # Through the API: exactly the created tasks, each as its last write answered.
    listed = {task["id"]: task for task in all_tasks(admin, board.url)}
    assert sorted(listed) == sorted(ledger.task_ids)
    mismatches = [
        (task_id, body, listed[task_id])
        for task_id, (_, body) in ledger.last_write.items()
        if listed[task_id] != body
    ]
    assert not mismatches, f"{len(mismatches)} task(s) differ from their last write: {mismatches[:5]}"

    # In the database: the same, and at the version of that write (nothing written unseen).
    rows = database_rows(board.database_url)
    assert sorted(rows) == sorted(ledger.task_ids)
    mismatches = []
    for task_id, (version, body) in ledger.last_write.items():
        expected = {key: body[key] for key in WRITABLE} | {"version": version}
        actual = as_api(rows[task_id]) | {"version": rows[task_id].version}
        if actual != expected:
            mismatches.append((task_id, expected, actual))
    assert not mismatches, f"{len(mismatches)} row(s) differ from their last write: {mismatches[:5]}"

    # The server is still healthy and logged no error.
    assert requests.get(board.url + "/healthz", timeout=REQUEST_TIMEOUT).status_code == 200
    log = board.server.log()
    assert "Traceback" not in log and "[ERROR]" not in log, log[-5000:]
