"""Sample weights are repeated rows: a weight k trains as k copies of the row
(the pair objective, the penalty, the threshold and the probability map)."""

import numpy as np
import pytest

from skpairauc import PairwiseAUCClassifier


def _weighted_and_repeated(X, y, weights=None, **params):
    k = np.random.default_rng(0).integers(0, 4, len(y)) if weights is None else weights
    weighted = PairwiseAUCClassifier(random_state=0, **params).fit(
        X, y, sample_weight=k
    )
    repeated = PairwiseAUCClassifier(random_state=0, **params).fit(
        np.repeat(X, k, 0), np.repeat(y, k)
    )
    return weighted, repeated


@pytest.mark.parametrize("hidden", [(), (6,)])
@pytest.mark.parametrize("data", ["imbalanced", "multiclass"])
def test_integer_weights_equal_repeated_rows_exact_solver(request, data, hidden):
    # The default penalty, on data small enough for the NumPy objective,
    # whose sums are float64: the two fits agree to float64 round-off.
    X, y = request.getfixturevalue(data)
    X, y = X[:300], y[:300]
    weighted, repeated = _weighted_and_repeated(
        X, y, hidden_layer_sizes=hidden, solver="lbfgs"
    )
    assert weighted.n_iter_ == repeated.n_iter_
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-7
    )
    np.testing.assert_array_equal(weighted.predict(X), repeated.predict(X))
    np.testing.assert_allclose(weighted.threshold_, repeated.threshold_, rtol=1e-6)


@pytest.mark.parametrize("threshold", ["f1", "prior", 0.2])
def test_integer_weights_equal_repeated_rows_for_every_threshold(imbalanced, threshold):
    X, y = imbalanced
    weighted, repeated = _weighted_and_repeated(
        X, y, hidden_layer_sizes=(), solver="lbfgs", threshold=threshold
    )
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-7
    )


def test_integer_weights_equal_repeated_rows_compiled_objective(
    imbalanced, compiled_exact
):
    # The compiled objective runs in float32: the same model to float32
    # round-off of the optimum.
    X, y = imbalanced
    weighted, repeated = _weighted_and_repeated(
        X, y, hidden_layer_sizes=(), solver="lbfgs"
    )
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-4, atol=1e-5
    )


def test_the_penalty_scales_with_the_total_weight(imbalanced):
    # Doubling every weight is the data set twice: half the penalty, as for
    # LogisticRegression, which a fit with alpha / 2 reproduces.
    X, y = imbalanced
    w = np.random.default_rng(0).choice([1.0, 2.0, 3.0], len(y))
    params = dict(hidden_layer_sizes=(), solver="lbfgs", alpha=10.0, random_state=0)
    doubled = PairwiseAUCClassifier(**params).fit(X, y, sample_weight=2 * w)
    halved = PairwiseAUCClassifier(**{**params, "alpha": 5.0}).fit(
        X, y, sample_weight=w
    )
    np.testing.assert_allclose(doubled.coefs_[0], halved.coefs_[0], rtol=1e-6)
    single = PairwiseAUCClassifier(**params).fit(X, y, sample_weight=w)
    assert not np.allclose(single.coefs_[0], doubled.coefs_[0], rtol=1e-3)


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
@pytest.mark.parametrize("scale", [1e-30, 1e30, 1e300])
def test_weights_of_any_scale_give_a_finite_model(imbalanced, solver, scale):
    X, y = imbalanced
    w = np.random.default_rng(0).choice([0.0, 1.0, 3.0], len(y)) * scale
    clf = PairwiseAUCClassifier(solver=solver, max_iter=20, random_state=0)
    clf.fit(X, y, sample_weight=w)
    assert np.all(np.isfinite(clf.predict_proba(X)))
    assert np.all(np.isfinite(clf.coefs_[0]))


def test_folds_of_tiny_and_huge_weights_train():
    # Weights that underflow float32 relative to the others leave a fold's
    # class with nothing but tiny weights: each side of a task is scaled to
    # its largest weight, so no fold divides by a zero pair total.
    errors = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        X, y = rng.normal(size=(17, 3)), np.tile([0, 1], 9)[:17]
        w = rng.choice([0.0, 1e-30, 1.0, 3.0, 1e30], 17)
        try:
            clf = PairwiseAUCClassifier(threshold="f1", random_state=0)
            clf.fit(X, y, sample_weight=w)
        except ValueError as error:  # a class whose weights all underflow
            assert "spans too many orders" in str(error)
            errors += 1
            continue
        assert np.all(np.isfinite(clf.decision_function(X)))
    assert errors < 40


def test_weights_beyond_float32_range_are_a_clear_error(imbalanced):
    X, y = imbalanced
    w = np.where(y == 1, 1e-300, 1.0)
    with pytest.raises(ValueError, match="sample_weight spans too many orders"):
        PairwiseAUCClassifier().fit(X, y, sample_weight=w)
