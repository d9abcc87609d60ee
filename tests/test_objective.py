"""The blocked exact objective against a naive all-pairs computation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from skpairauc import (
    hinge_pairwise_loss,
    logistic_pairwise_loss,
    square_pairwise_loss,
    squared_hinge_pairwise_loss,
)
from skpairauc._layout import bucket_length
from skpairauc._objective import all_pairs_loss_sum, exact_objective, tile_shape

PUBLIC = {
    "logistic": lambda d, margin: logistic_pairwise_loss(d),
    "squared_hinge": squared_hinge_pairwise_loss,
    "hinge": hinge_pairwise_loss,
    "square": square_pairwise_loss,
}


def get_loss(name, margin):
    return lambda d: PUBLIC[name](d, margin)


def _padded(values, weights, length):
    v = np.zeros(length, np.float32)
    w = np.zeros(length, np.float32)
    v[: len(values)], w[: len(weights)] = values, weights
    return jnp.asarray(v), jnp.asarray(w)


def _naive(s_pos, w_pos, s_neg, w_neg, loss, margin):
    d = s_pos[:, None] - s_neg[None, :]
    return jnp.sum(w_pos[:, None] * w_neg[None, :] * get_loss(loss, margin)(d))


@pytest.mark.parametrize("loss", ["logistic", "squared_hinge", "hinge", "square"])
@pytest.mark.parametrize("n_pos, n_neg", [(3, 10), (37, 1000), (300, 2600)])
def test_blocked_sum_and_gradient_equal_naive(loss, n_pos, n_neg):
    rng = np.random.default_rng(n_pos + n_neg)
    sp, wp = _padded(
        rng.normal(size=n_pos), rng.uniform(0.2, 2, n_pos), bucket_length(n_pos)
    )
    sn, wn = _padded(
        rng.normal(size=n_neg), rng.uniform(0.2, 2, n_neg), bucket_length(n_neg)
    )
    # More than one tile each way for the larger cases.
    if n_pos >= 300:
        assert tile_shape(len(sp), len(sn))[0] < len(sp)

    def blocked(a, b):
        return all_pairs_loss_sum(a, wp, b, wn, loss, 0.7)

    def naive(a, b):
        return _naive(a[:n_pos], wp[:n_pos], b[:n_neg], wn[:n_neg], loss, 0.7)

    value, (ga, gb) = jax.value_and_grad(blocked, argnums=(0, 1))(sp, sn)
    value_ref, (ga_ref, gb_ref) = jax.value_and_grad(naive, argnums=(0, 1))(sp, sn)
    np.testing.assert_allclose(value, value_ref, rtol=2e-5)
    np.testing.assert_allclose(ga, ga_ref, rtol=2e-4, atol=1e-3)
    np.testing.assert_allclose(gb, gb_ref, rtol=2e-4, atol=1e-3)
    # Padding rows get no gradient.
    assert np.all(np.asarray(ga)[n_pos:] == 0) and np.all(np.asarray(gb)[n_neg:] == 0)


def test_exact_objective_multitask_matches_naive_mean():
    rng = np.random.default_rng(3)
    n_rows, n_tasks = 90, 3
    y = rng.integers(0, n_tasks, n_rows)
    w = rng.uniform(0.5, 1.5, n_rows)
    scores = rng.normal(size=(n_rows, n_tasks)).astype(np.float32)
    pos_len, neg_len = bucket_length(n_rows), bucket_length(n_rows)
    pos_idx = np.zeros((n_tasks, pos_len), np.int32)
    neg_idx = np.zeros((n_tasks, neg_len), np.int32)
    pos_w = np.zeros((n_tasks, pos_len), np.float32)
    neg_w = np.zeros((n_tasks, neg_len), np.float32)
    expected = []
    for t in range(n_tasks):
        p, n = np.flatnonzero(y == t), np.flatnonzero(y != t)
        pos_idx[t, : len(p)], pos_w[t, : len(p)] = p, w[p]
        neg_idx[t, : len(n)], neg_w[t, : len(n)] = n, w[n]
        d = scores[p, t][:, None] - scores[n, t][None, :]
        pair_w = w[p][:, None] * w[n][None, :]
        expected.append(np.sum(pair_w * np.logaddexp(0, -d)) / pair_w.sum())
    norm = pos_w.sum(1) * neg_w.sum(1)
    value = exact_objective(
        jnp.asarray(scores), pos_idx, pos_w, neg_idx, neg_w, norm, "logistic", 1.0
    )
    np.testing.assert_allclose(value, np.mean(expected), rtol=1e-5)


def test_tiles_divide_bucketed_lengths_and_bound_memory():
    for n_pos in [1, 7, 100, 513, 4000, 70000]:
        for n_neg in [5, 999, 2049, 100000, 10**6]:
            lp, ln = bucket_length(n_pos), bucket_length(n_neg)
            bp, bn = tile_shape(lp, ln)
            assert lp % bp == 0 and ln % bn == 0
            # One float32 tile temporary stays under 1 MB.
            assert bp * bn * 4 <= 2**20


@pytest.mark.parametrize("loss", ["logistic", "squared_hinge", "hinge", "square"])
def test_stochastic_batch_loss_has_exact_gradient_and_sampled_value(loss):
    from skpairauc._solvers import N_NEG_FOR_VALUE, sampled_mean_loss

    rng = np.random.default_rng(5)
    d = jnp.asarray(rng.normal(size=(2, 16, 100)), jnp.float32)

    def full(x):
        return jnp.mean(get_loss(loss, 0.8)(x))

    value, grad = jax.value_and_grad(lambda x: sampled_mean_loss(x, loss, 0.8))(d)
    np.testing.assert_allclose(grad, jax.grad(full)(d), rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(value, full(d[..., :N_NEG_FOR_VALUE]), rtol=1e-6)
