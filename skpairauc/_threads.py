"""The threads of a fit (standard library only): how many cores skpairauc's
parallel sections may use, a pool for independent calls, and a background
thread that belongs to one fit."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor


def available_cores():
    """The threads skpairauc's own parallel sections may use: the cores this
    process may run on, capped by ``OMP_NUM_THREADS`` when it is set (the
    usual cap of numerical libraries' threads, which joblib's workers get
    when ``GridSearchCV(n_jobs=k)`` shares the cores between them)."""
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    cap = os.environ.get("OMP_NUM_THREADS", "").strip()
    if cap.isdigit() and int(cap) > 0:
        cores = min(cores, int(cap))
    return cores


def run_in_threads(function, arguments, n_workers, name):
    """``function(*args)`` for each ``args`` of ``arguments``, shared between
    ``n_workers`` threads (in this thread when it is 1). The first error
    reaches the caller, and the calls not started by then are dropped."""
    if n_workers <= 1:
        for args in arguments:
            function(*args)
        return
    pool = ThreadPoolExecutor(n_workers, thread_name_prefix=name)
    try:
        for done in [pool.submit(function, *args) for args in arguments]:
            done.result()
    finally:
        pool.shutdown(cancel_futures=True)


class Background:
    """Run ``work`` in a thread that belongs to one fit.

    The fit takes its value with ``result()`` before it needs it and in any
    case joins it before it returns (``join()`` from a ``finally``), so no
    thread outlives the fit that started it, and an error in ``work``
    reaches the caller.
    """

    def __init__(self, work, name="skpairauc-compile"):
        self._error = self._value = None

        def run():
            try:
                self._value = work()
            except BaseException as error:  # passed on by result()
                self._error = error

        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()

    def join(self):
        self._thread.join()

    def result(self):
        """``work()``'s return value (waits for it), or its exception."""
        self.join()
        if self._error is not None:
            raise self._error
        return self._value
