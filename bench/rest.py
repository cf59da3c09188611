"""REST benchmark: requests/s and latency of the first page of a sprint's tasks,
one task, and a task PATCH, side by side with the DRF peer.

    python -m bench.rest --quick              # ours and the DRF peer, one short repetition (< 2 min)
    python -m bench.rest                      # 2 interleaved repetitions, ours and the DRF peer
    python -m bench.rest --reps 3 --drf-cfgs sync,gthread
    python -m bench.rest --workers eventlet,gevent    # our app under both worker classes

Ours: `gunicorn -k eventlet -w 1` on PostgreSQL (with a private Redis, as deployed),
pinned to CPU0 together with its own PostgreSQL backends; load from
`wrk -t1 -c16` pinned to CPU1 with bench/rest.lua (Token header), WARMUP seconds
discarded, then DURATION seconds measured, per endpoint:
  list   GET /api/tasks?sprint=S   first page, 25 of 100 tasks, each with its assigned user
  get    GET /api/tasks/<id>       ids cycling over the 100 tasks
  patch  PATCH /api/tasks/<id> {"order": n}

Besides, in process with the Flask test client: SQL statements and Python function calls per
request (the calls do not move with the machine's load; req/s does, by ±20 % here).

The DRF peer is measured by its own bench/block.sh (run under the same lock, only
its environment set: database, port, durations), which measures the same three
requests and (a') the list with select_related. Our and its blocks alternate.
"""

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from bench import common
from bench.common import (
    DRF_PEER,
    PEERS_SOURCE,
    ROOT,
    SERVER_CPU,
    CpuWindow,
    fmt,
    log,
    median,
    table,
)

LOG_ROOT = Path("/tmp/bench-rest")
DRF_SCRATCH = Path("/tmp/drfpeer")
DRF_DB = "drfpeer_bench"
CONNS = 16
ENDPOINTS = ("list", "get", "patch")
LABELS = {
    "list": "GET /api/tasks?sprint=S (25 of 100)",
    "get": "GET /api/tasks/<id>",
    "patch": 'PATCH /api/tasks/<id> {"order": n}',
}


# ------------------------------------------------------------------ ours


def wrk(mode, seconds, out, url, board, log_dir):
    return common.wrk(mode, seconds, out, url, board, log_dir, conns=CONNS)


def check_list(url, board):
    response = requests.get(
        f"{url}/api/tasks?sprint={board['sprint']}",
        headers={"Authorization": f"Token {board['tokens'][0]}"},
        timeout=10,
    )
    response.raise_for_status()
    body = response.json()
    if body["count"] != 100 or len(body["results"]) != 25 or not all(t["assigned"] for t in body["results"]):
        raise RuntimeError(f"unexpected first page: count={body['count']}, {len(body['results'])} results")


def in_process_counts(database_url, board):
    """Per request, in-process with the Flask test client: SQL statements, and Python function
    calls (cProfile over 20 requests, the collector off). Neither depends on the machine's
    load, so a change to a request's work shows in them where req/s is too noisy to tell."""
    script = f"""
import cProfile, gc, json, os, pstats, sqlalchemy as sa
os.environ["DATABASE_URL"] = {database_url!r}
os.environ["REDIS_URL"] = ""
os.environ["SECRET_KEY"] = {common.SECRET_KEY!r}
from app import create_app, db
app = create_app(SOCKETIO_ASYNC_MODE="threading")
counts, calls = {{}}, {{}}
with app.app_context():
    engine = db.engine
statements = []
sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
client = app.test_client()
headers = {{"Authorization": "Token {board["tokens"][0]}"}}
task = {board["task_ids"][0]}
orders = iter(range(500, 600))  # a new value each time: a PATCH that changes nothing writes nothing
for name, call in (
    ("list", lambda: client.get("/api/tasks?sprint={board["sprint"]}", headers=headers)),
    ("get", lambda: client.get(f"/api/tasks/{{task}}", headers=headers)),
    ("patch", lambda: client.patch(f"/api/tasks/{{task}}", json={{"order": next(orders)}}, headers=headers)),
):
    call()
    statements.clear()
    assert call().status_code == 200
    counts[name] = len(statements)
    gc.collect()
    gc.disable()
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(20):
        call()
    profile.disable()
    gc.enable()
    calls[name] = round(sum(stat[1] for stat in pstats.Stats(profile).stats.values()) / 20)
print(json.dumps({{"statements": counts, "python_calls": calls}}))
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "APP_ENV": "development"}
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    if out.returncode != 0:
        error = {"error": out.stderr[-500:]}
        return {"statements": error, "python_calls": error}
    return json.loads(out.stdout.strip().splitlines()[-1])


def count_queries(database_url, board):
    """SQL statements per request, counted in-process with the Flask test client."""
    return in_process_counts(database_url, board)["statements"]


OURS = {  # our server configurations: gunicorn worker class and SOCKETIO_ASYNC_MODE
    "eventlet": ("ours", "ours: gunicorn -k eventlet -w 1"),
    "gevent": ("ours-gevent", "ours: gunicorn -k gevent -w 1"),
}


def ours_block(rep, database_url, board, opts, log_dir, worker="eventlet"):
    name = OURS[worker][0]
    results = {}
    things = []
    try:
        redis_port = common.free_port()
        redis = common.start_redis(redis_port, log_dir)
        things.append(redis)
        server = common.app_server(
            database_url,
            redis_url=f"redis://127.0.0.1:{redis_port}/0",
            env={"SOCKETIO_ASYNC_MODE": worker},
            extra_args=["-k", worker],
        )
        things.append(server)
        server.start()
        check_list(server.url, board)
        for mode in ENDPOINTS:
            wrk(mode, opts.warmup, log_dir / f"r{rep}_{name}_{mode}.warmup.json", server.url, board, log_dir)
            backends = common.pg_backend_pids(common.database_name(database_url))
            common.pin_pids(backends, SERVER_CPU)
            cpu = CpuWindow({"server": server.pids() + backends + [redis.pid]}).start()
            out = log_dir / f"r{rep}_{name}_{mode}.json"
            data = wrk(mode, opts.duration, out, server.url, board, log_dir)
            data.update(cpu.stop())
            data["pg_backends_pinned"] = len(backends)
            data["loadavg"] = common.loadavg()
            results[mode] = summarize_wrk(data)
            rps, p99 = results[mode]["rps"], results[mode]["p99_ms"]
            log(f"  {name} r{rep} {mode}: {rps:.0f} req/s p99 {p99:.1f} ms")
    finally:
        common.stop_all(things)
    return results


def summarize_wrk(data):
    seconds = data["duration_us"] / 1e6
    return {
        "rps": data["ok_2xx"] / seconds if seconds else None,
        "p50_ms": data["lat_p50_us"] / 1000,
        "p99_ms": data["lat_p99_us"] / 1000,
        "max_ms": data["lat_max_us"] / 1000,
        "requests": data["requests"],
        "errors": data["not_2xx"]
        + data["err_connect"]
        + data["err_read"]
        + data["err_write"]
        + data["err_timeout"],
        **{k: data[k] for k in ("server_cpu_pct", "other_cpu_pct", "cpu_busy_pct", "loadavg") if k in data},
        # Requests per CPU-second of the server side: less sensitive than req/s to other
        # people's load taking part of the server core away.
        "rps_per_cpu_s": data["ok_2xx"] / data["server_cpu_s"] if data.get("server_cpu_s") else None,
    }


# ------------------------------------------------------------------ the DRF peer


def drf_env(extra=None):
    env = {
        **os.environ,
        "DRFPEER_DB": "pg",
        "DRFPEER_PG_USER": "postgres",
        "DRFPEER_PG_NAME": DRF_DB,
        "DRFPEER_PG_PORT": "5432",
    }
    env.update(extra or {})
    return env


def ensure_drf_peer():
    """The DRF peer copied out to /tmp, its venv under /tmp/drfpeer, its database migrated."""
    if not (DRF_PEER / "bench" / "block.sh").exists():
        log(f"copying {PEERS_SOURCE / 'drf'} to {DRF_PEER}")
        shutil.copytree(PEERS_SOURCE / "drf", DRF_PEER)
        subprocess.run(["chmod", "-R", "u+w", str(DRF_PEER)], check=True)
    python = DRF_SCRATCH / "venv" / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(DRF_SCRATCH / "venv")], check=True)
        subprocess.run(
            [
                str(DRF_SCRATCH / "venv" / "bin" / "pip"),
                "install",
                "-q",
                "-r",
                str(DRF_PEER / "requirements.txt"),
            ],
            check=True,
            timeout=900,
        )
    import psycopg2

    connection = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("select 1 from pg_database where datname = %s", (DRF_DB,))
            if cursor.fetchone() is None:
                cursor.execute(f'create database "{DRF_DB}"')
    finally:
        connection.close()
    subprocess.run([str(python), "manage.py", "migrate", "-v0"], cwd=DRF_PEER, env=drf_env(), check=True)


def drf_block(rep, cfg, opts, raw):
    python = DRF_SCRATCH / "venv" / "bin" / "python"
    subprocess.run(
        [str(python), "manage.py", "seed"], cwd=DRF_PEER, env=drf_env(), check=True, capture_output=True
    )
    env = drf_env(
        {
            "RAW": str(raw),
            "DURATION": str(int(opts.duration)),
            "WARMUP": str(int(opts.warmup)),
            "CONNS": str(CONNS),
            "PORT": str(common.free_port()),
        }
    )
    with common.bench_lock(opts.lock_wait):
        process = subprocess.Popen(
            ["bash", str(DRF_PEER / "bench" / "block.sh"), str(rep), "pg", cfg],
            cwd=DRF_PEER,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=open(raw / f"block-r{rep}-{cfg}.log", "w"),  # noqa: SIM115 (closed with the process)
        )
        try:
            process.wait(timeout=4 * (opts.duration + opts.warmup) + 300)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)  # our own process group, by id
            process.wait(30)
    results = {}
    for name, variant, mode in (
        ("list", "book", "list"),
        ("get", "book", "get"),
        ("patch", "book", "patch"),
        ("list_select_related", "selrel", "list"),
    ):
        path = raw / f"r{rep}_pg_{cfg}_{variant}_{mode}.json"
        if path.exists():
            data = json.loads(path.read_text())
            with contextlib.suppress(OSError, KeyError, ValueError):
                before = json.loads(path.with_suffix(".cpu0.json").read_text())
                after = json.loads(path.with_suffix(".cpu1.json").read_text())
                # block.sh counts gunicorn and every PostgreSQL process (also other people's).
                data["server_cpu_s"] = (after["proc_ticks"] - before["proc_ticks"]) / common.CLK_TCK
                data["server_cpu_pct"] = round(100 * data["server_cpu_s"] / (after["t"] - before["t"]), 1)
            results[name] = summarize_wrk(data)
    log(f"  drf r{rep} {cfg}: " + ", ".join(f"{k} {v['rps']:.0f} req/s" for k, v in results.items()))
    return results


# ------------------------------------------------------------------ report


def report(blocks, drf_cfgs, workers=("eventlet",)):
    def cell(server, endpoint, key):
        return median([b["results"].get(endpoint, {}).get(key) for b in blocks if b["server"] == server])

    def per_rep(server, endpoint):
        values = [b["results"].get(endpoint, {}).get("rps") for b in blocks if b["server"] == server]
        return " / ".join(fmt(v, 0) for v in values if v is not None)

    rows = []
    servers = [OURS[worker] for worker in workers] + [
        (
            f"drf-{cfg}",
            f"DRF peer: gunicorn {'-k sync -w 2' if cfg == 'sync' else '-k gthread -w 1 --threads 8'}",
        )
        for cfg in drf_cfgs
    ]
    endpoints = [("list", LABELS["list"]), ("get", LABELS["get"]), ("patch", LABELS["patch"])]
    for endpoint, label in endpoints + [("list_select_related", "(a') list with select_related")]:
        for server, desc in servers:
            if cell(server, endpoint, "rps") is None:
                continue
            rows.append(
                [
                    label,
                    desc,
                    f"**{fmt(cell(server, endpoint, 'rps'), 0)}**",
                    per_rep(server, endpoint),
                    fmt(cell(server, endpoint, "p50_ms")),
                    fmt(cell(server, endpoint, "p99_ms")),
                    fmt(cell(server, endpoint, "server_cpu_pct"), 0),
                    fmt(cell(server, endpoint, "rps_per_cpu_s"), 0),
                    sum(
                        b["results"].get(endpoint, {}).get("errors", 0)
                        for b in blocks
                        if b["server"] == server
                    ),
                ]
            )
    text = [
        "## REST throughput (wrk -t1 -c16; medians over repetitions)",
        "",
        table(
            [
                "request",
                "server",
                "req/s",
                "req/s per rep",
                "p50 ms",
                "p99 ms",
                "server CPU %",
                "req per server CPU-s",
                "errors",
            ],
            rows,
        ),
        "",
    ]
    ratio_rows = []
    ours = {e: cell("ours", e, "rps") for e, _ in endpoints}
    for cfg in drf_cfgs:
        server = f"drf-{cfg}"
        for endpoint, base in (
            ("list", "list_select_related"),
            ("list", "list"),
            ("get", "get"),
            ("patch", "patch"),
        ):
            theirs = cell(server, base, "rps")
            ours_cpu, theirs_cpu = (
                cell("ours", endpoint, "rps_per_cpu_s"),
                cell(server, base, "rps_per_cpu_s"),
            )
            if ours.get(endpoint) and theirs:
                ratio_rows.append(
                    [
                        f"ours {endpoint} ÷ DRF {cfg} {base}",
                        fmt(ours[endpoint] / theirs, 2),
                        fmt(ours_cpu / theirs_cpu, 2) if ours_cpu and theirs_cpu else "–",
                    ]
                )
    if "gevent" in workers:
        for endpoint, _ in endpoints:
            theirs = cell("ours-gevent", endpoint, "rps")
            if ours.get(endpoint) and theirs:
                ratio = fmt(theirs / ours[endpoint], 2)
                ratio_rows.append([f"ours gevent ÷ eventlet, {endpoint}", ratio, "–"])
    if ratio_rows:
        text += ["## Ratios", "", table(["ratio", "req/s", "req per server CPU-s"], ratio_rows), ""]
    return "\n".join(text)


def stop_on_sigterm(signum, frame):
    raise SystemExit(f"signal {signum}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="ours and the DRF peer, 1 repetition of 5 s per endpoint"
    )
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds per endpoint")
    parser.add_argument("--warmup", type=float, default=5.0, help="discarded seconds before each")
    parser.add_argument("--drf-cfgs", default="sync", help="DRF peer gunicorn configs: sync, gthread")
    parser.add_argument("--no-drf", action="store_true", help="ours only (quote the peer's results.md)")
    parser.add_argument("--workers", default="eventlet", help="our worker classes: eventlet, gevent")
    parser.add_argument("--lock-wait", type=int, default=3600)
    opts = parser.parse_args(argv)
    if opts.quick:
        opts.reps, opts.duration, opts.warmup = 1, 5.0, 2.0
    drf_cfgs = [] if opts.no_drf else [c for c in opts.drf_cfgs.split(",") if c]
    workers = [worker for worker in opts.workers.split(",") if worker]
    unknown = set(workers) - set(OURS)
    if unknown:
        parser.error(f"unknown worker classes: {', '.join(sorted(unknown))}")
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    sweep = time.strftime("%Y%m%d-%H%M%S")
    log_dir = LOG_ROOT / sweep
    log_dir.mkdir(parents=True, exist_ok=True)
    if drf_cfgs:
        ensure_drf_peer()
    meta = {
        "kind": "rest",
        "argv": sys.argv,
        "options": vars(opts),
        "machine": common.machine(),
        "versions": common.versions(),
        "connections": CONNS,
    }
    log(f"rest {sweep}: reps={opts.reps} duration={opts.duration}s drf={drf_cfgs} (load {common.loadavg()})")
    blocks, path = [], None
    with common.seeded_database(log_dir) as (database_url, board):
        counts = in_process_counts(database_url, board)
        meta["queries_per_request"] = counts["statements"]
        meta["python_calls_per_request"] = counts["python_calls"]
        log(f"SQL statements per request (ours): {meta['queries_per_request']}")
        log(f"Python function calls per request (ours, in process): {meta['python_calls_per_request']}")
        for rep in range(1, opts.reps + 1):
            order = [*workers, *drf_cfgs]
            if rep % 2 == 0:
                order.reverse()
            for which in order:
                if which in OURS:
                    with common.bench_lock(opts.lock_wait):
                        results = ours_block(rep, database_url, board, opts, log_dir, which)
                    blocks.append({"server": OURS[which][0], "rep": rep, "results": results})
                else:
                    results = drf_block(rep, which, opts, log_dir)
                    blocks.append({"server": f"drf-{which}", "rep": rep, "results": results})
                path = common.write_results("rest", {**meta, "blocks": blocks}, path)
    meta["loadavg_end"] = common.loadavg()
    path = common.write_results("rest", {**meta, "blocks": blocks}, path)
    print(report(blocks, drf_cfgs, workers))
    print(f"SQL statements per request (ours): {meta['queries_per_request']}")
    print(f"Python function calls per request (ours, in process): {meta['python_calls_per_request']}")
    print(f"\nwrote {path.relative_to(ROOT)} (logs in {log_dir})")


if __name__ == "__main__":
    main()
