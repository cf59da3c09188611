"""Write throughput: task PATCHes from 32 connections against one and two server
processes, and how long each write holds the change log's advisory lock.

    python -m bench.writes --quick        # 1 short repetition, spread mode (< 2 min)
    python -m bench.writes                # 2 interleaved repetitions of every configuration
    python -m bench.writes --reps 3 --duration 20

Every write takes one PostgreSQL advisory lock so that the change log's seq is in
commit order. Since the log is numbered at commit (app/log_numbers.py) the lock is
taken inside COMMIT by PostgreSQL, and the app sends no lock statement: the
in-worker timing below then has nothing to time, and the sampling of pg_locks
shows the lock.
This measures, for `gunicorn -k eventlet -w 1`, `-w 2` (both workers accept from
the master's one socket) and `-w 2 --reuse-port` (a socket per worker, which the
kernel balances), each with a private Redis, as deployed with more than one process:

- writes/s of `PATCH /api/tasks/<id> {"order": n}` from `wrk -c32`, in two modes:
  spread   `-t1 -c32`, requests cycling over the sprint's 100 tasks (bench/rest.lua)
  distinct `-t32 -c32`, each connection always on a task of its own (bench/writes.lua)
- two CPU placements on this 2-core machine:
  pinned   gunicorn, Redis and our PostgreSQL backends on CPU0, wrk on CPU1
  unpinned all of them free to use both cores
- the lock, from inside each worker (bench/lock_timing.py, a gunicorn config file
  whose SQLAlchemy listeners time every transaction that takes the lock; the app
  is unchanged): wait (lock statement sent → granted), hold (granted → commit
  done) and its parts, statements per transaction; and from PostgreSQL, sampling
  pg_locks + pg_stat_activity every 20 ms: the fraction of samples in which the
  lock is held, what its holder is doing, and how many wait for it.
- server CPU per write (gunicorn, Redis and our PostgreSQL backends).

Σ hold ÷ window is the fraction of time the lock is held: the serial fraction f.
With it, Amdahl bounds the speed-up of any number of processes at 1/f, and the
lock alone bounds writes/s at 1/(mean hold).
"""

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
from pathlib import Path

from bench import common
from bench.common import CLIENT_CPU, ROOT, SERVER_CPU, CpuWindow, fmt, log, median, pct, spread, table
from bench.rest import check_list, count_queries, summarize_wrk

LOG_ROOT = Path("/tmp/bench-writes")
CONNS = 32
WRITES_LUA = ROOT / "bench" / "writes.lua"
REST_LUA = ROOT / "bench" / "rest.lua"
LOCK_TIMING = ROOT / "bench" / "lock_timing.py"
PLACEMENTS = {
    "pinned": "servers + PostgreSQL on CPU0, wrk on CPU1",
    "unpinned": "servers, PostgreSQL and wrk on both cores",
}
MODES = {
    "spread": "wrk -t1 -c32, cycling over 100 tasks",
    "distinct": "wrk -t32 -c32, one task per connection",
}
# Server configurations: gunicorn arguments. With -w 2 both workers accept from the
# one listening socket the master opened; with --reuse-port (gunicorn >= 24) each
# worker opens its own, and the kernel spreads new connections over them.
WORKERS = {
    "1": ("-w 1", ["-w", "1"]),
    "2": ("-w 2", ["-w", "2"]),
    "2rp": ("-w 2 --reuse-port", ["-w", "2", "--reuse-port"]),
}
# The "lock" column of results: earlier results also hold what-ifs measured before the
# log was numbered at commit ("none", "commit"; docs/benchmarks.md).
VARIANTS = {"app": "the app as it is"}
SAMPLE_INTERVAL = 0.02
ALL_CPUS = set(range(os.cpu_count() or 1))


def unpin(pids):
    for pid in pids:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(pid, ALL_CPUS)


def db_counters(dbname):
    """(sessions opened, transactions committed) so far in our database (pg_stat_database)."""
    import psycopg2

    connection = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    try:
        with connection.cursor() as cursor:
            cursor.execute("select sessions, xact_commit from pg_stat_database where datname = %s", (dbname,))
            return cursor.fetchone()
    finally:
        connection.close()


def log_lock_key():
    from app.log_numbers import LOG_LOCK_KEY

    return LOG_LOCK_KEY


# ------------------------------------------------------------------ PostgreSQL's view of the lock


class LockSampler:
    """Samples, every ``interval`` s, who holds the log lock and who waits for it (pg_locks
    joined with pg_stat_activity). In the pinned placement it keeps our backends on CPU0
    (also ones the pools open late) and itself on CPU1."""

    SQL = """
        select l.granted, a.state, a.wait_event_type, a.wait_event
        from pg_locks l join pg_stat_activity a on a.pid = l.pid
        where l.locktype = 'advisory' and l.objid = %s and l.database =
            (select oid from pg_database where datname = %s)
    """

    def __init__(self, dbname, pinned, interval=SAMPLE_INTERVAL):
        self.dbname, self.pinned, self.interval = dbname, pinned, interval
        self.key = log_lock_key() & 0xFFFFFFFF
        self.samples = 0
        self.held = 0
        self.waiters = 0
        self.holder = {}
        self.backend_pid = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        self._ready.wait(10)
        return self

    def _run(self):
        import psycopg2

        if self.pinned:
            os.sched_setaffinity(threading.get_native_id(), {CLIENT_CPU})
        connection = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute("select pg_backend_pid()")
                self.backend_pid = cursor.fetchone()[0]
                if self.pinned:
                    common.pin_pids([self.backend_pid], CLIENT_CPU)
                self._ready.set()
                next_pin = time.monotonic() + 1
                while not self._stop.wait(self.interval):
                    cursor.execute(self.SQL, (self.key, self.dbname))
                    rows = cursor.fetchall()
                    self.samples += 1
                    for granted, state, wait_type, wait_event in rows:
                        if granted:
                            self.held += 1
                            what = state
                            if state == "active":
                                what = f"active {wait_type or 'CPU'}:{wait_event or ''}"
                            self.holder[what] = self.holder.get(what, 0) + 1
                        else:
                            self.waiters += 1
                    if self.pinned and time.monotonic() > next_pin:
                        next_pin = time.monotonic() + 1
                        backends = common.pg_backend_pids(self.dbname)
                        common.pin_pids([p for p in backends if p != self.backend_pid], SERVER_CPU)
        finally:
            self._ready.set()
            connection.close()

    def stop(self):
        self._stop.set()
        self._thread.join(10)
        n = self.samples or 1
        return {
            "samples": self.samples,
            "held_fraction": self.held / n,
            "mean_waiters": self.waiters / n,
            "holder_states": {
                k: round(v / n, 4) for k, v in sorted(self.holder.items(), key=lambda kv: -kv[1])
            },
        }


# ------------------------------------------------------------------ the workers' view of the lock


def read_timings(directory, t0, t1):
    """Lines of bench/lock_timing.py whose commit ended within [t0, t1], per worker PID."""
    per_worker = {}
    for path in Path(directory).glob("locks-*.txt"):
        rows = []
        for line in path.read_text().splitlines():
            fields = line.split()
            if len(fields) == 7:
                row = [int(v) for v in fields]
                if t0 <= row[5] <= t1:
                    rows.append(row)
        per_worker[path.stem.split("-", 1)[1]] = rows
    return per_worker


def summarize_timings(per_worker, window_s):
    rows = [row for rows in per_worker.values() for row in rows]
    if not rows:
        return {"locked_commits": 0}

    def ms(values):
        values = sorted(v / 1e6 for v in values)
        return {"p50": pct(values, 50), "p99": pct(values, 99), "mean": sum(values) / len(values)}

    # Fields: lock sent, lock granted, insert sent, insert done, commit sent, commit done, statements.
    full = [r for r in rows if 0 < r[2] <= r[3] <= r[4]]
    hold = [r[5] - r[1] for r in rows]
    result = {
        "locked_commits": len(rows),
        "commits_per_s": len(rows) / window_s,
        "per_worker": sorted(len(r) for r in per_worker.values()),
        "wait_ms": ms(r[1] - r[0] for r in rows),
        "hold_ms": ms(hold),
        # From the lock statement sent to the commit done: an upper bound on the hold.
        "hold_from_sent_ms": ms(r[5] - r[0] for r in rows),
        "hold_parts_ms": {
            "granted → insert sent": ms(r[2] - r[1] for r in full),
            "insert sent → done": ms(r[3] - r[2] for r in full),
            "insert done → commit sent": ms(r[4] - r[3] for r in full),
            "commit sent → done": ms(r[5] - r[4] for r in full),
        },
        "statements": sorted(r[6] for r in rows)[len(rows) // 2],
        # Σ hold ÷ window: the fraction of time the lock is held (the serial fraction).
        "lock_busy": sum(hold) / 1e9 / window_s,
    }
    return result


# ------------------------------------------------------------------ one block: one server configuration


def block(rep, placement, workers, variant, database_url, board, opts, log_dir, modes):
    """Start gunicorn (WORKERS[workers]) and its Redis placed as ``placement``, then measure each mode."""
    pinned = placement == "pinned"
    server_cpu = SERVER_CPU if pinned else None
    name = f"r{rep}_{placement}_w{workers}_{variant}"
    timing_dir = log_dir / name
    timing_dir.mkdir(parents=True, exist_ok=True)
    dbname = common.database_name(database_url)
    results, things = {}, []
    try:
        redis_port = common.free_port()
        redis = common.start_redis(redis_port, log_dir, cpu=server_cpu)
        things.append(redis)
        server = common.app_server(
            database_url,
            redis_url=f"redis://127.0.0.1:{redis_port}/0",
            cpu=server_cpu,
            env={"LOCK_TIMING_DIR": str(timing_dir)},
            extra_args=[*WORKERS[workers][1], "-c", str(LOCK_TIMING)],
        )
        things.append(server)
        server.start()
        check_list(server.url, board)
        for mode in modes:
            wrk_args = {
                "conns": CONNS,
                "threads": CONNS if mode == "distinct" else 1,
                "cpu": CLIENT_CPU if pinned else None,
                "script": WRITES_LUA,
                "env": {"REST_LUA": str(REST_LUA), "DISTINCT": "1" if mode == "distinct" else "0"},
            }
            warm = log_dir / f"{name}_{mode}.warmup.json"
            common.wrk("patch", opts.warmup, warm, server.url, board, log_dir, **wrk_args)
            sampler = LockSampler(dbname, pinned).start()
            backends = [p for p in common.pg_backend_pids(dbname) if p != sampler.backend_pid]
            if pinned:
                common.pin_pids(backends, SERVER_CPU)
            else:  # new backends are unpinned already; these may be older
                unpin(backends)
            cpu = CpuWindow({"app": server.pids(), "pg": backends, "redis": [redis.pid]}).start()
            counters0 = db_counters(dbname)
            t0 = common.now_ns()
            out = log_dir / f"{name}_{mode}.json"
            data = common.wrk("patch", opts.duration, out, server.url, board, log_dir, **wrk_args)
            t1 = common.now_ns()
            data.update(cpu.stop())
            counters1 = db_counters(dbname)
            lock_pg = sampler.stop()
            window = (t1 - t0) / 1e9
            result = summarize_wrk(data)
            writes = data["ok_2xx"]
            server_cpu_s = sum(data.get(f"{g}_cpu_s", 0) for g in ("app", "pg", "redis"))
            result.update(
                {
                    "pg_backends": len(backends),
                    "app_cpu_pct": data.get("app_cpu_pct"),
                    "pg_cpu_pct": data.get("pg_cpu_pct"),
                    "redis_cpu_pct": data.get("redis_cpu_pct"),
                    "server_cpu_pct": round(100 * server_cpu_s / data["window_s"], 1),
                    "server_cpu_ms_per_write": 1000 * server_cpu_s / writes if writes else None,
                    "app_cpu_ms_per_write": 1000 * data.get("app_cpu_s", 0) / writes if writes else None,
                    "pg_cpu_ms_per_write": 1000 * data.get("pg_cpu_s", 0) / writes if writes else None,
                    # Connections the pools opened (and closed: overflow ones) meanwhile;
                    # their backends' CPU is not in pg_cpu (only backends alive throughout are).
                    "pg_sessions_per_write": (counters1[0] - counters0[0]) / writes if writes else None,
                    "pg_commits_per_write": (counters1[1] - counters0[1]) / writes if writes else None,
                    "lock": summarize_timings(read_timings(timing_dir, t0, t1), window),
                    "lock_pg": lock_pg,
                    "loadavg": common.loadavg(),
                }
            )
            results[mode] = result
            lock = result["lock"]
            log(
                f"  {name} {mode}: {result['rps']:.0f} writes/s p99 {result['p99_ms']:.1f} ms, "
                f"hold p50 {fmt(lock.get('hold_ms', {}).get('p50'), 2)} ms, "
                f"lock busy {fmt(lock.get('lock_busy'), 2)} (pg {lock_pg['held_fraction']:.2f}), "
                f"server CPU {result['server_cpu_pct']:.0f} %, other {data['other_cpu_pct']:.0f} %"
            )
    finally:
        common.stop_all(things)
    return results


# ------------------------------------------------------------------ report


def report(blocks, configs, modes):
    """Markdown tables; ``configs`` are (placement, workers, variant) in the order to show."""

    def values(config, mode, get):
        found = []
        for b in blocks:
            if (b["placement"], b["workers"], b["variant"]) == config and mode in b["results"]:
                with contextlib.suppress(KeyError, TypeError, ZeroDivisionError):
                    found.append(get(b["results"][mode]))
        return found

    def cell(config, mode, get, digits=1):
        return fmt(median(values(config, mode, get)), digits)

    def key(name):
        return lambda result: result[name]

    def lock(*keys):
        def get(result):
            value = result["lock"]
            for k in keys:
                value = value[k]
            return value

        return get

    def label(config):
        placement, workers, variant = config
        return [placement, WORKERS[workers][0], variant]

    rows, lock_rows = [], []
    for c in configs:
        for m in modes:
            if not values(c, m, key("rps")):
                continue
            splits = values(c, m, lock("per_worker"))
            cpu = " / ".join(cell(c, m, key(k), 0) for k in ("app_cpu_pct", "pg_cpu_pct", "redis_cpu_pct"))
            rows.append(
                [
                    *label(c),
                    m,
                    f"**{cell(c, m, key('rps'), 0)}**",
                    " / ".join(fmt(v, 0) for v in values(c, m, key("rps"))),
                    cell(c, m, key("p50_ms")),
                    cell(c, m, key("p99_ms")),
                    cpu,
                    f"{cell(c, m, key('server_cpu_ms_per_write'), 2)} "
                    f"({cell(c, m, key('app_cpu_ms_per_write'), 2)} + "
                    f"{cell(c, m, key('pg_cpu_ms_per_write'), 2)})",
                    "; ".join("/".join(str(n) for n in split) for split in splits)
                    if splits and len(splits[0]) > 1
                    else "–",
                    cell(c, m, key("pg_sessions_per_write"), 2),
                    cell(c, m, key("other_cpu_pct"), 0),
                    sum(values(c, m, key("errors"))),
                ]
            )
            busy = median(values(c, m, lock("lock_busy")))
            held = cell(c, m, lambda r: r["lock_pg"]["held_fraction"], 2)
            idle = cell(
                c,
                m,
                lambda r: (
                    100
                    * r["lock_pg"]["holder_states"].get("idle in transaction", 0)
                    / r["lock_pg"]["held_fraction"]
                ),
                0,
            )
            wal = cell(
                c,
                m,
                lambda r: (
                    100
                    * r["lock_pg"]["holder_states"].get("active IO:WALSync", 0)
                    / r["lock_pg"]["held_fraction"]
                ),
                0,
            )
            mean_hold = median(values(c, m, lock("hold_ms", "mean")))
            parts = (
                "granted → insert sent",
                "insert sent → done",
                "insert done → commit sent",
                "commit sent → done",
            )
            lock_rows.append(
                [
                    *label(c),
                    m,
                    f"{cell(c, m, lock('wait_ms', 'p50'), 2)} / {cell(c, m, lock('wait_ms', 'p99'), 1)}",
                    f"**{cell(c, m, lock('hold_ms', 'p50'), 2)}** / {cell(c, m, lock('hold_ms', 'p99'), 1)}",
                    " + ".join(cell(c, m, lock("hold_parts_ms", part, "p50"), 2) for part in parts),
                    f"**{fmt(busy, 2)}**",
                    held,
                    f"{idle} / {wal}",
                    cell(c, m, lambda r: r["lock_pg"]["mean_waiters"], 1),
                    fmt(1 / busy if busy else None, 2),
                    fmt(1000 / mean_hold if mean_hold else None, 0),
                    cell(c, m, lock("statements"), 0),
                ]
            )
    text = [
        f"## Write throughput: PATCH from wrk -c{CONNS} (medians over repetitions)",
        "",
        table(
            [
                "placement",
                "gunicorn",
                "lock",
                "tasks",
                "writes/s",
                "per rep",
                "p50 ms",
                "p99 ms",
                "CPU % app / PG / Redis",
                "server CPU ms per write (app + PG)",
                "writes per worker",
                "new PG connections per write",
                "other CPU %",
                "errors",
            ],
            rows,
        ),
        "",
    ]
    ratio_rows, ratios = [], {}
    for c in configs:
        placement, workers, variant = c
        one = (placement, "1", variant)
        if workers == "1" or one not in configs:
            continue
        for m in modes:
            a, b = values(one, m, key("rps")), values(c, m, key("rps"))
            if not a or not b:
                continue
            ratio = median(b) / median(a)
            ratios[(placement, workers, variant, m)] = ratio
            low, high = spread([y / x for x, y in zip(a, b, strict=False) if x])
            met = "yes" if ratio >= 1.6 else "no"
            ratio_rows.append(
                [
                    placement,
                    f"{WORKERS[workers][0]} ÷ -w 1",
                    variant,
                    m,
                    f"**{fmt(ratio, 2)}**",
                    f"{fmt(low, 2)}–{fmt(high, 2)}",
                    met,
                ]
            )
    if ratio_rows:
        text += [
            "## 2 processes ÷ 1 process, writes/s (target ≥ 1.6)",
            "",
            table(
                ["placement", "ratio", "lock", "tasks", "ratio of medians", "per-rep range", "≥ 1.6?"],
                ratio_rows,
            ),
            "",
        ]
    text += [
        "## The log lock (medians over repetitions)",
        "",
        table(
            [
                "placement",
                "gunicorn",
                "lock",
                "tasks",
                "wait p50 / p99 ms",
                "hold p50 / p99 ms",
                "hold p50 parts: granted→insert + insert + →commit + commit ms",
                "Σ hold ÷ time (f)",
                "PG: sampled held",
                "PG: holder idle in transaction / WALSync, % of held",
                "PG: mean waiters",
                "Amdahl 1/f",
                "lock bound 1/mean hold, writes/s",
                "statements per locked transaction",
            ],
            lock_rows,
        ),
        "",
    ]
    return "\n".join(text), ratios


def stop_on_sigterm(signum, frame):
    raise SystemExit(f"signal {signum}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repetition of 5 s, spread only (< 2 min)")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--duration", type=float, default=15.0, help="measured seconds per mode")
    parser.add_argument("--warmup", type=float, default=4.0, help="discarded seconds before each")
    parser.add_argument("--modes", default=",".join(MODES), help="spread, distinct")
    parser.add_argument("--placements", default=",".join(PLACEMENTS), help="pinned, unpinned")
    parser.add_argument("--lock-wait", type=int, default=3600)
    opts = parser.parse_args(argv)
    if opts.quick:
        opts.reps, opts.duration, opts.warmup, opts.modes = 1, 5.0, 2.0, "spread"
    modes = [m for m in opts.modes.split(",") if m]
    placements = [p for p in opts.placements.split(",") if p]
    if set(modes) - set(MODES) or set(placements) - set(PLACEMENTS):
        parser.error("unknown mode or placement")
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    sweep = time.strftime("%Y%m%d-%H%M%S")
    log_dir = LOG_ROOT / sweep
    log_dir.mkdir(parents=True, exist_ok=True)
    meta = {
        "kind": "writes",
        "argv": sys.argv,
        "options": vars(opts),
        "machine": common.machine(),
        "versions": common.versions(),
        "connections": CONNS,
        "placements": PLACEMENTS,
        "modes": MODES,
        "workers": {k: v[0] for k, v in WORKERS.items()},
        "variants": VARIANTS,
    }
    log(f"writes {sweep}: reps={opts.reps} duration={opts.duration}s modes={modes} (load {common.loadavg()})")
    blocks, path = [], None
    workers = ["1", "2", "2rp"]
    configs = [(p, w, "app") for p in placements for w in workers]
    with common.seeded_database(log_dir) as (database_url, board):
        meta["queries_per_request"] = count_queries(database_url, board)
        log(f"SQL statements per request: {meta['queries_per_request']}")
        for rep in range(1, opts.reps + 1):
            for placement, w, variant in configs if rep % 2 else reversed(configs):
                with common.bench_lock(opts.lock_wait):
                    results = block(rep, placement, w, variant, database_url, board, opts, log_dir, modes)
                blocks.append(
                    {"placement": placement, "workers": w, "variant": variant, "rep": rep, "results": results}
                )
                path = common.write_results("writes", {**meta, "blocks": blocks}, path)
    meta["loadavg_end"] = common.loadavg()
    path = common.write_results("writes", {**meta, "blocks": blocks}, path)
    text, ratios = report(blocks, configs, modes)
    print(text)
    print(f"SQL statements per request: {meta['queries_per_request']}")
    for (placement, w, variant, mode), ratio in ratios.items():
        print(
            f"ratio 2 processes ({WORKERS[w][0]}) ÷ 1 process, writes/s "
            f"({placement}, {variant}, {mode}): {ratio:.2f}"
        )
    print(f"\nwrote {path.relative_to(ROOT)} (logs in {log_dir})")


if __name__ == "__main__":
    main()
