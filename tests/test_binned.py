"""All-pairs sums on a lattice of scores (skpairauc._binned), against brute
force over the pair matrix, and the exact fits that use them."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score

from skpairauc import PairwiseAUCClassifier, _binned, _device
from skpairauc import _host_objective as host
from skpairauc._losses import LOSSES, pair_block_sums, value_and_derivative


def _sums(loss, s_pos, w_pos, s_neg, w_neg, cache=None):
    f = value_and_derivative(loss, 1.0, np)
    return (
        _binned.binned_pair_sums(s_pos, w_pos, s_neg, w_neg, f, cache),
        pair_block_sums(s_pos, w_pos, s_neg, w_neg, f),
    )


def _close(got, expected, rtol):
    assert got[0] == pytest.approx(expected[0], rel=rtol)
    for g, e in zip(got[1:], expected[1:]):
        np.testing.assert_allclose(g, e, rtol=0, atol=rtol * np.abs(e).max())


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("scale", [0.05, 1.0, 20.0])
def test_sums_approach_the_pair_matrix(loss, scale):
    rng = np.random.default_rng(hash((loss, scale)) % 2**32)
    s_pos = scale * rng.normal(1.0, 1.0, 150)
    s_neg = scale * rng.normal(0.0, 1.0, 900)
    w_pos = rng.integers(0, 4, 150).astype(float)  # zero weights included
    w_neg = rng.uniform(0.1, 3.0, 900)
    got, expected = _sums(loss, s_pos, w_pos, s_neg, w_neg)
    # Linear interpolation's error, h**2 / 8 * |f''| per side (f'' <= 1/4 for
    # the logistic loss, 2 for the square). The hinge losses' kinks make
    # theirs first order in h near the margin, and the hinge's derivative
    # steps there: the fits use their exact sort-based sums instead.
    if loss in ("logistic", "square"):
        _close(got, expected, 1e-5 if loss == "logistic" else 1e-4)
    else:
        assert got[0] == pytest.approx(expected[0], rel=1e-3)


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_scores_on_the_lattice_give_the_pair_matrix_exactly(loss):
    # A score on a lattice point is deposited whole on it, so every pair's
    # difference is a lag of the kernel: the convolution's indexing is exact.
    rng = np.random.default_rng(3)
    s_pos = rng.integers(-300, 500, 60) * _binned.SPACING
    s_neg = rng.integers(-500, 300, 80) * _binned.SPACING
    w_pos, w_neg = rng.uniform(0.5, 2.0, 60), rng.uniform(0.5, 2.0, 80)
    got, expected = _sums(loss, s_pos, w_pos, s_neg, w_neg)
    # Round-off of FFTs over a few thousand lattice points.
    _close(got, expected, 1e-10)


def test_integer_weights_sum_as_repeated_rows():
    rng = np.random.default_rng(4)
    s_pos, s_neg = rng.normal(1, 2, 40), rng.normal(0, 2, 70)
    k_pos, k_neg = rng.integers(0, 4, 40), rng.integers(0, 4, 70)
    f = value_and_derivative("logistic", 1.0, np)
    weighted = _binned.binned_pair_sums(
        s_pos, k_pos.astype(float), s_neg, k_neg.astype(float), f
    )
    rep_pos, rep_neg = np.repeat(s_pos, k_pos), np.repeat(s_neg, k_neg)
    repeated = _binned.binned_pair_sums(
        rep_pos, np.ones(len(rep_pos)), rep_neg, np.ones(len(rep_neg)), f
    )
    assert weighted[0] == pytest.approx(repeated[0], rel=1e-12)
    # A row's gradient is its repeats' gradients summed.
    rows_pos = np.repeat(np.arange(40), k_pos)
    np.testing.assert_allclose(
        weighted[1], np.bincount(rows_pos, repeated[1], 40), atol=1e-12
    )


def test_a_range_wider_than_the_lattice_doubles_the_spacing():
    h, first, n_bins = _binned._lattice(-1e4, 1e4)
    assert n_bins <= _binned.MAX_BINS
    assert h > _binned.SPACING
    assert first * h <= -1e4 and (first + n_bins - 1) * h >= 1e4
    # Far from 0 the logistic loss is linear, which interpolation keeps:
    # only near-tied pairs see the coarser lattice (here h = 2**-3).
    rng = np.random.default_rng(5)
    s_pos, s_neg = 150 * rng.normal(size=50), 150 * rng.normal(size=60)
    assert _binned._lattice(min(*s_pos, *s_neg), max(*s_pos, *s_neg))[0] == 2**-3
    got, expected = _sums("logistic", s_pos, np.ones(50), s_neg, np.ones(60))
    _close(got, expected, 1e-4)


def test_the_cache_keeps_the_newest_lattices_and_changes_nothing():
    rng = np.random.default_rng(6)
    s_pos, s_neg = rng.normal(1, 1, 30), rng.normal(0, 1, 50)
    w_pos, w_neg = np.ones(30), np.ones(50)
    cache = {}
    first, _ = _sums("logistic", s_pos, w_pos, s_neg, w_neg, cache)
    again, _ = _sums("logistic", s_pos, w_pos, s_neg, w_neg, cache)
    assert len(cache) == 1
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    # Wider score ranges need longer lattices; the oldest ones leave.
    for scale in range(2, 4 + _binned.KEPT_LATTICES):
        _sums("logistic", 10 * scale * s_pos, w_pos, 10 * scale * s_neg, w_neg, cache)
    assert len(cache) == _binned.KEPT_LATTICES
    assert (_binned.SPACING, 256) not in cache
    for a, b in zip(first, _sums("logistic", s_pos, w_pos, s_neg, w_neg, cache)[0]):
        np.testing.assert_array_equal(a, b)


def test_lattice_lengths_step_by_at_most_a_quarter():
    lengths = [_binned._round_bins(m) for m in range(2, _binned.MAX_BINS + 1)]
    assert all(m <= n for m, n in zip(range(2, _binned.MAX_BINS + 1), lengths))
    distinct = sorted(set(lengths))
    assert distinct[:4] == [256, 512, 768, 1024]
    assert distinct[-1] == _binned.MAX_BINS
    assert all(b <= 1.25 * a for a, b in zip(distinct[3:], distinct[4:]))
    assert len(distinct) == 16  # four per octave from 1,024 to 8,192


def test_the_host_objective_bins_only_tasks_above_the_pair_limit(monkeypatch):
    calls = []
    original = _binned.binned_pair_sums

    def spy(*args, **kwargs):
        calls.append(len(args[0]) * len(args[2]))
        return original(*args, **kwargs)

    monkeypatch.setattr(host, "binned_pair_sums", spy)
    X, y = make_classification(1500, 5, weights=[0.7], random_state=0)
    PairwiseAUCClassifier(hidden_layer_sizes=(), random_state=0).fit(X, y)
    big = calls[:]
    assert big and min(big) > host.HOST_MAX_PAIRS
    calls.clear()
    PairwiseAUCClassifier(hidden_layer_sizes=(), random_state=0).fit(X[:400], y[:400])
    assert not calls


@pytest.mark.parametrize("hidden", [(), (8,)])
def test_a_binned_fit_matches_the_pair_matrix_fit(monkeypatch, hidden):
    # The same exact fit with every task summed over the pair matrix (the
    # limit raised): the models rank held-out rows alike.
    X, y = make_classification(2400, 8, weights=[0.8], random_state=1)
    X_test, y_test = X[1600:], y[1600:]
    X, y = X[:1600], y[:1600]
    params = dict(hidden_layer_sizes=hidden, alpha=1.0, random_state=0)
    binned = PairwiseAUCClassifier(**params).fit(X, y)
    monkeypatch.setattr(host, "HOST_MAX_PAIRS", 10**9)
    dense = PairwiseAUCClassifier(**params).fit(X, y)
    s_binned = binned.decision_function(X_test)
    s_dense = dense.decision_function(X_test)
    auc_binned = roc_auc_score(y_test, s_binned)
    auc_dense = roc_auc_score(y_test, s_dense)
    assert auc_binned == pytest.approx(auc_dense, abs=2e-3)
    assert np.corrcoef(s_binned, s_dense)[0, 1] > 0.99


@pytest.mark.parametrize(
    "platforms, expected", [("cpu", True), ("cuda", False), ("tpu,cpu", False)]
)
def test_exact_fits_run_on_the_host_when_the_device_is_the_cpu(
    monkeypatch, platforms, expected
):
    monkeypatch.setenv("JAX_PLATFORMS", platforms)
    assert _device.exact_on_host() is expected


def test_a_large_exact_fit_on_the_cpu_imports_no_jax():
    # 1,000 x 3,000 pairs, far above the pair matrix's limit: binned sums.
    code = (
        "import sys, numpy as np\n"
        "from sklearn.datasets import make_classification\n"
        "from skpairauc import PairwiseAUCClassifier\n"
        "X, y = make_classification(4000, 5, weights=[0.75], random_state=0)\n"
        "m = PairwiseAUCClassifier(hidden_layer_sizes=(8,), solver='lbfgs')\n"
        "m.fit(X, y)\n"
        "assert m.solver_ == 'lbfgs'\n"
        "print('jax' in sys.modules)\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "JAX_PLATFORMS"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_the_default_on_wide_large_data_fits_one_exact_linear_scorer(monkeypatch):
    # Wide data (no MLP in the grid) with more pairs than cross-validation
    # serves: one exact linear fit at the default penalty, no folds.
    from skpairauc import _capacity

    monkeypatch.setattr(_capacity, "AUTO_MLP_MAX_FEATURES", 4)
    monkeypatch.setattr(_capacity, "AUTO_EXACT_MAX_PAIRS", 10_000)
    X, y = make_classification(1200, 6, weights=[0.8], random_state=0)
    clf = PairwiseAUCClassifier(random_state=0).fit(X, y)
    assert clf.solver_ == "lbfgs"
    assert clf.hidden_layer_sizes_ == () and clf.alpha_ == 1.0
    assert clf.capacity_scores_ is None
    # Below that many pairs, both penalties are cross-validated as before.
    monkeypatch.setattr(_capacity, "AUTO_EXACT_MAX_PAIRS", 10**9)
    clf = PairwiseAUCClassifier(random_state=0).fit(X, y)
    assert clf.solver_ == "lbfgs" and len(clf.capacity_scores_) == 2
