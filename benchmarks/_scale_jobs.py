"""The child jobs of ``bench_scale.py``: one fit of one arm at one size.

Each job runs in a fresh process pinned to one core (in quick mode, in the
parent) and returns a dict: whole fit time, JIT compile time, peak memory over
the process's baseline, test AUC and, for the pairwise arms, the work done.
Besides the dense arms (:data:`ARMS`, ``job_fit``): fits on TF-IDF-like CSR
data (:data:`SPARSE_ARMS`, ``job_sparse_fit``) and ``partial_fit`` over blocks
of the dense data (:data:`STREAM_ARMS`, ``job_stream_fit``), whose peak memory
is counted from the process's RSS just before the fit, the data built.
"""

from __future__ import annotations

import _sparse_data
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


# =========================================================================== #
# Sparse input and streaming
# =========================================================================== #
#: Arms of the sparse rows: name -> (family, settings).
SPARSE_ARMS = {
    "skpairauc linear (sparse)": ("skpairauc", {"hidden_layer_sizes": ()}),
    "LogisticRegression lbfgs": ("logreg", {"solver": "lbfgs"}),
    "LogisticRegression saga": ("logreg", {"solver": "saga"}),
    "LogisticRegression liblinear": ("logreg", {"solver": "liblinear"}),
    "SGDClassifier": ("sgd", {"class_weight": "balanced"}),
}
#: Arms of the streaming rows (``partial_fit`` on every block, every pass).
STREAM_ARMS = {
    "skpairauc linear partial_fit": ("skpairauc", {"hidden_layer_sizes": ()}),
    "skpairauc default partial_fit": ("skpairauc", {}),
    "SGDClassifier partial_fit": ("sgd", {}),
}
EXTRA_ARMS = {"sparse": SPARSE_ARMS, "streaming": STREAM_ARMS}
#: The columns of their rows (``bench_scale.py``'s ``scale_{part}.csv``).
EXTRA_COLUMNS = {
    "sparse": ["n_samples", "n_features", "n_pos", "arm", "status", "fit_s",
               "compile_s", "peak_extra_mb", "csr_mb", "n_iter", "test_auc", "note"],
    "streaming": ["n_samples", "block_rows", "passes", "n_calls", "arm", "status",
                  "fit_s", "compile_s", "peak_extra_mb", "data_mb", "steps",
                  "test_auc", "note"],
}  # fmt: skip
#: Mean stored entries per row of the sparse rows' data.
SPARSE_NNZ_PER_ROW = 50


def _extra_estimator(family: str, settings: dict):
    """A sparse or streaming arm's estimator: balanced class weights for the
    peers (SGD's ``partial_fit`` gets them from the job), defaults otherwise."""
    if family == "skpairauc":
        from skpairauc import PairwiseAUCClassifier

        return PairwiseAUCClassifier(random_state=SEED, **settings)
    if family == "logreg":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(
            class_weight="balanced", random_state=SEED, **settings
        )
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(loss="log_loss", random_state=SEED, **settings)


def _measured(family: str, reset: bool, work) -> dict:
    """Run ``work()`` (the fit); its time, compile time and peak memory over
    the RSS just before it (the high-water mark reset first, in a child)."""
    import gc

    if family == "skpairauc":
        import skpairauc  # noqa: F401  (imports are not part of the fit)

        CompileClock.install()
    gc.collect()
    reset = reset and _sparse_data.reset_peak_rss()
    before_mb = current_rss_mb()
    compile_before = CompileClock.seconds()
    _, fit_s = timed(work)
    return {
        "status": "ok",
        "fit_s": fit_s,
        "compile_s": CompileClock.seconds() - compile_before,
        "peak_extra_mb": peak_rss_mb() - before_mb,
        "peak_reset": bool(reset),
    }


def job_sparse_fit(spec: dict) -> dict:
    """Fit one sparse arm on ``n_samples`` TF-IDF-like rows (CSR float64) and
    score it on :data:`N_TEST` more (one stratified split of the same draw)."""
    from sklearn.metrics import roc_auc_score

    n_samples, family = spec["n_samples"], SPARSE_ARMS[spec["arm"]][0]
    X, y = _sparse_data.tfidf_like(
        n_samples + N_TEST, spec["n_features"], SPARSE_NNZ_PER_ROW, POS_FRACTION, SEED
    )
    X, X_test, y, y_test = _sparse_data.stratified_split(X, y, N_TEST, SEED)
    est = _extra_estimator(*SPARSE_ARMS[spec["arm"]])
    result = _measured(family, spec.get("reset_peak", False), lambda: est.fit(X, y))
    result.update(
        n_pos=int(y.sum()),
        csr_mb=_sparse_data.csr_megabytes(X),
        nnz_per_row=X.nnz / X.shape[0],
        n_iter=int(np.max(est.n_iter_)),
        test_auc=roc_auc_score(y_test, est.decision_function(X_test)),
    )
    return result


def job_stream_fit(spec: dict) -> dict:
    """``partial_fit`` over the blocks of ``block_rows`` rows of the dense data,
    ``passes`` times; test AUC on the dense arms' held-out rows.

    ``SGDClassifier.partial_fit`` takes no ``class_weight="balanced"``: it gets
    the balanced weights of the first block's class counts.
    """
    from sklearn.metrics import roc_auc_score

    n_samples, block = spec["n_samples"], spec["block_rows"]
    family, settings = STREAM_ARMS[spec["arm"]]
    X, y = make_imbalanced(n_samples, N_FEATURES, POS_FRACTION, SEED)
    est = _extra_estimator(family, settings)
    if family == "sgd":
        counts = np.bincount(y[:block], minlength=2)
        weights = counts.sum() / (2.0 * np.maximum(counts, 1))
        est.set_params(class_weight={0: float(weights[0]), 1: float(weights[1])})
    starts = range(0, n_samples, block)

    def stream():
        for _ in range(spec["passes"]):
            for start in starts:
                rows = slice(start, start + block)
                est.partial_fit(X[rows], y[rows], classes=np.array([0, 1]))

    result = _measured(family, spec.get("reset_peak", False), stream)
    X_test, y_test = make_imbalanced(N_TEST, N_FEATURES, POS_FRACTION, SEED + 1)
    result.update(
        n_pos=int(y.sum()),
        data_mb=(X.nbytes + y.nbytes) / MB,
        n_calls=spec["passes"] * len(starts),
        test_auc=roc_auc_score(y_test, est.decision_function(X_test)),
    )
    if family == "skpairauc":
        result["steps"] = int(est.t_)
    return result


JOBS = {
    "fit": job_fit,
    "machine": job_machine,
    "sparse_fit": job_sparse_fit,
    "streaming_fit": job_stream_fit,
}
