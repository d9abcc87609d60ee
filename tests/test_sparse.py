"""Sparse input: every SciPy format, both solvers, never densified, and the
same model as the dense input where the scalings agree."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skpairauc import PairwiseAUCClassifier
from skpairauc._scaling import fit_standardizer
from skpairauc._sparse import fit_sparse_scaler


def _sparse_problem(n=1500, d=120, density=0.05, seed=0):
    """Non-negative sparse features (not indicators) and a linear label."""
    rng = np.random.default_rng(seed)
    X = sp.random(
        n, d, density, format="csr", random_state=seed, data_rvs=rng.random
    ).astype(np.float64)
    score = X @ rng.normal(size=d) + 0.3 * rng.normal(size=n)
    y = (score > np.quantile(score, 0.9)).astype(int)
    return X, y


def _fit(X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return PairwiseAUCClassifier(random_state=0, **params).fit(X, y)


CONFIGS = [
    {"hidden_layer_sizes": ()},  # exact, NumPy objective
    {"hidden_layer_sizes": (8,)},
    {"hidden_layer_sizes": (), "solver": "adam", "max_iter": 20},
    {"hidden_layer_sizes": (8,), "solver": "adam", "max_iter": 20},
]


@pytest.mark.parametrize("params", CONFIGS, ids=str)
def test_every_sparse_format_gives_the_same_model(params):
    X, y = _sparse_problem()
    reference = _fit(X, y, **params)
    scores = reference.decision_function(X)
    assert roc_auc_score(y, scores) > 0.9
    for convert in (sp.csc_matrix, sp.coo_matrix, sp.csr_array, sp.csc_array):
        other = convert(X)
        before = other.copy()
        model = _fit(other, y, **params)
        np.testing.assert_array_equal(model.decision_function(other), scores)
        np.testing.assert_array_equal(model.predict(X), reference.predict(X))
        # Nothing the user passed is modified.
        assert (abs(sp.csr_matrix(other) - sp.csr_matrix(before))).nnz == 0


def test_the_compiled_exact_objective_takes_sparse_rows():
    # 600 x 1400 pairs: above the NumPy objective's size, so the compiled
    # program runs with the first layer multiplied by SciPy.
    X, y = _sparse_problem(n=2000, d=150)
    y[:] = 0
    y[:600] = 1
    rng = np.random.default_rng(1)
    X = sp.csr_matrix(X.multiply(1 + y[:, None] * rng.random((1, X.shape[1]))))
    for hidden in [(), (8,)]:
        sparse = _fit(X, y, hidden_layer_sizes=hidden)
        dense = _fit(X.toarray(), y, hidden_layer_sizes=hidden)
        assert sparse.solver_ == "lbfgs"
        a = roc_auc_score(y, sparse.decision_function(X))
        b = roc_auc_score(y, dense.decision_function(X.toarray()))
        assert abs(a - b) < 0.01, (hidden, a, b)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_sparse_and_dense_linear_models_agree(solver):
    """The pairwise objective of a linear scorer ignores centring, and sparse
    and dense inputs scale columns alike, so the two fits learn one model."""
    X, y = _sparse_problem()
    params = {"hidden_layer_sizes": (), "solver": solver, "max_iter": 30}
    sparse = _fit(X, y, **params)
    dense = _fit(X.toarray(), y, **params)
    tol = 1e-6 if solver == "lbfgs" else 2e-3
    np.testing.assert_allclose(sparse.coefs_[0], dense.coefs_[0], rtol=tol, atol=tol)
    np.testing.assert_allclose(
        sparse.decision_function(X), dense.decision_function(X.toarray()), atol=tol * 50
    )


def test_dense_and_sparse_columns_are_scaled_alike():
    """Mostly-zero columns by their largest magnitude, indicators by their
    gap, other columns by their standard deviation; the same scales for the
    dense and the sparse matrix (the sparse one is not centred)."""
    rng = np.random.default_rng(0)
    n = 2000
    rare = (rng.random(n) < 0.01).astype(float)
    term = rng.random(n) * (rng.random(n) < 0.3)
    normal = rng.normal(size=n)
    coin = 3 + 2 * (rng.random(n) < 0.5)
    X = np.c_[rare, 3 * rare, term, normal, coin]
    dense = fit_standardizer(X, np.ones(n))
    sparse = fit_sparse_scaler(sp.csr_matrix(X), np.ones(n))
    expected = [1.0, 3.0, term.max(), normal.std(), 2.0]
    np.testing.assert_allclose(dense.scale, expected, rtol=1e-6)
    np.testing.assert_allclose(sparse.scale, expected, rtol=1e-6)
    np.testing.assert_array_equal(sparse.mean, 0.0)


def test_the_sparse_matrix_is_never_densified(monkeypatch):
    X, y = _sparse_problem()

    def refuse(*args, **kwargs):
        raise AssertionError("densified")

    for cls in (sp.csr_matrix, sp.csc_matrix, sp.coo_matrix):
        monkeypatch.setattr(cls, "toarray", refuse)
        monkeypatch.setattr(cls, "todense", refuse)
    for params in CONFIGS[:3]:
        model = _fit(X, y, **params)
        model.predict_proba(X)


def _onehot_table(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    levels = rng.choice(
        300,
        n,
        p=np.r_[1 / np.arange(1, 301) ** 1.1] / np.sum(1 / np.arange(1, 301) ** 1.1),
    )
    effect = rng.normal(0, 1.5, 300) * (rng.random(300) < 0.3)
    numeric = rng.normal(size=(n, 5))
    logit = effect[levels] + numeric[:, 0] - 0.5 * numeric[:, 1]
    y = (logit + rng.logistic(size=n) > np.quantile(logit, 0.9)).astype(int)
    frame = pd.DataFrame(numeric, columns=[f"x{i}" for i in range(5)])
    frame["level"] = levels.astype(str)
    return frame, y


def test_a_column_transformer_with_a_sparse_one_hot_encoder():
    frame, y = _onehot_table()
    encode = ColumnTransformer(
        [
            ("level", OneHotEncoder(handle_unknown="ignore"), ["level"]),
            ("numeric", StandardScaler(), [f"x{i}" for i in range(5)]),
        ]
    )
    assert sp.issparse(encode.fit_transform(frame))
    train, test = train_test_split(np.arange(len(y)), stratify=y, random_state=0)
    ours = make_pipeline(encode, PairwiseAUCClassifier(random_state=0))
    ours.fit(frame.iloc[train], y[train])
    lr = make_pipeline(encode, LogisticRegression(class_weight="balanced"))
    lr.fit(frame.iloc[train], y[train])
    auc = roc_auc_score(y[test], ours.decision_function(frame.iloc[test]))
    lr_auc = roc_auc_score(y[test], lr.decision_function(frame.iloc[test]))
    assert auc > lr_auc - 0.02, (auc, lr_auc)


def test_a_tfidf_pipeline():
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(400)])
    y = (rng.random(1200) < 0.1).astype(int)
    docs = []
    for label in y:
        p = np.ones(400)
        if label:
            p[:20] += 4  # positives use the first words more often
        chosen = rng.choice(words, rng.integers(5, 40), p=p / p.sum())
        docs.append(" ".join(chosen))
    docs = np.array(docs)
    train, test = train_test_split(np.arange(len(y)), stratify=y, random_state=0)
    model = make_pipeline(TfidfVectorizer(), PairwiseAUCClassifier(random_state=0))
    model.fit(docs[train], y[train])
    auc = roc_auc_score(y[test], model.predict_proba(docs[test])[:, 1])
    assert auc > 0.85, auc


def test_the_default_chooses_its_capacity_on_sparse_input():
    X, y = _sparse_problem()
    model = _fit(X, y)
    assert model.capacity_scores_ is not None
    assert len(model.capacity_candidates_) == 4
    assert model.hidden_layer_sizes_ in [(), (64,)]


def test_sparse_multiclass_and_weights():
    X, _ = _sparse_problem(n=900)
    y = np.arange(900) % 3
    weight = np.where(y == 2, 2.0, 1.0)
    model = _fit(X, y, hidden_layer_sizes=())
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = PairwiseAUCClassifier(hidden_layer_sizes=(), random_state=0)
        weighted.fit(X, y, sample_weight=weight)
    assert weighted.predict(X).shape == (900,)
    # A weight of 2 is a repeated row, on sparse rows too (to L-BFGS's stopping
    # tolerance: the two fits stop at nearby iterates).
    twice = np.flatnonzero(weight == 2)
    repeated = PairwiseAUCClassifier(hidden_layer_sizes=(), random_state=0).fit(
        sp.vstack([X, X[twice]]), np.r_[y, y[twice]]
    )
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-4, atol=1e-8
    )


def test_a_sparse_matrix_with_a_nan_is_refused():
    X, y = _sparse_problem()
    X = X.copy()
    X.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        PairwiseAUCClassifier(hidden_layer_sizes=()).fit(X, y)
