"""Fail fast, instead of hanging, in a process forked after JAX started.

XLA's CPU client runs thread pools that ``fork()`` does not copy: a child
process that inherits a started JAX backend and trains waits for ever on
threads that do not exist in it. The package records when one of its fits
first runs JAX (:func:`note_jax_started`) and, at fork time, whether the
parent had, so that a fit in such a child that would compile or run a JAX
program raises at once, before any training, with the cause and the fix (a
small exact fit, which runs in NumPy, trains there as anywhere). It imports
nothing from JAX, and knows only about the JAX this package started.
"""

import os

_jax_started = False
_forked_after_jax = False


def note_jax_started():
    """Record that this process runs JAX programs (called before a fit's
    first compile or device transfer)."""
    global _jax_started
    _jax_started = True


def _after_fork_in_child():
    global _forked_after_jax
    _forked_after_jax = _forked_after_jax or _jax_started


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
