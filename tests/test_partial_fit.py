"""partial_fit: a stream of blocks, reservoirs, pickling mid-stream, after fit."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from skpairauc import PairwiseAUCClassifier, _stream


@pytest.fixture(scope="module")
def stream():
    X, y = make_classification(
        12000, 20, n_informative=8, weights=[0.95], flip_y=0.02, random_state=0
    )
    return train_test_split(X, y, test_size=4000, stratify=y, random_state=0)


def _blocks(n, k=20):
    return np.array_split(np.arange(n), k)


def _auc(model, X, y):
    return roc_auc_score(y, model.decision_function(X))


def test_twenty_blocks_three_passes_reach_fit(stream):
    X, X_test, y, y_test = stream
    params = {"hidden_layer_sizes": (), "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        whole = PairwiseAUCClassifier(solver="adam", **params).fit(X, y)
    model = PairwiseAUCClassifier(**params)
    for _ in range(3):
        for rows in _blocks(len(y)):
            model.partial_fit(X[rows], y[rows], classes=[0, 1])
    assert model.n_iter_ == 60 and model.solver_ == "adam"
    assert len(model.loss_curve_) == 60
    assert _auc(model, X_test, y_test) > _auc(whole, X_test, y_test) - 0.01
    # The decision is refitted on held-out rows: predictions are not constant.
    assert 0 < model.predict(X_test).mean() < 0.5


def test_a_block_of_one_class_trains_against_the_reservoir(stream):
    X, X_test, y, y_test = stream
    model = PairwiseAUCClassifier(hidden_layer_sizes=(), random_state=0)
    model.partial_fit(X[:3000], y[:3000], classes=[0, 1])
    before = [W.copy() for W in model.coefs_]
    negatives = np.flatnonzero(y[3000:] == 0)[:1000] + 3000
    model.partial_fit(X[negatives], y[negatives])
    assert model.n_iter_ == 2  # it trained: pairs with the reservoir's positives
    assert not np.array_equal(before[0], model.coefs_[0])
    assert _auc(model, X_test, y_test) > 0.8


@pytest.mark.parametrize("hidden", [(), (4,)])
def test_the_first_blocks_may_lack_a_class(stream, hidden):
    X, _, y, _ = stream
    negatives = np.flatnonzero(y == 0)[:500]
    model = PairwiseAUCClassifier(hidden_layer_sizes=hidden, random_state=0)
    with pytest.warns(UserWarning, match="no pair can be formed"):
        model.partial_fit(X[negatives], y[negatives], classes=[0, 1])
    assert model.n_iter_ == 0
    assert model.predict(X[:5]).shape == (5,)
    assert model.decision_function(X[:5]).shape == (5,)
    model.partial_fit(X[:2000], y[:2000])
    assert model.n_iter_ == 1


def test_pickling_mid_stream_goes_on_identically(stream):
    X, X_test, y, _ = stream
    blocks = _blocks(len(y), 10)
    model = PairwiseAUCClassifier(hidden_layer_sizes=(4,), random_state=0)
    for rows in blocks[:5]:
        model.partial_fit(X[rows], y[rows], classes=[0, 1])
    copy = pickle.loads(pickle.dumps(model))
    for rows in blocks[5:]:
        model.partial_fit(X[rows], y[rows])
        copy.partial_fit(X[rows], y[rows])
    np.testing.assert_array_equal(
        model.decision_function(X_test), copy.decision_function(X_test)
    )


def test_partial_fit_after_fit_continues_from_it(stream):
    X, X_test, y, y_test = stream
    model = PairwiseAUCClassifier(hidden_layer_sizes=(), random_state=0).fit(X, y)
    fitted_auc = _auc(model, X_test, y_test)
    first = model.coefs_[0].copy()
    model.partial_fit(X[:1000], y[:1000])
    assert model.n_iter_ > 1  # the fit's epochs and this one
    # One epoch from the fitted weights moves them a little, not from scratch.
    change = np.linalg.norm(model.coefs_[0] - first) / np.linalg.norm(first)
    assert 0 < change < 0.5
    assert _auc(model, X_test, y_test) > fitted_auc - 0.01


def test_auto_chooses_on_the_first_block_and_keeps_the_choice(stream):
    X, X_test, y, y_test = stream
    model = PairwiseAUCClassifier(random_state=0)
    model.partial_fit(X[:3000], y[:3000], classes=[0, 1])
    assert model.capacity_scores_ is not None
    chosen = model.hidden_layer_sizes_, model.alpha_
    model.partial_fit(X[3000:6000], y[3000:6000])
    assert (model.hidden_layer_sizes_, model.alpha_) == chosen
    assert _auc(model, X_test, y_test) > 0.85


def test_sparse_blocks(stream):
    X, X_test, y, y_test = stream
    model = PairwiseAUCClassifier(hidden_layer_sizes=(), random_state=0)
    for rows in _blocks(len(y), 6):
        model.partial_fit(sp.csr_matrix(X[rows]), y[rows], classes=[0, 1])
    assert _auc(model, sp.csr_matrix(X_test), y_test) > 0.85
    assert sp.issparse(model._stream.reservoir.X)


def test_the_reservoirs_are_bounded(stream, monkeypatch):
    X, _, y, _ = stream
    monkeypatch.setattr(_stream, "RESERVOIR_ROWS_PER_CLASS", 300)
    monkeypatch.setattr(_stream, "HELD_OUT_ROWS_PER_CLASS", 50)
    model = PairwiseAUCClassifier(hidden_layer_sizes=(), random_state=0)
    for rows in _blocks(len(y), 8):
        model.partial_fit(X[rows], y[rows], classes=[0, 1])
    kept = np.bincount(model._stream.reservoir.y)
    held = np.bincount(model._stream.held_out.y)
    # Both classes trained more rows than the bound (about 360 positives);
    # about 40 positives were held out, all kept.
    assert kept.tolist() == [300, 300]
    assert held[0] == 50 and 0 < held[1] < 50


def test_partial_fit_errors(stream):
    X, _, y, _ = stream
    with pytest.raises(ValueError, match="classes must be passed"):
        PairwiseAUCClassifier().partial_fit(X[:100], y[:100])
    assert not hasattr(PairwiseAUCClassifier(solver="lbfgs"), "partial_fit")
    model = PairwiseAUCClassifier(hidden_layer_sizes=())
    model.partial_fit(X[:500], y[:500], classes=[0, 1])
    with pytest.raises(ValueError, match="not in classes"):
        model.partial_fit(X[:10], np.full(10, 7))
    with pytest.raises(ValueError, match="differs from the classes"):
        model.partial_fit(X[:10], y[:10], classes=[0, 1, 2])
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:10, :5], y[:10])
    # A refused call changes nothing.
    assert model.n_iter_ == 1
