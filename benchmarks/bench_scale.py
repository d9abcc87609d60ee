"""Fit time and peak memory as the data grows (issue 3, section 3).

Synthetic data, 100 float32 features, 1% positives, ``n`` from 1e3 to 1e6
rows.  Arms, each fitted in its own fresh process pinned to one core
(``taskset -c 0``, single-threaded XLA, BLAS and torch):

* ``skpairauc`` linear and MLP(64), exact (``solver="lbfgs"``) and stochastic
  (``solver="adam"``), default settings otherwise;
* ``LogisticRegression(class_weight="balanced")`` and
  ``SGDClassifier(loss="log_loss", class_weight="balanced")``;
* LibAUC's ``PairwiseAUCLoss`` on the same MLP in PyTorch, at the same work as
  the skpairauc MLP's stochastic fit (same rows per step, same number of
  steps; timed on at most ``--libauc-max-steps`` steps and extrapolated
  linearly beyond, which the table says).

For each fit: whole time, JIT compile time (from JAX's compile events) and
steady-state time (the rest), peak memory over the process's baseline before
the data existed, ROC AUC on 20,000 held-out rows, and for the pairwise arms
the throughput in pairs per second next to the ceiling that this core's
measured matmul and ``exp`` rates allow for the same work.

Writes ``scale.csv``, ``scale.md``, ``scale_time.png`` and ``scale_memory.png``
into ``--out``.

Usage::

    python benchmarks/bench_scale.py            # full mode (about 15 minutes)
    python benchmarks/bench_scale.py --quick    # smoke run (seconds)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import (  # noqa: E402
    MB,
    N_NEG_PER_BATCH,
    N_POS_PER_BATCH,
    CompileClock,
    current_rss_mb,
    emit_result,
    exp_rate,
    flops_per_step,
    fmt,
    lower_bound_seconds,
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
HIDDEN = 64
SEED = 0
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
COLUMNS = [
    "n_samples",
    "n_pos",
    "arm",
    "status",
    "fit_s",
    "compile_s",
    "steady_s",
    "peak_extra_mb",
    "data_mb",
    "n_iter",
    "steps",
    "pairs_per_step",
    "pairs_total",
    "pairs_per_s",
    "ceiling_pairs_per_s",
    "efficiency",
    "test_auc",
    "note",
]
MODES = {
    "quick": {
        # Both sizes pad to the same 1,024-row bucket, so the stochastic arms
        # compile once; the exact arms run at the first size only.
        "sizes": [900, 1_000],
        "exact_max_pairs": 9_000,
        "libauc_max_steps": 40,
        "in_process": True,
        "timeout": 600,
    },
    "full": {
        "sizes": [1_000, 10_000, 100_000, 1_000_000],
        # One exact gradient over 1e8 pairs is ~0.3 s on one core; the 1e6-row
        # problem has 9.9e9 pairs per gradient (~30 s each), too long here.
        "exact_max_pairs": 2e8,
        "libauc_max_steps": 3_000,
        "in_process": False,
        "timeout": 900,
    },
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
        status = torch_status()
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


def child_main(spec_json: str) -> None:
    """Entry point of a child process: run one job, print its result line."""
    spec = json.loads(spec_json)
    try:
        result = JOBS[spec["job"]](spec)
    except Exception as exc:  # report, never hang the parent
        result = {"error": f"{type(exc).__name__}: {exc}"}
    emit_result(result)


# =========================================================================== #
# Parent
# =========================================================================== #
def run_job(spec: dict, mode: dict) -> dict:
    """Run a job in a one-core child process, or in-process in quick mode."""
    if mode["in_process"]:
        try:
            return JOBS[spec["job"]](spec)
        except Exception as exc:
            return {"error": f"{type(exc).__name__}: {exc}"}
    return run_child(__file__, spec, one_core=True, timeout=mode["timeout"])


def complete_row(row: dict, machine: dict) -> dict:
    """Add steady time, throughput and the machine ceiling to a result row."""
    fit_s, compile_s = row.get("fit_s"), row.get("compile_s")
    if fit_s is not None and compile_s is not None:
        row["steady_s"] = max(fit_s - compile_s, 1e-9)
    if row.get("pairs_total") and "steady_s" in row:
        row["pairs_per_s"] = row["pairs_total"] / row["steady_s"]
        bound = lower_bound_seconds(
            row["matmul_flops"],
            row["pairs_total"],
            machine["matmul_gflops"],
            machine["exp_per_s"],
        )
        row["ceiling_pairs_per_s"] = row["pairs_total"] / bound
        row["efficiency"] = bound / row["steady_s"]
    return row


def run_size(n_samples: int, mode: dict, machine: dict, rows: list) -> None:
    """Fit every arm at one size and append the rows."""
    n_pos = max(2, round(POS_FRACTION * n_samples))
    mlp_adam_steps = None
    for arm, (family, _, solver) in ARMS.items():
        base = {"n_samples": n_samples, "n_pos": n_pos, "arm": arm}
        pairs = float(n_pos) * (n_samples - n_pos)
        if family == "skpairauc" and solver == "lbfgs":
            if pairs > mode["exact_max_pairs"]:
                rows.append(
                    {
                        **base,
                        "status": "skipped",
                        "note": f"{pairs:.2g} pairs per exact gradient is above "
                        f"this run's limit of {mode['exact_max_pairs']:.2g}",
                    }
                )
                continue
        spec = {"job": "fit", "arm": arm, "n_samples": n_samples}
        if family == "libauc":
            if mlp_adam_steps is None:
                rows.append({**base, "status": "skipped", "note": "no MLP step count"})
                continue
            spec.update(steps=mlp_adam_steps, libauc_max_steps=mode["libauc_max_steps"])
        result = run_job(spec, mode)
        row = {**base, **result}
        if "error" in result:
            row["status"], row["note"] = "error", result["error"][-300:]
        elif "status" in result and result["status"] != "ok":
            row["note"] = result["status"]
            row["status"] = "not installed"
        if arm == "skpairauc mlp64 adam" and "steps" in result:
            mlp_adam_steps = result["steps"]
        rows.append(complete_row(row, machine))
        print(
            f"  n={n_samples:>9,}  {arm:<28} {row['status']:<8} "
            f"fit {fmt(row.get('fit_s', float('nan')))} s",
            flush=True,
        )


def summary_markdown(rows: list) -> str:
    """Growth of the whole-fit time from the smallest to the largest size."""
    lines = []
    by_arm = {}
    for row in rows:
        if row.get("status") == "ok" and row.get("fit_s"):
            by_arm.setdefault(row["arm"], []).append(row)
    for arm, arm_rows in by_arm.items():
        arm_rows.sort(key=lambda r: r["n_samples"])
        first, last = arm_rows[0], arm_rows[-1]
        if len(arm_rows) < 2:
            continue
        slope = math.log(last["steady_s"] / first["steady_s"]) / math.log(
            last["n_samples"] / first["n_samples"]
        )
        lines.append(
            f"- {arm}: {fmt(first['fit_s'])} s at {first['n_samples']:,} rows -> "
            f"{fmt(last['fit_s'])} s at {last['n_samples']:,} rows (steady-state "
            f"time grows as n^{slope:.2f}); peak extra memory "
            f"{fmt(last.get('peak_extra_mb', float('nan')))} MB at the largest size"
        )
    return "\n".join(lines)


def plot(rows: list, out: Path) -> None:
    """Time vs size and memory vs size, log-log, one line per arm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for key, ylabel, name in (
        ("fit_s", "whole fit time (s), compile included", "scale_time.png"),
        ("peak_extra_mb", "peak memory over baseline (MB)", "scale_memory.png"),
    ):
        fig, ax = plt.subplots(figsize=(7.5, 4.8))
        for arm in ARMS:
            points = sorted(
                (r["n_samples"], r[key])
                for r in rows
                if r["arm"] == arm and r.get("status") == "ok" and r.get(key)
            )
            if points:
                xs, ys = zip(*points)
                style = "--" if arm.startswith("LibAUC") else "-"
                ax.plot(xs, ys, style, marker="o", label=arm)
        if key == "fit_s":
            for arm in ("skpairauc linear adam", "skpairauc mlp64 adam"):
                points = sorted(
                    (r["n_samples"], r["compile_s"])
                    for r in rows
                    if r["arm"] == arm and r.get("status") == "ok"
                )
                if points:
                    xs, ys = zip(*points)
                    ax.plot(xs, ys, ":", color="grey", marker=".")
            ax.plot([], [], ":", color="grey", label="compile time (adam arms)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("rows (100 features, 1% positives)")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / name, dpi=120)
        plt.close(fig)


def render(rows, machine, info, mode_name, out: Path, elapsed: float) -> str:
    """Write the CSV, Markdown and plots; return the terminal table."""
    out.mkdir(parents=True, exist_ok=True)
    write_csv(rows, out / "scale.csv", COLUMNS)
    md = [
        "# Fit time and memory as the data grows (issue 3, section 3)",
        "",
        f"Mode: `{mode_name}`; run time {elapsed:.0f} s. Generated by "
        "`benchmarks/bench_scale.py`. Every fit in a fresh process pinned to one "
        "core; synthetic data, 100 float32 features, 1% positives, seed 0; test "
        f"AUC on {N_TEST:,} held-out rows (seed 1).",
        "",
        f"Ceilings of this core, measured in the same run: float32 matmul "
        f"{machine['matmul_gflops']:.0f} GFLOP/s, exp "
        f"{machine['exp_per_s'] / 1e9:.2f} G/s. `ceiling_pairs_per_s` is the "
        "pair rate those two rates allow for the same work (matmul FLOPs plus two "
        "transcendentals per pair); `efficiency` = ceiling time / steady time. "
        "For exact (L-BFGS) arms the pair count assumes one objective evaluation "
        "per iteration, so their pairs/s is a lower bound.",
        "",
        "## Summary",
        "",
        summary_markdown(rows),
        "",
        "## All fits",
        "",
        markdown_table(rows, COLUMNS),
        "",
        "![time](scale_time.png)",
        "",
        "![memory](scale_memory.png)",
        "",
        "## Machine",
        "",
        machine_markdown(info),
        "",
    ]
    (out / "scale.md").write_text("\n".join(md))
    plot(rows, out)
    shown = [
        "n_samples",
        "arm",
        "status",
        "fit_s",
        "compile_s",
        "steady_s",
        "peak_extra_mb",
        "steps",
        "pairs_per_s",
        "ceiling_pairs_per_s",
        "test_auc",
    ]
    return text_table(rows, shown)


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
        help="directory for scale.{csv,md} and the plots (default: %(default)s)",
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", help="row counts (default: the mode's)"
    )
    parser.add_argument(
        "--libauc-max-steps",
        type=int,
        help="steps LibAUC is timed on before extrapolating (default: the mode's)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Run every arm at every size and write the results."""
    args = parse_args(argv)
    # Default settings on purpose: a fit that stops at max_iter is still timed.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    if args.child:
        child_main(args.child)
        return 0
    mode_name = "quick" if args.quick else "full"
    mode = dict(MODES[mode_name])
    if args.sizes:
        mode["sizes"] = args.sizes
    if args.libauc_max_steps:
        mode["libauc_max_steps"] = args.libauc_max_steps
    start = time.perf_counter()
    machine = run_job({"job": "machine"}, mode)
    if "error" in machine:
        machine = {"matmul_gflops": float("nan"), "exp_per_s": float("nan")}
    rows = []
    for n_samples in mode["sizes"]:
        run_size(n_samples, mode, machine, rows)
    info = machine_info()
    print(render(rows, machine, info, mode_name, args.out, time.perf_counter() - start))
    print(
        f"\nwrote {args.out / 'scale.csv'}, scale.md, scale_time.png, scale_memory.png"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
