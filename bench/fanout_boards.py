"""The fan-out benchmark's many-boards mode: its boards, how sockets and writes
are spread over them, and the server-side timing of the log feed
(``bench/feed_timing.py``). Driven by ``python -m bench.fanout --boards …``.
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import requests

from bench.common import median, pct


def seed_boards(base_url, seeded, boards, tasks_per_board):
    """``boards`` more sprints in the benchmark's project, ``tasks_per_board`` tasks each,
    through the REST API (as ``common.seed_board`` makes the first one). Sprint k ends
    14 + k days from today (a project's sprints end on different days).

    Returns a list of {sprint, task_ids}, one per board.
    """
    headers = {"Authorization": f"Token {seeded['tokens'][0]}"}
    names = seeded["usernames"]
    today = date.today()

    def add_sprint(k):
        end = today + timedelta(days=14 + k)
        body = {"name": f"Bench board {k}", "end": end.isoformat()}
        response = requests.post(f"{base_url}/api/sprints", json=body, headers=headers, timeout=30)
        response.raise_for_status()
        return response.json()["id"]

    def add_task(job):
        sprint, k, j = job
        body = {
            "name": f"Board {k} task {j + 1}",
            "description": f"Task {j + 1} of benchmark board {k}.",
            "sprint": sprint,
            "status": j % 4 + 1,
            "order": j + 1,
            "assigned": names[(k + j) % len(names)],
        }
        if j % 4 + 1 >= 2:
            body["started"] = (today - timedelta(days=3)).isoformat()
        if j % 4 + 1 == 4:
            body["completed"] = (today - timedelta(days=1)).isoformat()
        response = requests.post(f"{base_url}/api/tasks", json=body, headers=headers, timeout=30)
        response.raise_for_status()
        return response.json()["id"]

    with ThreadPoolExecutor(8) as pool:
        sprints = list(pool.map(add_sprint, range(1, boards + 1)))
        jobs = [(sprint, k, j) for k, sprint in enumerate(sprints, 1) for j in range(tasks_per_board)]
        task_ids = list(pool.map(add_task, jobs))
    return [
        {"sprint": sprint, "task_ids": task_ids[k * tasks_per_board : (k + 1) * tasks_per_board]}
        for k, sprint in enumerate(sprints)
    ]


def socket_sprints(boards, per_board):
    """The sprint each socket subscribes to, by global socket index: socket g watches board
    g mod B, so every client process holds sockets of many boards."""
    return [boards[g % len(boards)]["sprint"] for g in range(len(boards) * per_board)]


def write_tasks(boards):
    """The writer's task list, so that write i (it cycles over the list) goes to board
    i mod B, and the tasks of one board are taken in turn."""
    per = min(len(b["task_ids"]) for b in boards)
    return [b["task_ids"][j] for j in range(per) for b in boards]


def write_sprints(boards, total):
    """The board (sprint id) of each write 0 … total − 1: what the analysis expects."""
    return [boards[i % len(boards)]["sprint"] for i in range(total)]


def feed_timing(path, window):
    """Summary of the feed-timing lines (see ``bench/feed_timing.py``) that fall in the
    measurement window [start, end] of CLOCK_MONOTONIC seconds."""
    rows = []
    try:
        text = path.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        fields = line.split()
        if len(fields) != 10:
            continue
        at = float(fields[0])
        if window[0] <= at <= window[1]:
            rows.append([float(x) for x in fields])
    if not rows:
        return {"batches": 0}
    changes = sum(r[1] for r in rows)
    single = [r for r in rows if r[1] == 1]

    def med(column, rs=single):
        return median([r[column] for r in rs])

    def p99(column, rs=single):
        return pct(sorted(r[column] for r in rs), 99)

    read = [r[2] - r[4] for r in rows]
    read_single = sorted(r[2] - r[4] for r in single)
    read_cpu = [r[8] - r[9] for r in single]
    return {
        "batches": len(rows),
        "changes": int(changes),
        "single_change_batches": len(single),
        # Medians over the batches that carried exactly one change (nearly all of them).
        "batch_ms": med(2),
        "log_read_ms": median(read_single),
        "log_read_p99_ms": pct(read_single, 99),
        "sql_ms": med(3),
        "dispatch_ms": med(4),
        "dispatch_p99_ms": p99(4),
        "route_ms": med(5),
        "emit_ms": med(6),
        "sends": med(7),
        "log_read_cpu_ms": median(read_cpu),
        "dispatch_cpu_ms": med(9),
        # Totals over every batch, per change.
        "log_read_ms_per_change": sum(read) / changes,
        "dispatch_ms_per_change": sum(r[4] for r in rows) / changes,
        "route_ms_per_change": sum(r[5] for r in rows) / changes,
        "emit_ms_per_change": sum(r[6] for r in rows) / changes,
        "sends_per_change": sum(r[7] for r in rows) / changes,
    }
