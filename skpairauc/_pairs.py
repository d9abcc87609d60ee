"""How positive-negative pairs are formed.

Training rows are laid out sorted by class, so class ``c`` occupies the
contiguous range ``[start[c], stop[c])``. A *task* is one ranking problem: the
binary problem has one task (``classes_[1]`` against ``classes_[0]``), a
multiclass problem one task per class (that class against the rest).

The stochastic solver draws, for every task, ``n_pos`` rows of the task's
class and ``n_neg`` rows of the other classes, with replacement, each with
probability proportional to its sample weight: uniformly by ``randint`` when
all weights are equal, else by inverse-CDF sampling on the cumulative
weights. Averaging the loss uniformly over the ``n_pos * n_neg`` cross pairs
of such a batch is then an unbiased estimate of the weighted all-pairs
objective, and a row of weight ``k`` is drawn exactly as often as ``k``
adjacent copies of it would be.
"""

import jax
import jax.numpy as jnp
import numpy as np


def class_layout(y_encoded, sample_weight, n_classes):
    """Sort rows by class and summarise the layout.

    Parameters
    ----------
    y_encoded : ndarray of shape (n_samples,)
        Class indices in ``[0, n_classes)``.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative weights.
    n_classes : int
        Number of classes.

    Returns
    -------
    order : ndarray of shape (n_samples,)
        Stable permutation that sorts the rows by class.
    bounds : ndarray of shape (n_classes, 2)
        ``[start, stop)`` of each class in sorted order.
    cum_weight : ndarray of shape (n_samples,)
        Cumulative sample weights in sorted order (float64).
    """
    order = np.argsort(y_encoded, kind="stable")
    counts = np.bincount(y_encoded, minlength=n_classes)
    stop = np.cumsum(counts)
    bounds = np.stack([stop - counts, stop], axis=1)
    cum_weight = np.cumsum(sample_weight[order], dtype=np.float64)
    return order, bounds, cum_weight


def task_classes(n_classes):
    """Class index of the positive side of each task."""
    return np.array([1]) if n_classes == 2 else np.arange(n_classes)


def _inverse_cdf(cum_weight, u):
    # The row i with cum_weight[i-1] <= u < cum_weight[i]. Rows of zero weight
    # own an empty interval and are never drawn. The unrolled binary search
    # avoids a while loop, whose per-iteration dispatch cost dominated a small
    # training step on the CPU.
    return jnp.searchsorted(cum_weight, u, side="right", method="scan_unrolled")


def sample_task_batch(key, cum_weight, start, stop, n_rows, n_pos, n_neg, uniform):
    """Draw ``n_pos`` positive and ``n_neg`` negative row positions of a task.

    Parameters
    ----------
    key : jax.Array
        PRNG key, consumed.
    cum_weight : jax.Array of shape (n_padded,)
        Cumulative weights in sorted order, padded with the total (unused when
        ``uniform``).
    start, stop : jax.Array (int scalars)
        The task's positive class occupies sorted positions ``[start, stop)``.
    n_rows : jax.Array (int scalar)
        Number of real (unpadded) rows.
    n_pos, n_neg : int
        Static batch sizes.
    uniform : bool
        Static: all rows weigh the same, so draw positions with ``randint``
        (exact for any number of rows, no search).

    Returns
    -------
    pos, neg : jax.Array of int32, shapes (n_pos,), (n_neg,)
        Positions in the sorted layout.
    """
    k_pos, k_neg = jax.random.split(key)
    if uniform:
        pos = jax.random.randint(k_pos, (n_pos,), start, stop)
        # Draw among the rows outside the class, then skip over the class.
        outside = jax.random.randint(k_neg, (n_neg,), 0, n_rows - (stop - start))
        neg = jnp.where(outside >= start, outside + (stop - start), outside)
        return pos.astype(jnp.int32), neg.astype(jnp.int32)
    total = cum_weight[-1]
    before = jnp.where(start > 0, cum_weight[jnp.maximum(start - 1, 0)], 0.0)
    inside = cum_weight[stop - 1] - before
    u = jax.random.uniform(k_pos, (n_pos,), cum_weight.dtype, before, before + inside)
    pos = _inverse_cdf(cum_weight, u)
    pos = jnp.clip(pos, start, stop - 1)
    # Negatives: draw on the weight outside the class, then skip over it.
    u = jax.random.uniform(k_neg, (n_neg,), cum_weight.dtype, 0.0, total - inside)
    u = jnp.where(u >= before, u + inside, u)
    neg = _inverse_cdf(cum_weight, u)
    # Float rounding at a class boundary may land inside the class: step out.
    in_class = (neg >= start) & (neg < stop)
    neg = jnp.where(in_class, jnp.where(start > 0, start - 1, stop), neg)
    neg = jnp.clip(neg, 0, n_rows - 1)
    return pos.astype(jnp.int32), neg.astype(jnp.int32)


def bucket_length(n):
    """Round a length up to one of four sizes per octave (at least 8).

    Jitted functions compile once per array shape; padding lengths to these
    buckets lets data sets of similar size share a compiled training loop while
    wasting at most 25% (powers of two would waste up to 50%). Lengths of 2,048
    or more are multiples of 512, which the exact objective's tiles need.
    """
    n = max(int(n), 8)
    if n <= 512:
        return 1 << (n - 1).bit_length()
    step = 1 << ((n.bit_length() - 1) - 2)
    return -(-n // step) * step
