"""Shared pieces of the benchmarks: processes (started and stopped by PID), the
shared measurement lock, CPU and memory counters, percentiles, our app under
gunicorn on a migrated PostgreSQL database, seeding it over REST, results files.

Every process a benchmark starts is a ``Proc`` (or a ``PinnedServer``) and is
stopped by its own PID (and its own process group) in a ``finally`` block.
"""

import contextlib
import fcntl
import json
import math
import os
import platform
import queue
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import requests

from tests.support.servers import (
    GunicornServer,
    children_of,
    create_user,
    free_port,
    migrated_postgres_database,
    redis_server_command,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
LOCK_PATH = "/tmp/anchor-bench.lock"
# The server side gets one core, the load generator the other (when there are two).
SERVER_CPU = 0
CLIENT_CPU = 1 if (os.cpu_count() or 1) >= 2 else 0
CLK_TCK = os.sysconf("SC_CLK_TCK")
SECRET_KEY = "bench-secret-key-not-for-production-0123456789"
PASSWORD = "bench-password"
# The peers we measure against live beside the repository, in ../shared/peers
# (PEERS_DIR overrides); each benchmark copies the one it needs to /tmp first.
PEERS_SOURCE = Path(os.environ.get("PEERS_DIR") or ROOT.parent / "shared" / "peers")
FANOUT_PEER = Path(os.environ.get("FANOUT_PEER", "/tmp/fanout-peer"))
FANOUT_SCRATCH = Path(os.environ.get("FANOUT_SCRATCH", "/tmp/fanout"))
DRF_PEER = Path(os.environ.get("DRF_PEER", "/tmp/drf-peer"))


def now_ns():
    """The one clock every benchmark process uses: CLOCK_MONOTONIC, shared by all processes on the host."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ processes


def taskset(cpu):
    return ["taskset", "-c", str(cpu)] if cpu is not None else []


class Proc:
    """A child process in its own session; stdout lines are queued; stopped by PID."""

    def __init__(self, name, cmd, log_dir, env=None, cwd=ROOT, stdin=False):
        self.name = name
        log_dir = Path(log_dir)
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            cmd,
            cwd=str(cwd),
            env=env,
            text=True,
            bufsize=1,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            start_new_session=True,
        )
        self.pid = self.process.pid
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, tags, timeout):
        """The rest of the next stdout line that starts with one of ``tags``: (tag, rest)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.name}: no {tags} within {timeout:.0f} s")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(
                    f"{self.name} exited (rc={self.process.wait()}) before {tags}; log {self.log_path}"
                )
            for tag in tags:
                if line == tag or line.startswith(tag + " "):
                    return tag, line[len(tag) + 1 :]

    def send(self, line):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def alive(self):
        return self.process.poll() is None

    def stop(self, timeout=8.0):
        """SIGTERM to this PID, SIGKILL after ``timeout``; then its own process group."""
        kids = children_of(self.pid)
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)  # the group we created (start_new_session)
        for kid in kids:
            stop_pid(kid)
        self._log.close()


def stop_pid(pid, timeout=5.0):
    """Make sure one PID we started (or its child) is gone: wait, then SIGKILL."""
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def close_server(server):
    """Stop a server (GunicornServer), close its log, and make sure its master and worker are gone."""
    pids = server.pids()
    server.close()
    for pid in pids:
        stop_pid(pid)


def stop_all(things):
    """Stop what a measurement started, last first: ``Proc``s and servers. One that fails to
    stop does not keep the others running."""
    for thing in reversed(things):
        with contextlib.suppress(Exception):
            if isinstance(thing, Proc):
                thing.stop()
            else:
                close_server(thing)


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cpu_ticks(pid):
    """utime + stime of one process, in clock ticks (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except OSError:
        return 0


def cpu_busy_ticks():
    """Busy ticks (everything but idle and iowait) per CPU, from /proc/stat."""
    busy = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                name, *values = line.split()
                values = [int(v) for v in values]
                busy[name] = sum(values) - values[3] - values[4]
    return busy


class CpuWindow:
    """CPU used by groups of processes, and by the whole machine, between start() and stop()."""

    def __init__(self, groups):
        self.groups = {name: list(pids) for name, pids in groups.items()}

    def start(self):
        self.t0 = time.monotonic()
        self.ticks0 = {pid: cpu_ticks(pid) for pids in self.groups.values() for pid in pids}
        self.busy0 = cpu_busy_ticks()
        return self

    def stop(self):
        wall = time.monotonic() - self.t0
        busy1 = cpu_busy_ticks()
        result = {"window_s": round(wall, 2)}
        ours = 0
        for name, pids in self.groups.items():
            ticks = sum(max(0, cpu_ticks(pid) - self.ticks0.get(pid, 0)) for pid in pids)
            ours += ticks
            result[f"{name}_cpu_s"] = round(ticks / CLK_TCK, 3)
            result[f"{name}_cpu_pct"] = round(100.0 * ticks / CLK_TCK / wall, 1)
        busy = {cpu: busy1[cpu] - self.busy0.get(cpu, 0) for cpu in busy1}
        result["cpu_busy_pct"] = {cpu: round(100.0 * t / CLK_TCK / wall, 1) for cpu, t in busy.items()}
        # Everything else busy on the machine meanwhile: orchestrator, writer, other people's work.
        result["other_cpu_pct"] = round(100.0 * (sum(busy.values()) - ours) / CLK_TCK / wall, 1)
        return result


def wait_until(predicate, timeout, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"{what} not met within {timeout} s")


def port_answers_http(url, timeout=1.0):
    try:
        return requests.get(url, timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


# ------------------------------------------------------------------ lock


_lock_waited = [0.0]


def lock_waited_s():
    """Seconds this process has spent waiting for the shared lock so far (not part of a run's own time)."""
    return _lock_waited[0]


@contextlib.contextmanager
def bench_lock(wait_s=1800):
    """Hold ``flock /tmp/anchor-bench.lock`` (the lock the peers' benchmarks take) for one measurement."""
    fd = os.open(LOCK_PATH, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        asked = time.monotonic()
        deadline = asked + wait_s
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{LOCK_PATH} still held after {wait_s} s") from None
                if not announced:
                    log(f"waiting for {LOCK_PATH}")
                    announced = True
                time.sleep(0.05)
        _lock_waited[0] += time.monotonic() - asked
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            time.sleep(0.5)  # let a benchmark waiting for the lock take its turn
    finally:
        os.close(fd)


# ------------------------------------------------------------------ statistics


def pct(sorted_values, p):
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100.0 * len(sorted_values)) - 1))
    return sorted_values[k]


def r3(value):
    return None if value is None else round(value, 3)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def spread(values):
    """(min, max) of the values that are there."""
    values = [v for v in values if v is not None]
    return (min(values), max(values)) if values else (None, None)


def fmt(value, digits=1):
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    return f"{value:.{digits}f}"


def table(headers, rows):
    """A Markdown table (also readable in a terminal)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def ratios_table(rows):
    """The "Ratios" table a benchmark ends with: each row is (what, figure, baseline, unit,
    digits), the figure and its baseline measured in the same run; the ratio is figure ÷ baseline."""
    lines = []
    for what, value, base, unit, digits in rows:
        value_ok = value is not None and base
        lines.append(
            [
                what,
                f"{fmt(value, digits)} {unit}".strip(),
                f"{fmt(base, digits)} {unit}".strip(),
                (f"{value / base:.3f}" if value / base < 0.1 else f"{value / base:.2f}") if value_ok else "–",
            ]
        )
    headers = ["ratio (figure ÷ baseline, same run)", "figure", "baseline", "ratio"]
    return "## Ratios\n\n" + table(headers, lines)


# ------------------------------------------------------------------ machine and versions


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def machine():
    info = {
        "nproc": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg": loadavg(),
    }
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as f:
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    with contextlib.suppress(OSError, StopIteration), open("/proc/meminfo") as f:
        kb = int(next(line.split()[1] for line in f if line.startswith("MemTotal")))
        info["memory_gib"] = round(kb / 1024 / 1024, 1)
    return info


def versions(extra=()):
    from importlib import metadata

    found = {}
    for name in (
        "Flask",
        "Flask-SocketIO",
        "python-socketio",
        "python-engineio",
        "eventlet",
        "greenlet",
        "gunicorn",
        "SQLAlchemy",
        "psycopg2-binary",
        "redis",
        "aiohttp",
        *extra,
    ):
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    for label, cmd in (
        ("redis-server", ["redis-server", "--version"]),
        ("node", ["node", "--version"]),
        ("wrk", ["wrk", "--version"]),
    ):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            found[label] = (out.stdout or out.stderr).strip().splitlines()[0][:80]
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        git = ["git", "-C", str(ROOT)]
        found["app_commit"] = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        # The working tree under app/ when measured (others may be editing it).
        found["app_changed_files"] = subprocess.run(
            [*git, "status", "--short", "--", "app", "wsgi.py", "config.py"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.split("\n")
    with contextlib.suppress(Exception):
        import psycopg2

        with psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres") as connection:
            with connection.cursor() as cursor:
                cursor.execute("select version()")
                found["postgresql"] = cursor.fetchone()[0].split(" on ")[0]
            connection.close()
    return found


def write_results(kind, data, path=None):
    """Write (or rewrite, with ``path``) bench/results/<kind>-<time>.json; returns its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = path or RESULTS / f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(data, indent=1, default=str))
    return path


# ------------------------------------------------------------------ wrk


def wrk(
    mode,
    seconds,
    out,
    url,
    board,
    log_dir,
    conns,
    threads=1,
    cpu=CLIENT_CPU,
    script=ROOT / "bench" / "rest.lua",
    env=None,
):
    """``wrk -t<threads> -c<conns>`` for ``seconds`` against ``url`` with a Lua script
    (bench/rest.lua by default: MODE, the board's token, sprint and task ids), pinned to
    ``cpu`` (None: unpinned); returns the JSON summary the script writes to ``out``."""
    env = {
        **os.environ,
        "MODE": mode,
        "TOKEN": board["tokens"][0],
        "SPRINT": str(board["sprint"]),
        "TASK_IDS": ",".join(str(t) for t in board["task_ids"]),
        "MAX_REQUESTS": "300000",
        "OUT": str(out),
        **(env or {}),
    }
    cmd = [
        *taskset(cpu),
        "timeout",
        str(int(seconds) + 30),
        "wrk",
        f"-t{threads}",
        f"-c{conns}",
        f"-d{int(seconds)}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    with open(Path(log_dir) / f"{Path(out).stem}.txt", "w") as text:
        subprocess.run(cmd, env=env, stdout=text, stderr=subprocess.STDOUT, check=False, timeout=seconds + 60)
    return json.loads(Path(out).read_text())


# ------------------------------------------------------------------ Redis of our own


def start_redis(port, log_dir, cpu=SERVER_CPU):
    """A private redis-server (never the shared one on 6379), no persistence."""
    if port == 6379:
        raise ValueError("the shared Redis on 6379 is not ours to use for benchmarks")
    proc = Proc(
        f"redis-{port}",
        [*taskset(cpu), *redis_server_command(port, "--maxclients", "20000", "--loglevel", "warning")],
        log_dir,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(64).startswith(b"+PONG"):
                return proc
        time.sleep(0.1)
    proc.stop()
    raise TimeoutError(f"redis-server on {port} did not answer")


# ------------------------------------------------------------------ our app


class PinnedServer(GunicornServer):
    """Our app under ``gunicorn -k eventlet -w 1``, pinned to one CPU with taskset."""

    def __init__(self, *args, cpu=SERVER_CPU, **kwargs):
        self.cpu = cpu
        super().__init__(*args, **kwargs)

    @property
    def command(self):
        return [*taskset(self.cpu), *super().command]


def app_server(
    database_url, redis_url=None, worker_connections=5000, cpu=SERVER_CPU, env=None, extra_args=(), **kwargs
):
    """A PinnedServer; ``worker_connections=None`` keeps gunicorn's default (1000)."""
    args = ["--log-level", "warning", "--keep-alive", "75", "--timeout", "120", *extra_args]
    if worker_connections:
        args += ["--worker-connections", str(worker_connections)]
    return PinnedServer(
        database_url,
        redis_url=redis_url,
        secret_key=SECRET_KEY,
        args=args,
        cpu=cpu,
        startup_timeout=60,
        env={"PUBLIC_URL": "http://127.0.0.1", **(env or {})},
        **kwargs,
    )


def start_feed(url, token):
    """Open (and close) one socket so that the process starts following the change log.

    Needed before a burst of connections: see "Findings" in docs/benchmarks.md (the
    first sockets to reach a fresh process wait for the feed to start while holding
    database connections, and a burst larger than the pool times out after 30 s).
    """
    import socketio

    client = socketio.Client(reconnection=False)
    client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=30)
    client.disconnect()


def database_name(url):
    from sqlalchemy.engine import make_url

    return make_url(url).database


def pg_backend_pids(dbname):
    """PIDs of the PostgreSQL backends connected to our benchmark database."""
    import psycopg2

    connection = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select pid from pg_stat_activity where datname = %s and pid <> pg_backend_pid()", (dbname,)
            )
            return [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()


def pin_pids(pids, cpu):
    """Pin processes (our own database backends) to one CPU; returns those pinned."""
    pinned = []
    for pid in pids:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(pid, {cpu})
            pinned.append(pid)
    return pinned


def seed_board(base_url, database_url, users=3, tasks=100):
    """Users (with API tokens), one current sprint and ``tasks`` tasks in it, 25 per status,
    assigned in turn, through the CLI and the REST API. Returns {sprint, tokens, task_ids}."""
    from concurrent.futures import ThreadPoolExecutor

    names = [f"bench{i}" for i in range(1, users + 1)]

    def add_user(name):
        result = create_user(database_url, name, PASSWORD, full_name=f"Bench User {name[5:]}", check=False)
        if result.returncode != 0 and "already exists" not in (result.stderr + result.stdout):
            raise RuntimeError(result.stderr)

    with ThreadPoolExecutor(users) as pool:
        list(pool.map(add_user, names))
    http = requests.Session()
    tokens = []
    for name in names:
        credentials = {"username": name, "password": PASSWORD}
        response = http.post(f"{base_url}/api/token", json=credentials, timeout=30)
        response.raise_for_status()
        tokens.append(response.json()["token"])
    http.headers["Authorization"] = f"Token {tokens[0]}"
    today = date.today()
    end = today + timedelta(days=14)
    response = http.post(
        f"{base_url}/api/sprints", json={"name": "Bench sprint", "end": end.isoformat()}, timeout=30
    )
    if response.status_code == 400:  # already seeded (same end date): reuse it
        sprints = http.get(f"{base_url}/api/sprints?end_min={end}&end_max={end}", timeout=30).json()
        sprint = sprints["results"][0]["id"]
    else:
        response.raise_for_status()
        sprint = response.json()["id"]
    existing = http.get(f"{base_url}/api/tasks?sprint={sprint}&page_size=100", timeout=30).json()
    task_ids = [task["id"] for task in existing["results"]]

    def add_task(i):
        status = (i - 1) % 4 + 1
        body = {
            "name": f"Task {i}",
            "description": f"Description of benchmark task number {i}.",
            "sprint": sprint,
            "status": status,
            "order": i,
            "assigned": names[(i - 1) % len(names)],
            "due": (today + timedelta(days=10)).isoformat(),
        }
        if status >= 2:
            body["started"] = (today - timedelta(days=3)).isoformat()
        if status == 4:
            body["completed"] = (today - timedelta(days=1)).isoformat()
        response = requests.post(f"{base_url}/api/tasks", json=body, headers=http.headers, timeout=30)
        response.raise_for_status()
        return response.json()["id"]

    with ThreadPoolExecutor(8) as pool:
        task_ids += sorted(pool.map(add_task, range(len(task_ids) + 1, tasks + 1)))
    return {"sprint": sprint, "tokens": tokens, "usernames": names, "task_ids": task_ids}


@contextlib.contextmanager
def seeded_database(log_dir, tasks=100):
    """A fresh migrated PostgreSQL database with the benchmark board in it (dropped afterwards)."""
    with migrated_postgres_database() as url:
        with _seed_server(url) as server:
            board = seed_board(server.url, url, tasks=tasks)
        yield url, board


@contextlib.contextmanager
def _seed_server(url):
    server = app_server(url, cpu=None)
    server.start()
    try:
        yield server
    finally:
        server.close()


__all__ = ["free_port"]
