"""Sample weights are pair weights: weight k == k repeated rows in the pair
objective; only the ratios of the weights matter."""

import numpy as np
import pytest

from skpairauc import PairwiseAUCClassifier


def _weighted_and_repeated(X, y, **params):
    # An explicit scorer: capacity selection's folds differ between the two.
    params = {"hidden_layer_sizes": (), **params}
    k = np.random.default_rng(0).integers(0, 4, len(y))
    weighted = PairwiseAUCClassifier(**params).fit(X, y, sample_weight=k)
    repeated = PairwiseAUCClassifier(**params).fit(np.repeat(X, k, 0), np.repeat(y, k))
    return weighted, repeated


def test_integer_weights_equal_repeated_rows_exact_solver(multiclass):
    # Without the penalty: the penalty is alpha over the number of rows with
    # non-zero weight (so that only weight ratios matter), which repetition
    # changes.
    X, y = multiclass
    weighted, repeated = _weighted_and_repeated(X, y, solver="lbfgs", alpha=0.0)
    # The same objective from the same start, up to float32 round-off.
    np.testing.assert_allclose(
        weighted.loss_curve_[:3], repeated.loss_curve_[:3], rtol=1e-5
    )
    # The same scorer, up to where float32 round-off stops L-BFGS: the same
    # ranking of every class (the probability map differs: its Platt targets
    # count rows, and weights are rescaled to a mean of 1).
    for a, b in zip(weighted.coefs_[0].T, repeated.coefs_[0].T):
        assert a @ b / np.linalg.norm(a) / np.linalg.norm(b) > 0.9999


def test_integer_weights_give_the_repeated_objective_for_an_mlp(multiclass):
    X, y = multiclass
    weighted, repeated = _weighted_and_repeated(
        X, y, solver="lbfgs", hidden_layer_sizes=(6,), random_state=0, alpha=0.0
    )
    # The MLP objective is non-convex: the two runs start on the same objective
    # (identical to round-off along the first iterates) but float32 round-off
    # can later steer them to different local minima.
    np.testing.assert_allclose(
        weighted.loss_curve_[:4], repeated.loss_curve_[:4], rtol=1e-5
    )


def test_unit_weights_equal_no_weights(imbalanced):
    X, y = imbalanced
    a = PairwiseAUCClassifier(random_state=0).fit(X, y)
    b = PairwiseAUCClassifier(random_state=0).fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_array_equal(a.decision_function(X), b.decision_function(X))


def test_weights_change_the_model(imbalanced):
    X, y = imbalanced
    w = np.where(X[:, 0] > 0, 5.0, 1.0)
    a = PairwiseAUCClassifier((), random_state=0).fit(X, y)
    b = PairwiseAUCClassifier((), random_state=0).fit(X, y, sample_weight=w)
    assert not np.allclose(a.coefs_[0], b.coefs_[0])


def test_stochastic_weights_match_repetition_in_distribution(imbalanced):
    X, y = imbalanced
    rng = np.random.default_rng(1)
    k = rng.integers(1, 3, len(y))
    params = dict(
        hidden_layer_sizes=(),
        solver="adam",
        learning_rate_init=0.01,
        max_iter=80,
        random_state=0,
    )
    weighted = PairwiseAUCClassifier(**params).fit(X, y, sample_weight=k)
    repeated = PairwiseAUCClassifier(**params).fit(np.repeat(X, k, 0), np.repeat(y, k))
    wa, wb = weighted.coefs_[0][:, 0], repeated.coefs_[0][:, 0]
    cosine = wa @ wb / np.linalg.norm(wa) / np.linalg.norm(wb)
    assert cosine > 0.98


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_only_the_ratios_of_the_weights_matter(imbalanced, solver):
    X, y = imbalanced
    w = np.random.default_rng(0).choice([0.0, 1.0, 3.0], len(y))
    params = dict(solver=solver, max_iter=20, random_state=0)
    reference = PairwiseAUCClassifier(**params).fit(X, y, sample_weight=w)
    for scale in (1e-30, 1e30):
        scaled = PairwiseAUCClassifier(**params).fit(X, y, sample_weight=w * scale)
        np.testing.assert_allclose(
            scaled.predict_proba(X), reference.predict_proba(X), rtol=1e-5, atol=1e-6
        )


def test_weights_beyond_float32_range_are_a_clear_error(imbalanced):
    X, y = imbalanced
    w = np.where(y == 1, 1e-300, 1.0)
    with pytest.raises(ValueError, match="sample_weight spans too many orders"):
        PairwiseAUCClassifier().fit(X, y, sample_weight=w)
