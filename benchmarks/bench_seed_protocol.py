"""Pairwise vs cross-entropy training of the same net: the source experiment.

The source trained a feed-forward net with dropout on CIFAR-10 (airplane vs
rest, positives subsampled to 5% of the training set, 5 seeds) and reported a
test ROC AUC of 86 +- 1.3% with a pairwise loss vs 72.2 +- 7.2% with
cross-entropy. This script re-creates that protocol:

* one MLP with dropout, one optimiser (Adam), one batch budget (samples per
  step) and one number of steps for the two main arms; only the loss differs;
* every seed draws a new positive subsample and a new initialisation;
* the test set keeps its natural class balance; we report mean +- std
  (sample standard deviation, ``ddof=1``) of the test ROC AUC over the seeds.

Arms (the first four share the JAX training loop below):

``pairwise``
    Each step draws ``n_pos_per_batch`` positives and ``n_neg_per_batch``
    negatives (with replacement) and averages the logistic pairwise loss
    ``log(1 + exp(-(s+ - s-)))`` over all cross pairs.
``ce_same_batches``
    The same batches, pointwise sigmoid cross-entropy: only the loss differs.
``ce_uniform``
    Sigmoid cross-entropy on uniform random batches of the same size, the
    way a net is usually trained (and, presumably, the source's CE arm).
``ce_balanced``
    As ``ce_uniform`` with class weights ``n / (2 n_c)`` ("balanced").
``skpairauc``
    The public ``PairwiseAUCClassifier`` with the same architecture, dropout,
    learning rate, batch composition and (about) the same number of steps.
``logreg_balanced``
    ``LogisticRegression(class_weight="balanced")`` on standardised inputs.

Data: CIFAR-10 from its python batches when ``--cifar10 DIR`` is given;
otherwise (no download possible here) MNIST-1D generated locally at 5,000 and
50,000 samples (class 0 vs rest) and scikit-learn's digits (0 vs rest).

Examples
--------
Smoke run (seconds)::

    python benchmarks/bench_seed_protocol.py --quick --out /tmp/seed

Full run (results committed under benchmarks/results/)::

    python benchmarks/bench_seed_protocol.py
"""

from __future__ import annotations

import functools
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402
import _harness as harness  # noqa: E402
import _report  # noqa: E402
from _seed_arms import ALL_ARMS, FITTERS  # noqa: E402

SOURCE_RESULT = "source (CIFAR-10): pairwise 86 +- 1.3 %, cross-entropy 72.2 +- 7.2 %"
# Quick: seconds, to prove the script works (a small net, one small data set).
MODES = {
    "quick": {
        "seeds": 2,
        "steps": 40,
        "hidden_layer_sizes": (32,),
        "n_pos_per_batch": 32,
        "n_neg_per_batch": 96,
        "mnist_sizes": (1000,),
        "digits": False,
    },
    "full": {
        "seeds": 5,
        "steps": 2000,
        "hidden_layer_sizes": (256, 128),
        "n_pos_per_batch": 128,
        "n_neg_per_batch": 384,
        "mnist_sizes": (5000, 50000),
        "digits": True,
    },
}


# ---------------------------------------------------------------------------
# Data sets
# ---------------------------------------------------------------------------


def dataset_specs(args, mode):
    """``name -> (loader returning X_train, y_train, X_test, y_test, config)``."""
    base = {
        "hidden_layer_sizes": mode["hidden_layer_sizes"],
        "dropout": 0.2,
        "learning_rate": 1e-3,
        "n_pos_per_batch": mode["n_pos_per_batch"],
        "n_neg_per_batch": mode["n_neg_per_batch"],
        "n_steps": args.steps,
    }
    specs = {}
    if args.cifar10:
        specs["cifar10-airplane"] = (
            lambda: _data.load_cifar10_binary(args.cifar10),
            base,
        )
    for n in mode["mnist_sizes"]:
        specs[f"mnist1d-{n}"] = (
            functools.partial(_data.make_mnist1d_binary, n_samples=n),
            base,
        )

    def digits():
        from sklearn.model_selection import train_test_split

        X, y = _data.load_digits_binary()
        # One fixed split; the seeds vary the positive subsample and the init.
        return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)

    if mode["digits"]:
        specs["digits"] = (lambda: _reorder_split(digits()), base)
    if args.datasets:
        unknown = set(args.datasets) - set(specs)
        if unknown:
            raise ValueError(f"unknown data sets {sorted(unknown)}; have {list(specs)}")
        specs = {name: specs[name] for name in args.datasets}
    return specs


def _reorder_split(split):
    X_train, X_test, y_train, y_test = split
    return X_train, y_train, X_test, y_test


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------


def run(args, mode):
    """Run every (data set, seed, arm); return (rows, seed-0 ROC scores)."""
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import StandardScaler

    skpairauc_status = harness.peer_status("skpairauc")
    rows, roc_scores = [], {}
    for name, (load, config) in dataset_specs(args, mode).items():
        X_train_all, y_train_all, X_test, y_test = load()
        for seed in range(args.seeds):
            rng = np.random.default_rng(seed)
            keep = _data.subsample_positives(y_train_all, args.positive_fraction, rng)
            scaler = StandardScaler().fit(X_train_all[keep])
            X_train = scaler.transform(X_train_all[keep]).astype(np.float32)
            y_train = y_train_all[keep]
            X_eval = scaler.transform(X_test).astype(np.float32)
            for arm in args.arms:
                row = {
                    "dataset": name,
                    "arm": arm,
                    "seed": seed,
                    **_report.class_counts(y_train, "train"),
                    **_report.class_counts(y_test, "test"),
                    "hidden_layer_sizes": "x".join(
                        map(str, config["hidden_layer_sizes"])
                    ),
                    "batch": f"{config['n_pos_per_batch']}+{config['n_neg_per_batch']}",
                }
                if arm == "skpairauc" and skpairauc_status:
                    rows.append({**row, "status": skpairauc_status})
                    continue
                start = time.perf_counter()
                try:
                    score, n_steps = FITTERS[arm](X_train, y_train, config, seed)
                    fit_time = time.perf_counter() - start
                    scores = np.asarray(score(X_eval), np.float64).ravel()
                    auc = roc_auc_score(y_test, scores)
                except Exception as exc:  # record the failure, keep going
                    rows.append({**row, "status": f"failed: {exc!r}"[:300]})
                    print(f"{name} seed={seed} {arm}: FAILED {exc!r}")
                    continue
                rows.append(
                    {
                        **row,
                        "steps": n_steps,
                        "auc": auc,
                        "fit_time_s": fit_time,
                        "status": "ok",
                    }
                )
                if seed == 0:
                    roc_scores[(name, arm)] = (y_test, scores)
                print(
                    f"{name:18s} seed={seed} {arm:16s} AUC={auc:.4f} "
                    f"fit={fit_time:6.2f}s steps={n_steps}",
                    flush=True,
                )
    return rows, roc_scores


def summarise(frame):
    """Mean +- std (ddof=1) of the test AUC per data set and arm."""
    return _report.auc_summary(
        frame,
        ["dataset", "arm"],
        n_seeds=("auc", "size"),
        fit_time_s=("fit_time_s", "median"),
        steps=("steps", "median"),
    )


def plot(summary, roc_scores, out, prefix):
    """AUC bars with error bars, and seed-0 ROC curves per data set."""
    from sklearn.metrics import roc_curve

    plt = _report.pyplot()

    datasets = list(dict.fromkeys(summary["dataset"]))
    fig, axes = plt.subplots(
        1, len(datasets), figsize=(4.2 * len(datasets), 3.8), squeeze=False
    )
    for ax, name in zip(axes[0], datasets):
        part = summary[summary["dataset"] == name]
        ax.bar(
            range(len(part)),
            part["auc_mean"],
            yerr=part["auc_std"].fillna(0.0),
            capsize=4,
            color="tab:blue",
        )
        ax.set_xticks(range(len(part)), part["arm"], rotation=45, ha="right")
        low = max(0.0, float((part["auc_mean"] - part["auc_std"].fillna(0)).min()))
        ax.set_ylim(max(0.0, low - 0.05), 1.0)
        ax.set_title(name)
        ax.set_ylabel("test ROC AUC (mean +- std over seeds)")
    _report.save_figure(fig, out / f"{prefix}_auc.png")

    fig, axes = plt.subplots(
        1, len(datasets), figsize=(4.2 * len(datasets), 4.0), squeeze=False
    )
    for ax, name in zip(axes[0], datasets):
        for (dataset, arm), (y_true, scores) in roc_scores.items():
            if dataset != name:
                continue
            fpr, tpr, _ = roc_curve(y_true, scores)
            ax.plot(fpr, tpr, label=arm, lw=1.2)
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
        ax.set_title(f"{name}, seed 0")
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.legend(fontsize=7, loc="lower right")
    _report.save_figure(fig, out / f"{prefix}_roc.png")


def report_lines(summary, frame, args, mode, prefix):
    """The Markdown summary: protocol and table."""
    specs = dataset_specs(args, mode)
    config = next(iter(specs.values()))[1]
    failures = frame[frame["status"] != "ok"][["dataset", "arm", "seed", "status"]]
    lines = [
        "# Seed protocol: pairwise vs cross-entropy on the same net",
        "",
        _report.command_line("bench_seed_protocol.py", args.argv),
        "",
        "## Protocol",
        "",
        f"- {args.seeds} seeds; seed `k` draws the positive subsample (positives "
        f"kept so they are {args.positive_fraction:.0%} of the training set, all "
        "negatives kept), the initialisation (shared by the four JAX arms), the "
        "batches and the dropout masks. Test sets keep their natural balance.",
        f"- Net: MLP {config['hidden_layer_sizes']}, ReLU, dropout "
        f"{config['dropout']} on hidden units, Glorot-uniform init; Adam, "
        f"learning rate {config['learning_rate']}; {config['n_steps']} steps of "
        f"{config['n_pos_per_batch'] + config['n_neg_per_batch']} samples for "
        "every arm. Inputs standardised on the training subsample.",
        f"- `pairwise`: {config['n_pos_per_batch']} positives + "
        f"{config['n_neg_per_batch']} negatives per step (with replacement), "
        "logistic loss averaged over all cross pairs. `ce_same_batches`: the "
        "same batches, sigmoid cross-entropy. `ce_uniform`: cross-entropy on "
        "uniform random batches of the same size. `ce_balanced`: as "
        "`ce_uniform`, class weights n / (2 n_c).",
        "- `skpairauc`: `PairwiseAUCClassifier(hidden_layer_sizes=...,"
        " solver='adam', dropout=..., learning_rate_init=..., n_pos_per_batch=...,"
        " n_neg_per_batch=..., max_iter=<epochs giving about the same steps>,"
        " tol=0, early_stopping=False, random_state=seed)`, other parameters "
        f"default (alpha={_report.skpairauc_default('alpha')}, no L2 in the JAX arms); "
        "the `steps` column is its `t_`.",
        "- `logreg_balanced`: `LogisticRegression(class_weight='balanced', "
        "max_iter=1000)`.",
        "- Data: MNIST-1D generated locally with `mnist1d.data.make_dataset` "
        "(canonical arguments, seed 42; 80/20 split), class 0 vs rest; digits "
        "0 vs rest with one fixed stratified 70/30 split. CIFAR-10 only when "
        "`--cifar10 DIR` is given (not available on this machine: no download).",
        "- Fit time: median over seeds of the wall-clock training time (seed 0 "
        "also pays the JAX compilation of the arm's loop).",
        f"- Reported: test ROC AUC, mean +- std (ddof=1) over seeds. "
        f"For reference, the {SOURCE_RESULT}.",
        "",
        "## Results",
        "",
        "| data set | arm | test ROC AUC | median fit time (s) | steps | seeds |",
        "|---|---|---|---|---|---|",
    ]
    for row in summary.itertuples():
        lines.append(
            f"| {row.dataset} | {row.arm} | {row.auc_mean:.4f} +- "
            f"{0.0 if np.isnan(row.auc_std) else row.auc_std:.4f} | "
            f"{row.fit_time_s:.2f} | {row.steps:.0f} | {row.n_seeds} |"
        )
    if len(failures):
        lines += ["", "## Arms that did not run", ""]
        for row in failures.itertuples():
            lines.append(f"- {row.dataset}, {row.arm}, seed {row.seed}: {row.status}")
    lines += [
        "",
        f"Plots: `{prefix}_auc.png` (mean +- std), `{prefix}_roc.png` (seed 0).",
        f"Per-seed rows: `{prefix}.csv`; summary: `{prefix}_summary.csv`.",
        "",
    ]
    return lines


def main(argv=None):
    """Command-line entry point."""
    parser = harness.bench_parser(__doc__.split("\n")[0], "seed_protocol*.{csv,md,png}")
    parser.add_argument("--seeds", type=int, default=None, help="default 5 (2 quick)")
    parser.add_argument(
        "--steps", type=int, default=None, help="steps per arm (default 2000; 40 quick)"
    )
    parser.add_argument("--positive-fraction", type=float, default=0.05)
    parser.add_argument(
        "--cifar10", type=Path, default=None, help="cifar-10-batches-py directory"
    )
    parser.add_argument(
        "--arms", nargs="+", default=list(ALL_ARMS), choices=list(ALL_ARMS)
    )
    parser.add_argument(
        "--datasets", nargs="+", default=None, help="subset of the data sets"
    )
    parser.add_argument("--prefix", default="seed_protocol")
    args = harness.parse_args(parser, argv)
    mode_name, mode = harness.select_mode(MODES, args, ("seeds", "steps"))
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

    import pandas as pd

    args.out.mkdir(parents=True, exist_ok=True)
    start = harness.start_run()
    rows, roc_scores = run(args, mode)
    wall_time = time.perf_counter() - start
    frame = _report.results_frame(rows, ("auc", "fit_time_s", "steps"))
    summary = summarise(frame)
    frame.to_csv(args.out / f"{args.prefix}.csv", index=False)
    summary.to_csv(args.out / f"{args.prefix}_summary.csv", index=False)
    lines = report_lines(summary, frame, args, mode, args.prefix)
    path = args.out / f"{args.prefix}.md"
    _report.write_report(path, lines, mode_name, wall_time)
    plot(summary, roc_scores, args.out, args.prefix)
    with pd.option_context("display.width", 120, "display.max_rows", 200):
        print(summary.to_string(index=False, float_format="%.4f"))
    return frame


if __name__ == "__main__":
    main()
