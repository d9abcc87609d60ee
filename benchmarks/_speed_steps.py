"""Floor 1 of ``bench_speed.py``: steady-state steps/s of the stochastic solver.

One core, 128 positives + 384 negatives per step: MLP(64) >= 2,700 steps/s,
linear >= 6,000 steps/s, measured through the public API; the jitted
``run_epoch`` loop is also timed alone, next to a bare-JAX reference loop.
"""

from __future__ import annotations

import inspect

import numpy as np
from _data import N_FEATURES, POS_FRACTION, SEED, make_imbalanced
from _measure import (
    HIDDEN,
    N_NEG_PER_BATCH,
    N_POS_PER_BATCH,
    CompileClock,
    block,
    flops_per_step,
    matmul_gflops,
    stochastic_config,
    timed,
)
from _report import fmt
from _speed_common import add_details, floor_row, stochastic_estimator


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
    out by the package's own ``_layout.stochastic_layout`` (rows sorted by
    class, shuffled within each class, padded to a bucket), then ``n`` and
    ``2 n`` steps are timed; ``n_steps`` is traced, so both share one compile.
    The bare reference loop of :func:`_reference_loop` is timed interleaved
    with it.  Returns an empty dict if the internals moved.
    """
    try:
        import jax

        from skpairauc import _solvers
        from skpairauc._layout import (
            MAX_STEPS_PER_EPOCH,
            draw_uniforms,
            stochastic_layout,
            uniform_sides,
        )
        from skpairauc._scorers import init_scorer
    except ImportError:
        return {}
    weights = np.ones(len(y))
    rng = np.random.default_rng(SEED)
    uniform = uniform_sides(y, weights, 2)
    batch = (N_POS_PER_BATCH, N_NEG_PER_BATCH)
    layout = stochastic_layout(X, y, weights, np.arange(len(y)), 2, uniform, batch, rng)
    try:
        config = stochastic_config(uniform)
    except TypeError as exc:  # the solver's static settings changed
        return {"internal_error": f"StochasticConfig: {exc}"}
    X_dev = jax.device_put(layout.rows)
    # Fill the call by parameter name, so that this keeps working while the
    # solver's signature evolves.
    arguments = {
        "draws": draw_uniforms(rng, MAX_STEPS_PER_EPOCH, 1, *batch, uniform),
        "seed": np.int32(SEED),
        "epoch": np.int32(1),
        "X": X_dev,
        "cum_weight": layout.cum_weight,
        "bounds": layout.task_bounds,
        "n_rows": np.int32(layout.n_rows),
        "lr": np.float32(1e-3),
        "reg": np.float32(1e-8),
        "config": config,
    }
    # run_epoch takes _epoch_loop's arguments, in its order, config last.
    parameters = list(inspect.signature(_solvers._epoch_loop).parameters)

    def run(n_steps):
        # Calls of at most MAX_STEPS_PER_EPOCH steps each, as the estimator
        # makes them.
        params = jax.device_put(
            init_scorer(np.random.default_rng(SEED), X.shape[1], hidden, 1, "relu")
        )
        opt_state = _solvers.init_optimizer_state(params, config)
        for begin in range(0, n_steps, MAX_STEPS_PER_EPOCH):
            values = dict(
                arguments,
                params=params,
                opt_state=opt_state,
                n_steps=np.int32(min(MAX_STEPS_PER_EPOCH, n_steps - begin)),
            )
            params, opt_state, loss = _solvers.run_epoch(
                *[values[name] for name in parameters]
            )
        return block(loss)

    # The negatives are the rows before the (one) task's positives.
    n_neg_rows = int(layout.task_bounds[0, 0])
    reference = _reference_loop(hidden, X_dev, n_neg_rows, layout.n_rows)
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


def measure_stochastic(mode, run, floors, details):
    """Floor 1: steady-state steps/s, MLP(64) and linear, one core."""
    for hidden, floor, fid in (((HIDDEN,), 2_700, "1a"), ((), 6_000, "1b")):
        name = "mlp64" if hidden else "linear"
        result = run(
            {
                "job": "stochastic",
                "hidden": list(hidden),
                "n_samples": mode["stochastic_rows"],
                "target_steps": mode["stochastic_target_steps"],
                "repeats": mode["repeats"],
                "internal": not mode["in_process"],
            },
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


JOBS = {"stochastic": job_stochastic}
