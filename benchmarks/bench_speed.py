"""Speed and memory floors of PairwiseAUCClassifier (issue 2).

Measures each floor and prints floor, measured value and pass/fail:

1. stochastic solver, one core, 128 positives + 384 negatives per step, steady
   state: MLP(64) >= 2,700 steps/s, linear >= 6,000 steps/s;
2. exact solver: the all-pairs gradient >= 400 million pairs/s per core, with
   temporary memory <= 32 MB whatever the pair count;
3. 1,000,000 x 100 float32 rows, 1% positives: the whole fit (compile included)
   of the linear scorer within 1.5x and of the MLP within 2x of
   ``LogisticRegression(class_weight="balanced")``; peak memory at most the data
   plus one more copy of ``X`` plus 300 MB;
4. at equal work (same MLP, rows per step and steps) >= 10x faster than LibAUC's
   PyTorch pairwise training on one CPU core;
5. a fresh process's first small fit <= 1.2 s with JAX's persistent
   compilation cache on.

Every measurement runs in its own child process (``--child``), one-core ones
pinned with ``taskset -c 0`` and single-threaded XLA/BLAS/torch.  Results go to
``<out>/speed.csv`` (floors), ``speed_details.csv`` (raw measurements),
``speed.md`` and ``speed.png``.

Usage::

    python benchmarks/bench_speed.py            # full mode (about 10 minutes)
    python benchmarks/bench_speed.py --quick    # smoke run (seconds)
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import shutil
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import (  # noqa: E402
    MB,
    CompileClock,
    block,
    cpu_seconds,
    current_rss_mb,
    emit_result,
    exp_rate,
    flops_per_step,
    fmt,
    machine_info,
    machine_markdown,
    make_imbalanced,
    markdown_table,
    matmul_gflops,
    peak_rss_mb,
    run_child,
    text_table,
    timed,
    torch_pairwise_training,
    torch_status,
    write_csv,
)

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results"
N_FEATURES = 100
POS_FRACTION = 0.01
N_POS_PER_BATCH = 128
N_NEG_PER_BATCH = 384
HIDDEN = 64
SEED = 0

FLOOR_COLUMNS = [
    "floor_id",
    "description",
    "floor",
    "measured",
    "unit",
    "passed",
    "detail",
]
DETAIL_COLUMNS = ["section", "name", "value", "unit", "note"]

# Settings of the two modes.  Quick: seconds, to prove the script works.
MODES = {
    "quick": {
        # 42,000 rows, 1% positives: 17.5 M pairs, just above the estimator's
        # exact-solver limit, so the default fits of the "large" section use
        # the stochastic loop that the "stochastic" section already compiled.
        "stochastic_rows": 42_000,
        "stochastic_target_steps": 220,
        "exact_pairs": [(256, 4_096)],
        "exact_timing": (256, 4_096),
        "large_rows": 42_000,
        "large_repeats": 1,
        "large_repeats_mlp": 1,
        "equal_work_steps": 30,
        "cold_repeats": 1,
        "repeats": 1,
        "in_process": True,
    },
    "full": {
        "stochastic_rows": 200_000,
        "stochastic_target_steps": 12_000,
        # (positives, negatives), rounded up to the package's length buckets.
        "exact_pairs": [(1_000, 15_000), (2_000, 98_000), (10_000, 990_000)],
        "exact_timing": (2_000, 98_000),
        "large_rows": 1_000_000,
        "large_repeats": 2,
        # Best of 2 for every model (an MLP fit of 1e6 rows once took ~270 s
        # and was run once; it now takes a few seconds).
        "large_repeats_mlp": 2,
        "equal_work_steps": 3_000,
        "cold_repeats": 3,
        "repeats": 5,
        "in_process": False,
    },
}


# =========================================================================== #
# Helpers shared by the child jobs
# =========================================================================== #
def no_early_stop(max_iter: int) -> dict:
    """Estimator settings that make a stochastic fit run all ``max_iter`` epochs."""
    return {"max_iter": max_iter, "tol": 0.0, "n_iter_no_change": 10 * max_iter + 10}


def stochastic_estimator(hidden: tuple, max_iter: int):
    """The estimator configured as in floor 1 (adam, 128 + 384 per step)."""
    from skpairauc import PairwiseAUCClassifier

    return PairwiseAUCClassifier(
        hidden_layer_sizes=hidden,
        solver="adam",
        n_pos_per_batch=N_POS_PER_BATCH,
        n_neg_per_batch=N_NEG_PER_BATCH,
        random_state=SEED,
        early_stopping=False,
        **no_early_stop(max_iter),
    )


# =========================================================================== #
# Child jobs: each runs in a fresh process and returns a dict
# =========================================================================== #
def job_stochastic(spec: dict) -> dict:
    """Steady-state steps/s of the stochastic solver through the public API.

    A first fit compiles; then fits of ``short`` and ``long`` epochs alternate
    and ``steps/s = (t_long - t_short) / (time_long - time_short)`` (best
    times), which removes the per-fit overhead (validation of X, threshold
    selection, copies) and leaves the training loop.
    """
    hidden = tuple(spec["hidden"])
    X, y = make_imbalanced(spec["n_samples"], N_FEATURES, POS_FRACTION, SEED)
    CompileClock.install()
    est = stochastic_estimator(hidden, 1)
    compiles_before = CompileClock.count()
    seconds_before = CompileClock.seconds()
    _, first_s = timed(est.fit, X, y)
    compile_s = CompileClock.seconds() - seconds_before
    steps_per_epoch = max(1, est.t_)
    short_epochs = 1
    long_epochs = max(2, round(spec["target_steps"] / steps_per_epoch))
    times = {short_epochs: [], long_epochs: []}
    steps = {}
    compiles_timed = CompileClock.count()
    for _ in range(spec["repeats"]):
        for epochs in (short_epochs, long_epochs):
            est = stochastic_estimator(hidden, epochs)
            _, seconds = timed(est.fit, X, y)
            times[epochs].append(seconds)
            steps[epochs] = est.t_
    recompiles = CompileClock.count() - compiles_timed
    d_steps = steps[long_epochs] - steps[short_epochs]
    best_long, best_short = min(times[long_epochs]), min(times[short_epochs])
    batch = N_POS_PER_BATCH + N_NEG_PER_BATCH
    gflops = matmul_gflops()
    step_flops = flops_per_step(hidden, N_FEATURES, batch)
    steps_per_s = d_steps / max(best_long - best_short, 1e-9)
    result = {
        "hidden": list(hidden),
        "solver": est.solver_,
        "steps_per_epoch": steps_per_epoch,
        "first_fit_s": first_s,
        "compile_s": compile_s,
        "compiles_first_fit": CompileClock.count() - compiles_before,
        "recompiles_in_timed_fits": recompiles,
        "steps_short": steps[short_epochs],
        "steps_long": steps[long_epochs],
        "time_short_s": best_short,
        "time_long_s": best_long,
        "steps_per_s": steps_per_s,
        "steps_per_s_end_to_end": steps[long_epochs] / best_long,
        "pairs_per_s": steps_per_s * N_POS_PER_BATCH * N_NEG_PER_BATCH,
        "matmul_gflops": gflops,
        "flops_per_step": step_flops,
        "flop_ceiling_steps_per_s": gflops * 1e9 / step_flops,
    }
    if spec.get("internal", True):
        result.update(_internal_step_rate(spec, hidden, X, y))
    return result


def _reference_loop(hidden: tuple, X_dev, n_neg_rows: int, n_rows: int):
    """A bare JAX training loop doing the same work as one stochastic step.

    Uniform ``randint`` sampling of 128 positives and 384 negatives, the
    package's own ``forward`` and logistic loss, Adam, all in one
    ``fori_loop``.  It is timed next to ``run_epoch`` (interleaved, same
    process, same core) so that the ratio of the two survives a noisy machine:
    whatever ``run_epoch`` does beyond this (weighted inverse-CDF sampling,
    per-task gathers, penalty, loss accumulation) shows up as the gap.
    """
    import jax
    import jax.numpy as jnp
    import optax

    from skpairauc._losses import logistic_pairwise_loss
    from skpairauc._scorers import forward, init_scorer

    optimizer = optax.scale_by_adam()

    def batch_loss(params, rows):
        scores = forward(jnp, params, X_dev[rows], "relu")[:, 0]
        diff = scores[:N_POS_PER_BATCH, None] - scores[None, N_POS_PER_BATCH:]
        return jnp.mean(logistic_pairwise_loss(diff))

    @jax.jit
    def loop(params, state, key, n_steps):
        def step(i, carry):
            params, state = carry
            key_pos, key_neg = jax.random.split(jax.random.fold_in(key, i))
            rows = jnp.concatenate(
                [
                    jax.random.randint(key_pos, (N_POS_PER_BATCH,), n_neg_rows, n_rows),
                    jax.random.randint(key_neg, (N_NEG_PER_BATCH,), 0, n_neg_rows),
                ]
            )
            grads = jax.grad(batch_loss)(params, rows)
            updates, state = optimizer.update(grads, state, params)
            return jax.tree.map(lambda p, u: p - 1e-3 * u, params, updates), state

        return jax.lax.fori_loop(0, n_steps, step, (params, state))

    key = jax.random.key(SEED)

    def run(n_steps):
        rng = np.random.default_rng(SEED)
        params = jax.device_put(init_scorer(rng, X_dev.shape[1], hidden, 1, "relu"))
        return block(loop(params, optimizer.init(params), key, np.int32(n_steps)))

    return run


def _internal_step_rate(spec: dict, hidden: tuple, X, y) -> dict:
    """Steps/s of ``skpairauc._solvers.run_epoch`` called directly.

    The jitted ``fori_loop`` alone, without the estimator around it: inputs laid
    out as ``_fit_stochastic`` lays them out (rows sorted by class, padded to a
    bucket), then ``n`` and ``2 n`` steps are timed; ``n_steps`` is traced, so
    both share one compile.  The bare reference loop of
    :func:`_reference_loop` is timed interleaved with it.  Returns an empty
    dict if the internals moved.
    """
    try:
        import jax

        from skpairauc import _solvers
        from skpairauc._pairs import bucket_length, class_layout, draw_uniforms
        from skpairauc._scorers import init_scorer
    except ImportError:
        return {}
    weights = np.ones(len(y))
    rng = np.random.default_rng(SEED)
    order, bounds, cum_weight = class_layout(y, weights, 2, rng)
    n_rows = bucket_length(len(y))
    X_sorted = np.zeros((n_rows, X.shape[1]), np.float32)
    X_sorted[: len(y)] = X[order]
    cum = np.full(n_rows, cum_weight[-1], np.float32)
    cum[: len(cum_weight)] = cum_weight
    # Fill the static config and the call by field / parameter name, so that
    # this keeps working while the solver's signature evolves.
    settings = {
        "activation": "relu",
        "loss": "logistic",
        "margin": 1.0,
        "n_pos_per_batch": N_POS_PER_BATCH,
        "n_neg_per_batch": N_NEG_PER_BATCH,
        "optimizer": "adam",
        "momentum": 0.9,
        "dropout": 0.0,
        "uniform_weights": True,
    }
    fields = _solvers.StochasticConfig._fields
    try:
        config = _solvers.StochasticConfig(**{f: settings[f] for f in fields})
    except KeyError as exc:
        return {"internal_error": f"unknown StochasticConfig field {exc}"}
    X_dev = jax.device_put(X_sorted)
    task_bounds = bounds[[1]].astype(np.int32)
    arguments = {
        "key": jax.random.key(SEED),
        "draws": draw_uniforms(
            rng,
            getattr(_solvers, "MAX_STEPS_PER_EPOCH", 500),
            1,
            N_POS_PER_BATCH,
            N_NEG_PER_BATCH,
            True,
        ),
        "seed": np.int32(SEED),
        "epoch": np.int32(1),
        "X": X_dev,
        "cum_weight": cum,
        "bounds": task_bounds,
        "n_rows": np.int32(len(y)),
        "lr": np.float32(1e-3),
        "reg": np.float32(1e-8),
        "config": config,
    }
    parameters = list(inspect.signature(_solvers.run_epoch).parameters)

    max_steps = getattr(_solvers, "MAX_STEPS_PER_EPOCH", 10**9)

    def run(n_steps):
        # Calls of at most max_steps steps each, as the estimator makes them.
        params = jax.device_put(
            init_scorer(np.random.default_rng(SEED), X.shape[1], hidden, 1, "relu")
        )
        opt_state = _solvers.init_optimizer_state(params, config)
        for begin in range(0, n_steps, max_steps):
            values = dict(
                arguments,
                params=params,
                opt_state=opt_state,
                n_steps=np.int32(min(max_steps, n_steps - begin)),
            )
            params, opt_state, loss = _solvers.run_epoch(
                **{name: values[name] for name in parameters}
            )
        return block(loss)

    n_neg_rows = int(bounds[0, 1])
    reference = _reference_loop(hidden, X_dev, n_neg_rows, len(y))
    n = max(50, spec["target_steps"] // 4)
    times = {"run_epoch": {n: [], 2 * n: []}, "reference": {n: [], 2 * n: []}}
    run(n)
    reference(n)
    for _ in range(min(3, spec["repeats"])):
        for name, fn in (("run_epoch", run), ("reference", reference)):
            for steps in (n, 2 * n):
                times[name][steps].append(timed(fn, steps)[1])

    def rate(name):
        return n / max(min(times[name][2 * n]) - min(times[name][n]), 1e-9)

    return {
        "internal_steps_per_s": rate("run_epoch"),
        "reference_steps_per_s": rate("reference"),
        "internal_over_reference": rate("run_epoch") / rate("reference"),
    }


def _exact_gradient_fn(hidden: tuple, loss: str = "logistic"):
    """Jitted gradient of the exact objective w.r.t. the scorer's parameters.

    Built from the package's own pieces (``_scorers.forward`` and
    ``_objective.exact_objective``), the way the L-BFGS solver evaluates it:
    score every row once, then walk all positive x negative pairs in tiles.
    """
    import jax
    import jax.numpy as jnp

    from skpairauc._objective import exact_objective
    from skpairauc._scorers import forward

    def objective(params, X, pos_idx, pos_w, neg_idx, neg_w, pair_norm):
        scores = forward(jnp, params, X, "relu")
        return exact_objective(
            scores, pos_idx, pos_w, neg_idx, neg_w, pair_norm, loss, 1.0
        )

    return jax.jit(jax.value_and_grad(objective))


def _exact_inputs(n_pos: int, n_neg: int, hidden: tuple, n_features: int):
    """Parameters, data and index arrays for one task with the given pairs."""
    import jax
    import jax.numpy as jnp

    from skpairauc._scorers import init_scorer

    key_x, key_p = jax.random.split(jax.random.key(SEED))
    X = jax.random.normal(key_x, (n_pos + n_neg, n_features), jnp.float32)
    params = init_scorer(np.random.default_rng(SEED), n_features, hidden, 1, "relu")
    if not hidden:  # a zero linear scorer makes every difference 0: use random
        params = {
            "coefs": [0.1 * jax.random.normal(key_p, (n_features, 1))],
            "intercepts": [],
        }
    pos_idx = jnp.arange(n_pos, dtype=jnp.int32)[None]
    neg_idx = jnp.arange(n_pos, n_pos + n_neg, dtype=jnp.int32)[None]
    pos_w = jnp.ones((1, n_pos), jnp.float32)
    neg_w = jnp.ones((1, n_neg), jnp.float32)
    pair_norm = jnp.array([float(n_pos) * n_neg], jnp.float32)
    return params, X, pos_idx, pos_w, neg_idx, neg_w, pair_norm


def _pair_kernel_fn():
    """Jitted value-and-gradient of the tiled pair sum w.r.t. both score vectors."""
    import jax

    from skpairauc._objective import all_pairs_loss_sum

    def pair_sum(s_pos, w_pos, s_neg, w_neg):
        return all_pairs_loss_sum(s_pos, w_pos, s_neg, w_neg, "logistic", 1.0)

    return jax.jit(jax.value_and_grad(pair_sum, argnums=(0, 2)))


def _pair_kernel_inputs(n_pos: int, n_neg: int):
    """Random scores and unit weights for the pair kernel."""
    import jax
    import jax.numpy as jnp

    key_p, key_n = jax.random.split(jax.random.key(SEED))
    return (
        jax.random.normal(key_p, (n_pos,), jnp.float32) + 1.0,
        jnp.ones((n_pos,), jnp.float32),
        jax.random.normal(key_n, (n_neg,), jnp.float32),
        jnp.ones((n_neg,), jnp.float32),
    )


def _compile(jitted, args):
    """Compile ``jitted`` for ``args``; return it and XLA's temporary MB.

    The temporary-buffer size comes from the compiled program's memory
    analysis, so large pair counts can be sized without being run.
    """
    compiled = jitted.lower(*args).compile()
    return compiled, compiled.memory_analysis().temp_size_in_bytes / MB


def job_exact(spec: dict) -> dict:
    """Pairs/s and temporary memory of the exact all-pairs gradient, one core.

    Timing: best of ``repeats`` evaluations after a warm-up, of the full
    gradient (linear and, unless ``spec["mlp"]`` is false, MLP(64) scorer, 100
    features) and of the pair kernel alone.  Memory: XLA's compiled
    temporary-buffer size at several pair counts (compiled, not run, so 1e10
    pairs cost nothing).
    """
    from skpairauc._pairs import bucket_length

    # The estimator pads both sides to its length buckets (tile multiples).
    n_pos, n_neg = (bucket_length(n) for n in spec["timing"])
    pairs = float(n_pos) * n_neg
    result = {"timing_pairs": pairs, "timing_shape": [n_pos, n_neg]}
    scorers = [("linear", ())] + (
        [("mlp64", (HIDDEN,))] if spec.get("mlp", True) else []
    )

    def best_time(compiled, args):
        block(compiled(*args))
        return min(
            timed(lambda: block(compiled(*args)))[1] for _ in range(spec["repeats"])
        )

    def measure_shape(n_pos_t, n_neg_t, run):
        entry = {"n_pos": n_pos_t, "n_neg": n_neg_t, "pairs": float(n_pos_t) * n_neg_t}
        args = _pair_kernel_inputs(n_pos_t, n_neg_t)
        compiled, entry["kernel_temp_mb"] = _compile(_pair_kernel_fn(), args)
        if run:
            entry["kernel_s"] = best_time(compiled, args)
        for name, hidden in scorers:
            if n_pos_t + n_neg_t > 1_100_000:
                continue  # the data array itself would be 400+ MB
            args = _exact_inputs(n_pos_t, n_neg_t, hidden, N_FEATURES)
            compiled, entry[f"{name}_gradient_temp_mb"] = _compile(
                _exact_gradient_fn(hidden), args
            )
            if run:
                entry[f"{name}_gradient_s"] = best_time(compiled, args)
        return entry

    timing = measure_shape(n_pos, n_neg, run=True)
    result["kernel_pairs_per_s"] = pairs / timing["kernel_s"]
    for name, _ in scorers:
        result[f"{name}_gradient_s"] = timing[f"{name}_gradient_s"]
        result[f"{name}_pairs_per_s"] = pairs / timing[f"{name}_gradient_s"]
    result["pairs_per_s"] = result["linear_pairs_per_s"]
    result["exp_per_s"] = exp_rate()
    # Logistic loss and its derivative share one exp and one log1p per pair.
    result["transcendental_ceiling_pairs_per_s"] = result["exp_per_s"] / 2.0
    result["matmul_gflops"] = matmul_gflops()

    temps = [{k: v for k, v in timing.items() if not k.endswith("_s")}]
    for n_pos_t, n_neg_t in sorted(
        {(bucket_length(p), bucket_length(n)) for p, n in spec["pairs"]}
        - {(n_pos, n_neg)}
    ):
        temps.append(measure_shape(n_pos_t, n_neg_t, run=False))
    temps.sort(key=lambda t: t["pairs"])
    result["temp"] = temps
    result["max_temp_mb"] = max(t["kernel_temp_mb"] for t in temps)
    result["temp_detail"] = "; ".join(
        f"{t['pairs']:.2g} pairs: kernel {t['kernel_temp_mb']:.1f} MB"
        + "".join(
            f", {k.split('_')[0]} full gradient {t[k]:.1f} MB"
            for k in t
            if k.endswith("_gradient_temp_mb")
        )
        for t in temps
    )
    result["note"] = (
        f"best of {spec['repeats']} at {n_pos} x {n_neg} pairs; full gradient "
        f"(linear scorer on {n_pos + n_neg} x {N_FEATURES} rows); pair kernel "
        f"alone {result['kernel_pairs_per_s']:.3g}/s"
        + (
            f", MLP(64) {result['mlp64_pairs_per_s']:.3g}/s"
            if "mlp64_pairs_per_s" in result
            else ""
        )
        + f"; exp-throughput bound {result['transcendental_ceiling_pairs_per_s']:.3g}/s"
    )
    return result


def job_fit_large(spec: dict) -> dict:
    """One whole fit on the large data set; time, compile time and peak memory.

    The memory baseline is the process after its imports and before the data
    exists; ``extra_mb = peak - baseline`` is compared with the budget
    ``data + X + 300 MB``.
    """
    model = spec["model"]
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    import skpairauc  # noqa: F401  (import cost is not part of the fit)

    CompileClock.install()
    baseline_mb = current_rss_mb()
    X, y = make_imbalanced(spec["n_samples"], N_FEATURES, POS_FRACTION, SEED)
    data_mb = (X.nbytes + y.nbytes) / MB
    after_data_mb = current_rss_mb()
    if model == "logreg":
        est = LogisticRegression(class_weight="balanced")
    else:
        from skpairauc import PairwiseAUCClassifier

        hidden = () if model == "linear" else (HIDDEN,)
        est = PairwiseAUCClassifier(hidden_layer_sizes=hidden, random_state=SEED)
    compile_before = CompileClock.seconds()
    _, fit_s = timed(est.fit, X, y)
    peak_mb = peak_rss_mb()
    result = {
        "model": model,
        "n_samples": spec["n_samples"],
        "fit_s": fit_s,
        "compile_s": CompileClock.seconds() - compile_before,
        "baseline_rss_mb": baseline_mb,
        "after_data_rss_mb": after_data_mb,
        "peak_rss_mb": peak_mb,
        "extra_mb": peak_mb - baseline_mb,
        "data_mb": data_mb,
        "x_mb": X.nbytes / MB,
        "budget_mb": data_mb + X.nbytes / MB + 300.0,
    }
    for attr in ("solver_", "n_iter_", "t_"):
        if hasattr(est, attr):
            value = getattr(est, attr)
            result[attr.rstrip("_")] = np.asarray(value).ravel()[0].item()
    head = slice(0, min(len(y), 200_000))
    result["train_auc_first_200k"] = roc_auc_score(
        y[head], est.decision_function(X[head])
    )
    return result


def job_torch_equal_work(spec: dict) -> dict:
    """LibAUC (or plain torch) pairwise training of the same MLP, one core."""
    status = torch_status()
    if status is not None:
        return {"status": status}
    X, y = make_imbalanced(spec["n_samples"], N_FEATURES, POS_FRACTION, SEED)
    return torch_pairwise_training(X, y, spec["n_steps"], spec["impl"], (HIDDEN,))


def job_ours_equal_work(spec: dict) -> dict:
    """Our MLP fit for a given number of steps, one core: whole and steady time."""
    X, y = make_imbalanced(spec["n_samples"], N_FEATURES, POS_FRACTION, SEED)
    CompileClock.install()
    probe = stochastic_estimator((HIDDEN,), 1)
    before_probe = CompileClock.seconds()
    _, probe_s = timed(probe.fit, X, y)
    probe_compile = CompileClock.seconds() - before_probe
    epochs = max(1, round(spec["n_steps"] / max(1, probe.t_)))
    est = stochastic_estimator((HIDDEN,), epochs)
    before = CompileClock.seconds()
    _, steady_s = timed(est.fit, X, y)
    return {
        "n_steps": est.t_,
        "epochs": epochs,
        "steps_per_epoch": probe.t_,
        # The first fit of the process = compile + one epoch; the whole-run time
        # of a fresh process is that compile plus the cached fit of all steps.
        "compile_s": probe_compile,
        "first_fit_s": probe_s,
        "fit_s_cached": steady_s,
        "recompile_s": CompileClock.seconds() - before,
        "total_s": probe_compile + steady_s,
    }


def job_cold(spec: dict) -> dict:
    """First small fit of a fresh process (the cache is set by the parent's env)."""
    start = time.perf_counter()
    from skpairauc import PairwiseAUCClassifier

    import_s = time.perf_counter() - start
    X, y = make_imbalanced(1_000, 20, 0.1, SEED)
    est = PairwiseAUCClassifier(
        hidden_layer_sizes=tuple(spec["hidden"]), random_state=SEED
    )
    _, fit_s = timed(est.fit, X, y)
    _, second_s = timed(
        PairwiseAUCClassifier(
            hidden_layer_sizes=tuple(spec["hidden"]), random_state=SEED
        ).fit,
        X,
        y,
    )
    import jax

    return {
        "import_s": import_s,
        "first_fit_s": fit_s,
        "second_fit_s": second_s,
        "solver": est.solver_,
        "cache_dir": jax.config.jax_compilation_cache_dir,
    }


JOBS = {
    "stochastic": job_stochastic,
    "exact": job_exact,
    "fit_large": job_fit_large,
    "torch_equal_work": job_torch_equal_work,
    "ours_equal_work": job_ours_equal_work,
    "cold": job_cold,
}


def child_main(spec_json: str) -> None:
    """Entry point of a child process: run one job, print its result line."""
    spec = json.loads(spec_json)
    try:
        result = JOBS[spec["job"]](spec)
    except Exception as exc:  # report, never hang the parent
        result = {"error": f"{type(exc).__name__}: {exc}"}
    emit_result(result)


# =========================================================================== #
# Parent: run the jobs, build the tables
# =========================================================================== #
def run_job(spec: dict, mode: dict, *, one_core: bool = False) -> dict:
    """Run one job: in a child process, or in this process in quick mode.

    Quick mode (the test suite's smoke run) shares one interpreter and its
    compile caches between jobs so that it takes seconds; its memory and
    one-core figures are then not meaningful, which the report says.
    """
    if mode["in_process"]:
        try:
            return JOBS[spec["job"]](spec)
        except Exception as exc:  # same contract as a failed child
            return {"error": f"{type(exc).__name__}: {exc}"}
    return run_child(__file__, spec, one_core=one_core)


def floor_row(
    floor_id, description, floor, measured, unit, higher_is_better, detail=""
):
    """One row of the floor table; ``passed`` is empty when not measured."""
    if measured is None or not math.isfinite(measured):
        passed = "not measured"
        measured = float("nan")
    elif higher_is_better:
        passed = "PASS" if measured >= floor else "FAIL"
    else:
        passed = "PASS" if measured <= floor else "FAIL"
    return {
        "floor_id": floor_id,
        "description": description,
        "floor": floor,
        "measured": measured,
        "unit": unit,
        "passed": passed,
        "detail": detail,
    }


def add_details(details: list, section: str, result: dict, units=None) -> None:
    """Append every numeric/string field of a child result to ``details``."""
    units = units or {}
    for name, value in result.items():
        if isinstance(value, (list, dict)):
            value = json.dumps(value)
        details.append(
            {
                "section": section,
                "name": name,
                "value": value,
                "unit": units.get(name, ""),
                "note": "",
            }
        )


def measure_stochastic(mode, floors, details):
    """Floor 1: steady-state steps/s, MLP(64) and linear, one core."""
    for hidden, floor, fid in (((HIDDEN,), 2_700, "1a"), ((), 6_000, "1b")):
        name = "mlp64" if hidden else "linear"
        result = run_job(
            {
                "job": "stochastic",
                "hidden": list(hidden),
                "n_samples": mode["stochastic_rows"],
                "target_steps": mode["stochastic_target_steps"],
                "repeats": mode["repeats"],
                "internal": not mode["in_process"],
            },
            mode,
            one_core=True,
        )
        add_details(details, f"stochastic_{name}", result)
        rate = result.get("steps_per_s")
        detail = result.get("error", "")
        if rate is not None:
            detail = (
                f"public API, differential of {result['steps_short']} and "
                f"{result['steps_long']} steps, best of {mode['repeats']}; "
                f"compile {result['compile_s']:.2f} s; "
                f"{fmt(result['pairs_per_s'])} pairs/s; matmul ceiling "
                f"{fmt(result['flop_ceiling_steps_per_s'])} steps/s at "
                f"{result['matmul_gflops']:.0f} GFLOP/s; recompiles in timed "
                f"fits: {result['recompiles_in_timed_fits']}"
            )
            if "internal_steps_per_s" in result:
                detail += (
                    f"; run_epoch alone {fmt(result['internal_steps_per_s'])} "
                    f"steps/s vs bare-JAX reference loop "
                    f"{fmt(result['reference_steps_per_s'])} (same process)"
                )
        floors.append(
            floor_row(
                fid,
                f"stochastic {name} steps/s, one core, 128+384 per step",
                floor,
                rate,
                "steps/s",
                True,
                detail,
            )
        )


def measure_exact(mode, floors, details):
    """Floor 2: exact all-pairs gradient pairs/s and temporary memory."""
    result = run_job(
        {
            "job": "exact",
            "pairs": mode["exact_pairs"],
            "timing": mode["exact_timing"],
            "repeats": mode["repeats"],
            "mlp": not mode["in_process"],
        },
        mode,
        one_core=True,
    )
    add_details(details, "exact", result)
    detail = result.get("error", result.get("note", ""))
    floors.append(
        floor_row(
            "2a",
            "exact all-pairs gradient, pairs/s, one core",
            4e8,
            result.get("pairs_per_s"),
            "pairs/s",
            True,
            detail,
        )
    )
    floors.append(
        floor_row(
            "2b",
            "exact gradient temporary memory (max over pair counts)",
            32.0,
            result.get("max_temp_mb"),
            "MB",
            False,
            result.get("temp_detail", detail),
        )
    )


def measure_large(mode, floors, details):
    """Floor 3: whole 1e6-row fits against LogisticRegression; peak memory."""
    runs = {"logreg": [], "linear": [], "mlp": []}
    for repeat in range(mode["large_repeats"]):
        for model in runs:
            if model == "mlp" and repeat >= mode["large_repeats_mlp"]:
                continue
            result = run_job(
                {
                    "job": "fit_large",
                    "model": model,
                    "n_samples": mode["large_rows"],
                },
                mode,
            )
            add_details(details, f"fit_large_{model}", result)
            runs[model].append(result)

    def best(model):
        times = [r["fit_s"] for r in runs[model] if "fit_s" in r]
        return min(times) if times else None

    def all_times(model):
        return ", ".join(f"{r['fit_s']:.2f}" for r in runs[model] if "fit_s" in r)

    logreg = best("logreg")
    rows = mode["large_rows"]
    for model, limit, fid in (("linear", 1.5, "3a"), ("mlp", 2.0, "3b")):
        ours = best(model)
        ratio = ours / logreg if ours and logreg else None
        ok = [r for r in runs[model] if "fit_s" in r]
        detail = runs[model][-1].get("error", "")
        if ok:
            last = ok[-1]
            detail = (
                f"{model} {fmt(ours)} s (compile {last['compile_s']:.2f} s, "
                f"solver {last.get('solver')}, steps {last.get('t')}, "
                f"AUC {last['train_auc_first_200k']:.3f}) vs LogisticRegression "
                f"{fmt(logreg)} s; best of {len(ok)} (all: {all_times(model)} "
                f"vs {all_times('logreg')})"
            )
        floors.append(
            floor_row(
                fid,
                f"{rows:,} x 100 whole fit, {model} / LogisticRegression",
                limit,
                ratio,
                "x",
                False,
                detail,
            )
        )
    for model, fid in (("linear", "3c"), ("mlp", "3d")):
        ok = [r for r in runs[model] if "extra_mb" in r]
        if not ok:
            floors.append(
                floor_row(
                    fid,
                    f"peak memory, {model}",
                    float("nan"),
                    None,
                    "MB",
                    False,
                    "failed",
                )
            )
            continue
        worst = max(ok, key=lambda r: r["extra_mb"])
        floors.append(
            floor_row(
                fid,
                f"{rows:,} x 100 peak memory over baseline, {model}",
                worst["budget_mb"],
                worst["extra_mb"],
                "MB",
                False,
                f"peak RSS {worst['peak_rss_mb']:.0f} MB, baseline (after imports) "
                f"{worst['baseline_rss_mb']:.0f} MB; budget = data "
                f"{worst['data_mb']:.0f} + X {worst['x_mb']:.0f} + 300 MB",
            )
        )
    ok = [r for r in runs["logreg"] if "extra_mb" in r]
    if ok:
        details.append(
            {
                "section": "fit_large_logreg",
                "name": "extra_mb_max",
                "value": max(r["extra_mb"] for r in ok),
                "unit": "MB",
                "note": "LogisticRegression's own peak over baseline, for reference",
            }
        )


def measure_equal_work(mode, floors, details):
    """Floor 4: equal-work speed-up over LibAUC's PyTorch pairwise training.

    The floor compares training at equal work, so its verdict uses the
    steady-state rates (as floor 1 does); the whole run of a fresh process is
    reported next to it, with a cold compile and with JAX's persistent
    compilation cache filled by an earlier process (full mode only).
    """
    rows = mode["stochastic_rows"]
    spec = {
        "job": "ours_equal_work",
        "n_samples": rows,
        "n_steps": mode["equal_work_steps"],
    }
    ours = run_job(spec, mode, one_core=True)
    add_details(details, "equal_work_skpairauc", ours)
    cached = {}
    if not mode["in_process"]:
        cache = tempfile.mkdtemp(prefix="skpairauc-jax-cache-")
        try:
            run_child(__file__, spec, one_core=True, env_extra=cold_env(cache))
            cached = run_child(__file__, spec, one_core=True, env_extra=cold_env(cache))
        finally:
            shutil.rmtree(cache, ignore_errors=True)
        add_details(details, "equal_work_skpairauc_cached", cached)
    n_steps = ours.get("n_steps", mode["equal_work_steps"])
    peers = {}
    for impl in ("libauc", "torch"):
        peers[impl] = run_job(
            {
                "job": "torch_equal_work",
                "impl": impl,
                "n_samples": rows,
                "n_steps": n_steps,
            },
            mode,
            one_core=True,
        )
        add_details(details, f"equal_work_{impl}", peers[impl])
    libauc = peers["libauc"]
    if "status" in libauc or "total_s" not in ours or "total_s" not in libauc:
        reason = libauc.get("status") or ours.get("error", libauc.get("error", ""))
        floors.append(
            floor_row(
                "4",
                "equal-work speed-up over LibAUC (training, steady state)",
                10.0,
                None,
                "x",
                True,
                reason,
            )
        )
        return
    whole_ratio = libauc["total_s"] / ours["total_s"]
    cached_note = ""
    if "total_s" in cached:
        cached_note = (
            f"; with the persistent cache filled: {fmt(cached['total_s'])} s "
            f"(compile {cached['compile_s']:.2f} s) = "
            f"{fmt(libauc['total_s'] / cached['total_s'])}x"
        )
    steady_ours = n_steps / ours["fit_s_cached"]
    steady_ratio = (
        steady_ours and libauc["steps_per_s"] and (steady_ours / libauc["steps_per_s"])
    )
    torch_note = ""
    if "steps_per_s" in peers["torch"]:
        torch_note = (
            f"; plain-torch loss (no LibAUC) {fmt(peers['torch']['steps_per_s'])} "
            f"steps/s -> {fmt(steady_ours / peers['torch']['steps_per_s'])}x"
        )
    floors.append(
        floor_row(
            "4",
            f"equal-work speed-up over LibAUC, {n_steps:,} steps, one core "
            "(training, steady state)",
            10.0,
            steady_ratio,
            "x",
            True,
            f"{fmt(steady_ours)} vs {fmt(libauc['steps_per_s'])} steps/s"
            f"{torch_note}; whole run of a fresh process: LibAUC "
            f"{fmt(libauc['total_s'])} s vs skpairauc {fmt(ours['total_s'])} s "
            f"(compile {ours['compile_s']:.2f} s) = {fmt(whole_ratio)}x"
            f"{cached_note}",
        )
    )


COLD_SPEC = {"job": "cold", "hidden": []}


def cold_env(cache: str) -> dict:
    """How a user turns JAX's persistent compilation cache on (benchmarks/README.md).

    The minimum compile time defaults to 1 s, which would leave the small
    programs of a small fit uncached; 0 caches every program.
    """
    return {
        "JAX_COMPILATION_CACHE_DIR": cache,
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
    }


def start_cold_fill(mode: dict) -> None:
    """Quick mode: fill the cache in a background child while the rest runs.

    The fill run only has to populate the cache; overlapping it with the
    in-process sections keeps the smoke run short.  Full mode fills it in
    :func:`measure_cold`, with nothing else running.
    """
    cache = tempfile.mkdtemp(prefix="skpairauc-jax-cache-")
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(run_child, __file__, COLD_SPEC, env_extra=cold_env(cache))
    pool.shutdown(wait=False)
    mode["_cold"] = (cache, future)


def measure_cold(mode, floors, details):
    """Floor 5: first small fit of a fresh process with the persistent cache."""
    if "_cold" in mode:
        cache, future = mode.pop("_cold")
        fill = future.result()
    else:
        cache = tempfile.mkdtemp(prefix="skpairauc-jax-cache-")
        # The first process finds the cache empty: its first fit is the
        # no-cache time (plus writing the entries).
        fill = run_child(__file__, COLD_SPEC, env_extra=cold_env(cache))
    try:
        add_details(details, "cold_fill_cache", fill)
        warm = [
            run_child(__file__, COLD_SPEC, env_extra=cold_env(cache))
            for _ in range(mode["cold_repeats"])
        ]
        for i, result in enumerate(warm):
            add_details(details, f"cold_cached_{i}", result)
        n_entries = len(list(Path(cache).iterdir()))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    times = sorted(r["first_fit_s"] for r in warm if "first_fit_s" in r)
    median = times[len(times) // 2] if times else None
    detail = warm[-1].get("error", "")
    if times:
        detail = (
            f"median of {len(times)} fresh processes (all: "
            f"{', '.join(f'{t:.2f}' for t in times)} s); import "
            f"{warm[-1]['import_s']:.2f} s; empty cache (first process) "
            f"{fill.get('first_fit_s', float('nan')):.2f} s; "
            f"{n_entries} cache entries; solver {warm[-1].get('solver')}"
        )
    floors.append(
        floor_row(
            "5",
            "first small fit of a fresh process, persistent cache on (1000 x 20)",
            1.2,
            median,
            "s",
            False,
            detail,
        )
    )


def render(floors, details, info, mode_name, out: Path, elapsed: float) -> str:
    """Write CSV, Markdown and the plot; return the text table."""
    out.mkdir(parents=True, exist_ok=True)
    write_csv(floors, out / "speed.csv", FLOOR_COLUMNS)
    write_csv(details, out / "speed_details.csv", DETAIL_COLUMNS)
    table = markdown_table(floors, FLOOR_COLUMNS)
    md = [
        "# Speed floors (issue 2)",
        "",
        f"Mode: `{mode_name}`; run time {elapsed:.0f} s. Generated by "
        "`benchmarks/bench_speed.py`; raw measurements in `speed_details.csv`.",
        "",
        table,
        "",
        "## Machine",
        "",
        machine_markdown(info),
        "",
    ]
    (out / "speed.md").write_text("\n".join(md))
    plot_floors(floors, out / "speed.png")
    return text_table(floors, FLOOR_COLUMNS[:-1])


def plot_floors(floors, path: Path) -> None:
    """Bar chart of measured / floor (>= 1 is better than the floor)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, margins, colors = [], [], []
    for row in floors:
        measured, floor = row["measured"], row["floor"]
        if not (math.isfinite(measured) and math.isfinite(floor) and measured > 0):
            continue
        higher = row["unit"] in ("steps/s", "pairs/s") or row["floor_id"] == "4"
        margins.append(measured / floor if higher else floor / measured)
        labels.append(row["floor_id"])
        colors.append("tab:green" if row["passed"] == "PASS" else "tab:red")
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(labels, margins, color=colors)
    ax.axhline(1.0, color="black", linewidth=1)
    ax.set_yscale("log")
    ax.set_ylabel("margin over floor (>1 passes)")
    ax.set_xlabel("floor id (see speed.md)")
    ax.set_title("skpairauc speed floors")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


SECTIONS = {
    "stochastic": measure_stochastic,
    "exact": measure_exact,
    "large": measure_large,
    "equal_work": measure_equal_work,
    "cold": measure_cold,
}


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="smoke run with tiny sizes (seconds)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="directory for speed.{csv,md,png} (default: %(default)s)",
    )
    parser.add_argument(
        "--only", nargs="+", choices=sorted(SECTIONS), help="run only these sections"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Run the selected sections and write the results."""
    args = parse_args(argv)
    # Short fits on purpose (fixed epoch counts): their warnings are noise here.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    if args.child:
        child_main(args.child)
        return 0
    mode_name = "quick" if args.quick else "full"
    mode = dict(MODES[mode_name])
    start = time.perf_counter()
    floors, details = [], []
    if mode["in_process"] and (not args.only or "cold" in args.only):
        start_cold_fill(mode)
    for name, section in SECTIONS.items():
        if args.only and name not in args.only:
            continue
        print(f"[bench_speed] {name} ...", end=" ", flush=True)
        cpu = cpu_seconds()
        _, seconds = timed(section, mode, floors, details)
        print(f"{seconds:.1f} s (cpu {cpu_seconds() - cpu:.1f} s)", flush=True)
    if args.quick:
        # Smoke sizes, shared process: the numbers prove the script runs, they
        # do not test the floors.
        for row in floors:
            row["passed"] = f"n/a (quick; {row['passed']})"
    info = machine_info()
    print(
        render(floors, details, info, mode_name, args.out, time.perf_counter() - start)
    )
    print(f"\nwrote {args.out / 'speed.csv'}, speed.md, speed.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
