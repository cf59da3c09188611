"""Connections benchmark: idle authenticated sockets held by one process.

    python -m bench.connections --quick            # cap probe + 1,000 sockets, short hold (< 1 min)
    python -m bench.connections                    # cap probe + 1k, 5k, 10k sockets, 60 s hold each
    python -m bench.connections --ns 5000 --hold 90

For each N: our app under `gunicorn -k eventlet -w 1 --worker-connections W`
(pinned to CPU0), N python-socketio clients (websocket, auth {"token"}, nothing
subscribed) in several processes pinned to CPU1. Measured: how many connect and
how fast, the RSS of the gunicorn master + worker before and after (VmRSS delta / N),
and, over a hold longer than ping interval + ping timeout, whether every socket
stays connected and keeps receiving the server's heartbeat pings; meanwhile a
GET /healthz per second shows whether the process still answers.

The cap probe first starts the server with gunicorn's default --worker-connections
(1000) and tries to open more sockets than that.
"""

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path

import requests

from bench import common
from bench.common import CLIENT_CPU, PYTHON, ROOT, CpuWindow, Proc, fmt, log, table, taskset
from tests.support.servers import rss_kb

LOG_ROOT = Path("/tmp/bench-connections")
PER_PROCESS = 2000  # sockets per client process
WORKER_CONNECTIONS = 15000


def client_env():
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def open_sockets(n, url, token, log_dir, connect_timeout, retries, allow_failures, concurrency, deadline=600):
    procs = max(1, -(-n // PER_PROCESS))
    per = [n // procs + (1 if k < n % procs else 0) for k in range(procs)]
    clients = []
    for k in range(procs):
        cmd = [
            *taskset(CLIENT_CPU),
            PYTHON,
            "-m",
            "bench.fanout_clients",
            "--mode",
            "idle",
            "--url",
            url,
            "--tokens",
            token,
            "--n",
            str(per[k]),
            "--concurrency",
            str(concurrency),
            "--connect-timeout",
            str(connect_timeout),
            "--retries",
            str(retries),
            "--deadline",
            str(deadline),
            "--lifetime",
            "1200",
        ]
        if allow_failures:
            cmd.append("--allow-failures")
        clients.append(Proc(f"idle{k}", cmd, log_dir, env=client_env(), stdin=True))
    return clients


def counts(clients):
    total, first = {}, {}
    for proc in clients:
        proc.send("count")
        status = json.loads(proc.expect(["COUNT"], 60)[1])
        for key, value in status.items():
            if key in ("pings_min", "pings_max"):
                continue
            if isinstance(value, int):
                total[key] = total.get(key, 0) + value
        total["pings_min"] = min(total.get("pings_min", 10**9), status["pings_min"])
        total["pings_max"] = max(total.get("pings_max", 0), status["pings_max"])
        for key in ("ping_interval_s", "ping_timeout_s"):
            if status.get(key) is not None:
                first[key] = status[key]
        if status.get("errors"):
            total.setdefault("errors", []).extend(status["errors"])
    return {**total, **first}


def healthz_ms(url, timeout=10.0):
    t0 = time.monotonic()
    try:
        ok = requests.get(url + "/healthz", timeout=timeout).status_code == 200
    except requests.RequestException:
        ok = False
    return (time.monotonic() - t0) * 1000, ok


def stop_all(things):
    for thing in things:  # every client process starts closing its sockets at once
        if isinstance(thing, Proc) and thing.alive():
            with contextlib.suppress(Exception):
                thing.send("quit")
    while things:
        thing = things.pop()
        try:
            if isinstance(thing, Proc):
                if thing.alive():
                    with contextlib.suppress(Exception):  # stop() follows
                        thing.process.wait(20)
                thing.stop()
            else:
                pids = thing.pids()
                thing.stop()
                thing.close()
                for pid in pids:
                    common.stop_pid(pid)
        except Exception as error:  # noqa: BLE001
            log(f"cleanup: {error}")


def wait_ready(clients, timeout):
    infos = []
    for proc in clients:
        tag, rest = proc.expect(["READY", "FAILED"], timeout)
        infos.append((tag, json.loads(rest)))
    return infos


def cap_probe(database_url, board, n, log_dir, healthz_timeout=10.0):
    """Our app with gunicorn's default --worker-connections: how many sockets get in?"""
    result = {"attempted": n, "worker_connections": "default"}
    things = []
    try:
        server = common.app_server(database_url, worker_connections=None)
        things.append(server)
        server.start()
        common.start_feed(server.url, board["tokens"][0])
        t0 = time.monotonic()
        clients = open_sockets(n, server.url, board["tokens"][0], log_dir / "probe", 3, 0, True, 25, 120)
        things.extend(clients)
        wait_ready(clients, 300)
        result["connect_s"] = round(time.monotonic() - t0, 1)
        time.sleep(1)
        status = counts(clients)
        result["connected"] = status.get("connected", 0)
        result["failed"] = status.get("failed", 0)
        result["error_samples"] = (status.get("errors") or [])[:3]
        # While the pool is full, an ordinary request waits in the listen backlog too.
        ms, ok = healthz_ms(server.url, timeout=healthz_timeout)
        result["healthz_timeout_s"] = healthz_timeout
        result["healthz_while_full_ms"] = round(ms, 1)
        result["healthz_while_full_ok"] = ok
    finally:
        stop_all(things)
    return result


def hold_run(database_url, board, n, hold_s, log_dir, concurrency):
    result = {"n": n, "worker_connections": WORKER_CONNECTIONS, "hold_s": hold_s, "ok": False}
    things = []
    try:
        server = common.app_server(database_url, worker_connections=WORKER_CONNECTIONS)
        things.append(server)
        server.start()
        common.start_feed(server.url, board["tokens"][0])
        time.sleep(1.0)
        pids = server.pids()
        worker = server.worker_pid()
        before = {pid: rss_kb(pid) for pid in pids}
        t0 = time.monotonic()
        token = board["tokens"][0]
        clients = open_sockets(n, server.url, token, log_dir / f"n{n}", 15, 2, False, concurrency)
        things.extend(clients)
        infos = wait_ready(clients, 620)
        result["connect_s"] = round(time.monotonic() - t0, 1)
        failed = [info for tag, info in infos if tag == "FAILED"]
        if failed:
            raise RuntimeError(f"{len(failed)} client processes could not open all sockets: {failed[0]}")
        result["connects_per_s"] = round(n / result["connect_s"], 1)
        time.sleep(3.0)
        after = {pid: rss_kb(pid) for pid in pids}
        result["rss_before_mb"] = round(sum(before.values()) / 1024, 1)
        result["rss_after_mb"] = round(sum(after.values()) / 1024, 1)
        result["worker_rss_after_mb"] = round(after.get(worker, 0) / 1024, 1)
        result["rss_per_socket_kb"] = round((sum(after.values()) - sum(before.values())) / n, 1)
        start = counts(clients)
        result["ping_interval_s"] = start.get("ping_interval_s")
        result["ping_timeout_s"] = start.get("ping_timeout_s")

        cpu = CpuWindow({"server": pids, "clients": [p.pid for p in clients]}).start()
        probes, failures = [], 0
        deadline = time.monotonic() + hold_s
        while time.monotonic() < deadline:
            ms, ok = healthz_ms(server.url)
            probes.append(ms)
            failures += 0 if ok else 1
            time.sleep(max(0.0, 1.0 - ms / 1000))
        result.update(cpu.stop())
        end = counts(clients)
        probes.sort()
        result.update(
            {
                "connected_at_end": end.get("connected"),
                "disconnects": end.get("disconnects"),
                "pings_during_hold_avg": round(
                    (end.get("pings_total", 0) - start.get("pings_total", 0)) / n, 2
                ),  # noqa: E501
                "pings_total": end.get("pings_total"),
                "pings_min_per_socket": end.get("pings_min"),
                "pings_max_per_socket": end.get("pings_max"),
                "healthz_p50_ms": round(common.pct(probes, 50), 1),
                "healthz_max_ms": round(probes[-1], 1),
                "healthz_failures": failures,
                "client_errors": (end.get("errors") or [])[:3],
                "loadavg_after": common.loadavg(),
            }
        )
        expected_pings = int(hold_s // (result["ping_interval_s"] or 25))
        result["expected_pings_min"] = expected_pings
        result["ok"] = (
            end.get("connected") == n and not end.get("disconnects") and end["pings_min"] >= expected_pings
        )
    except BaseException as error:  # noqa: BLE001 - recorded; processes stopped below
        result["error"] = f"{type(error).__name__}: {error}"[:500]
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise
    finally:
        stop_all(things)
    return result


def stop_on_sigterm(signum, frame):
    raise SystemExit(f"signal {signum}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="cap probe, then 1,000 sockets held 10 s")
    parser.add_argument("--ns", default="1000,5000,10000")
    parser.add_argument("--hold", type=float, default=60.0, help="seconds (> ping interval + timeout)")
    parser.add_argument("--probe", type=int, default=1100, help="sockets tried against the default cap")
    parser.add_argument("--no-probe", action="store_true")
    parser.add_argument("--concurrency", type=int, default=10, help="connects in flight per client process")
    parser.add_argument("--lock-wait", type=int, default=1800)
    opts = parser.parse_args(argv)
    if opts.quick:
        opts.ns, opts.hold, opts.probe = "1000", 10.0, 1030
    ns = [int(x) for x in opts.ns.split(",")]
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    sweep = time.strftime("%Y%m%d-%H%M%S")
    log_dir = LOG_ROOT / sweep
    meta = {
        "kind": "connections",
        "argv": sys.argv,
        "options": vars(opts),
        "machine": common.machine(),
        "versions": common.versions(),
    }
    log(f"connections {sweep}: N={ns} hold={opts.hold}s (load {common.loadavg()})")
    results, probe, path = [], None, None
    with common.seeded_database(log_dir) as (database_url, board):
        if not opts.no_probe:
            with common.bench_lock(opts.lock_wait):
                probe = cap_probe(database_url, board, opts.probe, log_dir, 3.0 if opts.quick else 10.0)
            log(f"cap probe: {probe}")
        for n in ns:
            with common.bench_lock(opts.lock_wait):
                result = hold_run(database_url, board, n, opts.hold, log_dir, opts.concurrency)
            results.append(result)
            keys = ("ok", "connect_s", "rss_per_socket_kb", "disconnects", "pings_min_per_socket", "error")
            log(f"N={n}: {json.dumps({k: result.get(k) for k in keys})}")
            path = common.write_results("connections", {**meta, "probe": probe, "runs": results}, path)
    meta["loadavg_end"] = common.loadavg()
    path = common.write_results("connections", {**meta, "probe": probe, "runs": results}, path)

    lines = []
    if probe:
        lines += [
            "## Default connection cap (gunicorn eventlet, no --worker-connections)",
            "",
            table(
                ["attempted", "connected", "failed", "healthz while full", "connect s"],
                [
                    [
                        probe["attempted"],
                        probe.get("connected"),
                        probe.get("failed"),
                        f"{fmt(probe.get('healthz_while_full_ms'))} ms"
                        f" ({'ok' if probe.get('healthz_while_full_ok') else 'no answer'})",
                        fmt(probe.get("connect_s")),
                    ]
                ],
            ),
            "",
        ]
    rows = []
    for r in results:
        rows.append(
            [
                r["n"],
                "yes" if r.get("ok") else "NO",
                fmt(r.get("connect_s")),
                fmt(r.get("connects_per_s"), 0),
                fmt(r.get("rss_before_mb")),
                fmt(r.get("rss_after_mb")),
                fmt(r.get("rss_per_socket_kb")),
                fmt(r.get("hold_s"), 0),
                f"{r.get('connected_at_end')}/{r['n']}",
                r.get("disconnects"),
                f"{r.get('pings_min_per_socket')}–{r.get('pings_max_per_socket')}",
                fmt(r.get("server_cpu_pct"), 0),
                f"{fmt(r.get('healthz_p50_ms'))} / {fmt(r.get('healthz_max_ms'))}",
                fmt(r.get("other_cpu_pct"), 0),
                (r.get("error") or "")[:80],
            ]
        )
    lines += [
        f"## Idle authenticated sockets, one process (--worker-connections {WORKER_CONNECTIONS})",
        "",
        table(
            [
                "N",
                "held",
                "connect s",
                "connects/s",
                "RSS before MB",
                "RSS after MB",
                "RSS/socket KB",
                "hold s",
                "connected at end",
                "disconnects",
                "pings per socket",
                "server CPU % (hold)",
                "healthz p50/max ms",
                "other CPU %",
                "error",
            ],
            rows,
        ),
    ]
    print("\n".join(lines))
    print(f"\nwrote {path.relative_to(ROOT)} (logs in {log_dir})")


if __name__ == "__main__":
    main()
