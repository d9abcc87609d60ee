"""Shared timing, memory and reporting helpers for the speed and scale benchmarks.

Used by ``bench_speed.py`` and ``bench_scale.py`` only; not part of the package.

Every measurement that needs a clean process (peak memory, cold start, one-core
throughput) runs in a child process: the parent calls :func:`run_child`, which
starts ``python <script> --child '<json spec>'``; the child does one job and
prints a single ``BENCH_RESULT {json}`` line (:func:`emit_result`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import importlib
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RESULT_TAG = "BENCH_RESULT "
MB = 1024.0 * 1024.0
DIRECTION_SEED = 20_251_127

# One core for XLA: no Eigen thread pool, one intra-op thread.  ``taskset`` then
# pins the whole process (and any thread XLA still starts) to CPU 0.
ONE_CORE_XLA_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
ONE_CORE_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


# --------------------------------------------------------------------------- #
# Machine and library description
# --------------------------------------------------------------------------- #
def _cpu_model() -> str:
    """Return the CPU model name from ``/proc/cpuinfo`` (or ``platform``)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _cpu_flags() -> str:
    """Return the SIMD flags that matter for float32 throughput."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                wanted = ("avx2", "fma", "avx512f", "avx512_vnni", "amx_tile")
                return " ".join(f for f in wanted if f in flags)
    return ""


def library_version(name: str) -> str:
    """Return ``name.__version__`` or ``"not installed"``."""
    try:
        module = importlib.import_module(name)
    except Exception:  # ImportError, or a broken optional dependency
        return "not installed"
    return str(getattr(module, "__version__", "unknown"))


def machine_info() -> dict:
    """Describe the machine and the library versions a result was measured with."""
    mem_total = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_total = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    info = {
        "date_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "cpu_model": _cpu_model(),
        "cpu_flags": _cpu_flags(),
        "nproc": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)),
        "memory": mem_total,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    for name in (
        "numpy",
        "jax",
        "jaxlib",
        "optax",
        "sklearn",
        "torch",
        "libauc",
        "skpairauc",
    ):
        info[name] = library_version(name)
    info["skpairauc_source"] = _skpairauc_source()
    return info


def _skpairauc_source() -> str:
    """Where the measured skpairauc came from: its path and, if set, a label.

    ``SKPAIRAUC_BENCH_SOURCE`` names the code version when the benchmark runs
    against an exported snapshot (e.g. ``git archive <commit> skpairauc``).
    """
    try:
        import skpairauc

        path = str(Path(skpairauc.__file__).parent)
    except Exception:
        path = "not importable"
    label = os.environ.get("SKPAIRAUC_BENCH_SOURCE")
    return f"{label} ({path})" if label else path


def machine_markdown(info: dict) -> str:
    """Format :func:`machine_info` as a Markdown bullet list."""
    return "\n".join(f"- {key}: {value}" for key, value in info.items())


# --------------------------------------------------------------------------- #
# Child processes
# --------------------------------------------------------------------------- #
def pinned_cpu() -> str:
    """The CPU that one-core children are pinned to (``SKPAIRAUC_BENCH_CPU``, 0)."""
    return os.environ.get("SKPAIRAUC_BENCH_CPU", "0")


def one_core_env() -> dict:
    """Environment variables that keep XLA, BLAS and torch on one thread."""
    env = {"XLA_FLAGS": ONE_CORE_XLA_FLAGS}
    env.update({name: "1" for name in ONE_CORE_THREAD_VARS})
    return env


def run_child(
    script: str | Path,
    spec: dict,
    *,
    one_core: bool = False,
    env_extra: dict | None = None,
    timeout: float | None = None,
) -> dict:
    """Run ``script --child spec`` in a fresh interpreter and return its result.

    Parameters
    ----------
    script : path
        A benchmark script that implements ``--child``.
    spec : dict
        JSON-serialisable description of the one job the child runs.
    one_core : bool
        Pin the child to one CPU with ``taskset`` (when available; CPU 0 or
        ``SKPAIRAUC_BENCH_CPU``) and make XLA,
        BLAS and torch single threaded.
    env_extra : dict, optional
        Extra environment variables.
    timeout : float, optional
        Seconds before the child is killed.

    Returns
    -------
    dict
        The child's result, plus ``wall_s`` (the whole child, interpreter start
        included).  On failure ``{"error": "..."}``.
    """
    env = dict(os.environ)
    env.setdefault("PYTHONHASHSEED", "0")
    # Keep JAX quiet about the absent accelerators.
    env.setdefault("JAX_PLATFORMS", "cpu")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    command = [sys.executable, str(script), "--child", json.dumps(spec)]
    if one_core:
        env.update(one_core_env())
        if shutil.which("taskset"):
            command = ["taskset", "-c", pinned_cpu(), *command]
    if env_extra:
        env.update(env_extra)
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    wall = time.perf_counter() - start
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_TAG):
            result = json.loads(line[len(RESULT_TAG) :])
            result.setdefault("wall_s", wall)
            return result
    tail = (proc.stderr or proc.stdout)[-2000:]
    return {"error": f"child exited {proc.returncode}: {tail}"}


def emit_result(result: dict) -> None:
    """Print the child's result line (the parent parses the last such line)."""
    sys.stdout.flush()
    print(RESULT_TAG + json.dumps(result, default=_json_default), flush=True)


def _json_default(value):
    """Make NumPy scalars JSON serialisable."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


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
    """Sum of the JAX compile events (trace, lowering, backend compile).

    JAX reports every compile through ``jax.monitoring``; one listener is
    registered per process and :meth:`seconds` reads the running total, so the
    compile time spent inside a ``fit`` is ``after - before``.
    """

    _total = 0.0
    _count = 0
    _installed = False
    EVENTS = (
        "/jax/core/compile/jaxpr_trace_duration",
        "/jax/core/compile/jaxpr_to_mlir_module_duration",
        "/jax/core/compile/backend_compile_duration",
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
                if event.endswith("backend_compile_duration"):
                    cls._count += 1

        jax.monitoring.register_event_duration_secs_listener(listener)
        cls._installed = True

    @classmethod
    def seconds(cls) -> float:
        """Total compile seconds seen so far in this process."""
        return cls._total

    @classmethod
    def count(cls) -> int:
        """Number of XLA backend compiles seen so far in this process."""
        return cls._count


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


def summarize(times: list[float]) -> dict:
    """Best and median of a list of times (best is the least noisy estimate)."""
    return {"best": min(times), "median": statistics.median(times), "n": len(times)}


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
# Data
# --------------------------------------------------------------------------- #
def make_imbalanced(
    n_samples: int, n_features: int = 100, pos_fraction: float = 0.01, seed: int = 0
):
    """Synthetic float32 binary data with exactly ``round(pos_fraction * n)`` positives.

    Features are standard normal, generated in float32 chunks so that no float64
    copy of ``X`` ever exists (the memory benchmarks count ``X`` once).  The
    positives are the rows with the highest ``X @ w + noise``, so the classes are
    separable only in part.  Draws with different ``seed`` share the direction
    ``w``, so ``seed=1`` gives a test set for a model fitted on ``seed=0``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float32
    y : ndarray of shape (n_samples,), int64 in {0, 1}
    """
    rng = np.random.default_rng(seed)
    X = np.empty((n_samples, n_features), dtype=np.float32)
    chunk = 65536
    for start in range(0, n_samples, chunk):
        stop = min(start + chunk, n_samples)
        X[start:stop] = rng.standard_normal((stop - start, n_features), np.float32)
    # The direction does not depend on ``seed``: data drawn with another seed is
    # a test set from the same distribution.
    direction = np.random.default_rng(DIRECTION_SEED).standard_normal(n_features)
    direction = (direction / np.linalg.norm(direction)).astype(np.float32)
    signal = X @ direction + 1.2 * rng.standard_normal(n_samples, np.float32)
    n_pos = max(2, int(round(pos_fraction * n_samples)))
    y = np.zeros(n_samples, dtype=np.int64)
    y[np.argpartition(-signal, n_pos - 1)[:n_pos]] = 1
    return X, y


# --------------------------------------------------------------------------- #
# Reporting
# --------------------------------------------------------------------------- #
def fmt(value, digits: int = 3) -> str:
    """Short human-readable number (``nan`` and strings passed through)."""
    if isinstance(value, str) or value is None:
        return "" if value is None else value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    if not math.isfinite(value):
        return "nan"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    """Render ``rows`` as a GitHub Markdown table over ``columns``."""
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    for row in rows:
        cells = [fmt(row.get(col, "")).replace("|", "/") for col in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def text_table(rows: list[dict], columns: list[str]) -> str:
    """Render ``rows`` as a fixed-width text table for the terminal."""
    cells = [[fmt(row.get(col, "")) for col in columns] for row in rows]
    widths = [
        max([len(col)] + [len(line[i]) for line in cells])
        for i, col in enumerate(columns)
    ]
    header = "  ".join(col.ljust(w) for col, w in zip(columns, widths))
    body = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)) for line in cells]
    return "\n".join([header, "-" * len(header), *body])


def write_csv(rows: list[dict], path: Path, columns: list[str]) -> None:
    """Write ``rows`` to ``path`` as CSV with exactly ``columns``."""
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({col: row.get(col, "") for col in columns})


# --------------------------------------------------------------------------- #
# Work models and the PyTorch / LibAUC peer
# --------------------------------------------------------------------------- #
N_POS_PER_BATCH = 128
N_NEG_PER_BATCH = 384


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


def _disabled() -> set[str]:
    """Peers disabled through ``SKPAIRAUC_BENCH_DISABLE`` (simulates absence)."""
    value = os.environ.get("SKPAIRAUC_BENCH_DISABLE", "")
    return {part.strip() for part in value.split(",") if part.strip()}


def torch_status() -> str | None:
    """``None`` when torch and LibAUC's pairwise loss import, else why not."""
    if {"torch", "libauc"} & _disabled():
        return "not installed (disabled by SKPAIRAUC_BENCH_DISABLE)"
    try:
        import torch  # noqa: F401
        from libauc.losses import PairwiseAUCLoss  # noqa: F401
    except Exception as exc:  # ImportError or a missing LibAUC dependency
        return f"not installed ({type(exc).__name__}: {exc})"
    return None


def torch_pairwise_training(
    X, y, n_steps: int, impl: str = "libauc", hidden: tuple = (64,), seed: int = 0
) -> dict:
    """Train an MLP with a pairwise AUC loss in PyTorch, one thread.

    The same work as skpairauc's stochastic step: MLP ``d -> hidden -> 1``
    (ReLU), 128 positives and 384 negatives drawn uniformly per step, the
    logistic pairwise loss averaged over all 128 x 384 cross pairs, Adam with
    learning rate 1e-3.  ``impl="libauc"`` uses ``libauc.losses.
    PairwiseAUCLoss(surr_loss="logistic")`` as shipped; ``impl="torch"`` writes
    the same loss with torch ops (no LibAUC), to separate LibAUC's own cost.

    Returns
    -------
    dict
        ``total_s`` (model build + all steps), ``steps_per_s`` (steady state,
        after a short warm-up), ``setup_s``.
    """
    import torch
    from libauc.losses import PairwiseAUCLoss

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    start = time.perf_counter()
    X_t = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    y_t = torch.from_numpy(np.asarray(y, dtype=np.int64))
    pos = torch.nonzero(y_t == 1).squeeze(1)
    neg = torch.nonzero(y_t == 0).squeeze(1)
    layers, width = [], X_t.shape[1]
    for size in hidden:
        layers += [torch.nn.Linear(width, size), torch.nn.ReLU()]
        width = size
    model = torch.nn.Sequential(*layers, torch.nn.Linear(width, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    libauc_loss = PairwiseAUCLoss(surr_loss="logistic")
    setup_s = time.perf_counter() - start

    def step():
        rows = torch.cat(
            [
                pos[torch.randint(len(pos), (N_POS_PER_BATCH,))],
                neg[torch.randint(len(neg), (N_NEG_PER_BATCH,))],
            ]
        )
        scores = model(X_t[rows])
        if impl == "libauc":
            loss = libauc_loss(scores, y_t[rows])
        else:
            s = scores.squeeze(1)
            diff = s[:N_POS_PER_BATCH, None] - s[None, N_POS_PER_BATCH:]
            loss = torch.nn.functional.softplus(-diff).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    warmup = min(20, n_steps // 4)
    for _ in range(warmup):
        step()
    steady_start = time.perf_counter()
    for _ in range(n_steps - warmup):
        step()
    steady_s = time.perf_counter() - steady_start
    return {
        "impl": impl,
        "n_steps": n_steps,
        "setup_s": setup_s,
        "total_s": time.perf_counter() - start,
        "steps_per_s": (n_steps - warmup) / max(steady_s, 1e-9),
        "torch": torch.__version__,
    }
