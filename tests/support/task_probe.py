"""A gunicorn configuration file (``-c``) for tests that look at the worker's green threads.

The worker watches for a file named ``$TASK_PROBE.ask``. When it appears, the worker
removes it and writes to ``$TASK_PROBE`` (JSON) the stack of every green thread that
is waiting: the qualified names of the functions it is in, outermost first, each as
``"<file name>:<qualified name>"``. ``green_threads(path)`` asks and reads the answer.
"""

import gc
import json
import os
import threading
import time


def post_worker_init(worker):
    path = os.environ["TASK_PROBE"]

    def watch():
        while True:
            time.sleep(0.05)  # a green sleep: the worker has patched the standard library
            if os.path.exists(path + ".ask"):
                os.remove(path + ".ask")
                with open(path + ".part", "w") as answer:
                    json.dump(_waiting_stacks(), answer)
                os.replace(path + ".part", path)

    threading.Thread(target=watch, daemon=True).start()


def _waiting_stacks():
    import greenlet

    stacks = []
    for thing in gc.get_objects():
        if isinstance(thing, greenlet.greenlet) and thing.gr_frame is not None:
            stack, frame = [], thing.gr_frame
            while frame is not None:
                stack.append(f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_code.co_qualname}")
                frame = frame.f_back
            stacks.append(stack[::-1])
    return stacks


def green_threads(path, timeout=10.0):
    """The stacks of the worker's waiting green threads (the worker started with ``TASK_PROBE=path``)."""
    if os.path.exists(path):
        os.remove(path)
    with open(path + ".ask", "w"):
        pass
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"The worker did not answer the probe at {path}.")
        time.sleep(0.02)
    with open(path) as answer:
        return json.load(answer)
