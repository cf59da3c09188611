"""Flood: one abusive client against one production-like process, and what everyone
else sees meanwhile (``/healthz`` latency) and what it costs (worker memory).

    python -m bench.flood guess           # 8 password guessers (HTTP Basic on DELETE /api/token)
    python -m bench.flood hints           # one socket sending hints as fast as it can
    python -m bench.flood binary          # one socket announcing binary attachments and sending them
    python -m bench.flood hold            # 10,100 connections announcing a body that never comes
    python -m bench.flood hints --seconds 30 --reconnect
    python -m bench.flood --quick         # guess and hints, 8 s each (any modes can be named)

Each run starts a fresh migrated PostgreSQL database and one ``gunicorn -k eventlet
-w 1 --worker-connections 10000`` process with ``APP_ENV=production`` (real scrypt
password hashing), pinned to one core; the clients run on the other. A prober asks
for ``/healthz`` every 50 ms on a new connection (timeout 10 s) for the whole run. ``guess`` raises the
login limits so that every guess is really hashed (the throttle would otherwise
answer most of them without hashing). With ``--reconnect`` a flooding socket that is
cut off connects again at once and goes on. ``hold`` opens ``--connections``
requests that announce a 100-byte body and never send it, and keeps each one open
until the server closes it. Results go to
bench/results/flood-<mode>-<time>.json and to standard output.

The baseline is the same process just before the flood: the prober runs alone for
3 s first (``healthz_idle``). The "Ratios" table at the end divides the /healthz
p50 and p99 under the flood by that quiet baseline, and the worker's largest VmRSS
during the flood by its VmRSS before it. The baseline and the flood are measured
while holding the shared benchmark lock.
"""

import argparse
import base64
import contextlib
import json
import socket
import threading
import time

import requests
import websocket

from bench.common import (
    PASSWORD,
    app_server,
    bench_lock,
    create_user,
    lock_waited_s,
    log,
    migrated_postgres_database,
    pct,
    r3,
    ratios_table,
    write_results,
)
from tests.support.servers import rss_kb

USERNAME = "flood"


class Prober(threading.Thread):
    """GET /healthz on a new connection every ``interval`` seconds; keeps (latency, status)."""

    def __init__(self, url, interval=0.05):
        super().__init__(daemon=True)
        self.url, self.interval = url + "/healthz", interval
        self.samples = []
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.is_set():
            started = time.monotonic()
            try:  # a new connection each time, as a new client (or a load balancer) would open
                status = requests.get(self.url, timeout=10, headers={"Connection": "close"}).status_code
            except requests.RequestException:
                status = None
            self.samples.append((time.monotonic() - started, status))
            self.stopped.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def summary(self):
        latencies = sorted(latency for latency, _ in self.samples)
        return {
            "samples": len(latencies),
            "p50_s": r3(pct(latencies, 50)),
            "p99_s": r3(pct(latencies, 99)),
            "max_s": r3(latencies[-1]) if latencies else None,
            "not_200": sum(1 for _, status in self.samples if status != 200),
            # Finer than the seconds above (for the ratios).
            "p50_ms": round(pct(latencies, 50) * 1000, 2) if latencies else None,
            "p99_ms": round(pct(latencies, 99) * 1000, 2) if latencies else None,
        }


def guessers(server, count, stop):
    """``count`` threads presenting wrong passwords with HTTP Basic on DELETE /api/token."""
    answers = {}
    lock = threading.Lock()

    def guess(number):
        session = requests.Session()
        attempt = 0
        while not stop.is_set():
            attempt += 1
            secret = base64.b64encode(f"{USERNAME}:guess {number}-{attempt}".encode()).decode()
            try:
                status = session.delete(
                    server.url + "/api/token", headers={"Authorization": f"Basic {secret}"}, timeout=30
                ).status_code
            except requests.RequestException:
                status = None
            with lock:
                answers[status] = answers.get(status, 0) + 1

    threads = [threading.Thread(target=guess, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    return threads, answers


class RawSocket:
    """A Socket.IO client over a bare websocket, so that it can send as fast as the link allows."""

    def __init__(self, url, token):
        self.ws = websocket.create_connection(
            url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket", timeout=10
        )
        assert self.ws.recv().startswith("0")  # engine.io open
        self.ws.send("40" + json.dumps({"token": token}))
        answer = self.ws.recv()
        while answer == "2":  # a ping may come first
            self.ws.send("3")
            answer = self.ws.recv()
        assert answer.startswith("40"), answer

    def close(self):
        with contextlib.suppress(Exception):
            self.ws.close()


def flood_socket(server, token, task, mode, stop, reconnect, counts):
    """Send hints (or binary attachments) without waiting for anything, until cut off or stopped."""
    hint = "42" + json.dumps(["hint", {"task": task, "action": "dragstart"}])
    attachment = b"\x00" * 65_000
    while not stop.is_set():
        try:
            raw = RawSocket(server.url, token)
        except Exception:
            counts["refused_connects"] = counts.get("refused_connects", 0) + 1
            time.sleep(0.1)
            continue
        counts["connects"] = counts.get("connects", 0) + 1
        try:
            if mode == "binary":
                raw.ws.send("451000000-" + json.dumps(["hint", {"_placeholder": True, "num": 0}]))
                while not stop.is_set():
                    raw.ws.send_binary(attachment)
                    counts["sent"] = counts.get("sent", 0) + 1
            else:
                while not stop.is_set():
                    raw.ws.send(hint)
                    counts["sent"] = counts.get("sent", 0) + 1
        except Exception:
            counts["cut"] = counts.get("cut", 0) + 1
        finally:
            raw.close()
        if not reconnect:
            return


def hold_connections(server, count, stop, counts):
    """``count`` requests whose body never arrives; how many the server closed, and when."""
    host, port = server.url.removeprefix("http://").split(":")
    request = (
        b"POST /api/token HTTP/1.1\r\nHost: flood\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n"
    )
    held = []
    for _ in range(count):
        if stop.is_set():
            break
        try:
            connection = socket.create_connection((host, int(port)), timeout=10)
            connection.sendall(request)
            held.append(connection)
        except OSError:
            counts["refused"] = counts.get("refused", 0) + 1
    counts["held"] = len(held)
    opened = time.monotonic()
    for connection in held:
        connection.setblocking(False)
    while held and not stop.is_set():
        for connection in list(held):
            try:
                if connection.recv(4096) == b"":
                    raise ConnectionResetError
            except BlockingIOError:
                continue
            except OSError:
                pass
            counts["closed_by_server"] = counts.get("closed_by_server", 0) + 1
            counts["last_closed_after_s"] = round(time.monotonic() - opened, 1)
            held.remove(connection)
            connection.close()
        stop.wait(0.2)
    for connection in held:
        connection.close()


def memory_sampler(pid, stop, samples):
    while not stop.is_set():
        samples.append(rss_kb(pid))
        stop.wait(0.5)


def run(mode, seconds, guesser_count, reconnect, connections):
    env = {"APP_ENV": "production"}
    if mode == "guess":
        unlimited = "1000000 per minute"
        env.update({"LOGIN_FAILURES_PER_USERNAME": unlimited, "LOGIN_FAILURES_PER_ADDRESS": unlimited})
    with migrated_postgres_database() as database:
        create_user(database, USERNAME, PASSWORD)
        server = app_server(database, worker_connections=10000, env=env)
        server.start()
        measuring = contextlib.ExitStack()
        try:
            session = requests.Session()
            token = session.post(
                server.url + "/api/token", json={"username": USERNAME, "password": PASSWORD}, timeout=30
            ).json()["token"]
            session.headers["Authorization"] = f"Token {token}"
            end = (time.strftime("%Y") + "-12-31") if time.strftime("%m-%d") != "12-31" else "2099-12-31"
            sprint = session.post(server.url + "/api/sprints", json={"name": "Flood", "end": end}, timeout=30)
            sprint = sprint.json()["id"]
            task = session.post(
                server.url + "/api/tasks", json={"name": "Flood", "sprint": sprint}, timeout=30
            ).json()["id"]
            worker = server.worker_pid()
            measuring.enter_context(bench_lock())

            baseline = Prober(server.url)
            baseline.start()
            time.sleep(3)
            baseline.stopped.set()
            baseline.join()

            stop = threading.Event()
            memory = []
            rss_before = rss_kb(worker)
            threading.Thread(target=memory_sampler, args=(worker, stop, memory), daemon=True).start()
            prober = Prober(server.url)
            prober.start()
            counts = {}
            if mode == "guess":
                threads, counts = guessers(server, guesser_count, stop)
            elif mode == "hold":
                threads = [
                    threading.Thread(
                        target=hold_connections, args=(server, connections, stop, counts), daemon=True
                    )
                ]
                threads[0].start()
            else:
                threads = [
                    threading.Thread(
                        target=flood_socket,
                        args=(server, token, task, mode, stop, reconnect, counts),
                        daemon=True,
                    )
                ]
                threads[0].start()
            log(f"{mode}: running for {seconds} s")
            time.sleep(seconds)
            stop.set()
            prober.stopped.set()
            prober.join()
            for thread in threads:
                thread.join(15)
            time.sleep(1)
            rss_after = rss_kb(worker)
            measuring.close()  # the lock: the rest is no measurement
            result = {
                "mode": mode,
                "seconds": seconds,
                "guessers": guesser_count if mode == "guess" else None,
                "reconnect": reconnect,
                "healthz_idle": baseline.summary(),
                "healthz_during": prober.summary(),
                "client": {str(key): value for key, value in counts.items()},
                "worker_rss_kb": {
                    "before": rss_before,
                    "max": max(memory or [rss_before]),
                    "after": rss_after,
                    "growth_max_mb": round((max(memory or [rss_before]) - rss_before) / 1024, 1),
                },
                "server_alive": server.running,
                "log_tail": server.log()[-2000:],
            }
        finally:
            server.close()
    path = write_results(f"flood-{mode}", result)
    print(json.dumps({key: value for key, value in result.items() if key != "log_tail"}, indent=1))
    log(f"results: {path}")
    return result


MODES = ("guess", "hints", "binary", "hold")
QUICK_MODES = ("guess", "hints")


def ratios(results):
    rows = []
    for result in results:
        mode, idle, during = result["mode"], result["healthz_idle"], result["healthz_during"]
        for key in ("p50", "p99"):
            name = f"/healthz {key}, {mode} flood ÷ quiet ({idle['samples']} samples)"
            rows.append((name, during[f"{key}_ms"], idle[f"{key}_ms"], "ms", 1))
        rss = result["worker_rss_kb"]
        rows.append(
            (f"worker VmRSS, {mode}: largest ÷ before", rss["max"] / 1024, rss["before"] / 1024, "MB", 1)
        )
    return ratios_table(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modes", nargs="*", metavar="mode", help=f"one or more of {', '.join(MODES)}")
    parser.add_argument(
        "--quick", action="store_true", help=f"{' and '.join(QUICK_MODES)} (unless named), 8 s each"
    )
    parser.add_argument("--seconds", type=float, help="flood duration per mode (default 20, --quick 8)")
    parser.add_argument("--guessers", type=int, default=8)
    parser.add_argument("--connections", type=int, default=10_100, help="for hold")
    parser.add_argument("--reconnect", action="store_true", help="a cut-off socket connects again at once")
    args = parser.parse_args()
    if unknown := set(args.modes) - set(MODES):
        parser.error(f"unknown mode {', '.join(sorted(unknown))}: choose from {', '.join(MODES)}")
    if not args.modes and not args.quick:
        parser.error(f"name a mode ({', '.join(MODES)}) or use --quick")
    modes = args.modes or list(QUICK_MODES)
    seconds = args.seconds or (8.0 if args.quick else 20.0)
    started = time.monotonic()
    results = [run(mode, seconds, args.guessers, args.reconnect, args.connections) for mode in modes]
    print()
    print(ratios(results))
    waited = lock_waited_s()
    print(f"\n{time.monotonic() - started:.0f} s, of which {waited:.0f} s waiting for the benchmark lock")


if __name__ == "__main__":
    main()
