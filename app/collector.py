"""The cyclic garbage collector of a server process, tuned for fan-out.

A full collection stops the whole process while it walks every tracked object;
with a thousand sockets that walk took about 200 ms, and those pauses were the
99th percentile of a change's delivery (docs/benchmarks.md, "Findings"). Two
changes, made once the app is loaded (``wsgi.py``, in each worker):

* the objects loaded so far (the app, its libraries, their caches: most of a
  fresh worker's heap) are moved out of the collector's sight with
  ``gc.freeze()``: they live as long as the process, and a full collection
  no longer walks them;
* full collections are made rarer (the oldest generation's threshold), so fewer
  changes meet one. Young collections are unchanged: garbage cycles from
  requests and sockets are still found.

``GC_TUNING=0`` keeps Python's own settings.
"""

import gc

# Young collections every 700 net allocations, as Python's default; the middle generation
# every 10 of those; the oldest every OLDEST_EVERY middle ones (Python's default is 10).
OLDEST_EVERY = 100


def tune():
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, OLDEST_EVERY)
