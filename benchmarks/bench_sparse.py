"""Sparse input: a TF-IDF-like matrix and a one-hot pipeline (the sparse floors).

Data (``_sparse_data``; generated, nothing downloaded):

* **TF-IDF floor.** ``tfidf_like`` with 200,000 training rows (plus 50,000
  held out, one stratified split of 250,000 rows), 100,000 columns, about 50
  stored entries per row, 1% positives, CSR float64. Arms:
  ``PairwiseAUCClassifier(random_state=0)`` (the default),
  ``PairwiseAUCClassifier(hidden_layer_sizes=(), random_state=0)``,
  ``LogisticRegression(class_weight="balanced")`` with ``lbfgs`` (the
  reference), ``saga`` and ``liblinear`` (``max_iter=1000`` each), and
  ``SGDClassifier(loss="log_loss", class_weight="balanced")``. Each fit runs
  in a fresh process (default threads) with the data already built and, for
  skpairauc, an empty compile cache of its own (compile included). Reported:
  fit time, test ROC AUC, peak memory of the fit (the process's peak RSS
  after ``fit``, its high-water mark reset just before, minus its RSS just
  before ``fit``) and the training CSR's size (data + indices + indptr).
  Floors, for each skpairauc arm: peak memory <= 3 x CSR + 300 MB; test AUC
  >= the reference's - 0.002; fit time <= 2 x the reference's.
* **One-hot pipeline floor.** ``onehot_table()`` (20,000 rows, one
  300-level categorical column, 5 numeric columns, 2% positives) through
  ``onehot_pipeline`` (``OneHotEncoder`` with its default sparse output,
  ``StandardScaler``), 3-fold ``cross_val_score(scoring="roc_auc",
  cv=StratifiedKFold(3, shuffle=True, random_state=0))`` of the default
  ``PairwiseAUCClassifier(random_state=0)`` and of
  ``LogisticRegression(class_weight="balanced", max_iter=1000)``, each in a
  fresh process. Floors: the default's mean CV AUC >= LR's; its CV time <= 20
  x LR's.

An arm that fails (e.g. an estimator without sparse support) is recorded with
status ``error: <message>``; its floors say "not measured".

Writes ``sparse_tfidf.csv``, ``sparse_onehot.csv``, ``sparse_floors.csv``
and ``sparse.md`` into ``--out``.

Usage::

    python benchmarks/bench_sparse.py               # full mode (minutes)
    python benchmarks/bench_sparse.py --repeats 1   # one fit per arm
    python benchmarks/bench_sparse.py --arms LogisticRegression SGD  # the peers
    python benchmarks/bench_sparse.py --quick --out /tmp/sparse   # smoke run
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as harness  # noqa: E402
import _report  # noqa: E402
import _sparse_data as sd  # noqa: E402
from _measure import CompileClock, current_rss_mb, peak_rss_mb, timed  # noqa: E402
from _report import fmt  # noqa: E402
from _speed_common import FLOOR_COLUMNS, floor_row  # noqa: E402

SEED = 0
MAX_ITER = 1000
REPEAT_MAX_S = 60.0
REFERENCE = "LogisticRegression(balanced, lbfgs)"
SKPAIRAUC_ARMS = {
    "PairwiseAUCClassifier() (default)": {},
    "PairwiseAUCClassifier(hidden_layer_sizes=())": {"hidden_layer_sizes": ()},
}
TFIDF_ARMS = [
    *SKPAIRAUC_ARMS,
    REFERENCE,
    "LogisticRegression(balanced, saga)",
    "LogisticRegression(balanced, liblinear)",
    "SGDClassifier(log_loss, balanced)",
]
ONEHOT_ARMS = ["PairwiseAUCClassifier() (default)", "LogisticRegression(balanced)"]
TFIDF_COLUMNS = [
    "arm", "status", "fit_s", "test_auc", "peak_mb", "csr_mb", "compile_s",
    "n_iter", "converged", "peak_reset", "rss_before_fit_mb", "fit_s_all", "chosen",
]  # fmt: skip
ONEHOT_COLUMNS = ["arm", "status", "cv_auc_mean", "cv_auc_std", "cv_s", "fold_aucs"]
MODES = {
    "quick": {
        "n_train": 3_000, "n_test": 1_000, "n_features": 2_000, "nnz_per_row": 20,
        "onehot_rows": 3_000, "in_process": True, "timeout": 600, "repeats": 1,
    },
    "full": {
        "n_train": 200_000, "n_test": 50_000, "n_features": 100_000,
        "nnz_per_row": 50, "onehot_rows": 20_000, "in_process": False,
        "timeout": 1800, "repeats": 3,
    },
}  # fmt: skip


# =========================================================================== #
# Child jobs
# =========================================================================== #
def estimator(arm: str):
    """The estimator of an arm (a TF-IDF or one-hot arm name)."""
    from sklearn.linear_model import LogisticRegression, SGDClassifier

    if arm in SKPAIRAUC_ARMS:
        from skpairauc import PairwiseAUCClassifier

        return PairwiseAUCClassifier(random_state=SEED, **SKPAIRAUC_ARMS[arm])
    if arm.startswith("LogisticRegression"):
        solver = arm.rstrip(")").split(", ")[1] if ", " in arm else "lbfgs"
        return LogisticRegression(
            class_weight="balanced", solver=solver, max_iter=MAX_ITER, random_state=SEED
        )
    return SGDClassifier(loss="log_loss", class_weight="balanced", random_state=SEED)


def tfidf_data(spec: dict):
    """``X_train, X_test, y_train, y_test`` of the spec's TF-IDF-like data."""
    n_rows, n_features = spec["n_train"] + spec["n_test"], spec["n_features"]
    X, y = sd.tfidf_like(n_rows, n_features, spec["nnz_per_row"], 0.01, SEED)
    return sd.stratified_split(X, y, spec["n_test"], SEED)


def job_tfidf(spec: dict) -> dict:
    """One fit of one arm on the TF-IDF-like data: time, memory, test AUC."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import roc_auc_score

    arm = spec["arm"]
    if arm in SKPAIRAUC_ARMS:
        import skpairauc  # noqa: F401  (imports are not part of the fit)

        CompileClock.install()
    X_train, X_test, y_train, y_test = tfidf_data(spec)
    est = estimator(arm)
    gc.collect()
    reset = spec.get("reset_peak", False) and sd.reset_peak_rss()
    before_mb = current_rss_mb()
    compile_before = CompileClock.seconds()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _, fit_s = timed(est.fit, X_train, y_train)
    result = {
        "fit_s": fit_s,
        "compile_s": CompileClock.seconds() - compile_before,
        # The high-water mark was reset just before the fit (else it may be
        # the data generation's, and the figure an upper bound).
        "peak_mb": peak_rss_mb() - before_mb,
        "peak_reset": bool(reset),
        "rss_before_fit_mb": before_mb,
        "csr_mb": sd.csr_megabytes(X_train),
        "test_auc": roc_auc_score(y_test, est.decision_function(X_test)),
    }
    return {**result, **fit_facts(est)}


def fit_facts(est) -> dict:
    """Iterations, whether they stopped before ``max_iter``, what "auto" chose."""
    facts = {}
    if hasattr(est, "n_iter_"):
        facts["n_iter"] = int(np.max(est.n_iter_))
        facts["converged"] = facts["n_iter"] < est.max_iter
    chosen = [
        f"{name}={getattr(est, name)}"
        for name in ("hidden_layer_sizes_", "solver_", "alpha_")
        if hasattr(est, name)
    ]
    if chosen:
        facts["chosen"] = ", ".join(chosen)
    return facts


def job_onehot(spec: dict) -> dict:
    """3-fold CV ROC AUC of one arm on the one-hot pipeline, and its time."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    if spec["arm"] in SKPAIRAUC_ARMS:
        import skpairauc  # noqa: F401
    X, y = sd.onehot_table(n_rows=spec["n_rows"], seed=SEED)
    model = sd.onehot_pipeline(estimator(spec["arm"]))
    cv = StratifiedKFold(3, shuffle=True, random_state=SEED)
    aucs, cv_s = timed(
        cross_val_score, model, X, y, scoring="roc_auc", cv=cv, error_score="raise"
    )
    return {
        "cv_auc_mean": float(np.mean(aucs)),
        "cv_auc_std": float(np.std(aucs, ddof=1)),
        "cv_s": cv_s,
        "fold_aucs": " ".join(f"{a:.4f}" for a in aucs),
    }


JOBS = {"tfidf": job_tfidf, "onehot": job_onehot}


# =========================================================================== #
# Parent
# =========================================================================== #
def error_status(result: dict) -> str:
    """``"error: <message>"`` (the last line of a failed job's message), or
    why the job was skipped."""
    lines = [line for line in result["error"].strip().splitlines() if line.strip()]
    message = (lines[-1].strip() if lines else "unknown")[:300]
    return message if message.startswith("skipped") else "error: " + message


def run_job(runner, spec: dict, arm: str, words) -> dict:
    """One job (``{"error": "skipped"}`` unless ``arm`` contains one of
    ``words``); each skpairauc fit in a child gets an empty compile cache."""
    if words and not any(word in arm for word in words):
        return {"error": "skipped (--arms)"}
    if runner.in_process or arm not in SKPAIRAUC_ARMS:
        return runner(spec)
    cache = tempfile.mkdtemp(prefix="skpairauc-sparse-cache-")
    try:
        return runner.child(spec, env_extra={"SKPAIRAUC_CACHE_DIR": cache})
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def run_tfidf(mode: dict, runner, repeats: int, words) -> list[dict]:
    """Every TF-IDF arm, ``repeats`` fits each (interleaved; one for an arm
    whose first fit failed or took over :data:`REPEAT_MAX_S`); the fastest kept."""
    keys = ("n_train", "n_test", "n_features", "nnz_per_row")
    base = {key: mode[key] for key in keys}
    results = {arm: [] for arm in TFIDF_ARMS}
    for repeat in range(repeats):
        for arm in TFIDF_ARMS:
            first = results[arm][0] if repeat else {}
            if "error" in first or first.get("fit_s", 0) > REPEAT_MAX_S:
                continue
            spec = {"job": "tfidf", "arm": arm, **base}
            spec["reset_peak"] = not mode["in_process"]
            result = run_job(runner, spec, arm, words)
            results[arm].append(result)
            shown = error_status(result) if "error" in result else "ok"
            print(
                f"  tfidf {arm:<46} fit {fmt(result.get('fit_s', float('nan')))} s"
                f"  AUC {fmt(result.get('test_auc', float('nan')), 4)}  {shown}",
                flush=True,
            )
    rows = []
    for arm, runs in results.items():
        ok = [r for r in runs if "error" not in r]
        if not ok:
            rows.append({"arm": arm, "status": error_status(runs[-1])})
            continue
        best = min(ok, key=lambda r: r["fit_s"])
        row = {"arm": arm, "status": "ok", **best}
        row["fit_s_all"] = " ".join(f"{r['fit_s']:.3g}" for r in ok)
        row["peak_mb"] = max(r["peak_mb"] for r in ok)
        rows.append(row)
    return rows


def run_onehot(mode: dict, runner, words) -> list[dict]:
    """3-fold CV of each one-hot arm."""
    rows = []
    for arm in ONEHOT_ARMS:
        spec = {"job": "onehot", "arm": arm, "n_rows": mode["onehot_rows"]}
        result = run_job(runner, spec, arm, words)
        status = error_status(result) if "error" in result else "ok"
        rows.append({"arm": arm, "status": status, **result})
        print(f"  onehot {arm:<40} {status}", flush=True)
    return rows


def floors(tfidf: list[dict], onehot: list[dict]) -> list[dict]:
    """The PASS/FAIL rows of the floors (``floor_row``: "not measured" when an
    arm or the reference did not run)."""

    def value(rows, arm, key):
        row = next((r for r in rows if r["arm"] == arm), {})
        return row.get(key) if row.get("status") == "ok" else None

    def ratio(a, b):
        return a / b if a is not None and b else None

    ref_auc = value(tfidf, REFERENCE, "test_auc")
    ref_s = value(tfidf, REFERENCE, "fit_s")
    out = []
    for arm in SKPAIRAUC_ARMS:
        csr = value(tfidf, arm, "csr_mb") or value(tfidf, REFERENCE, "csr_mb")
        budget = 3.0 * csr + 300.0 if csr else float("nan")
        peak = value(tfidf, arm, "peak_mb")
        out += [
            floor_row("tfidf-memory", f"{arm}: fit peak memory <= 3 x CSR + 300 MB",
                      budget, peak, "MB", False, f"CSR {fmt(csr)} MB"),
            floor_row("tfidf-auc", f"{arm}: test AUC >= {REFERENCE} - 0.002",
                      ref_auc - 0.002 if ref_auc else float("nan"),
                      value(tfidf, arm, "test_auc"), "ROC AUC", True),
            floor_row("tfidf-time", f"{arm}: fit time <= 2 x {REFERENCE}'s", 2.0,
                      ratio(value(tfidf, arm, "fit_s"), ref_s), "x LR", False,
                      f"LR {fmt(ref_s)} s"),
        ]  # fmt: skip
    default, lr = ONEHOT_ARMS
    lr_auc, lr_s = value(onehot, lr, "cv_auc_mean"), value(onehot, lr, "cv_s")
    out += [
        floor_row("onehot-auc", f"{default}: CV AUC >= {lr}'s",
                  lr_auc if lr_auc else float("nan"),
                  value(onehot, default, "cv_auc_mean"), "ROC AUC", True),
        floor_row("onehot-time", f"{default}: CV time <= 20 x {lr}'s", 20.0,
                  ratio(value(onehot, default, "cv_s"), lr_s), "x LR", False,
                  f"LR {fmt(lr_s)} s"),
    ]  # fmt: skip
    return out


def report_lines(tfidf, onehot, floor_rows, mode_name, mode, args) -> list[str]:
    """The Markdown report's lines (before the machine section)."""
    peak_note = (
        "In quick mode every job shares this process: memory figures are smoke values."
        if mode["in_process"]
        else "Peak memory: the child's `ru_maxrss` after `fit`, its high-water "
        "mark reset (`/proc/self/clear_refs`) just before `fit`, minus its RSS "
        "just before `fit` (data built; `peak_reset` in the CSV says whether "
        "the reset worked)."
    )
    return [
        "# Sparse input: TF-IDF-like data and a one-hot pipeline",
        "",
        f"{_report.command_line('bench_sparse.py', args.argv)} (mode `{mode_name}`).",
        "",
        "## Protocol",
        "",
        f"- TF-IDF-like CSR (`_sparse_data.tfidf_like`, seed {SEED}): "
        f"{mode['n_train']:,} training rows and {mode['n_test']:,} held out "
        f"(one stratified split), {mode['n_features']:,} columns, about "
        f"{mode['nnz_per_row']} stored entries per row, 1% positives.",
        f"- One-hot table (`_sparse_data.onehot_table`, seed {SEED}): "
        f"{mode['onehot_rows']:,} rows, one 300-level categorical and 5 numeric "
        "columns, 2% positives, through `onehot_pipeline` (sparse one-hot + "
        "`StandardScaler`); 3-fold `StratifiedKFold(shuffle=True, "
        "random_state=0)`.",
        "- Every fit in a fresh process with default threads (quick mode: in "
        "this one); skpairauc with an empty compile cache of its own, so its "
        f"fit time includes compiling. LogisticRegression `max_iter={MAX_ITER}`; "
        f"fit time: the fastest of {args.repeats} fit(s) per arm (`fit_s_all`; "
        f"one when the first took over {REPEAT_MAX_S:.0f} s). " + peak_note,
        "",
        "## TF-IDF-like data",
        "",
        _report.markdown_table(tfidf, TFIDF_COLUMNS),
        "",
        "## One-hot pipeline",
        "",
        _report.markdown_table(onehot, ONEHOT_COLUMNS),
        "",
        "## Floors",
        "",
        _report.markdown_table(floor_rows, FLOOR_COLUMNS),
        "",
    ]


def main(argv=None) -> int:
    """Run both sections, check the floors, write the results."""
    parser = harness.bench_parser(
        __doc__.splitlines()[0], "sparse_{tfidf,onehot,floors}.csv and sparse.md"
    )
    parser.add_argument(
        "--repeats", type=int, help="fits per TF-IDF arm (default: the mode's)"
    )
    parser.add_argument(
        "--arms", nargs="+", help="run only the arms whose name has one of these"
    )
    args = harness.parse_args(parser, argv, JOBS)  # a child runs its job here
    mode_name, mode = harness.select_mode(MODES, args, ("repeats",))
    cache = tempfile.TemporaryDirectory(prefix="skpairauc-sparse-cache-")
    if mode["in_process"]:
        os.environ["SKPAIRAUC_CACHE_DIR"] = cache.name
    start = harness.start_run()
    runner = harness.JobRunner(
        __file__, JOBS, in_process=mode["in_process"], timeout=mode["timeout"]
    )
    tfidf = run_tfidf(mode, runner, args.repeats, args.arms)
    onehot = run_onehot(mode, runner, args.arms)
    floor_rows = floors(tfidf, onehot)
    if mode["in_process"]:  # smoke sizes: the floors are not the floors' sizes
        for row in floor_rows:
            row["passed"] = f"n/a (quick; {row['passed']})"
    elapsed = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    _report.write_csv(tfidf, args.out / "sparse_tfidf.csv", TFIDF_COLUMNS)
    _report.write_csv(onehot, args.out / "sparse_onehot.csv", ONEHOT_COLUMNS)
    _report.write_csv(floor_rows, args.out / "sparse_floors.csv", FLOOR_COLUMNS)
    lines = report_lines(tfidf, onehot, floor_rows, mode_name, mode, args)
    _report.write_report(args.out / "sparse.md", lines, mode_name, elapsed)
    print(_report.text_table(tfidf, TFIDF_COLUMNS[:7]))
    print(_report.text_table(onehot, ONEHOT_COLUMNS[:5]))
    print(_report.text_table(floor_rows, ["floor_id", "floor", "measured", "passed"]))
    print(f"\nwrote {args.out / 'sparse.md'}, sparse_{{tfidf,onehot,floors}}.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
