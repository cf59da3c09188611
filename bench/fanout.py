"""Fan-out benchmark: write request → `change` event at N websocket clients on one board,
or on many boards (--boards).

    python -m bench.fanout --quick                 # N=100, one short repetition (< 1 min)
    python -m bench.fanout --reps 3 --ns 100,500,1000
    python -m bench.fanout --cfgs ours1,S2 --ns 500 --reps 2
    python -m bench.fanout --boards 250 --per-board 4 --reps 2   # many boards (below)
    python -m bench.fanout --boards 250 --quick                  # 50 boards x 4, short (< 2 min)

Configurations (interleaved within each repetition, order reversed every other one):
  ours1  our app, one `gunicorn -k eventlet -w 1` process (no Redis)
  ours1-stockgc  the same with Python's own garbage collector settings (GC_TUNING=0)
  ours1-gevent  our app, one `gunicorn -k gevent -w 1` process (SOCKETIO_ASYNC_MODE=gevent)
  ours2  our app, two such processes sharing a private Redis; clients split
         between them, writes to the first
  S2     the peers' bare Flask-SocketIO server (the floor of our stack)
  S1     the peers' Node socket.io 4.8 server
  S0     raw Redis PUBLISH to N redis.asyncio subscribers
  S3     (optional) two S2 processes sharing a Redis message queue

Server side pinned to CPU0 (our database backends too, once they exist), the
load generator (client processes and the writer) to CPU1. Every run holds
/tmp/anchor-bench.lock. Results: a table on stdout and bench/results/fanout-*.json.

Many boards (--boards B --per-board K):
  B more sprints (boards) are seeded in the benchmark's one project, through the
  REST API like the first board, each with --tasks-per-board tasks (4). N = B x K
  sockets; socket g subscribes ({"sprint", "since": null}) to board g mod B.
  Writes go round-robin over the boards (write i to board i mod B, that board's
  tasks in turn), --boards-rate writes/s in total (20), open loop on a fixed
  grid; --boards-warmup (40) then --boards-measure (600) writes. Each write is
  expected at the K sockets of its board only: a receipt at any other socket is
  a routing error, and so is any task change a client sees for another sprint.
  In the same repetition the same configuration (ours1 by default; ours2 works
  too) is measured with the N sockets on one board at --rate (5/s), the
  existing mode; the two alternate which goes first. The report gives many / one
  for p50, p99, completion and server CPU per write. The servers run with
  bench/feed_timing.py as their gunicorn config file (--no-feed-timing leaves
  it out): it times the log feed's log read, routing and emit per change.
  --quick: at most 50 boards, one repetition, 10 + 100 writes (one board: 3 + 15).
"""

import argparse
import array
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench import common, fanout_boards
from bench.common import (
    CLIENT_CPU,
    FANOUT_PEER,
    FANOUT_SCRATCH,
    PEERS_SOURCE,
    PYTHON,
    ROOT,
    SERVER_CPU,
    CpuWindow,
    Proc,
    fmt,
    log,
    median,
    pct,
    r3,
    spread,
    table,
    taskset,
)
from bench.fanout_clients import ID_BASE
from tests.support.servers import children_of, rss_kb

CONFIGS = {
    "ours1": "our app, 1 process (gunicorn -k eventlet -w 1)",
    "ours1-stockgc": "the same with Python's own garbage collector settings (GC_TUNING=0)",
    "ours1-gevent": "our app, 1 process under gevent (gunicorn -k gevent -w 1)",
    "ours2": "our app, 2 processes + Redis (writes to one)",
    "S2": "bare Flask-SocketIO, gunicorn -k eventlet -w 1 (peer)",
    "S1": "Node socket.io 4.8 (peer)",
    "S0": "raw Redis PUBLISH, redis.asyncio subscribers",
    "S3": "2x bare Flask-SocketIO + Redis queue (peer)",
}
OURS_ENV = {"ours1-stockgc": {"GC_TUNING": "0"}, "ours1-gevent": {"SOCKETIO_ASYNC_MODE": "gevent"}}
DEFAULT_CFGS = "ours1,ours2,S2,S1,S0"
LOG_ROOT = Path("/tmp/bench-fanout")
DRAIN_S = 20
MANY_BOARDS_HELP = __doc__[__doc__.index("Many boards (--boards") :]
WORKER_CONNECTIONS = 5000  # the same cap the peers' S2 uses; gunicorn's default (1000) is too low


def ensure_fanout_peer():
    """The fanout peer copied out to /tmp and set up (node_modules and a venv under /tmp/fanout)."""
    if not (FANOUT_PEER / "servers" / "s2_app.py").exists():
        log(f"copying {PEERS_SOURCE / 'fanout'} to {FANOUT_PEER}")
        shutil.copytree(PEERS_SOURCE / "fanout", FANOUT_PEER)
        subprocess.run(["chmod", "-R", "u+w", str(FANOUT_PEER)], check=True)
    if (
        not (FANOUT_SCRATCH / "venv" / "bin" / "gunicorn").exists()
        or not (FANOUT_SCRATCH / "node_modules" / "socket.io").exists()
    ):
        log("running the fanout peer's setup.sh (npm ci, venv under /tmp/fanout)")
        subprocess.run([str(FANOUT_PEER / "setup.sh")], check=True, timeout=900)


def client_env():
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def peer_env(extra=None):
    env = {
        **os.environ,
        "NODE_PATH": str(FANOUT_SCRATCH / "node_modules"),
        "PATH": f"{FANOUT_SCRATCH / 'venv' / 'bin'}:{os.environ['PATH']}",
    }
    env.pop("MQ_URL", None)
    env.update(extra or {})
    return env


def start_peer_gunicorn(name, port, log_dir, mq_url=None, gc_log=False):
    cmd = [
        *taskset(SERVER_CPU),
        str(FANOUT_SCRATCH / "venv" / "bin" / "gunicorn"),
        "-k",
        "eventlet",
        "-w",
        "1",
        "--worker-connections",
        str(WORKER_CONNECTIONS),
        "--graceful-timeout",
        "3",
        "--timeout",
        "120",
        "--keep-alive",
        "75",
        "--log-level",
        "warning",
        "--no-control-socket",
        "-b",
        f"127.0.0.1:{port}",
        "--chdir",
        str(FANOUT_PEER / "servers"),
        "s2_app:app",
    ]
    extra = {"MQ_URL": mq_url} if mq_url else {}
    if gc_log:
        extra["GC_LOG"] = "1"  # s2_app.py logs its full collections itself
    return Proc(name, cmd, log_dir, env=peer_env(extra), cwd=FANOUT_PEER)


def start_node_peer(port, log_dir):
    cmd = [*taskset(SERVER_CPU), "node", "servers/s1_server.js", str(port)]
    return Proc("s1", cmd, log_dir, env=peer_env(), cwd=FANOUT_PEER)


def loaded(path, expected):
    values = array.array("q")
    with open(path, "rb") as f:
        values.frombytes(f.read())
    if len(values) != expected:
        raise RuntimeError(f"{path}: {len(values)} values, expected {expected}")
    return values


class Run:
    """One measurement: one configuration, one N, one repetition."""

    def __init__(self, cfg, n, rep, opts, board, database_url, sweep, index=0, boards=None):
        """``boards`` (many-boards mode): the boards of ``bench.fanout_boards.seed_boards``;
        the N = len(boards) × opts.per_board sockets are spread over them, and so are the
        writes. Otherwise every socket watches ``board`` and every write goes to it."""
        self.cfg, self.n, self.rep, self.opts = cfg, n, rep, opts
        self.id_base = ID_BASE * (index + 1)  # every run writes values no earlier run wrote
        self.board, self.database_url = board, database_url
        self.boards = boards
        self.mode = "boards" if boards else "single"
        if boards:
            self.rate, self.warmup, self.measure = opts.boards_rate, opts.boards_warmup, opts.boards_measure
            self.socket_sprints = fanout_boards.socket_sprints(boards, opts.per_board)
            self.write_sprints = fanout_boards.write_sprints(boards, self.warmup + self.measure)
            self.run_id = f"{cfg}_B{len(boards)}x{opts.per_board}_r{rep}"
        else:
            self.rate, self.warmup, self.measure = opts.rate, opts.warmup, opts.measure
            self.socket_sprints = [board["sprint"]] * n
            self.write_sprints = [board["sprint"]] * (self.warmup + self.measure)
            self.run_id = f"{cfg}_N{n}_r{rep}"
        self.log_dir = LOG_ROOT / sweep / self.run_id
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.started = []  # Procs and servers, stopped in reverse order
        self.result = {
            "cfg": cfg,
            "desc": CONFIGS[cfg],
            "n": n,
            "rep": rep,
            "mode": self.mode,
            "boards": len(boards) if boards else 1,
            "per_board": opts.per_board if boards else n,
            "rate": self.rate,
            "warmup": self.warmup,
            "measure": self.measure,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "loadavg_before": common.loadavg(),
            "ok": False,
        }

    # -- servers ----------------------------------------------------------------------

    def start_servers(self):
        """Returns (client URLs in turn, writer URL, app PIDs for RSS, server-side PIDs for CPU)."""
        cfg = self.cfg
        redis_port = None
        server_side, app = [], []
        if cfg in ("ours2", "S0", "S3"):
            redis_port = common.free_port()
            redis = common.start_redis(redis_port, self.log_dir)
            self.started.append(redis)
            server_side.append(redis.pid)
            if cfg == "S0":
                app.append(redis.pid)
        self.redis_port = redis_port
        if cfg in ("ours1", "ours1-stockgc", "ours1-gevent", "ours2"):
            redis_url = f"redis://127.0.0.1:{redis_port}/0" if redis_port else None
            servers = []
            self.feed_files = []
            for k in range(2 if cfg == "ours2" else 1):
                env = dict(OURS_ENV.get(cfg) or {})
                if self.opts.feed_timing:
                    # One gunicorn config file: the feed timing (which also logs collections).
                    config = ROOT / "bench" / "feed_timing.py"
                    self.feed_files.append(self.log_dir / f"feed-{k}.txt")
                    env["FEED_TIMING_FILE"] = str(self.feed_files[-1])
                    if self.opts.gc_log:
                        env["GC_LOG"] = "1"
                else:
                    config = ROOT / "bench" / "gc_log.py" if self.opts.gc_log else None
                server = common.app_server(
                    self.database_url,
                    redis_url=redis_url,
                    worker_connections=WORKER_CONNECTIONS,
                    extra_args=[
                        *(["-c", str(config)] if config else []),
                        *(["-k", "gevent"] if cfg == "ours1-gevent" else []),
                    ],
                    env=env,
                )
                self.started.append(server)
                server.start()
                servers.append(server)
            for server in servers:
                if not self.opts.no_feed_warmup:
                    common.start_feed(server.url, self.board["tokens"][0])
                app += server.pids()
            server_side += app
            urls = [server.url for server in servers]
            return urls, urls[0], app, server_side
        if cfg in ("S2", "S3", "S1"):
            ports = [common.free_port() for _ in range(2 if cfg == "S3" else 1)]
            mq = f"redis://127.0.0.1:{redis_port}/0" if cfg == "S3" else None
            procs = []
            for k, port in enumerate(ports):
                if cfg == "S1":
                    proc = start_node_peer(port, self.log_dir)
                else:
                    proc = start_peer_gunicorn(f"gunicorn{k}", port, self.log_dir, mq, self.opts.gc_log)
                self.started.append(proc)
                procs.append(proc)
            urls = [f"http://127.0.0.1:{port}" for port in ports]
            for proc, url in zip(procs, urls, strict=True):
                common.wait_until(
                    lambda url=url: common.port_answers_http(url + "/health"), 30, 0.2, f"{url} healthy"
                )
                if not proc.alive():
                    raise RuntimeError(f"{proc.name} exited; see {proc.log_path}")
                app += [proc.pid, *children_of(proc.pid)]
            server_side += app
            return urls, urls[0], app, server_side
        if cfg == "S0":
            return [None], None, app, server_side
        raise ValueError(cfg)

    # -- clients ----------------------------------------------------------------------

    def start_clients(self, urls):
        opts = self.opts
        procs = opts.client_procs if self.n >= 200 else min(2, opts.client_procs)
        per = [self.n // procs + (1 if k < self.n % procs else 0) for k in range(procs)]
        clients = []
        self.sprints_by_proc = []
        for k in range(procs):
            offset = sum(per[:k])
            self.sprints_by_proc.append(self.socket_sprints[offset : offset + per[k]])
            if self.cfg == "S0":
                mode = ["--mode", "redis", "--redis-port", str(self.redis_port)]
            elif self.cfg.startswith("ours"):
                mode = [
                    "--mode",
                    "sio",
                    "--proto",
                    "ours",
                    "--url",
                    urls[k % len(urls)],
                    "--tokens",
                    ",".join(self.board["tokens"]),
                    "--sprint",
                    str(self.board["sprint"]),
                    *(["--sprints", ",".join(map(str, self.sprints_by_proc[k]))] if self.boards else []),
                    "--id-base",
                    str(self.id_base),
                ]
            else:
                mode = ["--mode", "sio", "--proto", "peer", "--url", urls[k % len(urls)]]
            cmd = [
                *taskset(CLIENT_CPU),
                PYTHON,
                "-m",
                "bench.fanout_clients",
                *mode,
                "--n",
                str(per[k]),
                "--warmup",
                str(self.warmup),
                "--measure",
                str(self.measure),
                "--concurrency",
                str(opts.connect_concurrency),
                "--deadline",
                "240",
                "--lifetime",
                "900",
            ]
            proc = Proc(f"clients{k}", cmd, self.log_dir, env=client_env(), stdin=True)
            self.started.append(proc)
            clients.append(proc)
        return clients, per

    def counts(self, clients):
        total = {}
        for proc in clients:
            proc.send("count")
            status = json.loads(proc.expect(["COUNT"], 30)[1])
            for key, value in status.items():
                if isinstance(value, int):
                    total[key] = total.get(key, 0) + value
        return total

    # -- the run --------------------------------------------------------------------------

    def execute(self):
        opts, result = self.opts, self.result
        urls, write_url, app_pids, server_pids = self.start_servers()
        time.sleep(0.3 if opts.quick else 1.0)
        rss_before = sum(rss_kb(pid) for pid in app_pids)

        clients, per = self.start_clients(urls)
        t_connect = time.monotonic()
        ready = []
        for proc in clients:
            tag, rest = proc.expect(["READY", "FAILED"], 300)
            info = json.loads(rest)
            if tag == "FAILED":
                raise RuntimeError(f"{proc.name}: {info}")
            ready.append(info)
        result["connect_s"] = round(time.monotonic() - t_connect, 2)
        result["connect_retries"] = sum(info["retries"] for info in ready)

        # Settle: our app tells every board member about each join (presence), so the
        # subscribe phase leaves messages in flight; wait until they stop arriving.
        t_settle = time.monotonic()
        quiet_needed = opts.settle
        last, quiet_since = None, time.monotonic()
        while time.monotonic() - t_settle < 240:
            presence = self.counts(clients).get("presence", 0)
            if presence != last:
                last, quiet_since = presence, time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_needed:
                break
            time.sleep(0.25)
        result["settle_s"] = round(time.monotonic() - t_settle, 2)
        result["presence_messages"] = last
        rss_after = sum(rss_kb(pid) for pid in app_pids)
        result["server_rss_before_mb"] = round(rss_before / 1024, 1)
        result["server_rss_after_mb"] = round(rss_after / 1024, 1)
        result["rss_per_conn_kb"] = round((rss_after - rss_before) / self.n, 1)

        if self.cfg.startswith("ours"):
            backends = common.pg_backend_pids(common.database_name(self.database_url))
            result["pg_backends_pinned"] = len(common.pin_pids(backends, SERVER_CPU))
            server_pids = server_pids + backends

        cpu = CpuWindow({"server": server_pids, "clients": [p.pid for p in clients]}).start()
        self.window = [time.monotonic(), None]
        writer_cmd = [
            *taskset(CLIENT_CPU),
            PYTHON,
            "-m",
            "bench.fanout_writer",
            "--warmup",
            str(self.warmup),
            "--measure",
            str(self.measure),
            "--rate",
            str(self.rate),
        ]
        if self.cfg.startswith("ours"):
            # Many boards: write i goes to board i mod B (the list interleaves the boards).
            tasks = fanout_boards.write_tasks(self.boards) if self.boards else self.board["task_ids"][:25]
            writer_cmd += [
                "--mode",
                "patch",
                "--url",
                write_url,
                "--token",
                self.board["tokens"][0],
                "--task-ids",
                ",".join(str(t) for t in tasks),
                "--id-base",
                str(self.id_base),
            ]
        elif self.cfg == "S0":
            writer_cmd += [
                "--mode",
                "publish",
                "--redis-port",
                str(self.redis_port),
                "--payload",
                str(FANOUT_PEER / "payload.json"),
            ]
        else:
            writer_cmd += ["--mode", "emit", "--url", write_url]
        writer = Proc("writer", writer_cmd, self.log_dir, env=client_env())
        self.started.append(writer)
        writer_out = json.loads(writer.expect(["WRITER"], (self.warmup + self.measure) / self.rate + 90)[1])

        per_write = opts.per_board if self.boards else self.n  # sockets that should get each write
        expected = per_write * self.measure
        deadline = time.monotonic() + DRAIN_S
        got = 0
        while time.monotonic() < deadline:
            got = self.counts(clients).get("received", 0)
            if got >= expected:
                break
            time.sleep(0.2)
        result.update(cpu.stop())
        self.window[1] = time.monotonic()
        events = self.warmup + self.measure
        result["server_cpu_ms_per_event"] = round(1000 * result["server_cpu_s"] / events, 2)
        result["clients_cpu_ms_per_event"] = round(1000 * result["clients_cpu_s"] / events, 2)
        result["loadavg_after"] = common.loadavg()

        # Collect and join: receipt time (clients) − send time (writer), per (write, client).
        sent = writer_out.pop("sent_ns")
        writer_out.pop("status", None)
        result["writer"] = writer_out
        metas, matrices = [], []
        for k, proc in enumerate(clients):
            path = self.log_dir / f"arrivals{k}.bin"
            proc.send(f"dump {path}")
            metas.append(json.loads(proc.expect(["DUMPED"], 60)[1]))
            matrices.append((per[k], loaded(path, per[k] * self.measure)))
            path.unlink()
        result["disconnects"] = sum(m["disconnects"] for m in metas)
        result["dupes"] = sum(m["dupes"] for m in metas)
        result["foreign_changes"] = sum(m.get("foreign", 0) for m in metas)
        result["client_errors"] = [e for m in metas for e in m["errors"]][:5]
        # Each write is expected at the sockets of its board (all N on one board). A receipt
        # at any other socket is a routing error; an expected one that never came is missed.
        deliveries, completion, first, incomplete, misrouted, expected_total = [], [], [], 0, 0, 0
        for w in range(self.measure):
            t_sent = sent[self.warmup + w]
            target = self.write_sprints[self.warmup + w]
            row, wanted = [], 0
            for (nk, values), sprints in zip(matrices, self.sprints_by_proc, strict=True):
                for v, sprint in zip(values[w * nk : (w + 1) * nk], sprints, strict=True):
                    if sprint != target:
                        misrouted += v >= 0
                        continue
                    wanted += 1
                    if v >= 0 and t_sent is not None:
                        row.append((v - t_sent) / 1e6)
            expected_total += wanted
            if t_sent is None:
                incomplete += 1
                continue
            deliveries.extend(row)
            if row:
                first.append(min(row))
            if len(row) == wanted:
                completion.append(max(row))
            else:
                incomplete += 1
        if expected_total != expected:
            raise RuntimeError(f"{expected_total} deliveries expected by board, {expected} by count")
        deliveries.sort()
        completion.sort()
        first.sort()
        result.update(
            {
                "deliveries_expected": expected,
                "deliveries": len(deliveries),
                "missing": expected - len(deliveries),
                "misrouted": misrouted,
                "incomplete_events": incomplete,
                "p50_ms": r3(pct(deliveries, 50)),
                "p95_ms": r3(pct(deliveries, 95)),
                "p99_ms": r3(pct(deliveries, 99)),
                "max_ms": r3(deliveries[-1] if deliveries else None),
                "completion_p50_ms": r3(pct(completion, 50)),
                "completion_p99_ms": r3(pct(completion, 99)),
                "completion_max_ms": r3(completion[-1] if completion else None),
                "first_arrival_p50_ms": r3(pct(first, 50)),
            }
        )
        result["ok"] = (
            incomplete == 0
            and writer_out["errors"] == 0
            and result["disconnects"] == 0
            and misrouted == 0
            and result["foreign_changes"] == 0
        )
        if getattr(self, "feed_files", None):
            start = sent[self.warmup] / 1e9 if sent[self.warmup] is not None else self.window[0]
            result["feed"] = [
                fanout_boards.feed_timing(path, (start, self.window[1])) for path in self.feed_files
            ]

    def run(self):
        try:
            self.execute()
        except BaseException as error:  # noqa: BLE001 - recorded; every process is stopped below
            self.result["error"] = f"{type(error).__name__}: {error}"[:500]
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                self.stop_all()
                raise
        finally:
            self.stop_all()
            self.result["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        if self.opts.gc_log:
            self.result["gc2"] = self.full_collections()
        return self.result

    def full_collections(self):
        """Full garbage collections the server logged during the send window (--gc-log)."""
        window = getattr(self, "window", None)
        pauses = []
        for path in [*self.log_dir.glob("app-*.log"), *self.log_dir.glob("gunicorn*.log")]:
            for match in re.finditer(r"GC2 ([\d.]+) ([\d.]+)", path.read_text(errors="replace")):
                at, ms = float(match.group(1)), float(match.group(2))
                if window and window[1] and window[0] <= at <= window[1]:
                    pauses.append(ms)
        return {
            "count": len(pauses),
            "max_ms": max(pauses, default=None),
            "total_ms": round(sum(pauses), 1),
            "pauses_ms": pauses[:50],
        }

    def stop_all(self):
        for thing in self.started:  # every client process starts closing its sockets at once
            if isinstance(thing, Proc) and thing.name.startswith("clients") and thing.alive():
                with contextlib.suppress(Exception):
                    thing.send("quit")
        while self.started:
            thing = self.started.pop()
            try:
                if isinstance(thing, Proc):
                    if thing.name.startswith("clients") and thing.alive():
                        with contextlib.suppress(Exception):  # stop() follows
                            thing.process.wait(5)
                    thing.stop()
                else:
                    pids = thing.pids()
                    thing.stop()
                    (self.log_dir / f"app-{thing.port}.log").write_text(thing.log())
                    thing.close()
                    for pid in pids:
                        common.stop_pid(pid)
            except Exception as error:  # noqa: BLE001
                self.result.setdefault("cleanup_errors", []).append(str(error)[:200])


# ------------------------------------------------------------------ report

COLUMNS = [
    ("p50_ms", "p50"),
    ("p95_ms", "p95"),
    ("p99_ms", "p99"),
    ("max_ms", "max"),
    ("completion_p50_ms", "compl p50"),
    ("completion_p99_ms", "compl p99"),
]


def summary_key(cfg, n, mode="single"):
    return f"{cfg}/{n}" if mode == "single" else f"{cfg}/{n}/{mode}"


FEED_COLUMNS = (
    ("log_read_ms", "log read ms", 2),
    ("log_read_p99_ms", "log read p99 ms", 2),
    ("sql_ms", "of it SQL ms", 2),
    ("log_read_cpu_ms", "log read CPU ms", 2),
    ("route_ms", "routing ms", 3),
    ("emit_ms", "emit ms", 2),
    ("sends", "sockets", 0),
    ("dispatch_ms", "dispatch ms", 2),
    ("dispatch_p99_ms", "dispatch p99 ms", 2),
    ("tail_ms", "tail ms", 2),
    ("tail_cpu_ms", "tail CPU ms", 2),
    ("batch_ms", "batch ms", 2),
    ("batch_cpu_ms", "batch CPU ms", 2),
)


def aggregate(runs):
    groups = {}
    for run in runs:
        groups.setdefault((run["cfg"], run["n"], run.get("mode", "single")), []).append(run)
    summary = {}
    for (cfg, n, mode), rs in groups.items():
        use = [r for r in rs if r.get("p50_ms") is not None]
        entry = {"cfg": cfg, "n": n, "mode": mode, "runs": len(rs), "ok": sum(1 for r in rs if r.get("ok"))}
        for key in ("boards", "per_board", "rate", "measure"):
            entry[key] = rs[0].get(key)
        for key in (
            *[c for c, _ in COLUMNS],
            "first_arrival_p50_ms",
            "rss_per_conn_kb",
            "server_cpu_ms_per_event",
            "clients_cpu_ms_per_event",
            "clients_cpu_pct",
            "server_cpu_pct",
            "other_cpu_pct",
            "connect_s",
            "settle_s",
        ):
            entry[key] = median([r.get(key) for r in use])
        entry["p99_range"] = spread([r.get("p99_ms") for r in use])
        entry["completion_p99_range"] = spread([r.get("completion_p99_ms") for r in use])
        entry["p50_range"] = spread([r.get("p50_ms") for r in use])
        entry["server_cpu_range"] = spread([r.get("server_cpu_ms_per_event") for r in use])
        entry["missing"] = sum(r.get("missing") or 0 for r in use)
        entry["misrouted"] = sum((r.get("misrouted") or 0) + (r.get("foreign_changes") or 0) for r in use)
        entry["disconnects"] = sum(r.get("disconnects") or 0 for r in use)
        entry["deliveries"] = median([r.get("deliveries_expected") for r in use])
        entry["errors"] = [r["error"] for r in rs if r.get("error")]
        # The log feed's own timing (--boards): medians over runs (and over processes).
        feeds = [f for r in use for f in r.get("feed") or [] if f and f.get("batches")]
        keys = fanout_boards.FEED_SUMMARY_KEYS
        entry["feed"] = {key: median([f.get(key) for f in feeds]) for key in keys} if feeds else None
        summary[summary_key(cfg, n, mode)] = entry
    return summary


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def per_rep_ratios(runs, cfg, base, n, key):
    by = {
        (r["cfg"], r["rep"]): r
        for r in runs
        if r["n"] == n and r.get(key) is not None and r.get("mode", "single") == "single"
    }
    values = [
        ratio(by[(cfg, rep)][key], by[(base, rep)][key]) for (c, rep) in by if c == cfg and (base, rep) in by
    ]
    return sorted(v for v in values if v is not None)


def report(runs, cfgs, ns):
    summary = aggregate(runs)
    order = [c for c in CONFIGS if c in cfgs]
    rows = []
    for n in ns:
        for cfg in order:
            e = summary.get(f"{cfg}/{n}")
            if not e:
                continue
            rng = e["completion_p99_range"]
            rows.append(
                [
                    cfg,
                    n,
                    f"{e['ok']}/{e['runs']}",
                    *[fmt(e[c]) for c, _ in COLUMNS],
                    f"{fmt(e['p99_range'][0])}–{fmt(e['p99_range'][1])}",
                    f"{fmt(rng[0])}–{fmt(rng[1])}",
                    e["missing"],
                    e["disconnects"],
                    fmt(e["rss_per_conn_kb"]),
                    fmt(e["server_cpu_ms_per_event"]),
                    fmt(e["clients_cpu_ms_per_event"]),
                    fmt(e["other_cpu_pct"], 0),
                    fmt(e["connect_s"]),
                ]
            )
    headers = [
        "config",
        "N",
        "ok",
        *[label + " ms" for _, label in COLUMNS],
        "p99 range",
        "compl p99 range",
        "missed",
        "disc.",
        "RSS/conn KB",
        "server CPU ms/ev",
        "client CPU ms/ev",
        "other CPU %",
        "connect s",
    ]
    text = ["## Fan-out latency (ms; medians over repetitions)", "", table(headers, rows), ""]

    ratio_rows = []
    pairs = [
        ("ours1", "ours1-stockgc"),
        ("ours1-gevent", "ours1"),
        ("ours1", "S2"),
        ("ours1", "S1"),
        ("ours1", "S0"),
        ("ours2", "ours1"),
        ("ours2", "S3"),
    ]
    for n in ns:
        for cfg, base in pairs:
            a, b = summary.get(f"{cfg}/{n}"), summary.get(f"{base}/{n}")
            if not a or not b:
                continue
            cells = [f"{cfg} ÷ {base}", n]
            for key in ("p50_ms", "p99_ms", "completion_p50_ms", "completion_p99_ms"):
                reps = per_rep_ratios(runs, cfg, base, n, key)
                span = f" ({reps[0]:.2f}–{reps[-1]:.2f})" if len(reps) > 1 else ""
                cells.append(fmt(ratio(a[key], b[key]), 2) + span)
            ratio_rows.append(cells)
    text += [
        "## Ratios (median ÷ median; per-repetition range in brackets)",
        "",
        table(["ratio", "N", "p50", "p99", "compl p50", "compl p99"], ratio_rows),
        "",
    ]
    gc_rows = [
        [r["cfg"], r["n"], r["rep"], r["gc2"]["count"], fmt(r["gc2"]["max_ms"]), fmt(r["gc2"]["total_ms"])]
        for r in runs
        if r.get("gc2")
    ]
    if gc_rows:
        text += [
            "## Full garbage collections of the servers during the send window (--gc-log)",
            "",
            table(["config", "N", "rep", "count", "max ms", "total ms"], gc_rows),
            "",
        ]
    return "\n".join(text), summary


def report_boards(runs, cfgs, n):
    """Many boards against one board, same N, same process(es): latency, ratios, cost per write."""
    summary = aggregate(runs)
    rows, ratio_rows, feed_rows = [], [], []
    for cfg in [c for c in CONFIGS if c in cfgs]:
        for mode in ("single", "boards"):
            e = summary.get(summary_key(cfg, n, mode))
            if not e:
                continue
            shape = f"{e['boards']} × {e['per_board']}"
            rows.append(
                [
                    cfg,
                    shape,
                    fmt(e["rate"], 0),
                    e["measure"],
                    f"{e['ok']}/{e['runs']}",
                    *[fmt(e[c]) for c, _ in COLUMNS],
                    "–".join(fmt(v) for v in e["p99_range"]),
                    "–".join(fmt(v) for v in e["completion_p99_range"]),
                    e["missing"],
                    e["misrouted"],
                    e["disconnects"],
                    fmt(e["server_cpu_ms_per_event"]),
                    "–".join(fmt(v) for v in e["server_cpu_range"]),
                    fmt(e["clients_cpu_ms_per_event"]),
                    fmt(e["other_cpu_pct"], 0),
                    fmt(e["connect_s"]),
                ]
            )
            f = e.get("feed")
            if f:
                feed_rows.append([cfg, shape, *[fmt(f[key], digits) for key, _, digits in FEED_COLUMNS]])
        single, many = summary.get(summary_key(cfg, n)), summary.get(summary_key(cfg, n, "boards"))
        if single and many:
            cells = [f"{cfg}: many boards ÷ one board", n]
            keys = ("p50_ms", "p99_ms", "completion_p50_ms", "completion_p99_ms", "server_cpu_ms_per_event")
            for key in keys:
                by = {}
                for r in runs:
                    if r["cfg"] == cfg and r["n"] == n and r.get(key) is not None:
                        by.setdefault(r["rep"], {})[r.get("mode", "single")] = r[key]
                reps = sorted(ratio(v["boards"], v["single"]) for v in by.values() if len(v) == 2)
                span = f" ({reps[0]:.2f}–{reps[-1]:.2f})" if len(reps) > 1 else ""
                cells.append(fmt(ratio(many[key], single[key]), 2) + span)
            ratio_rows.append(cells)
    text = [
        f"## Many boards against one board, N={n} sockets (ms; medians over repetitions)",
        "",
        table(
            [
                "config",
                "boards × sockets",
                "writes/s",
                "measured writes",
                "ok",
                *[label + " ms" for _, label in COLUMNS],
                "p99 range",
                "compl p99 range",
                "missed",
                "routing errors",
                "disc.",
                "server CPU ms/write",
                "its range",
                "client CPU ms/write",
                "other CPU %",
                "connect s",
            ],
            rows,
        ),
        "",
        "## Ratios (median ÷ median; per-repetition range in brackets; target p99 ≤ 1.2)",
        "",
        table(["ratio", "N", "p50", "**p99**", "compl p50", "compl p99", "server CPU/write"], ratio_rows),
        "",
    ]
    if feed_rows:
        text += [
            "## The log feed per change, in the server (bench/feed_timing.py; medians over the "
            "one-change batches of the send window, then over runs). Routing: rooms_for and "
            "the room's sockets; emit: encode once, queue to each socket; tail: after the last "
            "emit, where the websocket writes run",
            "",
            table(["config", "boards × sockets", *[label for _, label, _ in FEED_COLUMNS]], feed_rows),
            "",
        ]
    return "\n".join(text), summary


# ------------------------------------------------------------------ main


def stop_on_sigterm(signum, frame):
    raise SystemExit(f"signal {signum}")  # unwinds through every finally: processes are stopped


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=MANY_BOARDS_HELP,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="N=100, one short repetition (< 1 minute); with --boards: 50 boards, short runs (< 2 minutes)",
    )
    parser.add_argument("--ns", default="100,500,1000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--cfgs", default=None, help=f"default {DEFAULT_CFGS}; with --boards, ours1")
    parser.add_argument("--rate", type=float, default=5.0, help="writes per second (one board)")
    boards = parser.add_argument_group("many boards (see below)")
    boards.add_argument(
        "--boards", type=int, default=0, help="many-boards mode: this many boards (sprints), e.g. 250"
    )
    boards.add_argument("--per-board", type=int, default=4, help="sockets per board (default 4)")
    boards.add_argument(
        "--boards-rate", type=float, default=20.0, help="writes per second in total, over all boards (20)"
    )
    boards.add_argument("--boards-warmup", type=int, default=40, help="writes before the measured ones (40)")
    boards.add_argument("--boards-measure", type=int, default=600, help="measured writes (600: 30 s)")
    boards.add_argument("--tasks-per-board", type=int, default=4, help="tasks seeded per board (4)")
    boards.add_argument(
        "--no-feed-timing",
        action="store_true",
        help="leave out bench/feed_timing.py (the server-side breakdown)",
    )
    parser.add_argument("--warmup", type=int, default=20, help="writes before the measured ones")
    parser.add_argument("--measure", type=int, default=100, help="measured writes")
    parser.add_argument("--client-procs", type=int, default=4)
    parser.add_argument(
        "--connect-concurrency",
        type=int,
        default=3,
        help="connections being opened at once per client process (see Findings: more than ~15 "
        "subscribes in flight exhaust our app's database pool)",
    )
    parser.add_argument(
        "--no-feed-warmup",
        action="store_true",
        help="do not open one socket per process before the clients (see Findings 2)",
    )
    parser.add_argument("--settle", type=float, default=2.0, help="quiet seconds before writing")
    parser.add_argument("--lock-wait", type=int, default=1800)
    parser.add_argument(
        "--gc-log", action="store_true", help="diagnostic: log the servers' full garbage collections"
    )
    opts = parser.parse_args(argv)
    if opts.quick:
        opts.ns, opts.reps, opts.warmup, opts.measure, opts.settle = "100", 1, 3, 15, 1.0
        if opts.boards:
            opts.boards, opts.boards_warmup, opts.boards_measure = min(opts.boards, 50), 10, 100
    opts.feed_timing = bool(opts.boards) and not opts.no_feed_timing
    if opts.boards:
        # The single-board baseline has as many sockets as the many boards.
        opts.ns = str(opts.boards * opts.per_board)
    ns = [int(x) for x in opts.ns.split(",")]
    cfgs = [c for c in (opts.cfgs or ("ours1" if opts.boards else DEFAULT_CFGS)).split(",") if c]
    unknown = set(cfgs) - set(CONFIGS)
    if unknown:
        parser.error(f"unknown configurations: {', '.join(sorted(unknown))}")
    if opts.boards and any(not c.startswith("ours") for c in cfgs):
        parser.error("--boards measures our app only (configurations ours*)")
    if opts.boards and opts.per_board < 1:
        parser.error("--per-board must be at least 1")
    if any(c in cfgs for c in ("S1", "S2", "S3", "S0")):
        ensure_fanout_peer()

    signal.signal(signal.SIGTERM, stop_on_sigterm)
    sweep = time.strftime("%Y%m%d-%H%M%S")
    meta = {
        "kind": "fanout",
        "sweep": sweep,
        "argv": sys.argv,
        "options": vars(opts),
        "machine": common.machine(),
        "versions": common.versions(),
        "server_cpu": SERVER_CPU,
        "client_cpu": CLIENT_CPU,
        "worker_connections": WORKER_CONNECTIONS,
    }
    mode = f", {opts.boards} boards × {opts.per_board} sockets" if opts.boards else ""
    log(f"fan-out sweep {sweep}: N={ns} reps={opts.reps} cfgs={cfgs}{mode} (load {common.loadavg()})")
    runs = []
    path = None
    t0 = time.monotonic()
    with common.seeded_database(LOG_ROOT / sweep) as (database_url, board):
        many = None
        if opts.boards:
            t_seed = time.monotonic()
            with common._seed_server(database_url) as server:
                many = fanout_boards.seed_boards(server.url, board, opts.boards, opts.tasks_per_board)
            meta["boards_seed_s"] = round(time.monotonic() - t_seed, 1)
            meta["board_sprints"] = [b["sprint"] for b in many]
            log(f"seeded {len(many)} boards in {meta['boards_seed_s']} s")
        for rep in range(1, opts.reps + 1):
            order = cfgs if rep % 2 else list(reversed(cfgs))
            # Many boards: each configuration on one board and on many, alternating which first.
            layouts = [None] if not many else ([None, many] if rep % 2 else [many, None])
            for n in ns:
                for cfg in order:
                    for layout in layouts:
                        with common.bench_lock(opts.lock_wait):
                            result = Run(
                                cfg, n, rep, opts, board, database_url, sweep, len(runs), boards=layout
                            ).run()
                        runs.append(result)
                        path = common.write_results("fanout", {**meta, "partial": True, "runs": runs}, path)
                        log(
                            f"{cfg} N={n} {result['boards']}×{result['per_board']} rep {rep}: "
                            f"ok={result['ok']} p50={fmt(result.get('p50_ms'))} "
                            f"p99={fmt(result.get('p99_ms'))} "
                            f"compl p99={fmt(result.get('completion_p99_ms'))} "
                            f"missed={result.get('missing')} misrouted={result.get('misrouted')} "
                            f"connect={result.get('connect_s')}s {result.get('error') or ''}"
                        )
    meta["elapsed_s"] = round(time.monotonic() - t0, 1)
    meta["loadavg_end"] = common.loadavg()
    if opts.boards:
        text, summary = report_boards(runs, cfgs, ns[0])
    else:
        text, summary = report(runs, cfgs, ns)
    print(text)
    path = common.write_results("fanout", {**meta, "summary": summary, "runs": runs}, path)
    print(f"\nwrote {path.relative_to(ROOT)} (logs in {LOG_ROOT / sweep}; {meta['elapsed_s']:.0f} s)")


if __name__ == "__main__":
    main()
