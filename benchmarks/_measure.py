"""Measurement primitives of the speed, scale and device benchmarks.

Not part of the package. The work the floors are stated for (128 positives +
384 negatives per step, MLP(64); the data is ``_data.make_imbalanced``'s),
memory (peak and current RSS), time (JAX's compile events, CPU seconds, best
of repeats), the FLOP model of a step and this machine's measured ceilings
(matmul and ``exp`` rates). The harness (child processes, reports, machine
description) is :mod:`_harness`.
"""

from __future__ import annotations

import contextlib
import os
import resource
import time
from collections import Counter
from pathlib import Path

MB = 1024.0 * 1024.0

# The model and batch of the speed floors (issue 2) and of the scale benchmark;
# their data is ``_data.make_imbalanced``'s.
HIDDEN = 64
N_POS_PER_BATCH = 128
N_NEG_PER_BATCH = 384


def stochastic_config(uniform_weights: bool = True):
    """The stochastic solver's static settings for that workload.

    ReLU, logistic loss (margin 1), 128 + 384 rows per step, Adam (momentum
    0.9 unused), no dropout: what ``PairwiseAUCClassifier(solver="adam")``
    compiles for unweighted data with the default settings.
    """
    from skpairauc._solvers import StochasticConfig

    return StochasticConfig(
        activation="relu",
        loss="logistic",
        margin=1.0,
        n_pos_per_batch=N_POS_PER_BATCH,
        n_neg_per_batch=N_NEG_PER_BATCH,
        optimizer="adam",
        momentum=0.9,
        dropout=0.0,
        uniform_weights=uniform_weights,
    )


# --------------------------------------------------------------------------- #
# Memory
# --------------------------------------------------------------------------- #
def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux: KiB units)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mb() -> float:
    """Current resident set size of this process, in MB."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / MB
    return float("nan")


# --------------------------------------------------------------------------- #
# Time
# --------------------------------------------------------------------------- #
class CompileClock:
    """JAX's compile events of this process, the one compile counter of the
    benchmarks.

    JAX reports every compile through ``jax.monitoring``; one listener is
    registered per process (:meth:`install`) and keeps running totals, so the
    compile time spent inside a ``fit`` is ``after - before``:
    :meth:`seconds` (trace, lowering and backend compile), :meth:`count` and
    :meth:`backend_seconds` (XLA backend compiles alone) and :attr:`names`
    (backend compiles per compiled function, from the event's ``fun_name``).
    """

    _total = 0.0
    _count = 0
    _backend = 0.0
    _installed = False
    names: Counter = Counter()
    BACKEND = "/jax/core/compile/backend_compile_duration"
    EVENTS = (
        "/jax/core/compile/jaxpr_trace_duration",
        "/jax/core/compile/jaxpr_to_mlir_module_duration",
        BACKEND,
    )

    @classmethod
    def install(cls) -> None:
        """Register the listener (idempotent)."""
        if cls._installed:
            return
        import jax.monitoring

        def listener(event, duration, **kwargs):
            if event in cls.EVENTS:
                cls._total += duration
                if event == cls.BACKEND:
                    cls._count += 1
                    cls._backend += duration
                    cls.names[kwargs.get("fun_name", "?")] += 1

        jax.monitoring.register_event_duration_secs_listener(listener)
        cls._installed = True

    @classmethod
    def seconds(cls) -> float:
        """Total compile seconds (every stage) seen so far in this process."""
        return cls._total

    @classmethod
    def count(cls) -> int:
        """Number of XLA backend compiles seen so far in this process."""
        return cls._count

    @classmethod
    def backend_seconds(cls) -> float:
        """Seconds of the XLA backend compiles seen so far in this process."""
        return cls._backend


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def timed(fn, *args, **kwargs):
    """Call ``fn`` and return ``(result, seconds)``."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def repeat_times(fn, repeats: int) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls of ``fn()``."""
    return [timed(fn)[1] for _ in range(repeats)]


def block(tree):
    """Wait for every JAX array in ``tree`` (no-op for other leaves)."""
    import jax

    for leaf in jax.tree_util.tree_leaves(tree):
        if hasattr(leaf, "block_until_ready"):
            leaf.block_until_ready()
    return tree


def matmul_gflops(size: int = 1024, repeats: int = 7) -> float:
    """Measured float32 matmul GFLOP/s of this process (its threads, its cores).

    The best of ``repeats`` jitted ``size x size`` products after a warm-up: the
    FLOP ceiling that throughput numbers are compared with.
    """
    import jax
    import jax.numpy as jnp

    a = jax.random.normal(jax.random.key(0), (size, size), jnp.float32)
    b = jax.random.normal(jax.random.key(1), (size, size), jnp.float32)
    product = jax.jit(jnp.matmul)
    product(a, b).block_until_ready()
    best = min(repeat_times(lambda: product(a, b).block_until_ready(), repeats))
    return 2.0 * size**3 / best / 1e9


# --------------------------------------------------------------------------- #
# Work models and ceilings
# --------------------------------------------------------------------------- #
def flops_per_step(hidden: tuple, n_features: int, batch: int) -> float:
    """Matmul FLOPs of one forward + backward pass over ``batch`` rows.

    Forward ``2 * B * fan_in * fan_out`` per layer; backward the same for the
    weight gradient and again for the input gradient of every layer but the
    first.  Elementwise terms (activations, the pair losses) are not counted.
    """
    sizes = [n_features, *hidden, 1]
    total = 0.0
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        passes = 2 if layer == 0 else 3
        total += passes * 2.0 * batch * fan_in * fan_out
    return total


def exp_rate() -> float:
    """Measured float32 ``exp`` evaluations per second of this process."""
    import jax
    import jax.numpy as jnp

    values = jnp.linspace(-4.0, 4.0, 1 << 22, dtype=jnp.float32)
    apply = jax.jit(lambda v: jnp.exp(v).sum())
    apply(values).block_until_ready()
    best = min(repeat_times(lambda: apply(values).block_until_ready(), 5))
    return values.size / best


def lower_bound_seconds(
    matmul_flops: float, pairs: float, gflops: float, exps_per_s: float
) -> float:
    """Least time the machine's measured rates allow for this work.

    Matmul FLOPs at the measured matmul rate plus two transcendental
    evaluations per pair (the logistic loss and its derivative share one
    ``exp`` and add one ``log1p``) at the measured ``exp`` rate.
    """
    return matmul_flops / (gflops * 1e9) + 2.0 * pairs / exps_per_s
