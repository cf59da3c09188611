"""Connections benchmark: idle authenticated sockets held by one process.

    python -m bench.connections --quick            # cap probe + 1,000 sockets on ours, S2, S1 (< 2 min)
    python -m bench.connections                    # cap probe + 1k, 5k, 10k sockets, 60 s hold each
    python -m bench.connections --ns 5000 --hold 90 --peers S2

For each N: our app under `gunicorn -k eventlet -w 1 --worker-connections W`
(pinned to CPU0), N python-socketio clients (websocket, auth {"token"}, nothing
subscribed) in several processes pinned to CPU1. Measured: how many connect and
how fast, the RSS of the gunicorn master + worker before and after (VmRSS delta / N),
and, over a hold longer than ping interval + ping timeout, whether every socket
stays connected and keeps receiving the server's heartbeat pings; meanwhile a
GET /healthz per second shows whether the process still answers.

The cap probe first starts the server with gunicorn's default --worker-connections
(1000) and tries to open more sockets than that.

Baselines (``--peers``, default S2,S1): at each N, in the same lock hold and right
after our app, the same N idle sockets are opened against the peers' bare
Flask-SocketIO server (S2: ``gunicorn -k eventlet -w 1``, pinned to CPU0, started as
bench/fanout.py starts it; its --worker-connections is 5000, so it sits out N > 4950)
and Node socket.io (S1). The peer sockets connect without auth (``fanout_clients
--proto peer``). The "Ratios" table divides our RSS per socket and our connect rate
(sockets opened per second as the client processes time it, without their start-up)
by the peers' figures. The connect rate is paced by the Python load generator
(10 connects in flight per client process), so that ratio says how much slower the
server side makes a paced connect, not what either server could take at most.
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
from bench.common import CLIENT_CPU, PYTHON, ROOT, CpuWindow, Proc, fmt, log, ratios_table, table, taskset
from bench.fanout import WORKER_CONNECTIONS as PEER_WORKER_CONNECTIONS
from bench.fanout import ensure_fanout_peer, start_node_peer, start_peer_gunicorn
from tests.support.servers import children_of, rss_kb

LOG_ROOT = Path("/tmp/bench-connections")
PER_PROCESS = 2000  # sockets per client process
WORKER_CONNECTIONS = 15000
TARGETS = {
    "ours": "our app, gunicorn -k eventlet -w 1",
    "S2": "bare Flask-SocketIO, gunicorn -k eventlet -w 1 (peer)",
    "S1": "Node socket.io 4.8 (peer)",
}


def client_env():
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def open_sockets(n, url, token, log_dir, connect_timeout, retries, allow_failures, concurrency, deadline=600):
    """Client processes holding ``n`` idle sockets; ``token`` None: a peer (no auth, --proto peer)."""
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
            *(["--tokens", token] if token else ["--proto", "peer"]),
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


def healthz_ms(url, timeout=10.0, path="/healthz"):
    t0 = time.monotonic()
    try:
        ok = requests.get(url + path, timeout=timeout).status_code == 200
    except requests.RequestException:
        ok = False
    return (time.monotonic() - t0) * 1000, ok


def stop_all(things):
    def is_client(thing):
        return isinstance(thing, Proc) and thing.process.stdin is not None

    for thing in things:  # every client process starts closing its sockets at once
        if is_client(thing) and thing.alive():
            with contextlib.suppress(Exception):
                thing.send("quit")
    while things:
        thing = things.pop()
        try:
            if isinstance(thing, Proc):
                if is_client(thing) and thing.alive():
                    with contextlib.suppress(Exception):  # stop() follows
                        thing.process.wait(20)
                thing.stop()
            else:
                common.close_server(thing)
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


def start_target(target, database_url, board, log_dir, things):
    """The server under test, started and answering: (url, health path, its PIDs, worker PID)."""
    if target == "ours":
        server = common.app_server(database_url, worker_connections=WORKER_CONNECTIONS)
        things.append(server)
        server.start()
        common.start_feed(server.url, board["tokens"][0])
        return server.url, "/healthz", server.pids(), server.worker_pid()
    port = common.free_port()
    proc = start_peer_gunicorn("s2", port, log_dir) if target == "S2" else start_node_peer(port, log_dir)
    things.append(proc)
    url = f"http://127.0.0.1:{port}"
    common.wait_until(lambda: common.port_answers_http(url + "/health"), 30, 0.2, f"{target} healthy")
    if not proc.alive():
        raise RuntimeError(f"{target} exited; see {proc.log_path}")
    kids = children_of(proc.pid)
    return url, "/health", [proc.pid, *kids], (kids[0] if kids else proc.pid)


def hold_run(database_url, board, n, hold_s, log_dir, concurrency, target="ours"):
    cap = WORKER_CONNECTIONS if target == "ours" else PEER_WORKER_CONNECTIONS if target == "S2" else None
    result = {"target": target, "n": n, "worker_connections": cap, "hold_s": hold_s, "ok": False}
    things = []
    try:
        run_dir = log_dir / f"n{n}-{target}"
        url, health, pids, worker = start_target(target, database_url, board, run_dir, things)
        time.sleep(1.0)
        before = {pid: rss_kb(pid) for pid in pids}
        t0 = time.monotonic()
        token = board["tokens"][0] if target == "ours" else None
        clients = open_sockets(n, url, token, run_dir, 15, 2, False, concurrency)
        things.extend(clients)
        infos = wait_ready(clients, 620)
        result["connect_s"] = round(time.monotonic() - t0, 1)
        failed = [info for tag, info in infos if tag == "FAILED"]
        if failed:
            raise RuntimeError(f"{len(failed)} client processes could not open all sockets: {failed[0]}")
        result["connects_per_s"] = round(n / result["connect_s"], 1)
        # The clients' own timing of their connects (their Python start-up left out).
        result["open_s"] = max(info["connect_s"] for _, info in infos)
        result["opened_per_s"] = round(n / max(result["open_s"], 0.001), 1)
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
            ms, ok = healthz_ms(url, path=health)
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
    parser.add_argument(
        "--quick", action="store_true", help="cap probe, then 1,000 sockets held 5 s on ours and each peer"
    )
    parser.add_argument("--ns", default="1000,5000,10000")
    parser.add_argument("--peers", default="S2,S1", help="baselines at each N: S2, S1 or none")
    parser.add_argument("--hold", type=float, default=60.0, help="seconds (> ping interval + timeout)")
    parser.add_argument("--probe", type=int, default=1100, help="sockets tried against the default cap")
    parser.add_argument("--no-probe", action="store_true")
    parser.add_argument("--concurrency", type=int, default=10, help="connects in flight per client process")
    parser.add_argument("--lock-wait", type=int, default=1800)
    opts = parser.parse_args(argv)
    if opts.quick:
        opts.ns, opts.hold, opts.probe = "1000", 5.0, 1030
    ns = [int(x) for x in opts.ns.split(",")]
    peers = [p for p in opts.peers.split(",") if p and p != "none"]
    if set(peers) - {"S2", "S1"}:
        parser.error(f"--peers: S2, S1 or none, not {opts.peers}")
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
    log(f"connections {sweep}: N={ns} hold={opts.hold}s peers={peers} (load {common.loadavg()})")
    started = time.monotonic()
    results, probe, path = [], None, None
    if peers:
        ensure_fanout_peer()
    with common.seeded_database(log_dir) as (database_url, board):
        if not opts.no_probe:
            with common.bench_lock(opts.lock_wait):
                probe = cap_probe(database_url, board, opts.probe, log_dir, 3.0 if opts.quick else 10.0)
            log(f"cap probe: {probe}")
        keys = ("ok", "connect_s", "rss_per_socket_kb", "disconnects", "pings_min_per_socket", "error")
        for n in ns:
            # Ours and its baselines back to back in one hold of the lock: a same-run comparison.
            with common.bench_lock(opts.lock_wait):
                for target in ["ours", *peers]:
                    if target == "S2" and n + 50 > PEER_WORKER_CONNECTIONS:  # room for the /health probes
                        log(f"N={n}: S2 skipped (its --worker-connections is {PEER_WORKER_CONNECTIONS})")
                        continue
                    result = hold_run(database_url, board, n, opts.hold, log_dir, opts.concurrency, target)
                    results.append(result)
                    log(f"N={n} {target}: {json.dumps({k: result.get(k) for k in keys})}")
                    data = {**meta, "probe": probe, "runs": results}
                    path = common.write_results("connections", data, path)
    meta["loadavg_end"] = common.loadavg()
    meta["lock_waited_s"] = round(common.lock_waited_s(), 1)
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
                r.get("target", "ours"),
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
        f"## Idle sockets, one process (ours: authenticated, --worker-connections {WORKER_CONNECTIONS})",
        "",
        "; ".join(f"{name}: {what}" for name, what in TARGETS.items() if name == "ours" or name in peers),
        "",
        table(
            [
                "N",
                "server",
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
    lines += ["", ratios(results)]
    print("\n".join(lines))
    print(
        f"\nwrote {path.relative_to(ROOT)} (logs in {log_dir}); {time.monotonic() - started:.0f} s,"
        f" of which {common.lock_waited_s():.0f} s waiting for {common.LOCK_PATH}"
    )


def ratios(results):
    """Ours ÷ each peer at each N where both held every socket."""
    held = {(r["n"], r.get("target", "ours")): r for r in results if "error" not in r}
    rows = []
    for (n, target), peer in held.items():
        ours = held.get((n, "ours"))
        if target == "ours" or not ours:
            continue
        rows.append(
            (
                f"RSS per idle socket, ours ÷ {target}, N={n}",
                ours.get("rss_per_socket_kb"),
                peer.get("rss_per_socket_kb"),
                "KB",
                1,
            )
        )
        rows.append(
            (
                f"connect rate (client-timed), ours ÷ {target}, N={n}",
                ours.get("opened_per_s"),
                peer.get("opened_per_s"),
                "/s",
                0,
            )
        )
    if not rows:
        return "## Ratios\n\nnone: no peer run held its sockets (see the table above)"
    return ratios_table(rows)


if __name__ == "__main__":
    main()
