"""The estimator inside scikit-learn's meta-estimators and model selection."""

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    TunedThresholdClassifierCV,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skpairauc import PairwiseAUCClassifier


def test_pipeline(imbalanced):
    X, y = imbalanced
    pipe = make_pipeline(StandardScaler(), PairwiseAUCClassifier(random_state=0))
    pipe.fit(X, y)
    assert roc_auc_score(y, pipe.decision_function(X)) > 0.9
    np.testing.assert_array_equal(pipe.classes_, [0, 1])


def test_grid_search_on_roc_auc_in_a_pipeline(imbalanced):
    X, y = imbalanced
    pipe = make_pipeline(StandardScaler(), PairwiseAUCClassifier(random_state=0))
    grid = GridSearchCV(
        pipe,
        {
            "pairwiseaucclassifier__loss": ["logistic", "squared_hinge"],
            "pairwiseaucclassifier__alpha": [0.1, 10.0],
        },
        scoring="roc_auc",
        cv=StratifiedKFold(3),
    ).fit(X, y)
    assert len(grid.cv_results_["mean_test_score"]) == 4
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert grid.best_score_ > 0.85


def test_cross_val_score(imbalanced):
    X, y = imbalanced
    scores = cross_val_score(
        PairwiseAUCClassifier(random_state=0), X, y, scoring="roc_auc", cv=3
    )
    assert scores.shape == (3,) and scores.min() > 0.8


def test_tuned_threshold_classifier_cv(imbalanced):
    X, y = imbalanced
    tuned = TunedThresholdClassifierCV(
        PairwiseAUCClassifier(random_state=0), scoring="f1", cv=3
    ).fit(X, y)
    assert np.isfinite(tuned.best_threshold_)
    assert set(tuned.predict(X)) <= {0, 1}


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibrated_classifier_cv(imbalanced, method):
    X, y = imbalanced
    calibrated = CalibratedClassifierCV(
        PairwiseAUCClassifier(random_state=0), method=method, cv=3
    ).fit(X, y)
    proba = calibrated.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    # Calibrated to the prevalence, and still ranking well.
    assert proba[:, 1].mean() == pytest.approx(y.mean(), abs=0.03)
    assert roc_auc_score(y, proba[:, 1]) > 0.85
