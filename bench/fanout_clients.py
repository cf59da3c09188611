"""One load-generator process: N socket.io clients (python-socketio's asyncio
client, websocket transport) or N Redis subscribers, driven over stdin/stdout.

    python -m bench.fanout_clients --mode sio --proto ours --url URL --n 250 \
        --tokens T1,T2 --sprint 1 --warmup 20 --measure 100

Modes:
  sio   connect with auth {"token"}; subscribe (ours: {"sprint", "since": null};
        peer: {"room"}); record when each measured `change` arrives. With
        --sprints (ours), client i subscribes to the i-th sprint of the list
        (cycled) and counts as "foreign" every task change of another sprint
  redis SUBSCRIBE to the room's channel (raw Redis pub/sub floor)
  idle  connect with auth only and hold the socket (connections benchmark);
        count heartbeat pings and disconnects

Lines on stdout: ``READY {json}`` once every client is connected (and
subscribed), or ``FAILED {json}``. Commands on stdin: ``count`` (answers
``COUNT {json}``), ``dump PATH`` (writes the arrival matrix, answers ``DUMPED
{json}``), ``quit``.

The arrival matrix holds, for measured write w and client c, the receipt time
(CLOCK_MONOTONIC ns, the clock every benchmark process uses) at index
(w - warmup) * n + c, or -1 when it never came.
"""

import argparse
import array
import asyncio
import contextlib
import json
import sys
import time

# Ours: a PATCHed task's `order` is id_base + write id, id_base a fresh multiple of
# ID_BASE per run (a PATCH that changes nothing is, rightly, no change at all).
ID_BASE = 1_000_000


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


class Fleet:
    def __init__(self, args):
        self.args = args
        self.n = args.n
        self.arrivals = array.array("q", [-1]) * (args.measure * args.n)
        self.received = 0  # measured deliveries
        self.changes = 0  # every change event (also warm-up ones)
        self.dupes = 0
        self.presence = 0
        self.foreign = 0  # task changes of a board the socket did not subscribe to
        self.disconnects = 0
        self.connected = 0
        self.failed = 0
        self.retries = 0
        self.pings = [0] * args.n
        self.errors = []
        self.clients = []
        self.subscribers = []
        self.readers = []
        self.last_change_ns = 0
        self.closing = False

    # -- bookkeeping --------------------------------------------------------------

    def record(self, index, write_id, t_ns):
        self.changes += 1
        self.last_change_ns = t_ns
        w = write_id - self.args.warmup
        if not 0 <= w < self.args.measure:
            return
        slot = w * self.n + index
        if self.arrivals[slot] >= 0:
            self.dupes += 1
            return
        self.arrivals[slot] = t_ns
        self.received += 1

    def status(self):
        return {
            "received": self.received,
            "changes": self.changes,
            "dupes": self.dupes,
            "presence": self.presence,
            "foreign": self.foreign,
            "disconnects": self.disconnects,
            "connected": self.connected,
            "failed": self.failed,
            "retries": self.retries,
            "pings_total": sum(self.pings),
            "pings_min": min(self.pings) if self.pings else 0,
            "pings_max": max(self.pings) if self.pings else 0,
            "errors": self.errors[:5],
            "ping_interval_s": self.clients[0].eio.ping_interval if self.clients else None,
            "ping_timeout_s": self.clients[0].eio.ping_timeout if self.clients else None,
        }

    # -- socket.io clients ----------------------------------------------------------

    def sprint_of(self, index):
        sprints = self.args.sprints
        return sprints[index % len(sprints)] if sprints else self.args.sprint

    def make_sio_client(self, index):
        import engineio
        import socketio

        client = socketio.AsyncClient(reconnection=False, handle_sigint=False, request_timeout=15)
        fleet = self
        proto = self.args.proto

        id_base, total = self.args.id_base, self.args.warmup + self.args.measure
        sprint = self.sprint_of(index)
        if proto == "ours":

            async def on_change(data):
                t = now_ns()
                body = data.get("body") if isinstance(data, dict) else None
                if data.get("model") == "task" and body:
                    if body.get("sprint") != sprint:
                        fleet.foreign += 1
                    write_id = body.get("order", -1) - id_base
                    if 0 <= write_id < total:
                        fleet.record(index, write_id, t)

        else:

            async def on_change(data):
                fleet.record(index, data["seq"], now_ns())

        async def on_presence(data):
            fleet.presence += 1

        async def on_connect():
            fleet.connected += 1

        async def on_disconnect(reason=None):
            fleet.connected -= 1
            if getattr(client, "bench_established", False) and not fleet.closing:
                fleet.disconnects += 1
                if len(fleet.errors) < 20:
                    fleet.errors.append(f"client {index} disconnected: {reason}")

        client.on("connect", on_connect)
        client.on("change", on_change)
        client.on("presence", on_presence)
        client.on("disconnect", on_disconnect)

        # Count the server's heartbeat pings (Engine.IO 4: the server pings, the client answers).
        original = client.eio._receive_packet

        async def counting(pkt):
            if pkt.packet_type == engineio.packet.PING:
                fleet.pings[index] += 1
            await original(pkt)

        client.eio._receive_packet = counting
        return client

    async def open_sio(self, index, semaphore):
        args = self.args
        token = args.tokens[index % len(args.tokens)] if args.tokens else None
        for attempt in range(args.retries + 1):
            client = self.make_sio_client(index)
            try:
                async with semaphore:
                    # The websocket handshake itself has no timeout in the client library: a
                    # server that never answers it (a full worker) would hang us for minutes.
                    await asyncio.wait_for(
                        client.connect(
                            args.url,
                            auth={"token": token} if token else None,
                            transports=["websocket"],
                            wait_timeout=args.connect_timeout,
                        ),
                        args.connect_timeout,
                    )
                    if args.mode == "sio":
                        if args.proto == "ours":
                            payload = {"sprint": self.sprint_of(index), "since": None}
                        else:
                            payload = {"room": args.room}
                        answer = await client.call("subscribe", payload, timeout=args.connect_timeout * 4)
                        if not answer or not answer.get("ok"):
                            raise RuntimeError(f"subscribe refused: {answer}")
                client.bench_established = True
                self.clients.append(client)
                return True
            except Exception as error:  # noqa: BLE001 - counted and reported
                if client.connected:
                    await client.disconnect()
                if attempt < args.retries:
                    self.retries += 1
                    await asyncio.sleep(0.5 * (attempt + 1))
                    continue
                self.failed += 1
                if len(self.errors) < 20:
                    self.errors.append(f"{type(error).__name__}: {error}"[:200])
                return False

    # -- Redis subscribers -------------------------------------------------------------

    async def open_redis(self, index, semaphore):
        import redis.asyncio as aioredis

        async with semaphore:
            client = aioredis.Redis(host="127.0.0.1", port=self.args.redis_port)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            await pubsub.subscribe(self.args.room)
        self.connected += 1
        self.subscribers.append((client, pubsub))
        self.readers.append(asyncio.get_running_loop().create_task(self.read_redis(index, pubsub)))
        return True

    async def read_redis(self, index, pubsub):
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    t = now_ns()
                    self.record(index, json.loads(message["data"])["seq"], t)
        except Exception as error:  # noqa: BLE001
            self.disconnects += 1
            self.errors.append(f"redis reader: {error}"[:200])

    # -- life cycle -----------------------------------------------------------------------

    async def open_all(self):
        semaphore = asyncio.Semaphore(self.args.concurrency)
        opener = self.open_redis if self.args.mode == "redis" else self.open_sio
        t0 = time.monotonic()
        results = await asyncio.wait_for(
            asyncio.gather(*(opener(i, semaphore) for i in range(self.n))), self.args.deadline
        )
        return sum(results), time.monotonic() - t0

    async def close_all(self):
        self.closing = True

        async def close(client):
            with contextlib.suppress(Exception):  # going away anyway
                await asyncio.wait_for(client.disconnect(), 5)

        await asyncio.gather(*(close(client) for client in self.clients))
        for reader in self.readers:
            reader.cancel()

        async def unsubscribe(client, pubsub):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pubsub.aclose(), 2)
                await asyncio.wait_for(client.aclose(), 2)

        await asyncio.gather(*(unsubscribe(client, pubsub) for client, pubsub in self.subscribers))


async def read_commands(fleet):
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            return
        command = line.decode().strip()
        if command == "count":
            print("COUNT " + json.dumps(fleet.status()), flush=True)
        elif command.startswith("dump "):
            path = command[5:]
            with open(path, "wb") as f:
                fleet.arrivals.tofile(f)
            print("DUMPED " + json.dumps({**fleet.status(), "n": fleet.n, "path": path}), flush=True)
        elif command == "quit":
            return


async def main(args):
    fleet = Fleet(args)
    try:
        opened, seconds = await fleet.open_all()
    except TimeoutError:
        opened, seconds = len(fleet.clients) + len(fleet.subscribers), args.deadline
    info = {**fleet.status(), "opened": opened, "connect_s": round(seconds, 2)}
    if opened < fleet.n and not args.allow_failures:
        print("FAILED " + json.dumps(info), flush=True)
    else:
        print("READY " + json.dumps(info), flush=True)
    try:
        await asyncio.wait_for(read_commands(fleet), args.lifetime)
    except TimeoutError:
        pass
    finally:
        await fleet.close_all()


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("sio", "redis", "idle"), default="sio")
    parser.add_argument("--proto", choices=("ours", "peer"), default="ours")
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--tokens", default="", help="comma-separated API tokens, used in turn")
    parser.add_argument("--sprint", type=int, default=1)
    parser.add_argument("--sprints", default="", help="comma-separated sprint ids, one per client (cycled)")
    parser.add_argument("--room", default="sprint:1")
    parser.add_argument("--redis-port", type=int, default=6391)
    parser.add_argument("--id-base", type=int, default=ID_BASE)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--measure", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=50, help="connection attempts in flight")
    parser.add_argument("--connect-timeout", type=float, default=10.0)
    parser.add_argument("--retries", type=int, default=2)
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds to open every client")
    parser.add_argument("--lifetime", type=float, default=900.0, help="seconds before giving up by itself")
    parser.add_argument("--allow-failures", action="store_true", help="READY even if some failed")
    args = parser.parse_args(argv)
    args.tokens = [t for t in args.tokens.split(",") if t]
    args.sprints = [int(s) for s in args.sprints.split(",") if s]
    return args


if __name__ == "__main__":
    asyncio.run(main(parse()))
