"""Threshold selection against brute force, and the probability map."""

import numpy as np
import pytest
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, f1_score

from skpairauc._threshold import fit_sigmoid, select_threshold

METRICS = {"balanced_accuracy": balanced_accuracy_score, "f1": f1_score}


def _problem(seed, n=300, ties=False):
    rng = np.random.default_rng(seed)
    y = (rng.uniform(size=n) < 0.2).astype(float)
    s = rng.normal(size=n) + 1.5 * y
    if ties:
        s = np.round(s, 1)
    return s, y, rng.uniform(0.5, 2.0, n)


@pytest.mark.parametrize("strategy", ["balanced_accuracy", "f1"])
@pytest.mark.parametrize("seed, ties", [(0, False), (1, True), (2, False)])
def test_selected_threshold_is_the_brute_force_optimum(strategy, seed, ties):
    s, y, w = _problem(seed, ties=ties)
    metric = METRICS[strategy]
    chosen = select_threshold(s, y, w, strategy)
    candidates = np.concatenate([np.unique(s) - 1e-9, [s.max() + 1]])
    best = max(metric(y, s > t, sample_weight=w) for t in candidates)
    assert metric(y, s > chosen, sample_weight=w) == pytest.approx(best, abs=1e-12)


def test_prior_threshold_is_where_platt_probability_is_half():
    s, y, w = _problem(3)
    t = select_threshold(s, y, w, "prior")
    a, b = fit_sigmoid(s, y, w)
    assert expit(a * t + b) == pytest.approx(0.5, abs=1e-9)


def test_platt_fit_matches_unpenalised_logistic_regression():
    s, y, w = _problem(4, n=2000)
    a, b = fit_sigmoid(s, y, w)
    # Platt's smoothed targets barely differ from the labels at this size.
    ref = LogisticRegression(C=1e6).fit(s[:, None], y, sample_weight=w)
    assert a == pytest.approx(ref.coef_[0, 0], rel=0.02)
    assert b == pytest.approx(ref.intercept_[0], rel=0.05, abs=0.02)


def test_platt_with_fixed_threshold_crosses_half_there_and_stays_finite():
    s = np.array([0.0, 1.0, 2.0, 3.0])
    y = np.array([0.0, 0.0, 1.0, 1.0])  # separable: an unsmoothed MLE diverges
    a, b = fit_sigmoid(s, y, np.ones(4), threshold=1.5)
    assert np.isfinite(a) and a > 0
    assert expit(a * 1.5 + b) == pytest.approx(0.5)


def test_slope_stays_positive_for_anti_correlated_scores():
    s, y, w = _problem(5)
    a, _ = fit_sigmoid(-s, y, w)
    assert a > 0
