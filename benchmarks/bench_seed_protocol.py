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

import argparse
import functools
import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"
JAX_ARMS = ("pairwise", "ce_same_batches", "ce_uniform", "ce_balanced")
ALL_ARMS = (*JAX_ARMS, "skpairauc", "logreg_balanced")
SOURCE_RESULT = "source (CIFAR-10): pairwise 86 +- 1.3 %, cross-entropy 72.2 +- 7.2 %"


# ---------------------------------------------------------------------------
# The shared JAX training loop
# ---------------------------------------------------------------------------


def init_mlp(key, n_features, hidden_layer_sizes):
    """Glorot-uniform MLP ``[(W, b), ...]`` with one output (with a bias)."""
    import jax
    import jax.numpy as jnp

    sizes = [n_features, *hidden_layer_sizes, 1]
    params = []
    for k, (fan_in, fan_out) in zip(
        jax.random.split(key, len(sizes) - 1), zip(sizes[:-1], sizes[1:])
    ):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        W = jax.random.uniform(k, (fan_in, fan_out), jnp.float32, -bound, bound)
        params.append((W, jnp.zeros((fan_out,), jnp.float32)))
    return params


def mlp_scores(params, X, dropout_rate=0.0, key=None):
    """ReLU MLP scores of shape ``(n,)``; inverted dropout on hidden units."""
    import jax
    import jax.numpy as jnp

    h = X
    for layer, (W, b) in enumerate(params[:-1]):
        h = jax.nn.relu(h @ W + b)
        if key is not None and dropout_rate > 0:
            keep = 1.0 - dropout_rate
            mask = jax.random.bernoulli(jax.random.fold_in(key, layer), keep, h.shape)
            h = jnp.where(mask, h / keep, 0.0)
    W, b = params[-1]
    return (h @ W + b)[:, 0]


@functools.cache
def _make_trainer(loss_kind, n_pos_per_batch, dropout_rate, learning_rate):
    """Build (once per configuration) the jitted loop over all steps.

    ``batch_index`` has shape ``(n_steps, batch_size)``; for the pairwise loss
    the first ``n_pos_per_batch`` columns are positives and the rest
    negatives. ``batch_weight`` holds per-sample CE weights (ignored by the
    pairwise loss).
    """
    import jax
    import jax.numpy as jnp
    import optax

    optimizer = optax.adam(learning_rate)

    def loss_fn(params, X_batch, y_batch, w_batch, key):
        s = mlp_scores(params, X_batch, dropout_rate, key)
        if loss_kind == "pairwise":
            diff = s[:n_pos_per_batch, None] - s[None, n_pos_per_batch:]
            # softplus(-d) = log(1 + exp(-d)), written stably by JAX.
            return jnp.mean(jax.nn.softplus(-diff))
        # Sigmoid cross-entropy from logits, stable form.
        ce = jax.nn.softplus(s) - y_batch * s
        return jnp.sum(w_batch * ce) / jnp.sum(w_batch)

    @jax.jit
    def train(params, X, y, batch_index, batch_weight, key):
        opt_state = optimizer.init(params)

        def step(carry, inputs):
            params, opt_state = carry
            index, weight, t = inputs
            grads = jax.grad(loss_fn)(
                params, X[index], y[index], weight, jax.random.fold_in(key, t)
            )
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), None

        steps = jnp.arange(batch_index.shape[0])
        (params, _), _ = jax.lax.scan(
            step, (params, opt_state), (batch_index, batch_weight, steps)
        )
        return params

    return train


def draw_batches(y, arm, n_steps, n_pos_per_batch, n_neg_per_batch, rng):
    """Per-step sample indices and CE weights for one arm (NumPy, reproducible)."""
    batch_size = n_pos_per_batch + n_neg_per_batch
    if arm in ("pairwise", "ce_same_batches"):
        pos = np.flatnonzero(y == 1)
        neg = np.flatnonzero(y == 0)
        index = np.concatenate(
            [
                rng.choice(pos, (n_steps, n_pos_per_batch)),
                rng.choice(neg, (n_steps, n_neg_per_batch)),
            ],
            axis=1,
        )
        weight = np.ones((n_steps, batch_size), np.float32)
    else:
        index = rng.integers(0, len(y), (n_steps, batch_size))
        if arm == "ce_balanced":
            class_weight = len(y) / (2.0 * np.bincount(y, minlength=2))
            weight = class_weight[y[index]].astype(np.float32)
        else:
            weight = np.ones((n_steps, batch_size), np.float32)
    return index.astype(np.int32), weight


def fit_jax_arm(arm, X, y, config, seed):
    """Train the shared MLP for one arm; return a scoring function."""
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng([seed, ALL_ARMS.index(arm)])
    index, weight = draw_batches(
        y,
        arm,
        config["n_steps"],
        config["n_pos_per_batch"],
        config["n_neg_per_batch"],
        rng,
    )
    init_key, dropout_key = jax.random.split(jax.random.key(seed))
    # Same initialisation for every arm of a seed: only the loss (and, for the
    # uniform arms, the batch composition) differs.
    params = init_mlp(init_key, X.shape[1], config["hidden_layer_sizes"])
    train = _make_trainer(
        "pairwise" if arm == "pairwise" else "ce",
        config["n_pos_per_batch"],
        config["dropout"],
        config["learning_rate"],
    )
    params = train(
        params,
        jnp.asarray(X, jnp.float32),
        jnp.asarray(y, jnp.float32),
        jnp.asarray(index),
        jnp.asarray(weight),
        dropout_key,
    )
    params = jax.block_until_ready(params)
    params_np = [(np.asarray(W), np.asarray(b)) for W, b in params]

    def score(X_new):
        h = np.asarray(X_new, np.float32)
        for W, b in params_np[:-1]:
            h = np.maximum(h @ W + b, 0.0)
        W, b = params_np[-1]
        return (h @ W + b)[:, 0]

    return score, config["n_steps"]


def fit_skpairauc(X, y, config, seed):
    """The public estimator with the protocol's settings."""
    from sklearn.exceptions import ConvergenceWarning

    from skpairauc import PairwiseAUCClassifier

    # The estimator's epoch is max(ceil(n_pos / n_pos_per_batch),
    # ceil(n_neg / n_neg_per_batch)) steps; ask for the number of epochs that
    # gives (about) the same number of steps as the JAX arms.
    n_pos = int(np.sum(y == 1))
    steps_per_epoch = max(
        math.ceil(n_pos / config["n_pos_per_batch"]),
        math.ceil((len(y) - n_pos) / config["n_neg_per_batch"]),
    )
    max_iter = max(1, int(round(config["n_steps"] / steps_per_epoch)))
    clf = PairwiseAUCClassifier(
        hidden_layer_sizes=config["hidden_layer_sizes"],
        solver="adam",
        dropout=config["dropout"],
        learning_rate_init=config["learning_rate"],
        n_pos_per_batch=config["n_pos_per_batch"],
        n_neg_per_batch=config["n_neg_per_batch"],
        max_iter=max_iter,
        # A fixed budget, as for the other arms: no early stop on the training
        # loss and no held-out validation set.
        n_iter_no_change=max_iter + 1,
        tol=0.0,
        early_stopping=False,
        random_state=seed,
    )
    with warnings.catch_warnings():
        # max_iter is a fixed budget here, not a convergence criterion.
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return clf.decision_function, int(getattr(clf, "t_", -1))


def _skpairauc_default(name):
    """Default of a PairwiseAUCClassifier parameter, or "?" without skpairauc."""
    try:
        from skpairauc import PairwiseAUCClassifier
    except ImportError:
        return "?"
    return PairwiseAUCClassifier().get_params()[name]


def fit_logreg(X, y, config, seed):
    """``LogisticRegression(class_weight="balanced")``, otherwise defaults."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(class_weight="balanced", max_iter=1000)
    clf.fit(X, y)
    return clf.decision_function, int(np.max(clf.n_iter_))


FITTERS = {
    **{arm: functools.partial(fit_jax_arm, arm) for arm in JAX_ARMS},
    "skpairauc": fit_skpairauc,
    "logreg_balanced": fit_logreg,
}


# ---------------------------------------------------------------------------
# Data sets
# ---------------------------------------------------------------------------


def dataset_specs(args):
    """``name -> (loader returning X_train, y_train, X_test, y_test, config)``."""
    quick = args.quick
    base = {
        "hidden_layer_sizes": (32,) if quick else (256, 128),
        "dropout": 0.2,
        "learning_rate": 1e-3,
        "n_pos_per_batch": 32 if quick else 128,
        "n_neg_per_batch": 96 if quick else 384,
        "n_steps": 40 if quick else args.steps,
    }
    specs = {}
    if args.cifar10:
        specs["cifar10-airplane"] = (
            lambda: _data.load_cifar10_binary(args.cifar10),
            base,
        )
    mnist_sizes = (1000,) if quick else (5000, 50000)
    for n in mnist_sizes:
        specs[f"mnist1d-{n}"] = (
            functools.partial(_data.make_mnist1d_binary, n_samples=n),
            base,
        )

    def digits():
        from sklearn.model_selection import train_test_split

        X, y = _data.load_digits_binary()
        # One fixed split; the seeds vary the positive subsample and the init.
        return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)

    if not quick:
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


def run(args):
    """Run every (data set, seed, arm); return (rows, seed-0 ROC scores)."""
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import StandardScaler

    try:
        import skpairauc  # noqa: F401

        skpairauc_status = None
    except ImportError as exc:
        skpairauc_status = f"not installed ({exc})"

    rows, roc_scores = [], {}
    for name, (load, config) in dataset_specs(args).items():
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
                    "n_train": len(y_train),
                    "n_train_pos": int(y_train.sum()),
                    "n_test": len(y_test),
                    "n_test_pos": int(y_test.sum()),
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
    ok = frame[frame["status"] == "ok"]
    summary = (
        ok.groupby(["dataset", "arm"], sort=False)
        .agg(
            auc_mean=("auc", "mean"),
            auc_std=("auc", "std"),
            n_seeds=("auc", "size"),
            fit_time_s=("fit_time_s", "median"),
            steps=("steps", "median"),
        )
        .reset_index()
    )
    return summary


def plot(summary, roc_scores, out, prefix):
    """AUC bars with error bars, and seed-0 ROC curves per data set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

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
    fig.tight_layout()
    fig.savefig(out / f"{prefix}_auc.png", dpi=110)
    plt.close(fig)

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
    fig.tight_layout()
    fig.savefig(out / f"{prefix}_roc.png", dpi=110)
    plt.close(fig)


def write_markdown(summary, frame, args, out, prefix, wall_time):
    """The Markdown summary: protocol, machine, table."""
    machine = _data.machine_description()
    specs = dataset_specs(args)
    config = next(iter(specs.values()))[1]
    failures = frame[frame["status"] != "ok"][["dataset", "arm", "seed", "status"]]
    lines = [
        "# Seed protocol: pairwise vs cross-entropy on the same net",
        "",
        "Command: `"
        + " ".join(["python benchmarks/bench_seed_protocol.py", *args.argv])
        + "`",
        "",
        f"Wall time: {wall_time / 60:.1f} min. Machine: {machine['cpu']}, "
        f"{machine['nproc']} CPUs visible (shared with other jobs), Python "
        f"{machine['python']}, {machine['platform']}.",
        "",
        f"Versions: {machine['versions']}; skpairauc checkout {machine['revision']}.",
        "",
        f"Load average (1, 5, 15 min) when the run ended: {machine['load']}.",
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
        f"default (alpha={_skpairauc_default('alpha')}, no L2 in the JAX arms); "
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
    (out / f"{prefix}.md").write_text("\n".join(lines))


def main(argv=None):
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (seconds)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    parser.add_argument("--seeds", type=int, default=None, help="default 5 (2 quick)")
    parser.add_argument("--steps", type=int, default=2000, help="steps per arm")
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
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.seeds is None:
        args.seeds = 2 if args.quick else 5
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

    import pandas as pd

    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    rows, roc_scores = run(args)
    wall_time = time.perf_counter() - start
    frame = pd.DataFrame(rows)
    for column in ("auc", "fit_time_s", "steps"):
        if column not in frame:
            frame[column] = np.nan
    summary = summarise(frame)
    frame.to_csv(args.out / f"{args.prefix}.csv", index=False)
    summary.to_csv(args.out / f"{args.prefix}_summary.csv", index=False)
    write_markdown(summary, frame, args, args.out, args.prefix, wall_time)
    plot(summary, roc_scores, args.out, args.prefix)
    with pd.option_context("display.width", 120, "display.max_rows", 200):
        print(summary.to_string(index=False, float_format="%.4f"))
    return frame


if __name__ == "__main__":
    main()
