"""The child jobs of ``bench_scale.py``: one fit of one arm at one size.

Each job runs in a fresh process pinned to one core (in quick mode, in the
parent) and returns a dict: whole fit time, JIT compile time, peak memory over
the process's baseline, test AUC and, for the pairwise arms, the work done.
"""

from __future__ import annotations

import numpy as np
from _data import N_FEATURES, POS_FRACTION, SEED, make_imbalanced
from _harness import peer_status
from _measure import (
    HIDDEN,
    MB,
    N_NEG_PER_BATCH,
    N_POS_PER_BATCH,
    CompileClock,
    current_rss_mb,
    exp_rate,
    flops_per_step,
    matmul_gflops,
    peak_rss_mb,
    timed,
)
from _torch_peers import torch_pairwise_training

N_TEST = 20_000

ARMS = {
    # name: (family, hidden layers, solver)
    "skpairauc linear exact": ("skpairauc", (), "lbfgs"),
    "skpairauc linear adam": ("skpairauc", (), "adam"),
    "skpairauc mlp64 exact": ("skpairauc", (HIDDEN,), "lbfgs"),
    "skpairauc mlp64 adam": ("skpairauc", (HIDDEN,), "adam"),
    "LogisticRegression": ("sklearn", None, "lbfgs"),
    "SGDClassifier": ("sklearn", None, "sgd"),
    "LibAUC mlp64 (same steps)": ("libauc", (HIDDEN,), "adam"),
}


# =========================================================================== #
# Child jobs
# =========================================================================== #
def _estimator(arm: str):
    """The estimator of an arm (LibAUC excluded), default settings."""
    family, hidden, solver = ARMS[arm]
    if family == "skpairauc":
        from skpairauc import PairwiseAUCClassifier

        return PairwiseAUCClassifier(
            hidden_layer_sizes=hidden, solver=solver, random_state=SEED
        )
    if arm == "LogisticRegression":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(class_weight="balanced")
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(loss="log_loss", class_weight="balanced", random_state=SEED)


def _work(arm: str, est, n_pos: int, n_neg: int, n_rows: int) -> dict:
    """Pairs and matmul FLOPs a fitted skpairauc estimator did.

    Stochastic: ``t_`` steps of 128 x 384 pairs.  Exact: ``n_iter_`` L-BFGS
    iterations of ``n_pos x n_neg`` pairs and one pass over all rows each; the
    line search may evaluate the objective more than once per iteration, so the
    pairs/s derived from this count is a lower bound.
    """
    _, hidden, solver = ARMS[arm]
    if solver == "adam":
        steps = int(est.t_)
        pairs_per_step = N_POS_PER_BATCH * N_NEG_PER_BATCH
        flops = steps * flops_per_step(
            hidden, N_FEATURES, N_POS_PER_BATCH + N_NEG_PER_BATCH
        )
    else:
        steps = int(est.n_iter_)
        pairs_per_step = n_pos * n_neg
        flops = steps * flops_per_step(hidden, N_FEATURES, n_rows)
    return {
        "steps": steps,
        "pairs_per_step": float(pairs_per_step),
        "pairs_total": float(pairs_per_step) * steps,
        "matmul_flops": flops,
    }


def job_fit(spec: dict) -> dict:
    """Fit one arm on ``n_samples`` rows; time, compile, memory, AUC, work."""
    from sklearn.metrics import roc_auc_score

    arm, n_samples = spec["arm"], spec["n_samples"]
    family = ARMS[arm][0]
    if family == "libauc":
        status = peer_status("libauc")
        if status is not None:
            return {"status": status}
    import skpairauc  # noqa: F401  (imports are not part of the fit)

    CompileClock.install()
    baseline_mb = current_rss_mb()
    X, y = make_imbalanced(n_samples, N_FEATURES, POS_FRACTION, SEED)
    n_pos = int(y.sum())
    result = {
        "n_samples": n_samples,
        "n_pos": n_pos,
        "data_mb": (X.nbytes + y.nbytes) / MB,
        "status": "ok",
    }
    if family == "libauc":
        result.update(_libauc_fit(spec, X, y))
    else:
        est = _estimator(arm)
        compile_before = CompileClock.seconds()
        _, result["fit_s"] = timed(est.fit, X, y)
        result["compile_s"] = CompileClock.seconds() - compile_before
        result["peak_extra_mb"] = peak_rss_mb() - baseline_mb
        X_test, y_test = make_imbalanced(N_TEST, N_FEATURES, POS_FRACTION, SEED + 1)
        result["test_auc"] = roc_auc_score(y_test, est.decision_function(X_test))
        result["n_iter"] = int(np.max(est.n_iter_))
        if family == "skpairauc":
            result.update(_work(arm, est, n_pos, n_samples - n_pos, n_samples))
    # Peak over the baseline of this process before the data existed (in quick
    # mode the process is shared, so the figure is only a smoke value).
    result.setdefault("peak_extra_mb", peak_rss_mb() - baseline_mb)
    return result


def _libauc_fit(spec: dict, X, y) -> dict:
    """LibAUC pairwise training at the same number of steps as skpairauc's MLP."""
    target = int(spec["steps"])
    run_steps = min(target, spec["libauc_max_steps"])
    result = torch_pairwise_training(X, y, run_steps, "libauc", (HIDDEN,), SEED)
    note = ""
    fit_s = result["total_s"]
    if run_steps < target:
        fit_s = result["setup_s"] + target / result["steps_per_s"]
        note = f"timed {run_steps} steps, extrapolated to {target}"
    pairs_per_step = float(N_POS_PER_BATCH * N_NEG_PER_BATCH)
    batch = N_POS_PER_BATCH + N_NEG_PER_BATCH
    return {
        "fit_s": fit_s,
        "compile_s": 0.0,
        "steps": target,
        "n_iter": target,
        "pairs_per_step": pairs_per_step,
        "pairs_total": pairs_per_step * target,
        "matmul_flops": target * flops_per_step((HIDDEN,), N_FEATURES, batch),
        "note": note,
    }


def job_machine(spec: dict) -> dict:
    """This core's float32 matmul GFLOP/s and ``exp`` rate (the ceilings)."""
    return {"matmul_gflops": matmul_gflops(), "exp_per_s": exp_rate()}


JOBS = {"fit": job_fit, "machine": job_machine}
