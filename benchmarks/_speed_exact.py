"""Floor 2 of ``bench_speed.py``: the exact solver's all-pairs gradient.

>= 400 million pairs/s per core, with temporary memory <= 32 MB whatever the
pair count. The gradient is the one ``run_lbfgs`` evaluates, built from the
package's own pieces; its temporary memory is XLA's memory analysis of the
compiled program, so pair counts of 1e10 are sized without being run.
"""

from __future__ import annotations

import numpy as np
from _data import N_FEATURES, SEED
from _measure import HIDDEN, MB, block, exp_rate, matmul_gflops, timed
from _speed_common import add_details, floor_row


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
    return (params, X, *_one_task_pairs(n_pos, n_neg))


def _one_task_pairs(n_pos: int, n_neg: int):
    """The pair vectors of ``n_pos`` positives then ``n_neg`` negatives, on device.

    ``(pos_idx, pos_w, neg_idx, neg_w, pair_norm)`` as the package's
    ``_layout.exact_layout`` lays them out for the exact solver (unit weights;
    each side padded to its length bucket, which the lengths given here are
    already). Its padded copy of the rows is not needed here: the layout gets
    a feature-less ``X``, so that copy is empty.
    """
    import jax.numpy as jnp

    from skpairauc._layout import exact_layout

    y = np.r_[np.ones(n_pos, np.int64), np.zeros(n_neg, np.int64)]
    rows = np.arange(len(y))
    featureless = np.empty((len(y), 0), np.float32)
    layout = exact_layout(featureless, y, np.ones(len(y)), rows, 2)
    return tuple(jnp.asarray(part) for part in layout.pairs)


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
    from skpairauc._layout import bucket_length

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


def measure_exact(mode, run, floors, details):
    """Floor 2: exact all-pairs gradient pairs/s and temporary memory."""
    result = run(
        {
            "job": "exact",
            "pairs": mode["exact_pairs"],
            "timing": mode["exact_timing"],
            "repeats": mode["repeats"],
            "mlp": not mode["in_process"],
        },
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


JOBS = {"exact": job_exact}
