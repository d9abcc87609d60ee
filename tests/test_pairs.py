"""Pair sampling and data layout."""

import jax
import numpy as np
import pytest

from skpairauc._layout import (
    bucket_length,
    class_layout,
    draw_uniforms,
    uniform_sides,
)
from skpairauc._pairs import sample_task_batch


def _sample(y, w, task_class, n_pos=256, n_neg=256, n_draws=40, seed=0, uniform=False):
    # Windows need the shuffled layout the estimator uses for them.
    rng = np.random.default_rng(seed)
    order, bounds, cum = class_layout(y, w, y.max() + 1, rng if uniform else None)
    start, stop = bounds[task_class]
    cum_dev = np.full(bucket_length(len(y)), cum[-1], np.float32)
    cum_dev[: len(cum)] = cum
    draw = jax.jit(sample_task_batch, static_argnums=(5, 6, 7))
    u = draw_uniforms(rng, n_draws, 1, n_pos, n_neg, uniform)
    pos, neg = [], []
    for i in range(n_draws):
        p, n = draw(u[i, 0], cum_dev, start, stop, len(y), n_pos, n_neg, uniform)
        pos.append(order[np.asarray(p)])
        neg.append(order[np.asarray(n)])
    return np.concatenate(pos), np.concatenate(neg)


def test_sides_come_from_the_right_classes_and_skip_zero_weight():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    w = rng.uniform(0.1, 2.0, 200)
    w[::7] = 0.0
    for c in range(3):
        pos, neg = _sample(y, w, c)
        assert np.all(y[pos] == c) and np.all(y[neg] != c)
        assert np.all(w[pos] > 0) and np.all(w[neg] > 0)


@pytest.mark.parametrize("uniform", [False, True])
def test_uniform_draws_cover_each_side_evenly(uniform):
    y = np.array([0] * 5 + [1] * 3 + [2] * 4)
    pos, neg = _sample(y, np.ones(12), 1, n_draws=60, uniform=uniform)
    assert np.all(y[pos] == 1) and np.all(y[neg] != 1)
    np.testing.assert_allclose(
        np.bincount(pos, minlength=12)[5:8] / len(pos), 1 / 3, atol=0.02
    )
    freq_neg = np.bincount(neg, minlength=12)[np.r_[0:5, 8:12]] / len(neg)
    np.testing.assert_allclose(freq_neg, 1 / 9, atol=0.02)


def test_draw_frequencies_are_proportional_to_weight():
    y = np.array([0] * 6 + [1] * 4)
    w = np.array([1, 2, 3, 4, 0, 10, 1, 1, 2, 4], dtype=float)
    pos, neg = _sample(y, w, 1, n_draws=60)
    freq_pos = np.bincount(pos, minlength=10)[6:] / len(pos)
    freq_neg = np.bincount(neg, minlength=10)[:6] / len(neg)
    np.testing.assert_allclose(freq_pos, w[6:] / w[6:].sum(), atol=0.02)
    np.testing.assert_allclose(freq_neg, w[:6] / w[:6].sum(), atol=0.02)


def test_weight_k_draws_the_same_rows_as_k_adjacent_copies():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 2))
    y = rng.integers(0, 2, 30)
    k = rng.integers(0, 4, 30)
    k[[np.flatnonzero(y == 0)[0], np.flatnonzero(y == 1)[0]]] = 2
    X_rep, y_rep = np.repeat(X, k, axis=0), np.repeat(y, k)
    pos_w, neg_w = _sample(y, k.astype(float), 1, n_draws=3)
    pos_r, neg_r = _sample(y_rep, np.ones(len(y_rep)), 1, n_draws=3)
    np.testing.assert_array_equal(X[pos_w], X_rep[pos_r])
    np.testing.assert_array_equal(X[neg_w], X_rep[neg_r])


@pytest.mark.parametrize("n", [1, 8, 9, 300, 513, 2047, 5000, 123457, 10**6])
def test_bucket_length_bounds_waste(n):
    length = bucket_length(n)
    assert length >= n and length >= 8
    assert length <= max(8, (1.125 if n < 2048 else 1.25) * n)
    if length >= 2048:
        assert length % 512 == 0


def test_uniform_sides_are_windows_of_a_shuffled_layout():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 500)
    order, bounds, _ = class_layout(y, np.ones(500), 3, np.random.default_rng(0))
    # Sorted by class, each class in shuffled (not original) order, repeatably.
    assert np.all(np.diff(y[order]) >= 0)
    first = order[bounds[0, 0] : bounds[0, 1]]
    assert not np.all(np.diff(first) > 0)
    again, _, _ = class_layout(y, np.ones(500), 3, np.random.default_rng(0))
    np.testing.assert_array_equal(order, again)

    cum = np.arange(1, 501, dtype=np.float32)
    start, stop = bounds[1]
    size = stop - start
    for u in ([0.0, 0.0], [0.5, 0.99], [0.999999, 0.3]):
        pos, neg = sample_task_batch(
            np.float32(u), cum, start, stop, 500, 40, 100, True
        )
        pos, neg = np.asarray(pos), np.asarray(neg)
        # Consecutive positions inside the class, wrapping around at its end.
        np.testing.assert_array_equal((pos - pos[0]) % size, np.arange(40) % size)
        assert np.all((pos >= start) & (pos < stop))
        # Negatives: consecutive among the positions outside the class.
        outside = np.where(neg >= stop, neg - size, neg)
        np.testing.assert_array_equal(
            (outside - outside[0]) % (500 - size), np.arange(100)
        )
        assert not np.any((neg >= start) & (neg < stop))


def test_uniform_sides():
    y = np.array([0, 0, 1, 1, 1])
    assert uniform_sides(y, np.ones(5), 2)
    assert uniform_sides(y, np.array([2.0, 2.0, 0.5, 0.5, 0.5]), 2)  # per class
    assert not uniform_sides(y, np.array([1.0, 2.0, 1.0, 1.0, 1.0]), 2)
    y3 = np.array([0, 1, 2, 2])
    assert uniform_sides(y3, np.ones(4), 3)
    # One-vs-rest: the "rest" side of class 2 mixes weights 1 and 3.
    assert not uniform_sides(y3, np.array([1.0, 3.0, 1.0, 1.0]), 3)
