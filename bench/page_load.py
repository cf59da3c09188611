"""The board page's first and repeat load in Chromium: requests and bytes on the wire.

    python -m bench.page_load                        # this working tree
    python -m bench.page_load --source /tmp/old      # another copy of the code (say, an older commit)
    python -m bench.page_load --runs 5
    python -m bench.page_load --quick                # one run

One gunicorn (eventlet) on a migrated PostgreSQL database serves the code in
``--source``. For each run, a fresh browser context (an empty cache) opens the
page and signs in; then the same context opens the page again in a new tab (a
repeat visit: the session is kept, or signed in again where it is not). Chromium's
own network log (CDP ``Network`` events) counts every request, whether it was
answered from the cache or over the network, and the bytes received for it
(``encodedDataLength``: headers and compressed body). Figures are medians over
the runs; the static files (``/static/…`` and the page itself) are counted apart
from the API and the socket. The "Ratios" table divides the repeat visit's figures
by the first visit's in the same run (the first visit, with an empty cache, is the
baseline): kilobytes received, and static files fetched over the network. The
browser runs while holding the shared benchmark lock.
"""

import argparse
import statistics
import time
from pathlib import Path

from bench.common import bench_lock, lock_waited_s, log, ratios_table, table
from tests.support.network_log import NetworkLog
from tests.support.servers import GunicornServer, create_user, migrated_postgres_database

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
USERNAME, PASSWORD = "bench", "bench-secret-1"


def summary(network, origin):
    static, other = [], []
    for entry in network.of(origin):
        is_static = entry["path"].startswith("/static/") or entry["path"].split("?")[0] == "/"
        (static if is_static else other).append(entry)
    over_network = [entry for entry in static if not entry["cached"]]
    return {
        "static requests": len(static),
        "static over the network": len(over_network),
        "static 304": sum(entry.get("wire_status") == 304 for entry in over_network),
        "static KB": sum(entry["bytes"] for entry in over_network) / 1024,
        "gzip responses": sum(entry.get("encoding") == "gzip" for entry in over_network),
        "API and socket requests": len(other),
        "all KB": sum(entry["bytes"] for entry in static + other if not entry["cached"]) / 1024,
    }


def load(context, url, expect, sign_in):
    page = context.new_page()
    network = NetworkLog(context, page)
    page.goto(url + "/")
    if sign_in and page.get_by_label("Username").is_visible():
        page.get_by_label("Username").fill(USERNAME)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#connection")).to_have_text("Live", timeout=10000)
    page.wait_for_load_state("networkidle")
    figures = summary(network, url)
    page.close()
    return figures


def measure(url, runs):
    from playwright.sync_api import expect, sync_playwright

    first, repeat = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            for _ in range(runs):
                context = browser.new_context()
                first.append(load(context, url, expect, sign_in=True))
                repeat.append(load(context, url, expect, sign_in=True))
                context.close()
        finally:
            browser.close()
    return first, repeat


def medians(samples):
    return {key: statistics.median(sample[key] for sample in samples) for key in samples[0]}


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", type=Path, default=ROOT, help="the code to serve (default: this tree)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one run")
    args = parser.parse_args()
    if args.quick:
        args.runs = 1
    started = time.monotonic()
    with migrated_postgres_database() as database_url:
        create_user(database_url, USERNAME, PASSWORD)
        with GunicornServer(database_url=database_url, cwd=args.source) as server:
            log(f"serving {args.source} at {server.url}")
            with bench_lock():
                first, repeat = measure(server.url, args.runs)
    rows = []
    for name, samples in (("first load", first), ("repeat load", repeat)):
        figures = medians(samples).values()
        rows.append([name, *(f"{value:.1f}" if isinstance(value, float) else value for value in figures)])
    print(table(["load", *medians(first).keys()], rows))
    once, again = medians(first), medians(repeat)
    print()
    print(
        ratios_table(
            [
                ("KB received, repeat ÷ first visit", again["all KB"], once["all KB"], "KB", 1),
                (
                    "static files over the network, repeat ÷ first visit",
                    again["static over the network"],
                    once["static over the network"],
                    "",
                    0,
                ),
            ]
        )
    )
    waited = lock_waited_s()
    print(f"\n{time.monotonic() - started:.0f} s, of which {waited:.0f} s waiting for the benchmark lock")


if __name__ == "__main__":
    main()
