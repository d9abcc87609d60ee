"""Fail fast, instead of hanging, in a process forked after JAX started.

XLA's CPU client runs thread pools that ``fork()`` does not copy: a child
process that inherits a started JAX backend and trains waits for ever on
threads that do not exist in it. This module records, at fork time, whether
the parent had started a JAX backend, so that a fit in such a child that
would compile or run a JAX program raises at once, before any training, with
the cause and the fix (a small exact fit, which runs in NumPy, trains there
as anywhere). It imports nothing from JAX.
"""

import os
import sys

_forked_after_jax = False


def _jax_backend_started():
    bridge = sys.modules.get("jax._src.xla_bridge")
    if bridge is None:
        return False
    # Private, so guarded: if JAX renames it, assume the worst once JAX is in.
    backends = getattr(bridge, "_backends", None)
    return True if backends is None else bool(backends)


def _after_fork_in_child():
    global _forked_after_jax
    _forked_after_jax = _forked_after_jax or _jax_backend_started()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def check_not_forked_after_jax():
    """Raise RuntimeError in a child forked from a process running JAX."""
    if _forked_after_jax:
        raise RuntimeError(
            "PairwiseAUCClassifier.fit cannot train with JAX in a process created "
            "by fork() after JAX started in its parent: XLA is not fork-safe and "
            "the fit would hang. Start worker processes with the 'spawn' or "
            "'forkserver' method (multiprocessing.get_context('spawn')), or use "
            "joblib's default (loky) backend."
        )
