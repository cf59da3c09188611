"""The writer: an open-loop stream of writes at a fixed rate.

Write i is sent at t0 + i / rate (a fixed grid: it never waits for an earlier
reply), and its send time (CLOCK_MONOTONIC ns) is recorded just before the
request goes out.

  patch    our app: PATCH /api/tasks/<id> {"order": id_base + i} (Token auth); the
           `change` event's body carries the order, so clients know which write it was
  emit     the peers' servers: POST /emit {"seq": i, "t": ms}
  publish  raw Redis: PUBLISH room <payload with seq>

Prints ``WRITER {json}`` (send times, round trips, errors) and exits.
"""

import argparse
import asyncio
import json
import time
from pathlib import Path

from bench.fanout_clients import ID_BASE


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


async def run(args):
    total = args.warmup + args.measure
    period_ns = int(1e9 / args.rate)
    sent = [None] * total
    late = [0] * total
    rtt = [None] * total
    status = [None] * total
    errors = []
    task_ids = [int(x) for x in args.task_ids.split(",") if x]
    template = json.loads(Path(args.payload).read_text()) if args.payload else {}

    session = redis_client = None
    if args.mode == "publish":
        import redis.asyncio as aioredis

        redis_client = aioredis.Redis(host="127.0.0.1", port=args.redis_port)
        await redis_client.ping()
    else:
        import aiohttp

        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=60),
            timeout=aiohttp.ClientTimeout(total=args.timeout),
            headers={"Authorization": f"Token {args.token}"} if args.token else None,
        )

    async def send(i):
        try:
            if args.mode == "patch":
                task = task_ids[i % len(task_ids)]
                sent[i] = now_ns()
                async with session.patch(
                    f"{args.url}/api/tasks/{task}", json={"order": args.id_base + i}
                ) as response:
                    await response.read()
                    status[i] = response.status
            elif args.mode == "emit":
                sent[i] = now_ns()
                async with session.post(f"{args.url}/emit", json={"seq": i, "t": sent[i] / 1e6}) as response:
                    await response.read()
                    status[i] = response.status
            else:
                payload = {**template, "seq": i}
                sent[i] = now_ns()
                payload["t"] = sent[i] / 1e6
                await redis_client.publish(args.room, json.dumps(payload))
                status[i] = 200
            rtt[i] = (now_ns() - sent[i]) / 1e6
            if status[i] >= 300:
                errors.append(f"write {i}: HTTP {status[i]}")
        except Exception as error:  # noqa: BLE001 - every failure is reported
            errors.append(f"write {i}: {type(error).__name__}: {error}"[:200])

    pending = []
    t0 = now_ns() + 100_000_000
    for i in range(total):
        target = t0 + i * period_ns
        delay = target - now_ns()
        if delay > 0:
            await asyncio.sleep(delay / 1e9)
        late[i] = max(0, now_ns() - target)
        pending.append(asyncio.ensure_future(send(i)))
    done, not_done = await asyncio.wait(pending, timeout=args.timeout + 5)
    for future in not_done:
        future.cancel()
    if session is not None:
        await session.close()
    if redis_client is not None:
        await redis_client.aclose()
    measured_rtt = sorted(r for r in rtt[args.warmup :] if r is not None)

    def pick(q):
        return measured_rtt[min(len(measured_rtt) - 1, int(q * len(measured_rtt)))] if measured_rtt else None

    return {
        "sent_ns": sent,
        "status": status,
        "errors": len(errors) + len(not_done),
        "error_samples": errors[:5],
        "rtt_p50_ms": pick(0.5),
        "rtt_p99_ms": pick(0.99),
        "rtt_max_ms": measured_rtt[-1] if measured_rtt else None,
        "late_max_ms": max(late) / 1e6,
        "duration_s": (now_ns() - t0) / 1e9,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("patch", "emit", "publish"), required=True)
    parser.add_argument("--url", default="")
    parser.add_argument("--token", default="")
    parser.add_argument("--task-ids", default="")
    parser.add_argument("--redis-port", type=int, default=6391)
    parser.add_argument("--room", default="sprint:1")
    parser.add_argument("--payload", default="", help="JSON template for publish (the peers' payload.json)")
    parser.add_argument("--id-base", type=int, default=ID_BASE)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--measure", type=int, default=100)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    print("WRITER " + json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
