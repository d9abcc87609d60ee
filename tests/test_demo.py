"""The README's demo runs on bundled data and reports both kinds of model."""

import numpy as np

from skpairauc.__main__ import imbalanced_digits, main


def test_demo_subsamples_positives_to_the_requested_rate():
    X_train, X_test, y_train, y_test = imbalanced_digits(8, 0.05, seed=0)
    assert abs(y_train.mean() - 0.05) < 0.005
    assert len(X_train) == len(y_train) and len(X_test) == len(y_test)
    # The test split keeps the natural rate (about 10% of digits are 8s).
    assert 0.08 < y_test.mean() < 0.12


def test_demo_prints_roc_auc_of_pairwise_and_cross_entropy(capsys):
    aucs = main(["--seeds", "1", "--hidden", "8"])
    out = capsys.readouterr().out
    assert "PairwiseAUC (default)" in out and "cross-entropy MLP(8,)" in out
    assert all(0.5 < np.mean(v) <= 1.0 for v in aucs.values())
