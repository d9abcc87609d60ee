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

Two more parts on the same machinery, written to ``scale_sparse.csv``,
``scale_streaming.csv`` and ``scale_sparse.md`` (arms and data in
``_scale_jobs``): **sparse**, TF-IDF-like CSR data (100,000 columns) at 1e4 to
2e5 rows, skpairauc linear against LogisticRegression (lbfgs, saga, liblinear)
and SGDClassifier; **streaming**, ``partial_fit`` over blocks of 10,000 rows of
the dense data, 3 passes, at 1e5 and 1e6 rows, skpairauc against
``SGDClassifier.partial_fit``.

Usage::

    python benchmarks/bench_scale.py            # full mode (about 20 minutes)
    python benchmarks/bench_scale.py --parts sparse streaming   # the new parts
    python benchmarks/bench_scale.py --quick    # smoke run (seconds)
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

from sklearn.exceptions import ConvergenceWarning

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as harness  # noqa: E402
import _report  # noqa: E402
from _data import POS_FRACTION  # noqa: E402
from _measure import lower_bound_seconds  # noqa: E402
from _report import fmt  # noqa: E402
from _scale_jobs import ARMS, EXTRA_ARMS, EXTRA_COLUMNS, JOBS, N_TEST  # noqa: E402

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
#: The columns of the terminal table: the CSV's less the work counts and notes.
SHOWN = [
    column
    for column in COLUMNS
    if column not in {"n_pos", "data_mb", "n_iter", "pairs_per_step", "pairs_total"}
    and column not in {"efficiency", "note"}
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
        "sparse_sizes": [2_000],
        "sparse_features": 2_000,
        "streaming_sizes": [3_000],
        "block_rows": 1_000,
    },
    "full": {
        "sizes": [1_000, 10_000, 100_000, 1_000_000],
        # One exact gradient over 1e8 pairs is ~0.3 s on one core; the 1e6-row
        # problem has 9.9e9 pairs per gradient (~30 s each), too long here.
        "exact_max_pairs": 2e8,
        "libauc_max_steps": 3_000,
        "in_process": False,
        "timeout": 900,
        "sparse_sizes": [10_000, 100_000, 200_000],
        "sparse_features": 100_000,
        "streaming_sizes": [100_000, 1_000_000],
        "block_rows": 10_000,
    },
}
PASSES = 3
PARTS = ("dense", "sparse", "streaming")


# =========================================================================== #
# Parent
# =========================================================================== #
def job_runner(mode: dict) -> harness.JobRunner:
    """Each job in a one-core child process, or in this process in quick mode."""
    return harness.JobRunner(
        __file__, JOBS, in_process=mode["in_process"], timeout=mode["timeout"]
    )


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


def run_size(n_samples: int, mode: dict, run, machine: dict, rows: list) -> None:
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
        result = run(spec, one_core=True)
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
    plt = _report.pyplot()
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
        _report.save_figure(fig, out / name, dpi=120)


def render(rows, machine, mode_name, out: Path, elapsed: float) -> str:
    """Write the CSV, Markdown and plots; return the terminal table."""
    _report.write_csv(rows, out / "scale.csv", COLUMNS)
    md = [
        "# Fit time and memory as the data grows (issue 3, section 3)",
        "",
        f"Mode: `{mode_name}`; run time {elapsed:.0f} s. Generated by "
        "`benchmarks/bench_scale.py`. Every fit in a fresh process pinned to one "
        "core, with an empty skpairauc compile cache of the run's own (so each "
        "configuration's first fit compiles, whatever earlier work left in the "
        "user's cache); synthetic data, 100 float32 features, 1% positives, "
        f"seed 0; test AUC on {N_TEST:,} held-out rows (seed 1).",
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
        _report.markdown_table(rows, COLUMNS),
        "",
        "![time](scale_time.png)",
        "",
        "![memory](scale_memory.png)",
        "",
    ]
    _report.write_report(out / "scale.md", md, mode_name, elapsed)
    plot(rows, out)
    return _report.text_table(rows, SHOWN)


def run_extra(part: str, mode: dict, run) -> list[dict]:
    """The sparse or streaming part: every arm at every size, a row each."""
    rows = []
    for n_samples in mode[f"{part}_sizes"]:
        for arm in EXTRA_ARMS[part]:
            spec = {"arm": arm, "n_samples": n_samples, "passes": PASSES}
            spec.update(n_features=mode["sparse_features"], job=f"{part}_fit")
            spec.update(
                block_rows=mode["block_rows"], reset_peak=not mode["in_process"]
            )
            result = run(spec, one_core=True)
            row = {**spec, **result}
            if "error" in result:
                row["status"], row["note"] = "error", result["error"][-300:]
            rows.append(row)
            print(
                f"  {part} n={n_samples:>9,}  {arm:<30} {row['status']:<6} fit "
                f"{fmt(row.get('fit_s', float('nan')))} s",
                flush=True,
            )
    return rows


def render_extra(extra: dict, mode_name: str, mode: dict, out: Path, elapsed) -> None:
    """Write the sparse and streaming parts that ran: CSV each, one Markdown."""
    notes = {
        "sparse": f"## Sparse: TF-IDF-like CSR\n\n`_sparse_data.tfidf_like`, "
        f"{mode['sparse_features']:,} columns, about 50 entries per row, 1% "
        f"positives, seed 0; {N_TEST:,} more rows held out (stratified). "
        "`csr_mb`: data + indices + indptr of the training matrix.",
        "streaming": "## Streaming: partial_fit over blocks\n\nThe dense arms' "
        f"data (100 float32 features, 1% positives; test: {N_TEST:,} rows of seed "
        f"1); blocks of {mode['block_rows']:,} rows in order, {PASSES} passes, "
        "`classes=[0, 1]` on every call; `fit_s`: all calls. SGDClassifier gets "
        "the balanced class weights of the first block (its `partial_fit` takes "
        'no `class_weight="balanced"`).',
    }
    md = [
        "# Sparse input and streaming (bench_scale.py's extra parts)",
        "",
        f"Run time {elapsed:.0f} s. Each fit in a fresh process pinned to one core "
        "(quick mode: this process), default settings (the peers: balanced class "
        "weights), a compile cache of the run's own, empty at first (`fit_s` "
        "includes compiling at a configuration's first size). `peak_extra_mb`: "
        "peak RSS of the fit (high-water mark reset just before) over the RSS "
        "just before it, the data built.",
        "",
    ]
    for part, rows in extra.items():
        md += [notes[part], "", _report.markdown_table(rows, EXTRA_COLUMNS[part]), ""]
        _report.write_csv(rows, out / f"scale_{part}.csv", EXTRA_COLUMNS[part])
    _report.write_report(out / "scale_sparse.md", md, mode_name, elapsed)


def main(argv=None) -> int:
    """Run every arm at every size and write the results."""
    parser = harness.bench_parser(
        __doc__.splitlines()[0], "scale.{csv,md} and the plots"
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", help="row counts (default: the mode's)"
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=PARTS,
        default=list(PARTS),
        help="what to run: the dense arms, the sparse ones, streaming (default: all)",
    )
    parser.add_argument(
        "--libauc-max-steps",
        type=int,
        help="steps LibAUC is timed on before extrapolating (default: the mode's)",
    )
    # Default settings on purpose: a fit that stops at max_iter is still timed.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    args = harness.parse_args(parser, argv, JOBS)  # a child runs its job here
    mode_name, mode = harness.select_mode(MODES, args)
    if args.sizes:
        mode["sizes"] = args.sizes
    if args.libauc_max_steps:
        mode["libauc_max_steps"] = args.libauc_max_steps
    # The children share an empty compile cache of this run's own: fit_s
    # includes the compile of each program's first use, and the user's cache
    # neither helps nor changes.
    cache = tempfile.TemporaryDirectory(prefix="skpairauc-scale-cache-")
    os.environ["SKPAIRAUC_CACHE_DIR"] = cache.name
    start = harness.start_run()
    run = job_runner(mode)
    if "dense" in args.parts:
        machine = run({"job": "machine"}, one_core=True)
        if "error" in machine:
            machine = {"matmul_gflops": float("nan"), "exp_per_s": float("nan")}
        rows = []
        for n_samples in mode["sizes"]:
            run_size(n_samples, mode, run, machine, rows)
        print(render(rows, machine, mode_name, args.out, time.perf_counter() - start))
        print(f"\nwrote {args.out / 'scale.csv'}, scale.md, and the plots")
    extra_start = time.perf_counter()
    extra = {p: run_extra(p, mode, run) for p in PARTS[1:] if p in args.parts}
    if extra:
        elapsed = time.perf_counter() - extra_start
        render_extra(extra, mode_name, mode, args.out, elapsed)
        for part, part_rows in extra.items():
            print(_report.text_table(part_rows, EXTRA_COLUMNS[part][3:]))
        print(f"\nwrote {', '.join(f'scale_{p}.csv' for p in extra)}, scale_sparse.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
