"""Soak: 200 live sockets and 10 writers against two server processes for minutes, with
a Redis restart midway; then every client's board is checked against the database.

    python -m bench.soak                # 5 minutes
    python -m bench.soak --quick        # about 30 seconds
    python -m bench.soak --minutes 15 --sockets 400 --writers 20

It starts its own redis-server (never the shared one), a fresh migrated PostgreSQL
database and two ``gunicorn -k eventlet -w 1`` processes sharing both. The sockets
are reference clients (``boardclient.BoardClient``), spread over both processes and
over four boards; each loads its board over REST and applies ``change`` events. The
writers create, edit, move and delete tasks (and rename sprints) through either
process, each on tasks of its own, so every write is valid and must succeed.

Midway the redis-server is stopped and started again (no persistence: it comes back
empty). At the end, once the writes have stopped, it reports:

* errors: REST writes that failed or answered an unexpected status, socket
  disconnects and reconnects, client resyncs, seconds /healthz was not 200;
* hints: two more sockets on one board, one per process, send and count a hint
  twice a second (hints cross processes through Redis): how long the restart
  interrupted them;
* lost changes: each client's board compared with the same board read from the
  database through the REST API, and the seqs each client received compared with
  the ``events`` rows its board should have been sent since it subscribed;
* memory: VmRSS of each server worker after the clients connected and at the end.

It ends with a "Ratios" table, each figure against a baseline from the same run:
REST write latency (p50, p99) and writes per second while Redis was away, from the
moment it was stopped to ``OUTAGE_TAIL`` seconds after it answered again, against
the same figures before it was stopped (leaving out the writers' first ``WARMUP``
seconds); the longest gap between hints received across processes against the
median gap; each worker's VmRSS at the end against its VmRSS once the clients had
connected. With --quick the windows are short (about 10 s before, 8 s during:
about 190 and 150 writes), so a p99 there rests on two or three writes.

Results go to bench/results/soak-<time>.json and to standard output. Every process
it starts is stopped by its own id at the end, whatever happens.
"""

import argparse
import contextlib
import itertools
import logging
import random
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import requests
import sqlalchemy as sa

from bench.common import (
    PASSWORD,
    app_server,
    bench_lock,
    free_port,
    lock_waited_s,
    log,
    machine,
    pct,
    r3,
    ratios_table,
    start_redis,
    versions,
    write_results,
)
from boardclient import BoardClient, paths_only
from tests.support.servers import create_user, migrated_postgres_database, rss_kb

BOARDS = 4
TASKS_PER_BOARD = 15
BACKLOG_TASKS = 10
USERS = [f"soak{n}" for n in range(1, 6)]
SETTLE = 30.0  # seconds the clients may take to catch up once the writes have stopped
OUTAGE_TAIL = 5.0  # seconds after redis-server is back that still count as the outage window
WARMUP = 5.0  # the writers' first seconds, left out of the baseline window before the outage
REQUEST_TIMEOUT = 15


# ------------------------------------------------------------------ clients


class SoakClient(BoardClient):
    """A BoardClient that counts its connections and disconnections."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.connects = 0
        self.disconnects = 0
        self.start_seq = None
        self.sio.on("disconnect", self._on_disconnect)

    def _on_connect(self):
        self.connects += 1
        super()._on_connect()

    def _on_disconnect(self, *reason):
        self.disconnects += 1


def board_of(client):
    return client.snapshot()


def stored_board(session, url, sprint):
    """The board as the REST API shows it now: the sprint, its tasks and the backlog."""

    def all_pages(path):
        results, next_url = [], url + path
        while next_url:
            page = session.get(next_url, timeout=REQUEST_TIMEOUT).json()
            results += page["results"]
            next_url = page["next"]
        return results

    tasks = all_pages(f"/api/tasks?sprint={sprint}&page_size=100") + all_pages(
        "/api/tasks?backlog=true&page_size=100"
    )
    body = session.get(f"{url}/api/sprints/{sprint}", timeout=REQUEST_TIMEOUT).json()
    return paths_only({"sprint": body, "tasks": {task["id"]: task for task in tasks}})


def board_diff(actual, expected):
    problems = []
    if actual["sprint"] != expected["sprint"]:
        problems.append("sprint differs")
    mine, stored = actual["tasks"], expected["tasks"]
    missing, extra = set(stored) - set(mine), set(mine) - set(stored)
    stale = [task for task in set(mine) & set(stored) if mine[task] != stored[task]]
    if missing:
        problems.append(f"missing tasks {sorted(missing)[:10]}")
    if extra:
        problems.append(f"tasks not on the board {sorted(extra)[:10]}")
    if stale:
        problems.append(f"stale tasks {sorted(stale)[:10]}")
    return problems, len(missing) + len(extra) + len(stale) + (actual["sprint"] != expected["sprint"])


# ------------------------------------------------------------------ writers


class Writer(threading.Thread):
    """Valid writes on tasks of its own, through both processes in turn."""

    def __init__(self, number, urls, token, sprints, username, think, stop, stats):
        super().__init__(daemon=True, name=f"writer-{number}")
        self.number = number
        self.urls = itertools.cycle(urls)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"
        self.sprints = sprints
        self.username = username
        self.think = think
        self.stop = stop
        self.stats = stats
        self.random = random.Random(number)
        self.tasks = {}  # id -> {"sprint": id or None, "status": 1 or 2}
        self.counter = itertools.count(1)

    def call(self, operation, method, path, expected, payload=None):
        url = next(self.urls)
        started = time.monotonic()
        try:
            response = self.session.request(method, url + path, json=payload, timeout=REQUEST_TIMEOUT)
        except requests.RequestException as error:
            self.stats.error(operation, type(error).__name__, time.monotonic() - started)
            return None
        self.stats.done(operation, response.status_code, expected, time.monotonic() - started)
        if response.status_code != expected:
            self.stats.detail(f"{operation} {method} {path} -> {response.status_code} {response.text[:200]}")
            return None
        return response.json() if response.content else {}

    def run(self):
        while not self.stop.is_set():
            self.step()
            self.stop.wait(self.think * self.random.uniform(0.5, 1.5))

    def step(self):
        choice = self.random.random()
        if not self.tasks or (choice < 0.25 and len(self.tasks) < 30):
            self.create()
        elif choice < 0.55:
            self.edit()
        elif choice < 0.70:
            self.move()
        elif choice < 0.80:
            self.start_work()
        elif choice < 0.95:
            self.delete() if len(self.tasks) > 5 else self.edit()
        else:
            self.rename_sprint()

    def create(self):
        sprint = None if self.random.random() < 0.15 else self.random.choice(self.sprints)
        name = f"W{self.number} task {next(self.counter)}"
        body = self.call("create", "POST", "/api/tasks", 201, {"name": name, "sprint": sprint, "order": 1})
        if body:
            self.tasks[body["id"]] = {"sprint": sprint, "status": 1}

    def edit(self):
        task = self.random.choice(list(self.tasks))
        change = {"name": f"W{self.number} edit {next(self.counter)}", "order": self.random.randint(0, 100)}
        if self.random.random() < 0.3:
            change["assigned"] = self.random.choice([self.username, None])
        self.call("edit", "PATCH", f"/api/tasks/{task}", 200, change)

    def move(self):
        task = self.random.choice(list(self.tasks))
        state = self.tasks[task]
        target = self.random.choice([None, *self.sprints])
        if target == state["sprint"]:
            return
        change = {"sprint": target}
        if target is None:  # backlog tasks are Not Started
            change.update(status=1, started=None)
        if self.call("move", "PATCH", f"/api/tasks/{task}", 200, change) is not None:
            state["sprint"] = target
            if target is None:
                state["status"] = 1

    def start_work(self):
        candidates = [t for t, s in self.tasks.items() if s["sprint"] is not None and s["status"] == 1]
        if not candidates:
            return self.edit()
        task = self.random.choice(candidates)
        change = {"status": 2, "started": date.today().isoformat()}
        if self.call("start", "PATCH", f"/api/tasks/{task}", 200, change) is not None:
            self.tasks[task]["status"] = 2

    def delete(self):
        task = self.random.choice(list(self.tasks))
        if self.call("delete", "DELETE", f"/api/tasks/{task}", 204) is not None:
            del self.tasks[task]

    def rename_sprint(self):
        sprint = self.random.choice(self.sprints)
        self.call(
            "rename sprint", "PATCH", f"/api/sprints/{sprint}", 200, {"description": f"by W{self.number}"}
        )


class WriteStats:
    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = Counter()  # (operation, status or error name)
        self.unexpected = 0
        self.exceptions = 0
        self.latencies = []
        self.ended = []  # time.monotonic() when each write (latency) ended
        self.details = []

    def done(self, operation, status, expected, seconds):
        with self.lock:
            self.statuses[(operation, status)] += 1
            self.latencies.append(seconds)
            self.ended.append(time.monotonic())
            if status != expected:
                self.unexpected += 1

    def error(self, operation, name, seconds):
        with self.lock:
            self.statuses[(operation, name)] += 1
            self.exceptions += 1
            self.latencies.append(seconds)
            self.ended.append(time.monotonic())

    def window(self, since, until):
        """Writes that ended in [since, until): count, per second, p50 and p99 in ms."""
        with self.lock:
            inside = sorted(s for s, t in zip(self.latencies, self.ended, strict=True) if since <= t < until)
        return {
            "seconds": round(until - since, 1),
            "writes": len(inside),
            "per_second": round(len(inside) / (until - since), 2) if until > since else None,
            "p50_ms": r3(pct(inside, 50) * 1000) if inside else None,
            "p99_ms": r3(pct(inside, 99) * 1000) if inside else None,
        }

    def detail(self, text):
        with self.lock:
            if len(self.details) < 20:
                self.details.append(text)


# ------------------------------------------------------------------ monitoring


class HintProbe(threading.Thread):
    """Two more sockets on one board, one on each process: a hint from A twice a second,
    counted on B. Hints travel through the Socket.IO message queue on Redis, so this
    shows how long the Redis restart interrupted them."""

    def __init__(self, servers, token, sprint, task, stop):
        super().__init__(daemon=True, name="hint-probe")
        import socketio

        self.stop, self.sprint, self.task = stop, sprint, task
        self.sender = socketio.Client(reconnection=False)
        self.receiver = socketio.Client(reconnection=False)
        self.sent, self.refused, self.received = 0, 0, []
        self.receiver.on("hint", lambda hint: self.received.append(time.monotonic()))
        for client, server in ((self.sender, servers[0]), (self.receiver, servers[1])):
            client.connect(server.url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
            client.call("subscribe", {"sprint": sprint, "since": None}, timeout=10)
        self.started = time.monotonic()

    def run(self):
        while not self.stop.wait(0.5):
            try:
                ack = self.sender.call("hint", {"task": self.task, "action": "dragstart"}, timeout=5)
            except Exception:  # noqa: BLE001 - counted as refused
                ack = None
            self.sent += 1
            self.refused += not (ack and ack.get("ok"))

    def result(self):
        times = [self.started, *self.received]
        gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
        return {
            "sent": self.sent,
            "refused": self.refused,
            "received_on_the_other_process": len(self.received),
            "longest_gap_s": round(max(gaps), 2) if gaps else None,
            "median_gap_s": round(sorted(gaps)[len(gaps) // 2], 2) if gaps else None,
        }

    def close(self):
        for client in (self.sender, self.receiver):
            with contextlib.suppress(Exception):
                client.disconnect()


class Monitor(threading.Thread):
    """Once a second: /healthz of each server; every 10 s: the workers' VmRSS."""

    def __init__(self, servers, stop):
        super().__init__(daemon=True, name="monitor")
        self.servers = servers
        self.stop = stop
        self.unhealthy = []  # (seconds since start, server, answer)
        self.rss = []  # (seconds since start, [kB per worker])
        self.started = time.monotonic()

    def run(self):
        tick = 0
        while not self.stop.wait(1.0):
            elapsed = round(time.monotonic() - self.started, 1)
            for name, server in self.servers.items():
                try:
                    response = requests.get(server.url + "/healthz", timeout=3)
                    if response.status_code != 200:
                        self.unhealthy.append((elapsed, name, response.status_code, response.text.strip()))
                except requests.RequestException as error:
                    self.unhealthy.append((elapsed, name, None, type(error).__name__))
            if tick % 10 == 0:
                self.rss.append((elapsed, [rss_kb(server.worker_pid()) for server in self.servers.values()]))
            tick += 1


# ------------------------------------------------------------------ the run


def seed(url, database_url):
    """Users, four current sprints with tasks, some backlog tasks; returns (tokens, sprint ids)."""
    with ThreadPoolExecutor(len(USERS)) as pool:
        list(pool.map(lambda name: create_user(database_url, name, PASSWORD), USERS))
    tokens = {}
    for name in USERS:
        response = requests.post(
            url + "/api/token", json={"username": name, "password": PASSWORD}, timeout=REQUEST_TIMEOUT
        )
        response.raise_for_status()
        tokens[name] = response.json()["token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Token {tokens[USERS[0]]}"
    sprints = []
    for number in range(BOARDS):
        end = (date.today() + timedelta(days=14 + number)).isoformat()
        response = session.post(url + "/api/sprints", json={"name": f"Soak {number}", "end": end}, timeout=30)
        response.raise_for_status()
        sprints.append(response.json()["id"])
    bodies = [{"name": f"Seed {s}-{n}", "sprint": s} for s in sprints for n in range(TASKS_PER_BOARD)]
    bodies += [{"name": f"Backlog {n}", "sprint": None} for n in range(BACKLOG_TASKS)]
    with ThreadPoolExecutor(8) as pool:
        for response in pool.map(lambda b: session.post(url + "/api/tasks", json=b, timeout=30), bodies):
            response.raise_for_status()
    return tokens, sprints


def session_post(url, tokens, path, body):
    response = requests.post(
        url + path, json=body, headers={"Authorization": f"Token {tokens[USERS[0]]}"}, timeout=REQUEST_TIMEOUT
    )
    response.raise_for_status()
    return response.json()


def connect_clients(servers, tokens, sprints, count):
    """``count`` clients, alternating processes and boards, started a few at a time."""
    urls = [server.url for server in servers]
    names = list(tokens)
    specs = [
        (urls[n % len(urls)], tokens[names[n % len(names)]], sprints[n % len(sprints)]) for n in range(count)
    ]
    clients = [SoakClient(url, token, sprint) for url, token, sprint in specs]

    def start(client):
        for attempt in range(3):
            try:
                client.start(timeout=30)
                client.start_seq = client.last_seq
                return None
            except Exception as error:  # noqa: BLE001 - reported, and retried
                client.stop()
                if attempt == 2:
                    return f"{type(error).__name__}: {error}"
                time.sleep(1)
        return None

    with ThreadPoolExecutor(20) as pool:
        failures = [failure for failure in pool.map(start, clients) if failure]
    return clients, failures


def restart_redis(redis_proc, port, log_dir, down_seconds):
    log(f"stopping redis-server on {port}")
    redis_proc.stop()
    time.sleep(down_seconds)
    log(f"starting redis-server on {port} again")
    return start_redis(port, log_dir, cpu=None)


def expected_seqs(database_url, sprint, after):
    """The seqs of the ``events`` rows board ``sprint`` is sent, after ``after``."""
    from app.models import Event, Sprint
    from app.realtime.rooms import seen_by_board

    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            project = connection.execute(sa.select(Sprint.project_id).where(Sprint.id == sprint)).scalar_one()
            rows = connection.execute(
                sa.select(Event.seq).where(seen_by_board(sprint, project), Event.seq > (after or 0))
            ).scalars()
            return set(rows)
    finally:
        engine.dispose()


def settle(clients, session, url, sprints, timeout):
    """Wait until every client shows its board as stored (or the time is up)."""
    deadline = time.monotonic() + timeout
    while True:
        stored = {sprint: stored_board(session, url, sprint) for sprint in sprints}
        behind = [c for c in clients if board_diff(board_of(c), stored[c.sprint_id])[1]]
        if not behind or time.monotonic() > deadline:
            return stored, behind
        time.sleep(1.0)


def run(args):
    duration = 30 if args.quick else args.minutes * 60
    work_dir = f"/tmp/soak-{time.strftime('%Y%m%d-%H%M%S')}"
    result = {
        "command": " ".join(["python", "-m", "bench.soak", *sys.argv[1:]]),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine(),
        "versions": versions(),
        "settings": {
            "seconds": duration,
            "sockets": args.sockets,
            "writers": args.writers,
            "writer_think_s": args.think,
            "boards": BOARDS,
            "redis_down_s": args.redis_down,
        },
    }
    redis_port = free_port()
    redis_proc = start_redis(redis_port, work_dir, cpu=None)
    servers, clients, probe = [], [], None
    stop = threading.Event()
    try:
        with migrated_postgres_database() as database_url:
            redis_url = f"redis://127.0.0.1:{redis_port}/0"
            env = {"REDIS_PREFIX": "soak", "HOUSEKEEPING_INTERVAL": "5"}
            servers = [app_server(database_url, redis_url=redis_url, cpu=None, env=env) for _ in range(2)]
            for server in servers:
                server.start()
            log(f"servers {[s.url for s in servers]}, redis {redis_url}")
            tokens, sprints = seed(servers[0].url, database_url)

            log(f"connecting {args.sockets} clients")
            connect_started = time.monotonic()
            clients, failures = connect_clients(servers, tokens, sprints, args.sockets)
            result["connect"] = {
                "seconds": round(time.monotonic() - connect_started, 1),
                "failures": failures,
            }
            log(f"{len(clients) - len(failures)} clients connected in {result['connect']['seconds']} s")
            rss_start = [rss_kb(server.worker_pid()) for server in servers]

            monitor = Monitor({"A": servers[0], "B": servers[1]}, stop)
            monitor.start()
            probe_task = session_post(
                servers[0].url, tokens, "/api/tasks", {"name": "Hinted", "sprint": sprints[0]}
            )
            probe = HintProbe(servers, tokens[USERS[0]], sprints[0], probe_task["id"], stop)
            probe.start()
            stats = WriteStats()
            names = list(tokens)
            writers = [
                Writer(
                    number,
                    [s.url for s in (servers if number % 2 else servers[::-1])],
                    tokens[names[number % len(names)]],
                    sprints,
                    names[number % len(names)],
                    args.think,
                    stop,
                    stats,
                )
                for number in range(args.writers)
            ]
            started = time.monotonic()
            for writer in writers:
                writer.start()
            log(f"writing for {duration} s; redis-server restarts at {duration // 2} s")

            time.sleep(duration / 2)
            outage_started = time.monotonic() - started
            redis_proc = restart_redis(redis_proc, redis_port, work_dir, args.redis_down)
            back = time.monotonic() - started
            result["redis_restart"] = {
                "at_s": round(outage_started, 1),
                "back_at_s": round(back, 1),
            }
            time.sleep(max(0.0, duration - (time.monotonic() - started)))

            stop.set()
            for writer in writers:
                writer.join(REQUEST_TIMEOUT + 5)
            monitor.join(5)
            probe.join(10)
            write_seconds = time.monotonic() - started
            log(f"writes stopped after {write_seconds:.0f} s; letting the clients settle")

            session = requests.Session()
            session.headers["Authorization"] = f"Token {tokens[names[0]]}"
            settle_started = time.monotonic()
            stored, behind = settle(clients, session, servers[0].url, sprints, SETTLE)
            settle_seconds = time.monotonic() - settle_started
            rss_end = [rss_kb(server.worker_pid()) for server in servers]

            mismatched = {}
            lost_seqs = {}
            for index, client in enumerate(clients):
                problems, count = board_diff(board_of(client), stored[client.sprint_id])
                if count:
                    mismatched[index] = problems
                if client.start_seq is not None and not client.resyncs:
                    received = {change["seq"] for change in client.received}
                    expected = expected_seqs(database_url, client.sprint_id, client.start_seq)
                    missing = expected - received
                    if missing:
                        lost_seqs[index] = sorted(missing)[:20]

            latencies = sorted(stats.latencies)
            result.update(
                {
                    "write_seconds": round(write_seconds, 1),
                    "writes": {
                        "total": len(latencies),
                        "per_second": round(len(latencies) / write_seconds, 1),
                        "unexpected_status": stats.unexpected,
                        "exceptions": stats.exceptions,
                        "by_operation": {
                            f"{op} {status}": n for (op, status), n in sorted(stats.statuses.items())
                        },
                        "latency_ms": {
                            "p50": r3(pct(latencies, 50) * 1000) if latencies else None,
                            "p95": r3(pct(latencies, 95) * 1000) if latencies else None,
                            "p99": r3(pct(latencies, 99) * 1000) if latencies else None,
                            "max": r3(latencies[-1] * 1000) if latencies else None,
                        },
                        "failures": stats.details,
                    },
                    "write_windows": {
                        "before_outage": stats.window(started + WARMUP, started + outage_started),
                        "outage": stats.window(started + outage_started, started + back + OUTAGE_TAIL),
                    },
                    "events": {},
                    "clients": {
                        "connected": len(clients) - len(failures),
                        "disconnects": sum(c.disconnects for c in clients),
                        "reconnects": sum(max(0, c.connects - 1) for c in clients),
                        "clients_that_reconnected": sum(1 for c in clients if c.connects > 1),
                        "resyncs": sum(c.resyncs for c in clients),
                        "changes_received": sum(len(c.received) for c in clients),
                        "settle_s": round(settle_seconds, 1),
                        "boards_differing_from_database": len(mismatched),
                        "board_differences": dict(list(mismatched.items())[:10]),
                        "clients_missing_seqs": len(lost_seqs),
                        "missing_seqs": dict(list(lost_seqs.items())[:10]),
                        "still_behind_after_settle": len(behind),
                    },
                    "hints": probe.result(),
                    "health": {
                        "unhealthy_samples": len(monitor.unhealthy),
                        "samples": monitor.unhealthy[:40],
                    },
                    "memory_kb": {
                        "worker_rss_start": dict(zip("AB", rss_start, strict=True)),
                        "worker_rss_end": dict(zip("AB", rss_end, strict=True)),
                        "growth": dict(
                            zip("AB", [e - s for s, e in zip(rss_start, rss_end, strict=True)], strict=True)
                        ),
                        "samples": monitor.rss,
                    },
                }
            )
            with contextlib.suppress(Exception):
                engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
                with engine.connect() as connection:
                    result["events"]["rows"] = connection.execute(
                        sa.text("select count(*) from events")
                    ).scalar()
                    result["events"]["max_seq"] = connection.execute(
                        sa.text("select max(seq) from events")
                    ).scalar()
                engine.dispose()
            for index, server in enumerate(servers):
                result.setdefault("server_logs", {})["AB"[index]] = log_summary(server.log())
    finally:
        stop.set()
        log("stopping clients, servers and redis-server")
        if probe is not None:
            probe.close()
        with ThreadPoolExecutor(20) as pool:
            list(pool.map(lambda c: c.stop(), clients))
        for server in servers:
            server.close()
        redis_proc.stop()
    return result


def log_summary(text):
    """Tracebacks (the log line before each and its exception), and the ERROR lines, counted."""
    lines = text.splitlines()
    tracebacks = []
    for index, line in enumerate(lines):
        if line.startswith("Traceback"):
            after = (ln for ln in lines[index + 1 :] if ln and not ln.startswith((" ", "Traceback")))
            tracebacks.append(
                {"after": lines[index - 1][:200] if index else "", "exception": next(after, "")[:200]}
            )
    errors = Counter(
        line.split("] ", 1)[-1].split(" (")[0][:120]
        for line in lines
        if "ERROR" in line and line.startswith("[")
    )
    # Sockets the server closed itself, by reason (app/realtime/packets.py says why).
    closed = Counter(
        line.split("Closing socket ", 1)[1].split(": ", 1)[-1][:80]
        for line in lines
        if "Closing socket " in line
    )
    return {
        "tracebacks": len(tracebacks),
        "traceback_details": tracebacks[:10],
        "listener_resubscribed": text.count("resubscribing"),
        "error_lines": dict(errors.most_common(10)),
        "sockets_closed_by_the_server": dict(closed.most_common(10)),
    }


def summary(result):
    writes, clients, memory = result["writes"], result["clients"], result["memory_kb"]
    latency, restart, settings = writes["latency_ms"], result["redis_restart"], result["settings"]
    hints = result["hints"]
    start, end, grown = memory["worker_rss_start"], memory["worker_rss_end"], memory["growth"]
    growth = ", ".join(f"{name} {start[name]} -> {end[name]} ({grown[name]:+d})" for name in "AB")
    logs = ", ".join(
        f"{name}: {info['tracebacks']} tracebacks, listener resubscribed {info['listener_resubscribed']}x"
        for name, info in result["server_logs"].items()
    )
    lines = [
        f"command: {result['command']}",
        f"load average at start: {result['machine']['loadavg']}; {result['machine']['nproc']} CPUs",
        f"ran {result['write_seconds']} s: {clients['connected']} sockets, {settings['writers']} writers; "
        f"redis-server stopped at {restart['at_s']} s, back at {restart['back_at_s']} s",
        f"writes: {writes['total']} ({writes['per_second']}/s); "
        f"unexpected status {writes['unexpected_status']}, exceptions {writes['exceptions']}; "
        f"latency p50 {latency['p50']} ms, p95 {latency['p95']} ms, p99 {latency['p99']} ms, "
        f"max {latency['max']} ms",
        f"events rows: {result['events'].get('rows')}; "
        f"changes received by all clients: {clients['changes_received']}",
        f"socket disconnects {clients['disconnects']}, reconnects {clients['reconnects']} "
        f"({clients['clients_that_reconnected']} clients), resyncs {clients['resyncs']}, "
        f"connect failures {len(result['connect']['failures'])}",
        f"lost changes: boards differing from the database {clients['boards_differing_from_database']}, "
        f"clients missing seqs {clients['clients_missing_seqs']} (settled in {clients['settle_s']} s)",
        f"hints A -> B: {hints['sent']} sent, {hints['refused']} refused, "
        f"{hints['received_on_the_other_process']} received on B, longest gap {hints['longest_gap_s']} s",
        f"/healthz not 200: {result['health']['unhealthy_samples']} of about "
        f"{2 * int(result['write_seconds'])} samples",
        f"worker VmRSS kB, after connecting -> at the end: {growth}",
        f"server logs: {logs}",
    ]
    return "\n".join(lines)


def ratios(result):
    before, outage = result["write_windows"]["before_outage"], result["write_windows"]["outage"]
    hints, memory = result["hints"], result["memory_kb"]
    during = f"Redis away (+{OUTAGE_TAIL:.0f} s; {outage['writes']} writes)"
    quiet = f"before it ({before['writes']} writes)"
    rows = [
        (f"write latency p50, {during} ÷ {quiet}", outage["p50_ms"], before["p50_ms"], "ms", 1),
        (f"write latency p99, {during} ÷ {quiet}", outage["p99_ms"], before["p99_ms"], "ms", 1),
        (f"writes per second, {during} ÷ {quiet}", outage["per_second"], before["per_second"], "/s", 1),
        ("hints A -> B: longest gap ÷ median gap", hints["longest_gap_s"], hints["median_gap_s"], "s", 2),
    ]
    for name in "AB":
        start, end = memory["worker_rss_start"][name], memory["worker_rss_end"][name]
        rows.append(
            (f"worker {name} VmRSS: at the end ÷ after connecting", end / 1024, start / 1024, "MB", 1)
        )
    return ratios_table(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="how long the writers write (default 5)")
    parser.add_argument("--quick", action="store_true", help="a 30-second run")
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--writers", type=int, default=10)
    parser.add_argument("--think", type=float, default=0.5, help="mean seconds between one writer's writes")
    parser.add_argument("--redis-down", type=float, default=3.0, help="seconds redis-server stays stopped")
    parser.add_argument("--no-lock", action="store_true", help="do not take the shared benchmark lock")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    lock = contextlib.nullcontext() if args.no_lock else bench_lock()
    started = time.monotonic()
    with lock:
        result = run(args)
    path = write_results("soak", result)
    print(summary(result))
    print()
    print(ratios(result))
    print(f"\nresults: {path}")
    waited = lock_waited_s()
    print(f"{time.monotonic() - started:.0f} s, of which {waited:.0f} s waiting for the benchmark lock")
    clients, writes = result["clients"], result["writes"]
    lost = clients["boards_differing_from_database"] + clients["clients_missing_seqs"]
    return 1 if lost or writes["unexpected_status"] or writes["exceptions"] else 0


if __name__ == "__main__":
    sys.exit(main())
