"""Compiled training programs stay bounded, and feature padding changes nothing
(issue 11).

Before the bound, every compiled XLA program stayed loaded, each with a few
hundred memory mappings, and a process that fitted many feature counts aborted
at the kernel's ``vm.max_map_count``. Now at most ``max_programs`` programs
stay loaded (:mod:`skpairauc._programs`) and feature counts are padded with
zero columns to a few buckets (:func:`skpairauc._layout.feature_bucket`).
"""

import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score

from skpairauc import (
    PairwiseAUCClassifier,
    _layout,
    _programs,
    clear_compiled_programs,
    set_max_compiled_programs,
)

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def restore_bound():
    """Put the process's bound back (the default, unless the environment set
    one) after a test that changes it."""
    previous = _programs._max_programs
    yield
    set_max_compiled_programs(previous)


@pytest.fixture(scope="module")
def five_features():
    # 5 features: the training copy has 8 columns (3 zero columns) when padded.
    X, y = make_classification(
        n_samples=240,
        n_features=5,
        n_informative=3,
        n_redundant=0,
        weights=[0.8],
        random_state=0,
    )
    return X, y


def _fit(X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return PairwiseAUCClassifier(random_state=0, **params).fit(X, y)


def _fit_both_ways(monkeypatch, X, y, **params):
    """The same fit with feature padding (the default) and without."""
    padded = _fit(X, y, **params)
    monkeypatch.setattr(_layout, "FEATURE_PADDING_MAX_ELEMENTS", 0)
    assert _layout.feature_bucket(X.shape[1], 256) == X.shape[1]
    unpadded = _fit(X, y, **params)
    return padded, unpadded


@pytest.mark.parametrize("hidden", [(), (16,)], ids=["linear", "mlp"])
@pytest.mark.parametrize(
    "solver, max_iter",
    # L-BFGS stopped after 20 iterations and adam after one epoch (50 steps):
    # over a long run both amplify float32 round-off (the padded and unpadded
    # matrix products add in a different order) as they would any
    # perturbation (adam's normalised steps do so fastest: an MLP(16) differed
    # by 3e-8 of its largest score after 50 steps, 4e-4 after 250); see the
    # next test for a full run.
    [("lbfgs", 20), ("adam", 1)],
)
def test_feature_padding_changes_nothing(
    monkeypatch, five_features, hidden, solver, max_iter
):
    X, y = five_features
    assert _layout.feature_bucket(X.shape[1], _layout.bucket_length(len(y))) == 8
    padded, unpadded = _fit_both_ways(
        monkeypatch, X, y, hidden_layer_sizes=hidden, solver=solver, max_iter=max_iter
    )
    for model in (padded, unpadded):
        # The padded rows of the first layer are stripped from the model.
        assert model.coefs_[0].shape == (X.shape[1], hidden[0] if hidden else 1)
        assert model.n_features_in_ == X.shape[1]
    assert padded.n_iter_ == unpadded.n_iter_
    scores, reference = padded.decision_function(X), unpadded.decision_function(X)
    scale = np.max(np.abs(reference))
    np.testing.assert_allclose(scores, reference, rtol=1e-5, atol=1e-5 * scale)
    np.testing.assert_allclose(padded.loss_curve_, unpadded.loss_curve_, rtol=1e-5)
    np.testing.assert_array_equal(padded.predict(X), unpadded.predict(X))
    for a, b in zip(padded.coefs_, unpadded.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * np.max(np.abs(b)))


def test_feature_padding_converges_to_the_same_model(monkeypatch, five_features):
    # A full L-BFGS run of an MLP (about 100 iterations): round-off grows along
    # the path, but both reach the same objective and ranking.
    X, y = five_features
    padded, unpadded = _fit_both_ways(
        monkeypatch, X, y, hidden_layer_sizes=(16,), solver="lbfgs"
    )
    assert padded.coefs_[0].shape == unpadded.coefs_[0].shape == (5, 16)
    assert padded.loss_curve_[-1] == pytest.approx(unpadded.loss_curve_[-1], rel=1e-3)
    a, b = padded.decision_function(X), unpadded.decision_function(X)
    assert roc_auc_score(y, a) == pytest.approx(roc_auc_score(y, b), abs=2e-3)
    assert np.mean(padded.predict(X) == unpadded.predict(X)) >= 0.98


def test_the_default_estimator_strips_the_padding(five_features):
    X, y = five_features
    model = PairwiseAUCClassifier(random_state=0).fit(X, y)
    assert model.coefs_[0].shape[0] == X.shape[1]


def _data(n_features, n_samples=200, seed=0):
    rng = np.random.default_rng(seed + n_features)
    y = np.zeros(n_samples, dtype=int)
    y[: n_samples // 5] = 1
    X = rng.normal(size=(n_samples, n_features))
    X[:, 0] += y
    return X, y


# Feature counts in six different buckets (8, 10, 12, 14, 20 and 24 columns),
# so that each needs programs of its own.
MANY_SHAPES = (3, 9, 11, 13, 17, 21)


def test_the_bound_holds_over_many_shapes(restore_bound, compiled_exact):
    set_max_compiled_programs(3)
    assert _programs.n_loaded() <= 3
    evicted = _programs.STATS["evicted"]
    for n_features in MANY_SHAPES:
        X, y = _data(n_features)
        _fit(X, y, hidden_layer_sizes=(), solver="lbfgs", max_iter=5)
        assert _programs.n_loaded() <= 3
        _fit(X, y, hidden_layer_sizes=(8,), solver="adam", max_iter=2)
        assert _programs.n_loaded() <= 3
    # 18 programs (3 per shape) went through a cache of 3, which may have held
    # 3 of them already: at least 12 evictions.
    assert _programs.STATS["evicted"] - evicted >= len(MANY_SHAPES) * 3 - 6
    set_max_compiled_programs(1)
    assert _programs.n_loaded() <= 1


def test_a_bound_below_a_fits_programs_still_fits(restore_bound):
    # A stochastic fit uses two programs (optimizer init and the epoch loop);
    # with room for one, the one evicted is loaded again when needed.
    X, y = _data(6)
    bounded = None
    for bound in (24, 1):
        set_max_compiled_programs(bound)
        model = _fit(X, y, hidden_layer_sizes=(8,), solver="adam", max_iter=3)
        assert _programs.n_loaded() <= bound
        if bounded is None:
            bounded = model.decision_function(X)
    np.testing.assert_allclose(model.decision_function(X), bounded, rtol=1e-6)


def test_bound_must_be_positive(restore_bound):
    with pytest.raises(ValueError, match="at least 1"):
        set_max_compiled_programs(0)


def test_user_jitted_functions_keep_their_caches(restore_bound, compiled_exact):
    traces = []

    @jax.jit
    def user_function(x):
        traces.append(x.shape)  # runs only when JAX traces the function
        return jnp.sin(x) * 2.0 + 1.0

    x = jnp.arange(4.0)
    expected = np.asarray(user_function(x))
    assert len(traces) == 1
    size = user_function._cache_size()

    evicted = _programs.STATS["evicted"]
    set_max_compiled_programs(2)
    for n_features in MANY_SHAPES[:4]:
        X, y = _data(n_features)
        _fit(X, y, hidden_layer_sizes=(), solver="lbfgs", max_iter=3)
        np.testing.assert_array_equal(user_function(x), expected)
    assert _programs.STATS["evicted"] > evicted
    clear_compiled_programs()
    assert _programs.n_loaded() == 0
    np.testing.assert_array_equal(user_function(x), expected)

    assert len(traces) == 1  # never traced again
    assert user_function._cache_size() == size


def test_clear_then_fit_again(five_features, compiled_exact):
    X, y = five_features
    params = dict(hidden_layer_sizes=(), solver="lbfgs")
    first = _fit(X, y, **params).decision_function(X)
    clear_compiled_programs()
    assert _programs.n_loaded() == 0
    compiled = _programs.STATS["compiled"]
    again = _fit(X, y, **params).decision_function(X)
    np.testing.assert_array_equal(again, first)
    # Loaded from the disk cache (the session's, see conftest.py), not compiled.
    if _programs.cache_dir() is not None:
        assert _programs.STATS["compiled"] == compiled


ENV_BOUND_CHILD = textwrap.dedent(
    """
    import json, warnings

    import numpy as np

    from skpairauc import PairwiseAUCClassifier, _programs
    from skpairauc import _host_objective

    # Every exact fit compiles (these small ones would run in NumPy): the
    # bound is on compiled programs.
    _host_objective.HOST_MAX_PAIRS = 0
    _host_objective.exact_on_host = lambda: False

    warnings.simplefilter("ignore")
    loaded = []
    for d in (3, 9, 11, 13):  # four feature buckets: four programs
        X = np.random.default_rng(d).normal(size=(100, d))
        y = (X[:, 0] > 0.5).astype(int)
        PairwiseAUCClassifier((), solver="lbfgs", max_iter=3).fit(X, y)
        loaded.append(_programs.n_loaded())
    print(json.dumps({"loaded": loaded, "stats": dict(_programs.STATS)}))
    """
)


@pytest.mark.slow
def test_environment_variable_sets_the_bound(tmp_path):
    env = dict(os.environ, SKPAIRAUC_MAX_PROGRAMS="2", JAX_PLATFORMS="cpu")
    env["SKPAIRAUC_CACHE_DIR"] = str(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", ENV_BOUND_CHILD],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["loaded"] == [1, 2, 2, 2]
    assert result["stats"]["compiled"] == 4 and result["stats"]["evicted"] == 2


# --------------------------------------------------------------------------- #
# The sweep, in a process of its own
# --------------------------------------------------------------------------- #
SWEEP_CHILD = textwrap.dedent(
    """
    import json, os, sys, warnings

    import numpy as np

    from skpairauc import PairwiseAUCClassifier, _programs
    from skpairauc import _host_objective

    # Every exact fit compiles (these small ones would run in NumPy): the
    # bound is on compiled programs.
    _host_objective.HOST_MAX_PAIRS = 0
    _host_objective.exact_on_host = lambda: False

    def state(n_fits, d):
        with open("/proc/self/maps", "rb") as file:
            maps = sum(1 for _ in file)
        with open("/proc/self/statm") as file:
            pages = int(file.read().split()[1])
        rss_mb = pages * os.sysconf("SC_PAGE_SIZE") / 2**20
        return {"fit": n_fits, "d": d, "maps": maps, "rss_mb": rss_mb,
                "stats": dict(_programs.STATS), "n_loaded": _programs.n_loaded()}

    warnings.simplefilter("ignore")
    d_values = json.loads(sys.argv[1])
    reference_fit = int(sys.argv[2])
    n_fits, reference = 0, None
    for d in d_values:
        rng = np.random.default_rng(d)
        y = np.zeros(300, dtype=int)
        y[:60] = 1
        X = rng.normal(size=(300, d))
        X[:, 0] += y
        for params in ({}, {"hidden_layer_sizes": (64,)}):
            PairwiseAUCClassifier(random_state=0, **params).fit(X, y)
            n_fits += 1
            if n_fits == reference_fit:
                reference = state(n_fits, d)
    print(json.dumps({"reference": reference, "last": state(n_fits, d)}))
    """
)

# Every d up to the reference fit, then every 25th: see the test's docstring.
SWEEP_D = [*range(2, 27), *range(50, 401, 25)]
REFERENCE_FIT = 50

# No absolute margin is needed on top of 1.2 x: over the full sweep of the
# benchmark (every d to 400) the last fit had 1.01 x the mappings and 1.05 x
# the resident memory of the 50th (what grows is the data, the weights and the
# allocator's high-water mark, a few tens of MiB). A compiled program holds
# about 75 mappings, so 1.2 x (some 650 mappings) would be exceeded by 9 more
# programs than the bound keeps.


@pytest.mark.slow
def test_memory_stays_flat_over_a_sweep_of_feature_counts(tmp_path):
    """The issue's sweep: ``PairwiseAUCClassifier()`` and ``(64,)`` on 300 x d
    data in one fresh process with a fresh disk cache; before the bound such a
    process aborted after about 170 programs. The mappings and the resident
    memory after the last fit must be at most 1.2 x those after the 50th
    (d = 26, the bound of 24 programs being full by then).

    To stay within a few minutes on two busy cores the sweep takes every d
    from 2 to 26, then every 25th d from 50 to 400 (80 fits, which still
    compile about 45 programs after the 50th fit, each needing a new feature
    bucket). ``benchmarks/bench_programs.py`` runs every d from 2 to 400
    (798 fits) and reports the same figures after each fit."""
    env = dict(os.environ)
    env["SKPAIRAUC_CACHE_DIR"] = str(tmp_path / "cache")
    env.pop("SKPAIRAUC_MAX_PROGRAMS", None)  # the default bound
    env.setdefault("JAX_PLATFORMS", "cpu")
    # On a busy machine the host L-BFGS of the MLP fits (28,800 parameters at
    # d = 400) can stall for tens of seconds per fit in multi-threaded
    # OpenBLAS dot products; one BLAS thread keeps this test's time stable
    # and changes nothing it measures (the thread count is fixed per process).
    env["OPENBLAS_NUM_THREADS"] = "1"
    proc = subprocess.run(
        [sys.executable, "-c", SWEEP_CHILD, json.dumps(SWEEP_D), str(REFERENCE_FIT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    reference, last = result["reference"], result["last"]
    assert reference["d"] == 26 and last["fit"] == 2 * len(SWEEP_D)
    assert reference["n_loaded"] == last["n_loaded"] == _programs.DEFAULT_MAX_PROGRAMS
    # Every program loaded at the reference was replaced since (at least).
    compiled = last["stats"]["compiled"] - reference["stats"]["compiled"]
    assert compiled >= _programs.DEFAULT_MAX_PROGRAMS, result
    assert last["stats"]["evicted"] > reference["stats"].get("evicted", 0)
    assert last["maps"] <= 1.2 * reference["maps"], result
    assert last["rss_mb"] <= 1.2 * reference["rss_mb"], result
