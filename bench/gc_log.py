"""gunicorn config file for a diagnostic run (``python -m bench.fanout --gc-log``):
logs every full (generation 2) garbage collection of the worker and how long it
took, as ``GC2 <monotonic s> <ms> collected=<n>`` lines on the worker's stderr.
The app itself is unchanged; gunicorn loads this file with ``-c``.
"""

import gc
import sys
import time


def post_fork(server, worker):
    started = [0.0]

    def on_gc(phase, info):
        if info.get("generation") != 2:
            return
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            ms = 1000 * (time.perf_counter() - started[0])
            sys.stderr.write(f"GC2 {time.monotonic():.3f} {ms:.1f} collected={info.get('collected')}\n")
            sys.stderr.flush()

    gc.callbacks.append(on_gc)
