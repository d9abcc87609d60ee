"""The default's fit time against gradient boosting at every table size (issue 23).

* **Tables.** Dense: ``make_classification(n_samples=round(1.25 * n),
  n_features=d, n_informative=8, weights=[0.95], random_state=0)``, the
  first n rows train, the rest test; n in 500 ... 300,000, d in {20, 100}.
  One-hot: ``_sparse_data.onehot_table()`` (20,000 rows, a 300-level column
  and 5 numeric ones, 2% positives, seed 0), one stratified 80/20 split
  (n = 16,000 training rows, d = 6 raw columns).
* **Models.** ``default``: ``PairwiseAUCClassifier(random_state=0)`` on the
  raw table; ``hgb``: ``HistGradientBoostingClassifier(random_state=0)`` on
  the raw table; ``lr``: ``LogisticRegression(class_weight="balanced",
  max_iter=1000)`` and ``mlp``: ``MLPClassifier(random_state=0,
  early_stopping=True)``, each after a ``StandardScaler``. On the one-hot
  table every model but ``hgb`` gets ``_sparse_data.onehot_pipeline``
  (sparse one-hot + ``StandardScaler``); ``hgb`` gets what scikit-learn's
  guide recommends, its native categorical support: the column through
  ``OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=nan,
  max_categories=255)`` (it refuses more than 255 levels; the rarest levels
  share one code), numeric columns as they are, ``categorical_features=[0]``.
* **Protocol.** One run per model and point, each in a fresh child process
  (default threads, or ``--one-core``: pinned to one CPU with one thread;
  skpairauc with an empty compile cache of its own; ``load_1min``: the
  machine's load average when the fit started). The
  child builds the model (its library imported) and the data, then times
  ``fit`` (the pipeline's, encoding included): ``time_s``. The default's
  first fit is what a user waits for (JAX, if it is used, is imported and
  the programs compiled inside it); ``warm_time_s`` is a second, fresh
  default fitted after it in the same child. Test ROC AUC from
  ``decision_function`` (``predict_proba[:, 1]`` for the MLP). A child
  killed after ``--fit-timeout`` seconds plus its set-up is ``timeout``; a
  model that timed out, or whose fit took longer than ``--fit-timeout``, is
  ``skipped`` at the larger n of the same d.
* **Floors.** (1) The default's first fit <= 2x HGB's at every point (the
  warm ratio is shown too). (2) No cliff: the default's first fit at n <=
  1.5x its first fit at the next larger n (per d). (3) With ``--baseline``
  (a ``cost.csv`` of an earlier run): the default's test AUC >= the
  baseline's - 0.005 at every point.

Run: ``python benchmarks/bench_cost.py --label NAME [--baseline
benchmarks/results/cost_before.csv]`` (30-60 minutes on 2 shared cores);
smoke run ``--quick --out DIR`` (n in {500, 1000}, d = 20, no one-hot).
Writes ``cost.csv``, ``cost.md`` and ``cost_time.png`` into ``--out``.
"""

from __future__ import annotations

import argparse
import csv
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as harness  # noqa: E402
import _report  # noqa: E402
from _cost_jobs import JOBS, MODELS, ONEHOT_D, ONEHOT_ROWS  # noqa: E402
from _report import fmt  # noqa: E402

CHILD_SETUP_S = 120.0  # a child's data generation and imports, on top of a fit
TIME_RATIO_MAX, CLIFF_MAX, AUC_DROP_MAX = 2.0, 1.5, 0.005
COLUMNS = [
    "label", "table", "n", "d", "model", "status", "time_s", "warm_time_s", "auc",
    "chosen", "n_iter", "warnings", "load_1min",
]  # fmt: skip
MODES = {
    "quick": {"sizes": [500, 1_000], "dims": [20], "onehot": False,
              "fit_timeout": 120.0},
    "full": {"sizes": [500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000,
                       300_000], "dims": [20, 100], "onehot": True,
             "fit_timeout": 300.0},
}  # fmt: skip


def points(args) -> list[tuple[str, int, int]]:
    """``(table, n, d)`` in sweep order: each d by increasing n, then one-hot."""
    out = [("dense", n, d) for d in args.dims for n in sorted(args.sizes)]
    return out + ([("onehot", round(0.8 * ONEHOT_ROWS), ONEHOT_D)] * args.onehot)


def run_point(table, n, d, model, args, stop: dict) -> dict:
    """One model at one point, in a fresh child (or skipped: see ``stop``)."""
    row = {"label": args.label, "table": table, "n": n, "d": d, "model": model}
    if (table, d, model) in stop:
        return {**row, "status": f"skipped ({stop[table, d, model]})"}
    deadline = args.fit_timeout + CHILD_SETUP_S
    spec = {"job": "fit", "table": table, "n": n, "d": d, "model": model,
            "deadline_s": deadline}  # fmt: skip
    cache = tempfile.mkdtemp(prefix="skpairauc-cost-cache-")
    try:
        result = harness.run_child(
            __file__, spec, one_core=args.one_core, timeout=deadline,
            env_extra={"SKPAIRAUC_CACHE_DIR": cache},
        )  # fmt: skip
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    error = result.pop("error", None)
    if error and error.startswith("timed out"):
        stop[table, d, model] = f"timed out at n={n:,}"
        return {**row, "status": f"timeout (> {deadline:.0f} s with set-up)"}
    if error:
        lines = [line for line in error.strip().splitlines() if line.strip()]
        return {**row, "status": "error: " + (lines[-1] if lines else "?")[:200]}
    if result["time_s"] > args.fit_timeout:
        stop[table, d, model] = f"fit over {args.fit_timeout:.0f} s at n={n:,}"
    return {**row, "status": "ok", **result}


def sweep(args, csv_path: Path) -> list[dict]:
    """Every model at every point; the CSV is rewritten after each point."""
    rows, stop = [], {}
    for table, n, d in points(args):
        for model in args.models:
            row = run_point(table, n, d, model, args, stop)
            rows.append(row)
            warm = fmt(row.get("warm_time_s"))
            print(
                f"  {table} n={n:>7,} d={d:>3} {model:<8} {row['status'][:40]:<8} "
                f"fit {fmt(row.get('time_s'))} s (warm {warm or '-'})  "
                f"AUC {fmt(row.get('auc'), 4)}  {row.get('chosen', '')}",
                flush=True,
            )
        _report.write_csv(rows, csv_path, COLUMNS)
    return rows


def value(rows, table, n, d, model, key):
    """``key`` of a model's row at a point that ran, else None."""
    for row in rows:
        if (row["table"], row["n"], row["d"], row["model"]) == (table, n, d, model):
            ok = row["status"] == "ok" and row.get(key) not in (None, "")
            return float(row[key]) if ok else None
    return None


def ratio(a, b):
    return a / b if a is not None and b else None


def verdict(measured, limit, higher_is_better=False) -> str:
    if measured is None or not math.isfinite(measured):
        return "not measured"
    ok = measured >= limit if higher_is_better else measured <= limit
    return "PASS" if ok else "FAIL"


def read_baseline(path: Path) -> dict:
    """``(table, n, d) -> (auc, time_s)`` of the default in an earlier ``cost.csv``."""
    with open(path, newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["model"] == "default"]
    return {
        (r["table"], int(r["n"]), int(r["d"])): (float(r["auc"]), float(r["time_s"]))
        for r in rows
        if r["status"] == "ok"
    }


def floors(rows, args) -> dict[str, list[dict]]:
    """The three floors' rows, per point (or per pair of sizes)."""
    pts = points(args)
    time_rows, cliff_rows, auc_rows = [], [], []
    for table, n, d in pts:
        get = lambda m, k: value(rows, table, n, d, m, k)  # noqa: E731
        first = ratio(get("default", "time_s"), get("hgb", "time_s"))
        warm = ratio(get("default", "warm_time_s"), get("hgb", "time_s"))
        time_rows.append({
            "table": table, "n": n, "d": d, "default_s": get("default", "time_s"),
            "default_warm_s": get("default", "warm_time_s"),
            "hgb_s": get("hgb", "time_s"), "ratio": first, "warm_ratio": warm,
            "passed": verdict(first, TIME_RATIO_MAX),
            "passed_warm": verdict(warm, TIME_RATIO_MAX),
        })  # fmt: skip
    for d in args.dims:
        sizes = sorted(args.sizes)
        for small, large in zip(sizes, sizes[1:]):
            times = [value(rows, "dense", m, d, "default", "time_s")
                     for m in (small, large)]  # fmt: skip
            warm = [value(rows, "dense", m, d, "default", "warm_time_s")
                    for m in (small, large)]  # fmt: skip
            cliff = ratio(*times)
            cliff_rows.append({
                "d": d, "n": small, "next_n": large, "time_s": times[0],
                "next_time_s": times[1], "ratio": cliff,
                "warm_ratio": ratio(*warm), "passed": verdict(cliff, CLIFF_MAX),
            })  # fmt: skip
    baseline = read_baseline(args.baseline) if args.baseline else {}
    for table, n, d in pts if args.baseline else ():
        auc = value(rows, table, n, d, "default", "auc")
        base_auc, base_s = baseline.get((table, n, d), (None, None))
        diff = auc - base_auc if auc is not None and base_auc is not None else None
        auc_rows.append({
            "table": table, "n": n, "d": d, "auc": fmt(auc, 4),
            "baseline_auc": fmt(base_auc, 4),
            "difference": "" if diff is None else f"{diff:+.4f}",
            "time_s": value(rows, table, n, d, "default", "time_s"),
            "baseline_time_s": base_s,
            "passed": verdict(diff, -AUC_DROP_MAX, higher_is_better=True),
        })  # fmt: skip
    if args.quick:  # smoke sizes: the floors are not the floors' sizes
        for part in (time_rows, cliff_rows, auc_rows):
            for row in part:
                for key in ("passed", "passed_warm"):
                    if key in row:
                        row[key] = f"n/a (quick; {row[key]})"
    return {"time": time_rows, "cliff": cliff_rows, "auc": auc_rows}


def tally(part: list[dict]) -> str:
    """``"k of m PASS"`` of a floor's rows (quick runs: their would-be verdicts)."""
    passed = sum("PASS" in row["passed"] for row in part)
    return f"{passed} of {len(part)} PASS"


def cell(rows, table, n, d, model, key, digits=3) -> str:
    """A table cell: the value, or the row's status when it did not run."""
    for row in rows:
        if (row["table"], row["n"], row["d"], row["model"]) == (table, n, d, model):
            if row["status"] != "ok":
                return row["status"].split(" (")[0]
            return fmt(row.get(key), digits) if row.get(key) is not None else ""
    return ""


def results_table(rows, table, d, sizes, models) -> str:
    """One table of a d: fit seconds and test AUC per model, per n."""
    lines = []
    for n in sizes:
        line = {"n": n}
        for model in models:
            line[f"{model} s"] = cell(rows, table, n, d, model, "time_s")
            if model == "default":
                line["default warm s"] = cell(rows, table, n, d, model, "warm_time_s")
        for model in models:
            line[f"{model} AUC"] = cell(rows, table, n, d, model, "auc", 4)
        line["default chosen"] = cell(rows, table, n, d, "default", "chosen")
        line["default n_iter"] = cell(rows, table, n, d, "default", "n_iter")
        lines.append(line)
    return _report.markdown_table(lines, list(lines[0]))


def report_lines(rows, floor_rows, args, sources) -> list[str]:
    """The Markdown report (before the machine section)."""
    protocol = _report.docstring_protocol(__doc__)
    out = [
        "# The default's cost against gradient boosting (issue 23)\n",
        _report.command_line("bench_cost.py", args.argv) + "\n",
        f"Label: `{args.label}`. skpairauc imported by the children from: "
        f"{', '.join(sorted(sources)) or 'no default fit ran'}.\n",
        f"## Protocol\n\n{protocol}\n",
        f"This run: n in {', '.join(f'{n:,}' for n in sorted(args.sizes))}; d in "
        f"{', '.join(map(str, args.dims))}; one-hot table: {args.onehot}; models "
        f"{', '.join(args.models)}; fit timeout {args.fit_timeout:g} s; "
        f"{'each child on one pinned CPU' if args.one_core else 'default threads'}.\n",
        "Models: " + "; ".join(f"`{k}` = {MODELS[k]}" for k in args.models) + ".\n",
    ]
    for d in args.dims:
        out += [f"## Dense tables, d = {d} (fit seconds, test ROC AUC)\n",
                results_table(rows, "dense", d, sorted(args.sizes), args.models)
                + "\n"]  # fmt: skip
    if args.onehot:
        n = round(0.8 * ONEHOT_ROWS)
        onehot = results_table(rows, "onehot", ONEHOT_D, [n], args.models)
        out += [f"## One-hot table ({n:,} training rows)\n", onehot + "\n"]
    out.append("![fit time against n](cost_time.png)\n")
    table = _report.markdown_table
    time_rows, cliff_rows, auc_rows = (floor_rows[k] for k in ("time", "cliff", "auc"))
    out += [
        "## Floors\n",
        f"**(1) The default's first fit <= {TIME_RATIO_MAX:g}x HGB's:** "
        f"{tally(time_rows)} (warm fit: "
        f"{tally([{'passed': r['passed_warm']} for r in time_rows])}).\n",
        table(time_rows, list(time_rows[0])) + "\n" if time_rows else "",
        f"**(2) No cliff, the default's first fit at n <= {CLIFF_MAX:g}x its "
        f"first fit at the next n:** {tally(cliff_rows)}.\n",
        table(cliff_rows, list(cliff_rows[0])) + "\n" if cliff_rows else "",
    ]
    if args.baseline:
        out += [
            f"**(3) The default's test AUC >= the baseline's - {AUC_DROP_MAX:g}** "
            f"(baseline `{args.baseline}`): {tally(auc_rows)}.\n",
            table(auc_rows, list(auc_rows[0])) + "\n" if auc_rows else "",
        ]
    else:
        out.append("(3) AUC against a baseline: no `--baseline` given.\n")
    return out


def plot(rows, args, path: Path) -> None:
    """Log-log fit time against n, one panel per d, one line per model."""
    plt = _report.pyplot()
    fig, axes = plt.subplots(1, len(args.dims), figsize=(5.2 * len(args.dims), 4.2),
                             squeeze=False)  # fmt: skip
    sizes = sorted(args.sizes)
    for ax, d in zip(axes[0], args.dims):
        for k, model in enumerate(args.models):
            lines = [("time_s", "-", MODELS[model])]
            if model == "default":
                lines.append(("warm_time_s", "--", MODELS[model] + ", warm"))
            for key, style, name in lines:
                got = [(n, value(rows, "dense", n, d, model, key)) for n in sizes]
                got = [(n, t) for n, t in got if t is not None]
                if got:
                    ax.plot(*zip(*got), "o" + style, color=f"C{k}", label=name)
        ax.set(xscale="log", yscale="log", xlabel="training rows n",
               ylabel="fit seconds", title=f"d = {d} (5% positives)")  # fmt: skip
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    _report.save_figure(fig, path)


def main(argv=None) -> int:
    """Run the sweep, check the floors, write the results."""
    parser = harness.bench_parser(
        __doc__.splitlines()[0], "cost.csv, cost.md and cost_time.png"
    )
    parser.add_argument("--sizes", type=int, nargs="+", help="training rows n")
    parser.add_argument("--dims", type=int, nargs="+", help="feature counts d")
    parser.add_argument("--models", nargs="+", choices=list(MODELS),
                        default=list(MODELS), help="models to fit")  # fmt: skip
    parser.add_argument("--onehot", action=argparse.BooleanOptionalAction,
                        help="include the one-hot table")  # fmt: skip
    parser.add_argument("--fit-timeout", type=float, help="seconds per fit")
    parser.add_argument("--label", help="this run's name in the CSV (default: commit)")
    parser.add_argument("--baseline", type=Path, help="an earlier run's cost.csv")
    parser.add_argument("--one-core", action="store_true",
                        help="pin each child to one CPU, one thread")  # fmt: skip
    args = harness.parse_args(parser, argv, JOBS)  # a child runs its job here
    options = ("sizes", "dims", "onehot", "fit_timeout")
    mode_name, _ = harness.select_mode(MODES, args, options)
    start = harness.start_run()
    args.label = args.label or _report.git_revision()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = sweep(args, args.out / "cost.csv")
    floor_rows = floors(rows, args)
    elapsed = time.perf_counter() - start
    sources = {row["source"] for row in rows if row.get("source")}
    plot(rows, args, args.out / "cost_time.png")
    lines = report_lines(rows, floor_rows, args, sources)
    threads = "; each fit pinned to one of them" if args.one_core else ""
    _report.write_report(args.out / "cost.md", lines, mode_name, elapsed, None, threads)
    print(f"skpairauc imported by the children from: {', '.join(sorted(sources))}")
    print(_report.text_table(floor_rows["time"], list(floor_rows["time"][0])))
    print(f"\nwrote {args.out / 'cost.md'}, cost.csv, cost_time.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
