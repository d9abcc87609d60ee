"""Bad input gets a clear error before any work; odd but valid input works."""

import numpy as np
import pytest
import scipy.sparse as sp

from skpairauc import PairwiseAUCClassifier, _training


@pytest.fixture
def data(imbalanced):
    X, y = imbalanced
    return X[:200].copy(), y[:200].copy()


@pytest.fixture
def no_training(monkeypatch):
    """Make any start of training fail the test: bad input must be refused
    before any work (an AssertionError is not what ``pytest.raises`` expects)."""

    def refuse(*args, **kwargs):
        raise AssertionError("training started on invalid input")

    monkeypatch.setattr(_training, "train_exact", refuse)
    monkeypatch.setattr(_training, "train_stochastic", refuse)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_X_is_rejected(data, bad, no_training):
    X, y = data
    X[3, 2] = bad
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        PairwiseAUCClassifier().fit(X, y)


def test_single_class_is_rejected(data, no_training):
    X, _ = data
    with pytest.raises(ValueError, match="at least 2 classes.*only the class 'a'"):
        PairwiseAUCClassifier().fit(X, np.array(["a"] * len(X)))


def test_continuous_target_is_rejected(data, no_training):
    X, _ = data
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        PairwiseAUCClassifier().fit(X, np.linspace(0, 1, len(X)))


def test_multilabel_target_is_rejected(data, no_training):
    X, y = data
    Y = np.column_stack([y, 1 - y])
    with pytest.raises(ValueError, match="y should be a 1d array"):
        PairwiseAUCClassifier().fit(X, Y)


def test_wrong_number_of_features_at_predict(data):
    X, y = data
    clf = PairwiseAUCClassifier().fit(X, y)
    for method in ("predict", "predict_proba", "decision_function"):
        with pytest.raises(ValueError, match="X has 7 features, but Pairwise"):
            getattr(clf, method)(X[:, :7])


def test_empty_X_is_rejected():
    with pytest.raises(ValueError, match="0 sample"):
        PairwiseAUCClassifier().fit(np.empty((0, 3)), np.array([]))
    with pytest.raises(ValueError, match="0 feature"):
        PairwiseAUCClassifier().fit(np.empty((5, 0)), np.array([0, 1, 0, 1, 0]))


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(loss="exponential"), "'loss' parameter .* must be a str among"),
        (dict(solver="newton"), "'solver' parameter"),
        (dict(activation="gelu"), "'activation' parameter"),
        (dict(threshold="accuracy"), "'threshold' parameter"),
        (dict(threshold=np.inf), "'threshold' parameter"),
        (dict(threshold=1.5), "'threshold' parameter"),
        (dict(max_iter=0), "'max_iter' parameter"),
        (dict(margin=0.0), "'margin' parameter"),
        (dict(dropout=1.0), "'dropout' parameter"),
        (dict(validation_fraction=1.0), "'validation_fraction' parameter"),
        (dict(hidden_layer_sizes=(8, 0)), "hidden_layer_sizes must be a sequence of"),
        (dict(hidden_layer_sizes=(8, 2.5)), "hidden_layer_sizes must be a sequence of"),
        (dict(solver="lbfgs", dropout=0.5), "dropout need.* a stochastic solver"),
        (dict(solver="lbfgs", early_stopping=True), "early_stopping need"),
    ],
)
def test_unknown_or_invalid_parameters(data, params, match, no_training):
    X, y = data
    clf = PairwiseAUCClassifier(**params)
    with pytest.raises((ValueError, TypeError), match=match):
        clf.fit(X, y)


def test_negative_sample_weight_is_rejected(data, no_training):
    X, y = data
    w = np.ones(len(y))
    w[5] = -1.0
    with pytest.raises(
        ValueError, match="Negative values in data passed to `sample_weight`"
    ):
        PairwiseAUCClassifier().fit(X, y, sample_weight=w)


def test_class_with_zero_total_weight_is_rejected(data, no_training):
    X, y = data
    w = np.where(y == 1, 0.0, 1.0)
    with pytest.raises(ValueError, match="class 1 has total weight 0"):
        PairwiseAUCClassifier().fit(X, y, sample_weight=w)


def test_a_sparse_matrix_with_an_infinity_is_refused_before_training(data, no_training):
    X, y = data
    X = sp.csr_matrix(X)
    X.data[3] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        PairwiseAUCClassifier().fit(X, y)


def test_user_arrays_are_not_modified(data):
    X, y = data
    w = np.linspace(0.5, 2.0, len(y))
    X_copy, y_copy, w_copy = X.copy(), y.copy(), w.copy()
    for params in (dict(solver="lbfgs"), dict(solver="adam", max_iter=2)):
        clf = PairwiseAUCClassifier(random_state=0, **params).fit(X, y, sample_weight=w)
        clf.predict_proba(X)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)
    np.testing.assert_array_equal(w, w_copy)


@pytest.mark.parametrize(
    "labels", [np.array(["cat", "dog"]), np.array([False, True]), np.array([-3, 10])]
)
def test_string_boolean_and_integer_labels(data, labels):
    X, y = data
    y_mapped = labels[y]
    clf = PairwiseAUCClassifier(random_state=0).fit(X, y_mapped)
    np.testing.assert_array_equal(clf.classes_, labels)
    assert set(clf.predict(X)) <= set(labels)
    assert np.mean(clf.predict(X) == y_mapped) > 0.7


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_float32_float64_and_integer_X(data, dtype):
    X, y = data
    Xd = (X * 10).astype(dtype)
    clf = PairwiseAUCClassifier(random_state=0).fit(Xd, y)
    assert clf.predict_proba(Xd).dtype == np.float64
    assert np.mean(clf.predict(Xd) == y) > 0.7


def test_pandas_dataframe_keeps_and_checks_feature_names(data):
    pd = pytest.importorskip("pandas")
    X, y = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = PairwiseAUCClassifier(random_state=0).fit(frame, pd.Series(y))
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)
    np.testing.assert_array_equal(clf.predict(frame), clf.predict(X))
    renamed = frame.rename(columns={"f0": "other"})
    with pytest.raises(ValueError, match="feature names should match"):
        clf.predict(renamed)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_a_class_with_a_single_sample(data, solver):
    X, y = data
    y = y.copy()
    y[0] = 2
    clf = PairwiseAUCClassifier(solver=solver, max_iter=20, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.predict_proba(X).shape == (len(y), 3)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_extreme_imbalance_three_positives_in_ten_thousand(solver):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10_000, 5))
    y = np.zeros(10_000, dtype=int)
    positives = rng.choice(10_000, 3, replace=False)
    y[positives] = 1
    X[positives, 0] += 3.0
    clf = PairwiseAUCClassifier(solver=solver, max_iter=20, random_state=0).fit(X, y)
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, clf.decision_function(X)) > 0.9
    assert np.isfinite(clf.threshold_)
