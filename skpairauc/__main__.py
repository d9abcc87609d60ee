"""Demo: pairwise AUC training against cross-entropy on imbalanced digits.

Run with ``python -m skpairauc``. It uses scikit-learn's bundled digits data
(no download): one digit against the rest, with the positives of the training
split subsampled to 5% as in the source CIFAR-10 experiment, and compares test
ROC AUC of

* ``PairwiseAUCClassifier`` with a linear and an MLP scorer, and
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
    """The compared models, each standardising its inputs first."""
    return {
        "PairwiseAUC linear": PairwiseAUCClassifier(random_state=seed),
        f"PairwiseAUC MLP{hidden}": PairwiseAUCClassifier(
            hidden_layer_sizes=hidden, random_state=seed
        ),
        f"cross-entropy MLP{hidden}": MLPClassifier(
            hidden_layer_sizes=hidden, max_iter=500, random_state=seed
        ),
        "cross-entropy logistic": LogisticRegression(max_iter=1000),
        "cross-entropy logistic, balanced": LogisticRegression(
            class_weight="balanced", max_iter=1000
        ),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digit", type=int, default=8, help="the positive class")
    parser.add_argument("--positive-rate", type=float, default=0.05)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=32, help="MLP hidden units")
    args = parser.parse_args(argv)
    hidden = (args.hidden,)

    aucs, times = {}, {}
    for seed in range(args.seeds):
        X_train, X_test, y_train, y_test = imbalanced_digits(
            args.digit, args.positive_rate, seed
        )
        for name, model in models(seed, hidden).items():
            pipe = make_pipeline(StandardScaler(), model)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                pipe.fit(X_train, y_train)
            times.setdefault(name, []).append(time.perf_counter() - start)
            auc = roc_auc_score(y_test, pipe.predict_proba(X_test)[:, 1])
            aucs.setdefault(name, []).append(auc)

    print(
        f"digits: {args.digit} vs rest, training positives subsampled to "
        f"{args.positive_rate:.0%} ({int(y_train.sum())} of {len(y_train)}), "
        f"test set {len(y_test)} rows, {args.seeds} seeds"
    )
    print(f"{'model':<33} {'test ROC AUC':>18} {'fit time (s)':>13}")
    for name, values in aucs.items():
        mean, std = 100 * np.mean(values), 100 * np.std(values)
        print(f"{name:<33} {mean:>10.2f} ± {std:<5.2f} {np.median(times[name]):>13.3f}")
    return aucs


if __name__ == "__main__":
    main()
