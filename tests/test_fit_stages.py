"""The stages of ``fit`` and the defects the restructure fixed.

A failed fit leaves the estimator as it was; default early stopping never turns
a valid fit into an error; a fit in a forked child fails at once instead of
hanging; registries keep unknown names out; the loop's stopping rule, best
weights and interruption; NumPy prediction equals the JAX forward pass used in
training; both branches of the training buffer allocation.
"""

import multiprocessing
import threading
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from skpairauc import PairwiseAUCClassifier, _layout, _solvers, _stochastic, _training
from skpairauc._monitor import StoppingMonitor
from skpairauc._optimizers import OPTIMIZERS, make_optimizer
from skpairauc._scaling import fit_standardizer
from skpairauc._scorers import ACTIVATIONS, forward, init_scorer


def _boom(*args, **kwargs):
    raise RuntimeError("solver failed")


# ------------------------------------------------------------ policy
def test_default_early_stopping_with_three_positives_trains_on_all_rows():
    # 10,001 rows, 3 positives: a 10% split cannot hold out a positive. The user
    # never asked for early stopping, so the fit must work, without it.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10_001, 3))
    y = np.zeros(len(X), int)
    y[:3] = 1
    X[:3] += 2.0
    clf = PairwiseAUCClassifier(solver="adam", max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.early_stopping_ is False
    assert clf.validation_scores_ is None


def test_explicit_early_stopping_that_cannot_validate_is_an_error(monkeypatch):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 3)), np.r_[np.ones(3, int), np.zeros(197, int)]
    monkeypatch.setattr(_training, "train_stochastic", _boom)
    clf = PairwiseAUCClassifier(solver="adam", early_stopping=True)
    with pytest.raises(ValueError, match="validation_fraction=0.1 leaves fewer"):
        clf.fit(X, y)


# ------------------------------------------------------------ failed fits
def test_a_failed_first_fit_leaves_an_unfitted_estimator(imbalanced, monkeypatch):
    X, y = imbalanced
    monkeypatch.setattr(_training, "train_exact", _boom)
    clf = PairwiseAUCClassifier()
    with pytest.raises(RuntimeError, match="solver failed"):
        clf.fit(X, y)
    assert not any(name.endswith("_") for name in vars(clf))
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_a_failed_refit_keeps_the_previous_model_whole(imbalanced, monkeypatch):
    X, y = imbalanced
    clf = PairwiseAUCClassifier(random_state=0).fit(X, y)
    before = {k: v for k, v in vars(clf).items()}
    proba = clf.predict_proba(X)
    monkeypatch.setattr(_training, "train_stochastic", _boom)
    clf.set_params(solver="adam")
    with pytest.raises(RuntimeError, match="solver failed"):
        clf.fit(X[:, :3], y)  # also a new n_features_in_, set by validation
    assert clf.n_features_in_ == X.shape[1]
    assert clf.solver_ == "lbfgs"
    assert set(vars(clf)) == set(before)
    for name in ("coefs_", "intercepts_", "loss_curve_"):
        assert getattr(clf, name) is before[name]
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


# ------------------------------------------------------------ fork
def _fit_in_child(queue, X, y, params):
    try:
        clf = PairwiseAUCClassifier(**params).fit(X, y)
        queue.put(clf.decision_function(X))
    except RuntimeError as error:
        queue.put(str(error))


def _fit_in_forked_child(X, y, params):
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    with warnings.catch_warnings():
        # Python warns that fork() in a multi-threaded process may deadlock:
        # that is the very case this guards.
        warnings.simplefilter("ignore", DeprecationWarning)
        child = context.Process(target=_fit_in_child, args=(queue, X, y, params))
        child.start()
    child.join(timeout=120)
    alive = child.is_alive()
    if alive:
        child.kill()
    assert not alive, "the fit in the forked child hung"
    return queue.get(timeout=5)


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="no fork here"
)
def test_a_fit_in_a_child_forked_after_jax_fails_at_once(imbalanced):
    X, y = imbalanced
    adam = dict(solver="adam", max_iter=2)
    PairwiseAUCClassifier(**adam).fit(X, y)  # JAX is running in this process
    message = _fit_in_forked_child(X, y, adam)
    assert isinstance(message, str) and "fork" in message and "spawn" in message


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="no fork here"
)
def test_a_small_exact_fit_trains_in_a_child_forked_after_jax(imbalanced):
    # It runs the NumPy objective: no JAX in the child, nothing to hang on.
    X, y = imbalanced
    PairwiseAUCClassifier(solver="adam", max_iter=2).fit(X, y)  # JAX running
    scores = _fit_in_forked_child(X, y, dict(random_state=0))
    assert not isinstance(scores, str), scores
    expected = PairwiseAUCClassifier(random_state=0).fit(X, y).decision_function(X)
    np.testing.assert_array_equal(scores, expected)


# ------------------------------------------------------------ registries
def test_parameter_constraints_read_the_registries():
    constraints = PairwiseAUCClassifier._parameter_constraints
    assert constraints["activation"][0].options == set(ACTIVATIONS)
    assert constraints["solver"][0].options == {"auto", "lbfgs", *OPTIMIZERS}


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(solver="rmsprop"), "solver"),
        (dict(activation="gelu"), "activation"),
        (dict(loss="exponential"), "loss"),
    ],
)
def test_unknown_names_never_reach_the_code(imbalanced, params, match, monkeypatch):
    X, y = imbalanced
    monkeypatch.setattr(_training, "train_exact", _boom)
    monkeypatch.setattr(_training, "train_stochastic", _boom)
    with pytest.raises(ValueError, match=match):
        PairwiseAUCClassifier(**params).fit(X, y)
    # And below the estimator, an unknown name is an error, not a default.
    with pytest.raises(KeyError):
        make_optimizer("rmsprop", 0.9)
    with pytest.raises(KeyError):
        forward(np, init_scorer(None, 2, (), 1, "relu"), np.ones((1, 2)), "gelu")


# ------------------------------------------------------------ forward passes
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_numpy_prediction_equals_the_jax_forward_pass(activation, dtype):
    rng = np.random.default_rng(0)
    params = init_scorer(rng, 5, (7, 3), 2, activation)
    X = rng.normal(scale=3.0, size=(50, 5)).astype(dtype)
    expected = forward(np, params, X.astype(np.float32), activation)
    # Training casts X to float32 and runs the jitted forward pass.
    trained = jax.jit(lambda p, x: forward(jnp, p, x, activation))(
        params, X.astype(np.float32)
    )
    np.testing.assert_allclose(np.asarray(trained), expected, rtol=2e-5, atol=2e-5)
    # The estimator's prediction path, on X of either dtype.
    clf = PairwiseAUCClassifier((7, 3), activation=activation)
    clf.coefs_, clf.intercepts_ = params["coefs"], [*params["intercepts"], 0]
    np.testing.assert_allclose(clf._raw_scores(X), trained, rtol=2e-5, atol=2e-5)


def test_dropout_is_inverted_and_only_in_training():
    rng = np.random.default_rng(0)
    params = init_scorer(rng, 4, (256,), 1, "relu")
    X = rng.normal(size=(64, 4)).astype(np.float32)
    plain = forward(jnp, params, X, "relu")
    # Without a key (prediction, validation) dropout is off.
    np.testing.assert_array_equal(
        forward(jnp, params, X, "relu", dropout_rate=0.5), plain
    )
    key = jax.random.key(0)
    hidden = np.maximum(X @ params["coefs"][0] + params["intercepts"][0], 0)
    dropped = forward(
        jnp,
        {**params, "coefs": [params["coefs"][0], np.eye(256)]},
        X,
        "relu",
        dropout_rate=0.5,
        key=key,
    )
    dropped = np.asarray(dropped)
    kept = dropped != 0
    # About half the units are dropped; the kept ones are scaled by 1 / 0.5.
    assert 0.4 < kept[hidden > 0].mean() < 0.6
    np.testing.assert_allclose(dropped[kept], 2 * hidden[kept], rtol=1e-5)
    # The same key gives the same mask, another key another one.
    again = forward(
        jnp,
        {**params, "coefs": [params["coefs"][0], np.eye(256)]},
        X,
        "relu",
        dropout_rate=0.5,
        key=key,
    )
    np.testing.assert_array_equal(again, dropped)


def test_a_dropout_fit_differs_from_a_plain_fit_and_is_reproducible(imbalanced):
    X, y = imbalanced
    settings = dict(hidden_layer_sizes=(16,), solver="adam", max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = PairwiseAUCClassifier(**settings).fit(X, y)
        first = PairwiseAUCClassifier(dropout=0.3, **settings).fit(X, y)
        second = PairwiseAUCClassifier(dropout=0.3, **settings).fit(X, y)
    assert not np.array_equal(plain.coefs_[0], first.coefs_[0])
    np.testing.assert_array_equal(first.coefs_[0], second.coefs_[0])


# ------------------------------------------------------------ buffers
@pytest.mark.parametrize("mapped", [True, False])
def test_both_training_buffer_allocations(monkeypatch, mapped):
    # Large buffers are anonymous mappings where the OS has them; small ones
    # (or any, without MAP_ANONYMOUS) come from an over-allocated NumPy array.
    if mapped and not hasattr(_layout.mmap, "MAP_ANONYMOUS"):
        pytest.skip("no anonymous mappings on this OS")
    monkeypatch.setattr(_layout, "_MAPPED_MIN_BYTES", 0 if mapped else 1)
    if not mapped:
        monkeypatch.delattr(_layout.mmap, "MAP_ANONYMOUS", raising=False)
    mapped_flags = []
    real_mmap = _layout.mmap.mmap

    def spy(*args, **kwargs):
        mapped_flags.append(kwargs.get("flags"))
        return real_mmap(*args, **kwargs)

    monkeypatch.setattr(_layout.mmap, "mmap", spy)
    X = np.arange(60.0).reshape(20, 3)
    rows = np.array([3, 1, 4, 1, 5])
    out = _layout.padded_rows(X, rows, 8)
    assert len(mapped_flags) == (1 if mapped else 0)
    assert out.dtype == np.float32 and out.shape == (8, 3)
    assert out.ctypes.data % 64 == 0
    np.testing.assert_array_equal(out[:5], X[rows])
    np.testing.assert_array_equal(out[5:], 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threaded_block_copy_equals_one_standardised_gather(monkeypatch, dtype):
    # Large copies go in blocks, split between threads; the result must be
    # X[rows] standardised, padded with zero rows and columns, whatever the
    # split (here 3 workers, blocks of 4 rows, so blocks straddle workers).
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((50, 5)) * [1, 10, 1e3, 1e-3, 1] + 7).astype(dtype)
    rows = rng.permutation(50)[:37]
    standardizer = fit_standardizer(X, np.ones(50))
    expected = (
        (X[rows].astype(np.float64) - standardizer.mean) / standardizer.scale
    ).astype(np.float32)
    monkeypatch.setattr(_layout, "COPY_BLOCK_ELEMENTS", 4 * 5)  # 4 rows
    monkeypatch.setattr(_layout, "_n_copy_workers", lambda n_elements: 3)
    out = _layout.padded_rows(X, rows, 40, n_columns=8, standardizer=standardizer)
    assert out.shape == (40, 8)
    np.testing.assert_allclose(out[:37, :5], expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(out[37:], 0)
    np.testing.assert_array_equal(out[:, 5:], 0)


def test_own_threads_follow_the_cores_and_omp_num_threads(monkeypatch):
    # joblib's workers get OMP_NUM_THREADS = cores // n_jobs; skpairauc's own
    # threads (fold fits, the copy) follow it, and the cores, whichever is less.
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    cores = _layout.available_cores()
    assert cores >= 1
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert _layout.available_cores() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", str(cores + 5))
    assert _layout.available_cores() == cores
    for ignored in ("", "0", "two"):
        monkeypatch.setenv("OMP_NUM_THREADS", ignored)
        assert _layout.available_cores() == cores
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert _layout._n_copy_workers(1 << 30) == 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scoring_rows_by_index_equals_scoring_their_copy(dtype):
    # The decision and the fold scores gather their rows chunk by chunk
    # instead of copying X[rows]; chunks of 7 rows make several here.
    from skpairauc._scorers import score_rows

    rng = np.random.default_rng(2)
    X = rng.standard_normal((60, 5)).astype(dtype)
    params = init_scorer(rng, 5, (4,), 1, "relu")
    rows = rng.permutation(60)[:23]
    by_index = score_rows(params, X, "relu", rows=rows, chunk=7)
    copied = score_rows(params, X[rows], "relu")
    np.testing.assert_allclose(by_index, copied, rtol=1e-6, atol=1e-6)
    assert by_index.shape == (23, 1) and by_index.dtype == np.float64
    assert score_rows(params, X, "relu", rows=rows[:0]).shape == (0, 1)


def test_standardizer_of_most_rows_reads_all_rows_with_zero_weights():
    # Rows that are at least half of X are summarised in one ordered pass
    # over X, the other rows weighted zero: the same statistics as the rows.
    rng = np.random.default_rng(1)
    X = rng.standard_normal((400, 6)) * 3 + 100
    w = rng.uniform(0.5, 2.0, 400)
    rows = np.sort(rng.permutation(400)[:300])
    both = fit_standardizer(X, w, rows)
    alone = fit_standardizer(X[rows], w[rows])
    np.testing.assert_allclose(both.mean, alone.mean, rtol=1e-12)
    np.testing.assert_allclose(both.scale, alone.scale, rtol=1e-9)
    # Chunks of 7 rows (sums accumulated over many chunks): the same.
    chunked = fit_standardizer(X, w, rows, chunk=7)
    np.testing.assert_allclose(chunked.mean, alone.mean, rtol=1e-12)
    np.testing.assert_allclose(chunked.scale, alone.scale, rtol=1e-9)
    # A row left out whose square overflows must not spoil the statistics of
    # the rows (its zero weight times an infinite square is NaN): they are
    # then taken again over the rows themselves.
    X_huge = X.copy()
    left_out = np.setdiff1d(np.arange(400), rows)[0]
    X_huge[left_out] = 1e300
    huge = fit_standardizer(X_huge, w, rows)
    np.testing.assert_allclose(huge.mean, alone.mean, rtol=1e-9)
    np.testing.assert_allclose(huge.scale, alone.scale, rtol=1e-9)
    # A few rows (a gather) give the same as those rows alone too.
    few = rows[:50]
    np.testing.assert_allclose(
        fit_standardizer(X, w, few).scale,
        fit_standardizer(X[few], w[few]).scale,
        rtol=1e-9,
    )


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_every_optimizer_starts_from_zeros(name, momentum):
    # init_optimizer_state builds zeros from a trace of init instead of
    # compiling it; that is right only while every registered optimizer's
    # init is all zeros, which this checks against optax itself.
    params = {
        "coefs": [jnp.ones((3, 2), jnp.float32), jnp.ones((2, 1), jnp.float32)],
        "intercepts": [jnp.ones(2, jnp.float32)],
    }
    config = _solvers.StochasticConfig(
        activation="relu",
        loss="logistic",
        margin=1.0,
        n_pos_per_batch=2,
        n_neg_per_batch=2,
        optimizer=name,
        momentum=momentum,
        dropout=0.0,
        uniform_weights=True,
    )
    expected = make_optimizer(name, momentum).init(params)
    made = _solvers.init_optimizer_state(params, config)
    assert jax.tree.structure(made) == jax.tree.structure(expected)
    for ours, theirs in zip(jax.tree.leaves(made), jax.tree.leaves(expected)):
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, np.asarray(theirs))


# ------------------------------------------------------------ the loop
def test_stopping_monitor_counts_patience_and_keeps_the_best_copy():
    monitor = StoppingMonitor(tol=0.1, patience=2)
    assert not monitor.update(1.0, "w1")
    assert not monitor.update(0.95, "w2")  # better, but by less than tol
    assert monitor.best_params == "w2"
    assert monitor.update(0.99, "w3")  # second epoch without improvement
    assert monitor.best == 0.95 and monitor.best_params == "w2"
    monitor = StoppingMonitor(tol=0.1, patience=2)
    for value in (1.0, 0.8, 0.6, 0.4):  # steady improvement never stops
        assert not monitor.update(value)


def test_keyboard_interrupt_leaves_a_usable_model_with_a_warning(
    imbalanced, monkeypatch
):
    X, y = imbalanced
    calls = {"n": 0}
    start_epoch = _stochastic._StochasticLoop._start_epoch

    def interrupted(self, *args):
        calls["n"] += 1
        if calls["n"] == 4:  # Ctrl-C while the fourth epoch is started
            raise KeyboardInterrupt
        return start_epoch(self, *args)

    monkeypatch.setattr(_stochastic._StochasticLoop, "_start_epoch", interrupted)
    clf = PairwiseAUCClassifier((8,), solver="adam", max_iter=50, random_state=0)
    with pytest.warns(UserWarning, match="interrupted"):
        clf.fit(X, y)
    assert clf.n_iter_ == 3
    assert np.all(np.isfinite(clf.predict_proba(X)))


def test_lbfgs_on_a_non_finite_objective_warns_and_keeps_the_best_weights(
    imbalanced, monkeypatch, compiled_exact
):
    X, y = imbalanced
    exact_program = _solvers.exact_program

    def nan_after_five_calls(*args, **kwargs):
        program = exact_program(*args, **kwargs)
        calls = {"n": 0}

        def failing(theta, *rest):
            calls["n"] += 1
            value, grad = program(theta, *rest)
            return (np.float32(np.nan) if calls["n"] > 5 else value), grad

        return failing

    monkeypatch.setattr(_solvers, "exact_program", nan_after_five_calls)
    with pytest.warns(ConvergenceWarning, match="non-finite"):
        clf = PairwiseAUCClassifier(random_state=0).fit(X, y)
    assert all(np.isfinite(clf.loss_curve_))
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.loss_curve_[-1] <= clf.loss_curve_[0]
    assert np.all(np.isfinite(clf.predict_proba(X)))


def test_the_host_objective_turning_non_finite_warns_and_keeps_the_best_weights(
    imbalanced, monkeypatch
):
    # The same as above for a small exact fit, which runs the NumPy objective.
    from skpairauc import _host_objective

    X, y = imbalanced
    evaluate = _host_objective.HostObjective.__call__
    calls = {"n": 0}

    def nan_after_five_calls(self, theta):
        calls["n"] += 1
        value, grad = evaluate(self, theta)
        return (np.nan if calls["n"] > 5 else value), grad

    monkeypatch.setattr(_host_objective.HostObjective, "__call__", nan_after_five_calls)
    with pytest.warns(ConvergenceWarning, match="non-finite"):
        clf = PairwiseAUCClassifier((8,), random_state=0).fit(X, y)
    assert calls["n"] > 5
    assert all(np.isfinite(clf.loss_curve_))
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.loss_curve_[-1] <= clf.loss_curve_[0]
    assert np.all(np.isfinite(clf.predict_proba(X)))


def test_validation_runs_on_one_blas_thread_and_the_count_comes_back(monkeypatch):
    # While XLA trains an epoch, NumPy scores the validation rows; on one BLAS
    # thread the two do not fight over the cores. After the fit the process's
    # count is what it was.
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from skpairauc import _stochastic

    def blas_threads():
        info = threadpoolctl.threadpool_info()
        return [p["num_threads"] for p in info if p["user_api"] == "blas"]

    before = blas_threads()
    seen = []
    real = _stochastic.validation_auc

    def spy(*args, **kwargs):
        seen.append(blas_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(_stochastic, "validation_auc", spy)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3_000, 4))
    y = (X[:, 0] + rng.normal(size=len(X)) > 1.5).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        PairwiseAUCClassifier(
            hidden_layer_sizes=(), solver="adam", early_stopping=True, max_iter=3
        ).fit(X, y)
    assert seen and all(threads == [1] * len(before) for threads in seen)
    assert blas_threads() == before


def test_concurrent_fits_leave_the_blas_thread_count_alone():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [p["num_threads"] for p in threadpoolctl.threadpool_info()]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12_000, 4))
    y = (X[:, 0] + rng.normal(size=len(X)) > 2).astype(int)
    errors = []

    def fit():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                PairwiseAUCClassifier(solver="adam", max_iter=3).fit(X, y)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=fit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    after = [p["num_threads"] for p in threadpoolctl.threadpool_info()]
    assert after == before


def test_overlapping_blas_limits_leave_the_count_as_it_was():
    # Fit A takes the limit, fit B starts inside it (and changes nothing: BLAS
    # is already on one thread), A ends while B still runs: the count comes
    # back when A ends, and B ending cannot put it back to one.
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from skpairauc._threads import one_blas_thread

    def blas_threads():
        info = threadpoolctl.threadpool_info()
        return [p["num_threads"] for p in info if p["user_api"] == "blas"]

    before = blas_threads()
    with one_blas_thread():
        assert blas_threads() == [1] * len(before)
    assert blas_threads() == before
    b_inside, a_done = threading.Event(), threading.Event()
    seen = {}

    def fit_a():
        with one_blas_thread():
            seen["a"] = blas_threads()
            b_inside.wait(10)
        a_done.set()

    def fit_b():
        with one_blas_thread():
            b_inside.set()
            a_done.wait(10)
            seen["b after a"] = blas_threads()

    a = threading.Thread(target=fit_a)
    a.start()
    while "a" not in seen and a.is_alive():
        time.sleep(0.001)
    b = threading.Thread(target=fit_b)
    b.start()
    a.join()
    b.join()
    assert a_done.is_set() and b_inside.is_set()
    assert seen["a"] == [1] * len(before)
    assert seen["b after a"] == before
    assert blas_threads() == before


@pytest.mark.parametrize("early_stopping", [True, False])
def test_a_fit_advanced_in_stretches_is_the_fit_advanced_at_once(
    imbalanced, early_stopping
):
    from skpairauc._device import resolve_batch
    from skpairauc._policy import resolve_policy
    from skpairauc._validation import validate_fit_inputs

    X, y = imbalanced
    est = PairwiseAUCClassifier(
        (8,), solver="adam", early_stopping=early_stopping, max_iter=12
    )
    inputs = validate_fit_inputs(est, X, y, None)
    settings = resolve_batch({**est.get_params(), "alpha": 1.0}, stochastic=True)
    policy = resolve_policy(
        settings, inputs.y_encoded, inputs.n_classes, 0, inputs.sample_weight
    )

    def fit(stretches):
        rng = np.random.default_rng(0)
        params = init_scorer(rng, X.shape[1], (8,), 1, "relu")
        stochastic = _stochastic.StochasticFit(params, inputs, policy, settings, 0, rng)
        try:
            stochastic.start()
            for last_epoch, keep_going in stretches:
                stochastic.advance(last_epoch, keep_going)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                return stochastic.result()
        finally:
            stochastic.close()

    answers = iter([True, False])  # a stretch ended by keep_going
    at_once = fit([(12, None)])
    in_stretches = fit([(3, None), (12, lambda: next(answers)), (12, None)])
    assert at_once.n_iter == 12  # no early stop: every stretch trained
    assert in_stretches.loss_curve == at_once.loss_curve
    assert in_stretches.validation_scores == at_once.validation_scores
    for ours, theirs in zip(
        in_stretches.params["coefs"] + in_stretches.params["intercepts"],
        at_once.params["coefs"] + at_once.params["intercepts"],
    ):
        np.testing.assert_array_equal(ours, theirs)


def test_early_stopping_scores_at_most_the_cap_of_each_class(monkeypatch):
    from sklearn.datasets import make_classification
    from sklearn.metrics import roc_auc_score

    from skpairauc import _classifier, _policy

    y = np.r_[np.zeros(900, int), np.ones(100, int), np.full(30, 2)]
    held_out = np.arange(0, len(y), 2)
    monkeypatch.setattr(_policy, "VALIDATION_SCORE_MAX_CLASS_ROWS", 40)
    scored = _policy.scored_rows(y, held_out, 3, seed=0)
    np.testing.assert_array_equal(np.bincount(y[scored]), [40, 40, 15])
    assert np.isin(scored, held_out).all() and np.all(np.diff(scored) > 0)
    np.testing.assert_array_equal(scored, _policy.scored_rows(y, held_out, 3, 0))
    assert not np.array_equal(scored, _policy.scored_rows(y, held_out, 3, 1))

    # In a fit: the scores are those of the sampled rows; the threshold is
    # fitted on every held-out row.
    X, y = make_classification(2000, 6, weights=[0.8], random_state=0)
    clf = PairwiseAUCClassifier(
        (), solver="adam", early_stopping=True, max_iter=5, random_state=0
    )
    fitted = {}
    fit_decision = _classifier.fit_decision

    def spy(scores, *args):
        fitted["n_rows"] = len(scores)
        return fit_decision(scores, *args)

    monkeypatch.setattr(_classifier, "fit_decision", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    policy = _policy.resolve_policy(clf.get_params(), y, 2, seed)
    scored = _policy.scored_rows(y, policy.held_out, 2, seed)
    assert np.bincount(y[scored]).max() == 40 < np.bincount(y[policy.held_out]).max()
    assert fitted["n_rows"] == len(policy.held_out)
    assert clf.best_validation_score_ == pytest.approx(
        roc_auc_score(y[scored], clf.decision_function(X[scored])), abs=1e-6
    )
