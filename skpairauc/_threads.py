"""The threads of a fit: how many workers its parallel sections use,
NumPy's BLAS on one thread while it trains (threadpoolctl), and a background
thread that belongs to one fit."""

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import joblib
from threadpoolctl import ThreadpoolController


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


def effective_n_jobs(n_jobs):
    """The workers for ``n_jobs``: joblib's count for an int (``-1``: all
    cores); for None, the cores available to this process, so that a fit
    inside a joblib worker takes only that worker's share (joblib's workers
    get ``OMP_NUM_THREADS`` set to it), as HistGradientBoosting's threads do."""
    if n_jobs is None:
        return available_cores()
    return joblib.effective_n_jobs(n_jobs)


# With n_jobs=None, a fit whose rows x (features + 64) is below this runs its
# fold fits on one thread: each evaluation's NumPy work is then too short to
# repay the threads' contention for the GIL (see benchmarks/README.md).
THREADS_MIN_CELLS = 100_000


def fit_workers(n_jobs, n_rows, n_features):
    """The workers of a fit's parallel sections: :func:`effective_n_jobs`,
    or one for ``n_jobs=None`` on data too small to gain from threads
    (``THREADS_MIN_CELLS``, the first hidden layer's 64 units counted)."""
    if n_jobs is None and n_rows * (n_features + 64) < THREADS_MIN_CELLS:
        return 1
    return effective_n_jobs(n_jobs)


def parallel_map(function, arguments, n_jobs):
    """``[function(*args) for args in arguments]`` on ``n_jobs`` threads: the
    calls share the training data and the compiled programs, which processes
    would each copy. Returns when every call has ended; then the first error
    (in the order of ``arguments``) reaches the caller.

    A thread pool of the standard library, not joblib's threading backend:
    joblib 1.6 returns on the first error while the other calls still run,
    and a fit must not release what they use (its rows, its programs) before
    they end (tests/test_defaults.py).
    """
    if n_jobs <= 1 or len(arguments) <= 1:
        return [function(*args) for args in arguments]
    workers = min(n_jobs, len(arguments))
    with ThreadPoolExecutor(workers, thread_name_prefix="skpairauc-map") as pool:
        futures = [pool.submit(function, *args) for args in arguments]
        wait(futures)
    for future in futures:
        if future.exception() is not None:
            raise future.exception()
    return [future.result() for future in futures]


_blas = None


@contextlib.contextmanager
def one_blas_thread():
    """NumPy's BLAS on one thread while the block runs: the fit's own threads
    (and XLA's) use the cores, and its small matrix products gain nothing
    from more. Nothing is changed when BLAS already runs on one thread, e.g.
    inside another fit's block in another thread, so that a block ending
    cannot leave the count at one."""
    global _blas
    if _blas is None:
        _blas = ThreadpoolController().select(user_api="blas")
    if all(library["num_threads"] == 1 for library in _blas.info()):
        yield
        return
    with _blas.limit(limits=1):
        yield


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
