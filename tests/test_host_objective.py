"""The NumPy exact objective (small exact fits) against the compiled one."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from skpairauc import PairwiseAUCClassifier
from skpairauc import _host_objective as host
from skpairauc._layout import exact_layout
from skpairauc._scorers import flatten, init_scorer, param_shapes


def _problem(n_classes, hidden, activation, seed=0, n_rows=90, n_features=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, n_features))
    y = rng.integers(0, n_classes, n_rows)
    w = rng.uniform(0.2, 2.0, n_rows)
    layout = exact_layout(X, y, w, np.arange(n_rows), n_classes)
    n_outputs = 1 if n_classes == 2 else n_classes
    params = init_scorer(rng, layout.rows.shape[1], hidden, n_outputs, activation)
    if not hidden:  # a linear scorer starts at zero: move it somewhere
        params["coefs"][0] = rng.normal(size=params["coefs"][0].shape).astype(
            np.float32
        )
    return layout, params, param_shapes(params), flatten(params)


def _compiled(layout, params, activation, loss, margin, reg):
    from skpairauc import _solvers

    config = _solvers.ExactConfig(activation, loss, margin)
    program = _solvers.exact_program(
        params, layout.rows.shape[0], layout.rows.shape[1], layout.pairs, config
    )

    def value_and_grad(theta):
        value, grad = program(
            theta.astype(np.float32), layout.rows, layout.pairs, np.float32(reg)
        )
        return float(value), np.asarray(grad, np.float64)

    return value_and_grad


@pytest.mark.parametrize("loss", ["logistic", "squared_hinge", "hinge", "square"])
@pytest.mark.parametrize(
    "hidden, activation",
    [
        ((), "relu"),
        ((6,), "relu"),
        ((6, 4), "tanh"),
        ((5,), "logistic"),
        ((5,), "identity"),
    ],
)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_value_and_gradient_equal_the_compiled_program(
    loss, hidden, activation, n_classes
):
    layout, params, shapes, theta = _problem(n_classes, hidden, activation)
    reg = 0.03
    ours = host.HostObjective(
        layout.rows, layout.pairs, shapes, activation, loss, 0.7, reg
    )
    reference = _compiled(layout, params, activation, loss, 0.7, reg)
    value, grad = ours(theta)
    expected_value, expected_grad = reference(theta)
    assert value == pytest.approx(expected_value, rel=1e-5)
    scale = np.max(np.abs(expected_grad))
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-4, atol=1e-5 * scale)
    assert grad.dtype == np.float64 and grad.shape == theta.shape


def test_gradient_matches_finite_differences():
    # Independent of the compiled program: central differences in float64 of
    # the float32 objective, on a smooth loss and activation.
    layout, params, shapes, theta = _problem(2, (4,), "tanh", seed=3)
    objective = host.HostObjective(
        layout.rows, layout.pairs, shapes, "tanh", "logistic", 1.0, 0.1
    )
    _, grad = objective(theta)
    rng = np.random.default_rng(0)
    for i in rng.choice(len(theta), 8, replace=False):
        step = np.zeros_like(theta)
        step[i] = 1e-2
        numeric = (objective(theta + step)[0] - objective(theta - step)[0]) / 2e-2
        assert numeric == pytest.approx(grad[i], rel=2e-2, abs=2e-4)


def test_the_buffers_serve_tasks_of_every_size():
    # Multiclass tasks have pair matrices of different shapes; each uses a
    # view of the same buffers, sized for the largest.
    layout, params, shapes, theta = _problem(4, (), "relu", n_rows=120)
    objective = host.HostObjective(
        layout.rows, layout.pairs, shapes, "relu", "logistic", 1.0, 0.0
    )
    sizes = {len(t[0]) * len(t[2]) for t in objective.tasks}
    assert len(sizes) > 1
    assert len(objective._buffers[0]) == max(sizes)
    value, grad = objective(theta)
    expected_value, expected_grad = _compiled(
        layout, params, "relu", "logistic", 1.0, 0.0
    )(theta)
    assert value == pytest.approx(expected_value, rel=1e-5)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-4, atol=1e-6)


def test_runs_on_host_counts_the_largest_task_pairs(monkeypatch):
    # On an accelerator, exact fits above the limit compile their objective.
    monkeypatch.setattr(host, "exact_on_host", lambda: False)
    monkeypatch.setattr(host, "HOST_MAX_PAIRS", 100)
    assert host.runs_on_host(np.array([0] * 10 + [1] * 10), 2)  # 100 pairs
    assert not host.runs_on_host(np.array([0] * 11 + [1] * 10), 2)  # 110
    # Multiclass: class 0 against the rest is 4 x 16 = 64, class 2 10 x 10.
    assert host.runs_on_host(np.array([0] * 4 + [1] * 6 + [2] * 10), 3)
    assert not host.runs_on_host(np.array([0] * 4 + [1] * 6 + [2] * 11), 3)


@pytest.mark.parametrize("hidden", [(), (8,)])
def test_a_host_fit_is_the_compiled_fit(imbalanced, monkeypatch, hidden):
    # The same objective and the same L-BFGS: the fits agree up to float32
    # round-off, which can move an MLP's iterates apart slowly and change
    # the iteration at which the objective's decrease falls below ftol (an
    # MLP(8) here: 56 against 82 iterations, objective 0.0339 against 0.0334).
    X, y = imbalanced
    on_host = PairwiseAUCClassifier(hidden, random_state=0).fit(X, y)
    monkeypatch.setattr(host, "HOST_MAX_PAIRS", 0)
    monkeypatch.setattr(host, "exact_on_host", lambda: False)
    compiled = PairwiseAUCClassifier(hidden, random_state=0).fit(X, y)
    assert on_host.loss_curve_[0] == pytest.approx(compiled.loss_curve_[0], rel=1e-6)
    assert on_host.best_loss_ == pytest.approx(
        compiled.best_loss_, rel=0.05 if hidden else 1e-4
    )
    scores = on_host.decision_function(X), compiled.decision_function(X)
    assert np.corrcoef(*scores)[0, 1] > (0.99 if hidden else 0.9999)
    assert roc_auc_score(y, scores[0]) == pytest.approx(
        roc_auc_score(y, scores[1]), abs=2e-3
    )
    if not hidden:  # convex: the same minimiser
        np.testing.assert_allclose(
            on_host.coefs_[0], compiled.coefs_[0], rtol=1e-3, atol=1e-3
        )


def test_a_small_default_fit_imports_no_jax_and_compiles_nothing():
    script = textwrap.dedent(
        """
        import sys
        from sklearn.datasets import make_classification
        from skpairauc import PairwiseAUCClassifier
        X, y = make_classification(1000, 20, random_state=0)
        clf = PairwiseAUCClassifier(random_state=0).fit(X, y)
        clf.predict_proba(X)
        X3, y3 = make_classification(300, 6, n_informative=4, n_classes=3,
                                     random_state=0)
        PairwiseAUCClassifier((8,), activation="tanh", random_state=0).fit(X3, y3)
        print(sorted(m for m in ("jax", "jaxlib", "optax") if m in sys.modules))
        print(clf.hidden_layer_sizes_, len(clf.capacity_scores_))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    modules, chosen = result.stdout.strip().splitlines()
    assert modules == "[]"
    assert chosen.endswith(" 4")  # the whole selection ran, with no JAX


def test_above_the_bound_the_fit_compiles(monkeypatch, imbalanced):
    from skpairauc import _solvers

    X, y = imbalanced
    monkeypatch.setattr(host, "HOST_MAX_PAIRS", 0)
    monkeypatch.setattr(host, "exact_on_host", lambda: False)
    before = _solvers.TRACE_COUNTS["exact_objective"]
    # A configuration no other test compiles: its program is traced here.
    PairwiseAUCClassifier((3, 2, 3), activation="logistic").fit(X, y)
    assert _solvers.TRACE_COUNTS["exact_objective"] == before + 1
    # The sort-based losses run on the host at any size: nothing compiles.
    PairwiseAUCClassifier(
        (3, 2), activation="logistic", loss="squared_hinge", margin=0.37
    ).fit(X, y)
    assert _solvers.TRACE_COUNTS["exact_objective"] == before + 1


def test_concurrent_small_fits_equal_the_fit_alone(imbalanced):
    # Each host fit owns its buffers; the BLAS limit is held by one fit at a
    # time and restored by it; the fold fits inside each run on two threads.
    import threading

    threadpoolctl = pytest.importorskip("threadpoolctl")
    X, y = imbalanced
    before = [p["num_threads"] for p in threadpoolctl.threadpool_info()]
    expected = PairwiseAUCClassifier(random_state=0).fit(X, y).decision_function(X)
    results, errors = [None] * 3, []

    def fit(k):
        try:
            model = PairwiseAUCClassifier(random_state=0).fit(X, y)
            results[k] = model.decision_function(X)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=fit, args=(k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for scores in results:
        np.testing.assert_array_equal(scores, expected)
    assert [p["num_threads"] for p in threadpoolctl.threadpool_info()] == before
