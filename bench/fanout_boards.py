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


FEED_FIELDS = (
    "at",
    "changes",
    "sends",
    "batch_ms",
    "log_read_ms",
    "sql_ms",
    "dispatch_ms",
    "route_ms",
    "emit_ms",
    "tail_ms",
    "batch_cpu_ms",
    "log_read_cpu_ms",
    "dispatch_cpu_ms",
    "tail_cpu_ms",
)


def feed_timing(path, window):
    """Summary of the feed-timing lines (see ``bench/feed_timing.py``) that fall in the
    measurement window [start, end] of CLOCK_MONOTONIC seconds: medians over the batches
    that carried exactly one change (nearly all of them at these write rates), and the
    p99 of the log read and of the dispatch."""
    try:
        text = path.read_text()
    except OSError:
        return None
    rows = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) != len(FEED_FIELDS):
            continue
        row = dict(zip(FEED_FIELDS, map(float, fields), strict=True))
        if window[0] <= row["at"] <= window[1]:
            rows.append(row)
    single = [r for r in rows if r["changes"] == 1]
    summary = {"batches": len(rows), "changes": int(sum(r["changes"] for r in rows)), "single": len(single)}
    if not single:
        return summary
    for key in FEED_FIELDS[2:]:
        summary[key] = median([r[key] for r in single])
    summary["log_read_p99_ms"] = pct(sorted(r["log_read_ms"] for r in single), 99)
    summary["dispatch_p99_ms"] = pct(sorted(r["dispatch_ms"] for r in single), 99)
    return summary


# What ``feed_timing`` sums up per run, and the orchestrator takes the median of over runs.
FEED_SUMMARY_KEYS = (*FEED_FIELDS[2:], "log_read_p99_ms", "dispatch_p99_ms")
