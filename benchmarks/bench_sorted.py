"""Sort-based all-pairs sums against the tiled all-pairs loop (issue 24's floors).

1. **Gradient time against n.** One value + gradient (both score vectors) of
   the squared hinge, margin 1, over all pairs: n rows, 1% positives,
   standard normal scores, positives +0.5, weights uniform on [0.5, 1.5]
   (seed 0; the same float32-rounded numbers for every method).
   ``tiled_jax``: ``jax.jit(jax.value_and_grad(_objective.all_pairs_loss_sum,
   argnums=(0, 1)))``, float32, lengths padded to ``_layout.bucket_length``;
   ``sorted_numpy``: ``_sorted.sorted_pair_sums`` (float64); ``sorted_jax``:
   the same sums in ``jax.numpy`` (argsort, cumsum, searchsorted), jitted,
   float64 (does JAX's sort on a CPU match NumPy's?). Compile excluded; one
   warm-up call (its outputs are compared), then the median of ``--repeats``
   calls, methods interleaved, default threads. A ``tiled_jax`` size
   predicted (padded n_pos x n_neg from the largest measured size) above
   ``--tiled-max-s`` is "extrapolated", not run. Agreement, where both ran:
   relative error of the total; largest gradient error over the largest
   gradient (float32 round-off: tolerance 1e-5). Floor: ``tiled_jax`` /
   ``sorted_numpy`` >= 20 at n = 1e6.
2. **Linear fit, 1e6 x 50.** ``make_classification(2_000_000, 50,
   n_informative=10, weights=[0.99], flip_y=0.01, random_state=0)`` (float64),
   first half train, second half test. ``PairwiseAUCClassifier((),
   loss="squared_hinge", solver="lbfgs", random_state=0)`` and
   ``LogisticRegression(class_weight="balanced")`` (default solver), also with
   its BLAS on one thread (skpairauc keeps NumPy's BLAS on one while it
   trains; a multi-threaded OpenBLAS can stall on a shared machine); in this
   process, alternately, the fastest of ``--fit-repeats`` fits each. Floors,
   against the faster LogisticRegression: fit time <= 3x; test ROC AUC >= its.
3. **Sample weights as repeated rows.** The same estimator, integer weights
   from {0, 1, 2, 3} (seed 0) against the training rows repeated. Floor:
   max |decision_function difference| on the test rows <= 1e-5 x the
   weighted fit's test-score standard deviation.

Run: ``python benchmarks/bench_sorted.py`` (about 5 minutes on 2 shared
cores); smoke run ``--quick --out DIR`` (n in {1e3, 3e3}, 20,000 rows,
``--tiled-max-s 0``: 3e3 is extrapolated). Writes ``sorted.md``,
``sorted.csv`` and ``sorted_gradient.png`` into ``--out``.
"""

import sys
import time
import warnings
from contextlib import nullcontext
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from skpairauc import PairwiseAUCClassifier
from skpairauc._layout import bucket_length
from skpairauc._objective import all_pairs_loss_sum, tile_shape
from skpairauc._sorted import sorted_pair_sums

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as harness  # noqa: E402
import _report  # noqa: E402
from _report import fmt  # noqa: E402
from _speed_common import FLOOR_COLUMNS, floor_row  # noqa: E402

SEED = 0
LOSS, MARGIN = "squared_hinge", 1.0
METHODS = {  # name: plot label
    "tiled_jax": "tiled all-pairs (JAX, compiled, float32)",
    "sorted_numpy": "sort-based (NumPy, float64)",
    "sorted_jax": "sort-based (jax.numpy, jitted, float64)",
}
AGREEMENT_TOL = 1e-5  # about 80 float32 epsilons
GRADIENT_COLUMNS = [
    "n", "n_pos", "n_neg", "tiled_jax_s", "sorted_numpy_s", "sorted_jax_s",
    "tiled/numpy", "jax/numpy", "total_rel_err", "grad_rel_err", "jax_vs_numpy_err",
]  # fmt: skip
FIT_COLUMNS = ["arm", "fit_s", "fit_s_all", "test_auc", "n_iter"]
SKPAIRAUC, LR = "PairwiseAUCClassifier", "LogisticRegression"
LR_ONE = "LogisticRegression, 1 BLAS thread"
MODES = {
    "quick": {"sizes": [1_000, 3_000], "repeats": 3, "tiled_max_s": 0.0,
              "fit_rows": 20_000, "fit_repeats": 1},
    "full": {"sizes": [10_000, 30_000, 100_000, 300_000, 1_000_000], "repeats": 5,
             "tiled_max_s": 60.0, "fit_rows": 2_000_000, "fit_repeats": 2},
}  # fmt: skip


def pair_data(n: int):
    """``s_pos, w_pos, s_neg, w_neg`` (float64 holding float32 values)."""
    rng = np.random.default_rng(SEED)
    n_pos = max(round(0.01 * n), 1)
    s, w = rng.standard_normal(n), rng.uniform(0.5, 1.5, n)
    s[:n_pos] += 0.5
    s, w = (x.astype(np.float32).astype(np.float64) for x in (s, w))
    return s[:n_pos], w[:n_pos], s[n_pos:], w[n_pos:]


def sorted_sums_jax(s_pos, w_pos, s_neg, w_neg):
    """``_sorted.sorted_pair_sums`` for the squared hinge, in ``jax.numpy``."""
    shift = (w_pos @ s_pos + w_neg @ s_neg) / (w_pos.sum() + w_neg.sum())
    a, b, zero = s_pos - MARGIN - shift, s_neg - shift, jnp.zeros(1, s_pos.dtype)
    order = jnp.argsort(b)
    b_sorted, v_sorted = b[order], w_neg[order]
    above = jnp.searchsorted(b_sorted, a, side="right")
    s0, s1, s2 = (
        jnp.concatenate([jnp.cumsum(x[::-1])[::-1], zero])[above]
        for x in (v_sorted, v_sorted * b_sorted, v_sorted * b_sorted**2)
    )
    order = jnp.argsort(a)
    a_sorted, w_sorted = a[order], w_pos[order]
    below = jnp.searchsorted(a_sorted, b, side="left")
    p0, p1 = (
        jnp.concatenate([zero, jnp.cumsum(x)])[below]
        for x in (w_sorted, w_sorted * a_sorted)
    )
    per_pos = jnp.maximum(s2 - 2.0 * a * s1 + a * a * s0, 0.0)
    return w_pos @ per_pos, -2.0 * w_pos * (s1 - a * s0), 2.0 * w_neg * (b * p0 - p1)


def tiled_total(s_pos, s_neg, w_pos, w_neg):
    """The tiled loop's all-pairs sum (lengths: multiples of its tiles)."""
    return all_pairs_loss_sum(s_pos, w_pos, s_neg, w_neg, LOSS, MARGIN)


def tiled_call(s_pos, w_pos, s_neg, w_neg):
    """The compiled tiled value and gradient, as a call."""
    lengths = bucket_length(len(s_pos)), bucket_length(len(s_neg))
    assert all(n % b == 0 for n, b in zip(lengths, tile_shape(*lengths)))
    args = []
    for x, length in zip((s_pos, s_neg, w_pos, w_neg), lengths * 2):
        args.append(np.zeros(length, np.float32))
        args[-1][: len(x)] = x
    args = [jnp.asarray(x) for x in args]
    grad = jax.value_and_grad(tiled_total, argnums=(0, 1))
    compiled = jax.jit(grad).lower(*args).compile()

    def call():
        total, (grad_pos, grad_neg) = jax.block_until_ready(compiled(*args))
        return total, grad_pos[: len(s_pos)], grad_neg[: len(s_neg)]

    return call


def sorted_jax_call(*data):
    """The compiled ``sorted_sums_jax`` on float64 arrays, as a call."""
    with jax.enable_x64(True):
        args = [jnp.asarray(x) for x in data]
        compiled = jax.jit(sorted_sums_jax).lower(*args).compile()

    def call():
        with jax.enable_x64(True):
            return jax.block_until_ready(compiled(*args))

    return call


def agreement(got, reference) -> tuple[float, float]:
    """Relative error of the total; largest gradient error over the largest
    gradient (both score vectors)."""
    got, ref = ([np.asarray(x, np.float64) for x in out] for out in (got, reference))
    error = max(np.max(np.abs(g - r)) for g, r in zip(got[1:], ref[1:]))
    scale = max(np.max(np.abs(r)) for r in ref[1:])
    return float(abs(got[0] - ref[0]) / abs(ref[0])), float(error / scale)


def gradient_times(sizes, repeats: int, tiled_max_s: float) -> list[dict]:
    """One row per size: each method's median time, the agreement."""
    rows, last = [], None  # last: (seconds, padded pairs) of the largest tiled run
    for n in sizes:
        data = pair_data(n)
        row = {"n": n, "n_pos": len(data[0]), "n_neg": len(data[2])}
        calls = {
            "sorted_numpy": lambda d=data: sorted_pair_sums(*d, LOSS, MARGIN),
            "sorted_jax": sorted_jax_call(*data),
        }
        pairs = float(bucket_length(row["n_pos"]) * bucket_length(row["n_neg"]))
        predicted = last[0] * pairs / last[1] if last else 0.0
        row["tiled_status"] = "extrapolated" if predicted > tiled_max_s else "measured"
        if row["tiled_status"] == "measured":
            calls = {"tiled_jax": tiled_call(*data), **calls}
        else:
            row["tiled_jax_s"] = predicted
        outputs = {name: call() for name, call in calls.items()}  # warm-up
        times = {name: [] for name in calls}
        for _ in range(repeats):
            for name, call in calls.items():
                start = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - start)
        for name, values in times.items():
            row[f"{name}_s"] = float(np.median(values))
            row[f"{name}_all"] = " ".join(f"{v:.4g}" for v in values)
        if "tiled_jax" in outputs:
            last = (row["tiled_jax_s"], pairs)
            errors = agreement(outputs["sorted_numpy"], outputs["tiled_jax"])
            row["total_rel_err"], row["grad_rel_err"] = errors
        errors = agreement(outputs["sorted_jax"], outputs["sorted_numpy"])
        row["jax_vs_numpy_err"] = max(errors)
        row["tiled/numpy"] = row["tiled_jax_s"] / row["sorted_numpy_s"]
        row["jax/numpy"] = row["sorted_jax_s"] / row["sorted_numpy_s"]
        rows.append(row)
        shown = ", ".join(f"{m} {fmt(row[f'{m}_s'])} s" for m in METHODS)
        print(f"  n={n:,} ({row['tiled_status']} tiled): {shown}", flush=True)
    return rows


def plot_gradient(rows: list[dict], path: Path) -> None:
    """Log-log gradient time against n; extrapolated points dashed and hollow."""
    plt = _report.pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    n = np.array([r["n"] for r in rows])
    for method, color in zip(METHODS, ("C3", "C0", "C2")):
        t = np.array([r[f"{method}_s"] for r in rows])
        extra = np.array([r["tiled_status"] != "measured" for r in rows])
        extra &= method == "tiled_jax"
        ax.plot(n[~extra], t[~extra], "o-", color=color, label=METHODS[method])
        if extra.any():  # dashed on from the last measured point
            keep = np.concatenate([np.flatnonzero(~extra)[-1:], np.flatnonzero(extra)])
            ax.plot(n[keep], t[keep], "--", color=color)
            ax.plot(n[extra], t[extra], "o", color=color, markerfacecolor="none",
                    label="tiled, extrapolated as n_pos x n_neg")  # fmt: skip
    ax.set(xscale="log", yscale="log", xlabel="rows n (1% positives)",
           ylabel="seconds per value + gradient",
           title=f"All-pairs {LOSS} loss and gradient, one CPU process")  # fmt: skip
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    _report.save_figure(fig, path)


def fit_data(n_rows: int):
    """``X_train, X_test, y_train, y_test``: the first and second halves."""
    X, y = make_classification(
        n_samples=n_rows, n_features=50, n_informative=10, weights=[0.99],
        flip_y=0.01, random_state=SEED,
    )  # fmt: skip
    half = n_rows // 2
    return X[:half], X[half:], y[:half], y[half:]


def fit_arm(arm: str, X, y, **fit_params):
    """``(seconds, fitted estimator)`` of one arm."""
    if arm == SKPAIRAUC:
        est = PairwiseAUCClassifier((), loss=LOSS, solver="lbfgs", random_state=SEED)
    else:
        est = LogisticRegression(class_weight="balanced")
    with threadpool_limits(1, user_api="blas") if arm == LR_ONE else nullcontext():
        start = time.perf_counter()
        est.fit(X, y, **fit_params)
        return time.perf_counter() - start, est


def fits(data, repeats: int) -> list[dict]:
    """Every arm, ``repeats`` fits each (alternating), the fastest kept."""
    X_train, X_test, y_train, y_test = data
    runs = {arm: [] for arm in (SKPAIRAUC, LR, LR_ONE)}
    for _ in range(repeats):
        for arm, done in runs.items():
            done.append(fit_arm(arm, X_train, y_train))
            print(f"  fit {arm:<34} {done[-1][0]:.2f} s", flush=True)
    rows = []
    for arm, done in runs.items():
        fit_s, est = min(done, key=lambda run: run[0])
        rows.append({
            "arm": arm, "fit_s": fit_s,
            "fit_s_all": " ".join(f"{s:.3g}" for s, _ in done),
            "test_auc": roc_auc_score(y_test, est.decision_function(X_test)),
            "n_iter": int(np.max(est.n_iter_)),
        })  # fmt: skip
    return rows


def weight_equivalence(data) -> dict:
    """Integer weights against the rows repeated: decision_function gap."""
    X_train, X_test, y_train, _ = data
    weights = np.random.default_rng(SEED).integers(0, 4, len(y_train))
    weighted_s, weighted = fit_arm(SKPAIRAUC, X_train, y_train, sample_weight=weights)
    X_rep, y_rep = np.repeat(X_train, weights, axis=0), np.repeat(y_train, weights)
    repeated_s, repeated = fit_arm(SKPAIRAUC, X_rep, y_rep)
    d_weighted = weighted.decision_function(X_test)
    gap = float(np.max(np.abs(d_weighted - repeated.decision_function(X_test))))
    return {
        "max_abs_diff": gap, "score_scale": float(np.std(d_weighted)),
        "rel_diff": gap / float(np.std(d_weighted)), "n_rows": len(y_train),
        "n_repeated_rows": len(y_rep), "fit_s_weighted": weighted_s,
        "fit_s_repeated": repeated_s, "n_iter_weighted": int(weighted.n_iter_),
        "n_iter_repeated": int(repeated.n_iter_),
    }  # fmt: skip


def floors(grad, fit_rows, weights, quick: bool) -> list[dict]:
    """Issue 24's floors and the agreement check (PASS/FAIL)."""
    top, fit = grad[-1], {row["arm"]: row for row in fit_rows}
    lr = min(fit[LR], fit[LR_ONE], key=lambda row: row["fit_s"])
    skp, checked = fit[SKPAIRAUC], [r for r in grad if "total_rel_err" in r]
    worst = max(max(r["total_rel_err"], r["grad_rel_err"]) for r in checked)
    out = [
        floor_row("gradient", f"tiled_jax / sorted_numpy at n = {top['n']:,} "
                  f"({LOSS}) >= 20x", 20.0, top["tiled/numpy"], "x", True,
                  f"tiled {fmt(top['tiled_jax_s'])} s ({top['tiled_status']}), "
                  f"NumPy {fmt(top['sorted_numpy_s'])} s"),
        floor_row("agreement", "sorted_numpy = tiled_jax to float32 round-off "
                  f"(worst relative error, n <= {checked[-1]['n']:,})",
                  AGREEMENT_TOL, worst, "relative", False),
        floor_row("fit-time", f"{SKPAIRAUC} fit <= 3x the faster {LR}'s", 3.0,
                  skp["fit_s"] / lr["fit_s"], "x LR", False,
                  f"{fmt(skp['fit_s'])} s vs {fmt(lr['fit_s'])} s ({lr['arm']})"),
        floor_row("fit-auc", f"its test ROC AUC >= {LR}'s", fit[LR]["test_auc"],
                  skp["test_auc"], "ROC AUC", True),
        floor_row("weights", "weights {0..3} vs repeated rows: largest absolute "
                  "decision difference / score std <= 1e-5", 1e-5, weights["rel_diff"],
                  "relative", False, f"max abs diff {weights['max_abs_diff']:.3g}"),
    ]  # fmt: skip
    if quick:  # smoke sizes: the floors are not the floors' sizes
        for row in out:
            row["passed"] = f"n/a (quick; {row['passed']})"
    return out


def csv_rows(grad, fit_rows, weights, floor_rows) -> tuple[list[dict], list[str]]:
    """Every section's rows in one table, a ``section`` column first; the
    columns are the union of the sections' fields (empty where a section has
    none)."""
    sections = {"gradient": grad, "fit": fit_rows, "weights": [weights]}
    rows = [{"section": name, **r} for name, part in sections.items() for r in part]
    rows += [{"section": "floor", **r} for r in floor_rows]
    return rows, list(dict.fromkeys(key for row in rows for key in row))


def report_lines(grad, fit_rows, weights, floor_rows, args) -> list[str]:
    """The Markdown report (before the machine section): the docstring's
    protocol, this run's settings, the tables."""
    protocol = _report.docstring_protocol(__doc__)
    mark = {"measured": "", "extrapolated": " (extrapolated)"}
    shown = [{**r, "tiled_jax_s": fmt(r["tiled_jax_s"]) + mark[r["tiled_status"]]}
             for r in grad]  # fmt: skip
    table = _report.markdown_table
    weight_rows = [{"measure": k, "value": v} for k, v in weights.items()]
    return [
        "# Sort-based all-pairs sums (issue 24)\n",
        _report.command_line("bench_sorted.py", args.argv) + "\n",
        f"## Protocol\n\n{protocol}\n",
        f"This run: n in {', '.join(f'{n:,}' for n in args.sizes)}; "
        f"{args.repeats} calls per timing; tiled sizes predicted above "
        f"{args.tiled_max_s:g} s extrapolated; {args.fit_rows:,} rows generated; "
        f"{args.fit_repeats} fit(s) per arm.\n",
        "## Gradient time against n (seconds)\n",
        table(shown, GRADIENT_COLUMNS) + "\n",
        "![gradient time against n](sorted_gradient.png)\n",
        f"## Linear fit, {weights['n_rows']:,} training rows x 50\n",
        table(fit_rows, FIT_COLUMNS) + "\n",
        "## Sample weights as repeated rows\n",
        table(weight_rows, ["measure", "value"]) + "\n",
        "## Floors\n",
        table(floor_rows, FLOOR_COLUMNS) + "\n",
    ]


def main(argv=None) -> int:
    """Measure the three sections, check the floors, write the results."""
    parser = harness.bench_parser(
        __doc__.splitlines()[0], "sorted.md, sorted.csv and sorted_gradient.png"
    )
    parser.add_argument("--sizes", type=int, nargs="+", help="gradient sizes n")
    parser.add_argument("--repeats", type=int, help="calls per gradient timing")
    parser.add_argument("--tiled-max-s", type=float, help="extrapolate above this")
    parser.add_argument("--fit-rows", type=int, help="rows generated (half train)")
    parser.add_argument("--fit-repeats", type=int, help="fits per arm")
    args = harness.parse_args(parser, argv)
    options = ("sizes", "repeats", "tiled_max_s", "fit_rows", "fit_repeats")
    mode_name, _ = harness.select_mode(MODES, args, options)
    warnings.filterwarnings("ignore", module="sklearn")
    start = harness.start_run()
    print("gradient time against n", flush=True)
    grad = gradient_times(args.sizes, args.repeats, args.tiled_max_s)
    print(f"fits on {args.fit_rows // 2:,} rows", flush=True)
    data = fit_data(args.fit_rows)
    fit_rows = fits(data, args.fit_repeats)
    weights = weight_equivalence(data)
    del data
    floor_rows = floors(grad, fit_rows, weights, mode_name == "quick")
    elapsed = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    rows, columns = csv_rows(grad, fit_rows, weights, floor_rows)
    _report.write_csv(rows, args.out / "sorted.csv", columns)
    plot_gradient(grad, args.out / "sorted_gradient.png")
    lines = report_lines(grad, fit_rows, weights, floor_rows, args)
    _report.write_report(args.out / "sorted.md", lines, mode_name, elapsed)
    print(_report.text_table(floor_rows, ["floor_id", "floor", "measured", "passed"]))
    print(f"\nwrote {args.out / 'sorted.md'}, sorted.csv, sorted_gradient.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
