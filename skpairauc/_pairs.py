"""How positive-negative pairs are formed.

Training rows are laid out sorted by class, so class ``c`` occupies the
contiguous range ``[start[c], stop[c])``. A *task* is one ranking problem: the
binary problem has one task (``classes_[1]`` against ``classes_[0]``), a
multiclass problem one task per class (that class against the rest).

The stochastic solver draws, for every task, ``n_pos`` rows of the task's
class and ``n_neg`` rows of the other classes. The random numbers come from a
NumPy generator seeded by ``random_state`` and enter the compiled loop as an
array, so the loop holds no PRNG (which would lengthen every compile; see
benchmarks/README.md):

* when every side of every task has equal weights, a side is a *window*: a
  uniformly placed run of consecutive rows (wrapping around) of the layout,
  whose rows were shuffled within each class once per fit. A window of a
  random permutation is a uniform sample of rows, and reading consecutive rows
  is far faster on large data than reading rows scattered over memory;
* otherwise every row is drawn independently with probability proportional
  to its weight, by inverse-CDF sampling on the cumulative weights.

Either way every row of a side is equally likely (weighted: proportional to its
weight) to be in a batch, so averaging the loss uniformly over the
``n_pos * n_neg`` cross pairs of a batch is an unbiased estimate of the
weighted all-pairs objective; with weights, a row of weight ``k`` is drawn
exactly as often as ``k`` adjacent copies of it would be.
"""

import jax.numpy as jnp

# The NumPy side of the layout (sorting rows by class, the random numbers, the
# buckets) lives in ``_layout.py``.


def _window(u, offset, count, length):
    # ``length`` consecutive positions from a uniform start in [0, count),
    # wrapping around, shifted by ``offset``. min() guards float rounding of
    # u * count up to count.
    first = jnp.minimum(jnp.floor(u * count).astype(jnp.int32), count - 1)
    return offset + (first + jnp.arange(length, dtype=jnp.int32)) % count


def _inverse_cdf(cum_weight, u):
    # The row i with cum_weight[i-1] <= u < cum_weight[i]. Rows of zero weight
    # own an empty interval and are never drawn. The unrolled binary search
    # avoids a while loop, whose per-iteration dispatch cost dominated a small
    # training step on the CPU.
    return jnp.searchsorted(cum_weight, u, side="right", method="scan_unrolled")


def sample_task_batch(u, cum_weight, start, stop, n_rows, n_pos, n_neg, uniform):
    """Draw ``n_pos`` positive and ``n_neg`` negative row positions of a task.

    Parameters
    ----------
    u : jax.Array of shape (2,) or (n_pos + n_neg,)
        Uniform random numbers in ``[0, 1)`` (see
        :func:`skpairauc._layout.draw_uniforms`).
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
        Static: both sides have equal weights, so each side is a window of
        consecutive positions (no search).

    Returns
    -------
    pos, neg : jax.Array of int32, shapes (n_pos,), (n_neg,)
        Positions in the sorted layout.
    """
    size = stop - start
    if uniform:
        pos = _window(u[0], start, size, n_pos)
        # A window among the rows outside the class, then skip over the class.
        outside = _window(u[1], 0, n_rows - size, n_neg)
        neg = jnp.where(outside >= start, outside + size, outside)
        return pos, neg.astype(jnp.int32)
    total = cum_weight[-1]
    before = jnp.where(start > 0, cum_weight[jnp.maximum(start - 1, 0)], 0.0)
    inside = cum_weight[stop - 1] - before
    pos = _inverse_cdf(cum_weight, before + u[:n_pos] * inside)
    pos = jnp.clip(pos, start, stop - 1)
    # Negatives: draw on the weight outside the class, then skip over it.
    v = u[n_pos:] * (total - inside)
    neg = _inverse_cdf(cum_weight, jnp.where(v >= before, v + inside, v))
    # Float rounding at a class boundary may land inside the class: step out.
    in_class = (neg >= start) & (neg < stop)
    neg = jnp.where(in_class, jnp.where(start > 0, start - 1, stop), neg)
    neg = jnp.clip(neg, 0, n_rows - 1)
    return pos.astype(jnp.int32), neg.astype(jnp.int32)
