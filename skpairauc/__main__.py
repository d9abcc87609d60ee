"""Demo: pairwise AUC training against cross-entropy on imbalanced digits.

Run with ``python -m skpairauc``. It uses scikit-learn's bundled digits data
(no download): one digit against the rest, with the positives of the training
split subsampled to 5% as in the source CIFAR-10 experiment, and compares test
ROC AUC of

* ``PairwiseAUCClassifier()`` at its defaults, which chooses a linear scorer
  or an MLP (64,), and its penalty, by cross-validation inside ``fit``
  (the demo prints what it chose for each seed);
* ``PairwiseAUCClassifier`` with a fixed MLP scorer, and
* cross-entropy models: ``MLPClassifier`` (same hidden layer) and
  ``LogisticRegression``.

over several seeds (each seed redraws the subsample and the initialisation).
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skpairauc import PairwiseAUCClassifier

DEFAULT = "PairwiseAUC (default)"


def imbalanced_digits(positive_digit, positive_rate, seed):
    """Digits, one class against the rest, training positives subsampled."""
    X, digit = load_digits(return_X_y=True)
    y = (digit == positive_digit).astype(int)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.5, stratify=y, random_state=seed
    )
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y_train == 1), np.flatnonzero(y_train == 0)
    n_pos = max(2, round(positive_rate / (1 - positive_rate) * len(neg)))
    keep = np.concatenate([rng.choice(pos, n_pos, replace=False), neg])
    return X_train[keep], X_test, y_train[keep], y_test


def models(seed, hidden):
    """The compared models.

    ``PairwiseAUCClassifier`` standardises the features inside ``fit``, so it
    takes the raw pixels. The cross-entropy models get a ``StandardScaler``
    in front: ``MLPClassifier`` and ``LogisticRegression`` need scaled inputs
    (their solvers and penalties depend on the units of the features).
    """
    return {
        DEFAULT: PairwiseAUCClassifier(random_state=seed),
        f"PairwiseAUC MLP{hidden}": PairwiseAUCClassifier(
            hidden_layer_sizes=hidden, random_state=seed
        ),
        f"cross-entropy MLP{hidden}": make_pipeline(
            StandardScaler(),
            MLPClassifier(hidden_layer_sizes=hidden, max_iter=500, random_state=seed),
        ),
        "cross-entropy logistic": make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=1000)
        ),
        "cross-entropy logistic, balanced": make_pipeline(
            StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=1000)
        ),
    }


def describe_choice(hidden_layer_sizes, alpha):
    """'linear, alpha 10' or 'MLP (64,), alpha 1'."""
    scorer = f"MLP {hidden_layer_sizes}" if hidden_layer_sizes else "linear"
    return f"{scorer}, alpha {alpha:g}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digit", type=int, default=8, help="the positive class")
    parser.add_argument("--positive-rate", type=float, default=0.05)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=32, help="MLP hidden units")
    args = parser.parse_args(argv)
    hidden = (args.hidden,)

    aucs, times, choices = {}, {}, {}
    for seed in range(args.seeds):
        X_train, X_test, y_train, y_test = imbalanced_digits(
            args.digit, args.positive_rate, seed
        )
        for name, model in models(seed, hidden).items():
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X_train, y_train)
            times.setdefault(name, []).append(time.perf_counter() - start)
            auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
            aucs.setdefault(name, []).append(auc)
            if name == DEFAULT:
                choice = describe_choice(model.hidden_layer_sizes_, model.alpha_)
                choices.setdefault(choice, []).append(seed)

    print(
        f"digits: {args.digit} vs rest, training positives subsampled to "
        f"{args.positive_rate:.0%} ({int(y_train.sum())} of {len(y_train)}), "
        f"test set {len(y_test)} rows, {args.seeds} seeds"
    )
    print(f"{'model':<33} {'test ROC AUC':>18} {'fit time (s)':>13}")
    for name, values in aucs.items():
        mean, std = 100 * np.mean(values), 100 * np.std(values)
        print(f"{name:<33} {mean:>10.2f} ± {std:<5.2f} {np.median(times[name]):>13.3f}")
    print("PairwiseAUC fits raw pixels; the cross-entropy models standardised ones.")
    print(f"{DEFAULT} chose (hidden_layer_sizes_, alpha_):")
    for choice, seeds in choices.items():
        label = "seed" if len(seeds) == 1 else "seeds"
        print(f"  {choice} on {label} {', '.join(map(str, seeds))}")
    return aucs


if __name__ == "__main__":
    main()
