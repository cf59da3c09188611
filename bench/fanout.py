"""Fan-out benchmark: write request → `change` event at N websocket clients on one board.

    python -m bench.fanout --quick                 # N=100, one short repetition (< 1 min)
    python -m bench.fanout --reps 3 --ns 100,500,1000
    python -m bench.fanout --cfgs ours1,S2 --ns 500 --reps 2

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

from bench import common
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

    def __init__(self, cfg, n, rep, opts, board, database_url, sweep, index=0):
        self.cfg, self.n, self.rep, self.opts = cfg, n, rep, opts
        self.id_base = ID_BASE * (index + 1)  # every run writes values no earlier run wrote
        self.board, self.database_url = board, database_url
        self.run_id = f"{cfg}_N{n}_r{rep}"
        self.log_dir = LOG_ROOT / sweep / self.run_id
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.started = []  # Procs and servers, stopped in reverse order
        self.result = {
            "cfg": cfg,
            "desc": CONFIGS[cfg],
            "n": n,
            "rep": rep,
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
            for _ in range(2 if cfg == "ours2" else 1):
                server = common.app_server(
                    self.database_url,
                    redis_url=redis_url,
                    worker_connections=WORKER_CONNECTIONS,
                    extra_args=[
                        *(["-c", str(ROOT / "bench" / "gc_log.py")] if self.opts.gc_log else []),
                        *(["-k", "gevent"] if cfg == "ours1-gevent" else []),
                    ],
                    env=OURS_ENV.get(cfg),
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
        for k in range(procs):
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
                str(opts.warmup),
                "--measure",
                str(opts.measure),
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
            str(opts.warmup),
            "--measure",
            str(opts.measure),
            "--rate",
            str(opts.rate),
        ]
        if self.cfg.startswith("ours"):
            writer_cmd += [
                "--mode",
                "patch",
                "--url",
                write_url,
                "--token",
                self.board["tokens"][0],
                "--task-ids",
                ",".join(str(t) for t in self.board["task_ids"][:25]),
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
        writer_out = json.loads(writer.expect(["WRITER"], (opts.warmup + opts.measure) / opts.rate + 90)[1])

        expected = self.n * opts.measure
        deadline = time.monotonic() + DRAIN_S
        got = 0
        while time.monotonic() < deadline:
            got = self.counts(clients).get("received", 0)
            if got >= expected:
                break
            time.sleep(0.2)
        result.update(cpu.stop())
        self.window[1] = time.monotonic()
        events = opts.warmup + opts.measure
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
            matrices.append((per[k], loaded(path, per[k] * opts.measure)))
            path.unlink()
        result["disconnects"] = sum(m["disconnects"] for m in metas)
        result["dupes"] = sum(m["dupes"] for m in metas)
        result["client_errors"] = [e for m in metas for e in m["errors"]][:5]
        deliveries, completion, first, incomplete = [], [], [], 0
        for w in range(opts.measure):
            t_sent = sent[opts.warmup + w]
            if t_sent is None:
                incomplete += 1
                continue
            row = []
            for nk, values in matrices:
                row.extend((v - t_sent) / 1e6 for v in values[w * nk : (w + 1) * nk] if v >= 0)
            deliveries.extend(row)
            if row:
                first.append(min(row))
            if len(row) == self.n:
                completion.append(max(row))
            else:
                incomplete += 1
        deliveries.sort()
        completion.sort()
        first.sort()
        result.update(
            {
                "deliveries_expected": expected,
                "deliveries": len(deliveries),
                "missing": expected - len(deliveries),
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
        result["ok"] = incomplete == 0 and writer_out["errors"] == 0 and result["disconnects"] == 0

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


def aggregate(runs):
    groups = {}
    for run in runs:
        groups.setdefault((run["cfg"], run["n"]), []).append(run)
    summary = {}
    for (cfg, n), rs in groups.items():
        use = [r for r in rs if r.get("p50_ms") is not None]
        entry = {"cfg": cfg, "n": n, "runs": len(rs), "ok": sum(1 for r in rs if r.get("ok"))}
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
        entry["missing"] = sum(r.get("missing") or 0 for r in use)
        entry["disconnects"] = sum(r.get("disconnects") or 0 for r in use)
        entry["errors"] = [r["error"] for r in rs if r.get("error")]
        summary[f"{cfg}/{n}"] = entry
    return summary


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def per_rep_ratios(runs, cfg, base, n, key):
    by = {(r["cfg"], r["rep"]): r for r in runs if r["n"] == n and r.get(key) is not None}
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


# ------------------------------------------------------------------ main


def stop_on_sigterm(signum, frame):
    raise SystemExit(f"signal {signum}")  # unwinds through every finally: processes are stopped


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N=100, one short repetition (< 1 minute)")
    parser.add_argument("--ns", default="100,500,1000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--cfgs", default=DEFAULT_CFGS)
    parser.add_argument("--rate", type=float, default=5.0, help="writes per second")
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
    ns = [int(x) for x in opts.ns.split(",")]
    cfgs = [c for c in opts.cfgs.split(",") if c]
    unknown = set(cfgs) - set(CONFIGS)
    if unknown:
        parser.error(f"unknown configurations: {', '.join(sorted(unknown))}")
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
    log(f"fan-out sweep {sweep}: N={ns} reps={opts.reps} cfgs={cfgs} (load {common.loadavg()})")
    runs = []
    path = None
    t0 = time.monotonic()
    with common.seeded_database(LOG_ROOT / sweep) as (database_url, board):
        for rep in range(1, opts.reps + 1):
            order = cfgs if rep % 2 else list(reversed(cfgs))
            for n in ns:
                for cfg in order:
                    with common.bench_lock(opts.lock_wait):
                        result = Run(cfg, n, rep, opts, board, database_url, sweep, len(runs)).run()
                    runs.append(result)
                    path = common.write_results("fanout", {**meta, "partial": True, "runs": runs}, path)
                    log(
                        f"{cfg} N={n} rep {rep}: ok={result['ok']} p50={fmt(result.get('p50_ms'))} "
                        f"p99={fmt(result.get('p99_ms'))} compl p99={fmt(result.get('completion_p99_ms'))} "
                        f"connect={result.get('connect_s')}s {result.get('error') or ''}"
                    )
    meta["elapsed_s"] = round(time.monotonic() - t0, 1)
    meta["loadavg_end"] = common.loadavg()
    text, summary = report(runs, cfgs, ns)
    print(text)
    path = common.write_results("fanout", {**meta, "summary": summary, "runs": runs}, path)
    print(f"\nwrote {path.relative_to(ROOT)} (logs in {LOG_ROOT / sweep})")


if __name__ == "__main__":
    main()
