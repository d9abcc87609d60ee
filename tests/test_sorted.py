"""Sort-based all-pairs sums (square, squared hinge, hinge) and the partial
AUC's choice of negatives, against brute force over the pair matrix."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score

from skpairauc import PairwiseAUCClassifier, _policy
from skpairauc import _host_objective as host
from skpairauc._layout import exact_layout
from skpairauc._losses import pair_block_sums, value_and_derivative
from skpairauc._policy import resolve_solver
from skpairauc._scorers import flatten, init_scorer, param_shapes
from skpairauc._sorted import (
    SORTED_LOSSES,
    TOP_SHARE,
    sorted_pair_sums,
    top_negative_weights,
)

LOSSES = sorted(SORTED_LOSSES)


def _scores(rng, n, ties):
    s = rng.normal(size=n) * 2.0
    # Multiples of 1/4 are exact in binary: pairs at exactly the margin (and
    # tied scores) are the same pairs for the sort and the pair matrix.
    return np.round(s * 4) / 4 if ties else s


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("margin", [1.0, 0.5, 3.0])
def test_sums_equal_the_pair_matrix(loss, ties, margin):
    rng = np.random.default_rng(hash((loss, ties, margin)) % 2**32)
    s_pos, s_neg = _scores(rng, 41, ties), _scores(rng, 67, ties)
    w_pos = rng.integers(0, 4, 41).astype(float)  # zero weights included
    w_neg = rng.uniform(0.1, 3.0, 67)
    expected = pair_block_sums(
        s_pos, w_pos, s_neg, w_neg, value_and_derivative(loss, margin, np)
    )
    got = sorted_pair_sums(s_pos, w_pos, s_neg, w_neg, loss, margin)
    assert got[0] == pytest.approx(expected[0], rel=1e-12, abs=1e-9)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(got[2], expected[2], rtol=1e-10, atol=1e-9)
    if ties:  # the test is about ties: make sure there are pairs at the margin
        assert np.any(s_pos[:, None] - s_neg[None, :] == margin)


@pytest.mark.parametrize("loss", LOSSES)
def test_large_offsets_lose_nothing_to_cancellation(loss):
    # Scores far from 0 with small spreads: the expansions are taken on
    # centred scores, so the sums keep their precision.
    rng = np.random.default_rng(1)
    s_pos, s_neg = 1e4 + rng.normal(size=50), 1e4 + rng.normal(size=80)
    w_pos, w_neg = np.ones(50), np.ones(80)
    expected = pair_block_sums(
        s_pos, w_pos, s_neg, w_neg, value_and_derivative(loss, 1.0, np)
    )
    got = sorted_pair_sums(s_pos, w_pos, s_neg, w_neg, loss, 1.0)
    assert got[0] == pytest.approx(expected[0], rel=1e-9)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("loss", LOSSES)
def test_sums_equal_the_compiled_tiled_computation(loss):
    # Beyond the dense regime the compiled objective walks the pair matrix in
    # tiles (float32): the sort-based sums agree to float32 round-off.
    import jax
    import jax.numpy as jnp

    from skpairauc._objective import DENSE_MAX_PAIRS, all_pairs_loss_sum, tile_shape

    n_pos, n_neg = 512, 1024
    assert n_pos * n_neg > DENSE_MAX_PAIRS
    assert n_pos % tile_shape(n_pos, n_neg)[0] == 0
    rng = np.random.default_rng(2)
    s_pos = rng.normal(size=n_pos).astype(np.float32) + 0.5
    s_neg = rng.normal(size=n_neg).astype(np.float32)
    w_pos = rng.uniform(0.5, 2, n_pos).astype(np.float32)
    w_neg = rng.uniform(0.5, 2, n_neg).astype(np.float32)
    value, (g_pos, g_neg) = jax.value_and_grad(
        lambda a, b: all_pairs_loss_sum(
            a, jnp.asarray(w_pos), b, jnp.asarray(w_neg), loss, 1.0
        ),
        argnums=(0, 1),
    )(jnp.asarray(s_pos), jnp.asarray(s_neg))
    got = sorted_pair_sums(s_pos, w_pos, s_neg, w_neg, loss, 1.0)
    assert got[0] == pytest.approx(float(value), rel=1e-5)
    for ours, theirs in zip(got[1:], (g_pos, g_neg)):
        theirs = np.asarray(theirs, np.float64)
        np.testing.assert_allclose(
            ours, theirs, rtol=1e-4, atol=1e-4 * np.abs(theirs).max()
        )


def _brute_top_weights(s_neg, w_neg, max_fpr):
    # The top max_fpr of the negative weight, taken by decreasing score (ties
    # in row order), plus the full AUC's share of every negative.
    order = sorted(range(len(s_neg)), key=lambda j: (-s_neg[j], j))
    budget, top = max_fpr * w_neg.sum(), np.zeros(len(s_neg))
    for j in order:
        top[j] = min(w_neg[j], max(budget, 0.0))
        budget -= w_neg[j]
    return TOP_SHARE * top + (1 - TOP_SHARE) * max_fpr * w_neg, top


@pytest.mark.parametrize("max_fpr", [0.05, 0.1, 0.37, 1.0])
def test_top_negative_weights(max_fpr):
    rng = np.random.default_rng(3)
    s_neg = np.round(rng.normal(size=60) * 2) / 2  # with ties
    w_neg = rng.uniform(0.2, 2.0, 60)
    kept = top_negative_weights(s_neg, w_neg, max_fpr)
    expected, top = _brute_top_weights(s_neg, w_neg, max_fpr)
    np.testing.assert_allclose(kept, expected)
    assert kept.sum() == pytest.approx(max_fpr * w_neg.sum())
    assert top.sum() == pytest.approx(max_fpr * w_neg.sum())
    # The top negatives outscore (or tie) every negative that is left out.
    assert s_neg[top > 0].min() >= s_neg[top == 0].max(initial=-np.inf)
    if max_fpr == 1.0:  # the whole negative weight: the full AUC's weights
        np.testing.assert_allclose(kept, w_neg)

    import jax.numpy as jnp

    on_device = top_negative_weights(
        jnp.asarray(s_neg, jnp.float32), jnp.asarray(w_neg, jnp.float32), max_fpr, jnp
    )
    np.testing.assert_allclose(np.asarray(on_device), kept, rtol=1e-5, atol=1e-6)


def _layout_problem(n_classes, hidden, seed=0, n_rows=90):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, 4))
    y = rng.integers(0, n_classes, n_rows)
    w = rng.uniform(0.2, 2.0, n_rows)
    layout = exact_layout(X, y, w, np.arange(n_rows), n_classes)
    n_outputs = 1 if n_classes == 2 else n_classes
    params = init_scorer(rng, layout.rows.shape[1], hidden, n_outputs, "tanh")
    params["coefs"][0] = rng.normal(size=params["coefs"][0].shape).astype(np.float32)
    return X, y, w, layout, params


@pytest.mark.parametrize("loss", ["logistic", *LOSSES])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_partial_auc_objective_equals_the_compiled_one_and_brute_force(loss, n_classes):
    from skpairauc import _solvers

    X, y, w, layout, params = _layout_problem(n_classes, (5,))
    theta, shapes = flatten(params), param_shapes(params)
    ours = host.HostObjective(
        layout.rows, layout.pairs, shapes, "tanh", loss, 1.0, 0.0, max_fpr=0.2
    )
    config = _solvers.ExactConfig("tanh", loss, 1.0, 0.2)
    program = _solvers.exact_program(
        params, layout.rows.shape[0], layout.rows.shape[1], layout.pairs, config
    )
    value, grad = ours(theta)
    expected_value, expected_grad = program(
        theta.astype(np.float32), layout.rows, layout.pairs, np.float32(0.0)
    )
    assert value == pytest.approx(float(expected_value), rel=1e-5)
    expected_grad = np.asarray(expected_grad, np.float64)
    np.testing.assert_allclose(
        grad, expected_grad, rtol=1e-4, atol=1e-5 * np.abs(expected_grad).max()
    )

    # Brute force: each task's weighted pair mean over its top negatives.
    from skpairauc._scorers import score_rows

    scores = score_rows(params, layout.rows[: len(y)].astype(np.float64), "tanh")
    entry = value_and_derivative(loss, 1.0, np)
    tasks = [1] if n_classes == 2 else range(n_classes)
    brute = []
    for t, c in enumerate(tasks):
        s, pos = scores[:, t], y == c
        kept = _brute_top_weights(s[~pos], w[~pos], 0.2)[0]
        pair_loss = entry(s[pos][:, None] - s[~pos][None, :])[0]
        brute.append(w[pos] @ pair_loss @ kept / (w[pos].sum() * kept.sum()))
    assert value == pytest.approx(np.mean(brute), rel=1e-6)


@pytest.mark.parametrize("loss", LOSSES)
def test_auto_keeps_the_exact_solver_far_beyond_2_24_pairs(loss, monkeypatch):
    y = np.r_[np.zeros(990_000, int), np.ones(10_000, int)]  # 9.9e9 pairs
    linear = PairwiseAUCClassifier((), loss=loss).get_params()
    assert resolve_solver(linear, y, 2) == "lbfgs"
    # The logistic loss's binned sums run on the host: on a CPU only.
    assert resolve_solver({**linear, "loss": "logistic"}, y, 2) == "lbfgs"
    monkeypatch.setattr(_policy, "exact_on_host", lambda: False)
    assert resolve_solver(linear, y, 2) == "lbfgs"
    assert resolve_solver({**linear, "loss": "logistic"}, y, 2) == "adam"
    # When an MLP may train, up to 2**15 rows: 2.7e8 pairs when balanced.
    balanced = np.arange(2**15) % 2
    mlp = PairwiseAUCClassifier(loss=loss).get_params()
    assert resolve_solver(mlp, balanced, 2) == "lbfgs"
    assert resolve_solver({**mlp, "loss": "logistic"}, balanced, 2) == "adam"
    assert resolve_solver(mlp, np.arange(2**15 + 2) % 2, 2) == "adam"


@pytest.mark.parametrize("loss", LOSSES)
def test_integer_weights_equal_repeated_rows(loss):
    X, y = make_classification(3000, 8, weights=[0.95], flip_y=0.02, random_state=0)
    repeats = np.random.default_rng(0).integers(0, 4, len(y))
    kwargs = dict(hidden_layer_sizes=(), loss=loss, solver="lbfgs", random_state=0)
    weighted = PairwiseAUCClassifier(**kwargs).fit(X, y, sample_weight=repeats)
    repeated = PairwiseAUCClassifier(**kwargs).fit(
        np.repeat(X, repeats, axis=0), np.repeat(y, repeats)
    )
    np.testing.assert_allclose(
        weighted.decision_function(X),
        repeated.decision_function(X),
        rtol=1e-5,
        atol=1e-5,
    )


def test_max_fpr_model_ranks_the_low_fpr_end_better():
    # A table whose positives split in two kinds: most are easy (far from the
    # negatives) and a few hide among the highest negatives. The full AUC is
    # won by ranking the bulk; the partial AUC by the top of the ranking.
    X, y = make_classification(
        6000,
        10,
        n_informative=6,
        weights=[0.9],
        flip_y=0.03,
        class_sep=0.8,
        random_state=4,
    )
    half = len(y) // 2
    kwargs = dict(hidden_layer_sizes=(), loss="squared_hinge", random_state=0)
    full = PairwiseAUCClassifier(**kwargs).fit(X[:half], y[:half])
    partial = PairwiseAUCClassifier(max_fpr=0.1, **kwargs).fit(X[:half], y[:half])
    assert partial.solver_ == "lbfgs" and partial.n_iter_ > 0

    def pauc(model, rows):
        return roc_auc_score(y[rows], model.decision_function(X[rows]), max_fpr=0.1)

    train, test = slice(None, half), slice(half, None)
    # On its training rows the partial-AUC model must do better at what it
    # optimises than the model that optimised something else.
    assert pauc(partial, train) > pauc(full, train)
    assert np.isfinite(pauc(partial, test))


@pytest.mark.parametrize("max_fpr", [0.0, -0.1, 1.5, "0.1"])
def test_bad_max_fpr_is_refused(max_fpr):
    X, y = make_classification(100, 4, random_state=0)
    with pytest.raises(ValueError, match="max_fpr"):
        PairwiseAUCClassifier(max_fpr=max_fpr).fit(X, y)
