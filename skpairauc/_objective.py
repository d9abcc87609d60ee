"""The exact all-pairs objective, computed in blocks.

For one task with positive scores ``s_p`` (weights ``w_p``) and negative scores
``s_n`` (weights ``w_n``) the objective is

.. math::

    L = \\frac{\\sum_{i, j} w_{p,i} w_{n,j} \\ell(s_{p,i} - s_{n,j})}
             {\\sum_i w_{p,i} \\sum_j w_{n,j}}

Above ``DENSE_MAX_PAIRS`` pairs the ``n_pos x n_neg`` matrix of differences
is never materialised: a double ``lax.scan`` walks it in ``block_pos x
block_neg`` tiles and accumulates, in the same pass, the loss and its gradient
with respect to every score (the loss and its derivative share one ``exp``).
A custom VJP hands those gradients to autodiff, so reverse mode stores no
per-tile residuals and the temporary memory is a few tiles whatever the pair
count. Up to ``DENSE_MAX_PAIRS`` pairs (small data, where compiling is most of
a fit) the same sums are taken over the whole matrix at once: no loops, about
half the compile time, the same run time.
"""

import math
from functools import partial

import jax
import jax.numpy as jnp
from jax import lax

from ._losses import pair_block_sums
from ._losses import value_and_derivative as _loss_entry
from ._sorted import top_negative_weights

# A tile of 256 x 512 pairs is 512 KiB per float32 temporary: the few live ones
# stay in the L2 cache and far below a 32 MB budget; larger tiles spill and run
# slower (see benchmarks/README.md).
TILE_PAIRS = 256 * 512
BLOCK_POS = 256
# Up to 512 x 512 pairs (1 MiB per float32 temporary, still cache-resident) the
# pair matrix is taken whole: about half the compile time of the tiled loop, at
# the same run time (see benchmarks/README.md).
DENSE_MAX_PAIRS = 512 * 512


def tile_shape(n_pos, n_neg):
    """Tile of the pair matrix for padded lengths ``n_pos`` and ``n_neg``.

    Each side of the tile is the largest power of two that divides the padded
    length and stays within the budget; a short positive side gets a longer
    negative side, so tiles keep about ``TILE_PAIRS`` pairs.
    """
    block_pos = math.gcd(n_pos, BLOCK_POS)
    block_neg = math.gcd(n_neg, TILE_PAIRS // block_pos)
    return block_pos, block_neg


def _tile_sums(s_pos, w_pos, s_neg, w_neg, loss, margin):
    """Weighted pair-loss sum and its gradients w.r.t. both score vectors."""
    value_and_derivative = _loss_entry(loss, margin, jnp)
    if s_pos.shape[0] * s_neg.shape[0] <= DENSE_MAX_PAIRS:
        return pair_block_sums(s_pos, w_pos, s_neg, w_neg, value_and_derivative)
    block_pos, block_neg = tile_shape(s_pos.shape[0], s_neg.shape[0])
    pos_tiles = (s_pos.reshape(-1, block_pos), w_pos.reshape(-1, block_pos))
    neg_tiles = (s_neg.reshape(-1, block_neg), w_neg.reshape(-1, block_neg))

    def over_pos(grad_neg, pos_tile):
        sp, wp = pos_tile

        def over_neg(carry, neg_tile):
            total, grad_pos = carry
            tile_total, tile_grad_pos, tile_grad_neg = pair_block_sums(
                sp, wp, *neg_tile, value_and_derivative
            )
            return (total + tile_total, grad_pos + tile_grad_pos), tile_grad_neg

        init = (jnp.zeros((), s_pos.dtype), jnp.zeros_like(sp))
        (total, grad_pos), grad_neg_tiles = lax.scan(over_neg, init, neg_tiles)
        return grad_neg + grad_neg_tiles.reshape(-1), (total, grad_pos)

    grad_neg, (totals, grad_pos) = lax.scan(over_pos, jnp.zeros_like(s_neg), pos_tiles)
    return jnp.sum(totals), grad_pos.reshape(-1), grad_neg


@partial(jax.custom_vjp, nondiff_argnums=(4, 5))
def all_pairs_loss_sum(s_pos, w_pos, s_neg, w_neg, loss, margin):
    """Sum of ``w_pos[i] * w_neg[j] * loss(s_pos[i] - s_neg[j])`` over all pairs.

    Lengths must be multiples of the tile returned by :func:`tile_shape` (use
    :func:`skpairauc._layout.bucket_length`); pad with zero weights.
    """
    return _tile_sums(s_pos, w_pos, s_neg, w_neg, loss, margin)[0]


def _all_pairs_fwd(s_pos, w_pos, s_neg, w_neg, loss, margin):
    total, grad_pos, grad_neg = _tile_sums(s_pos, w_pos, s_neg, w_neg, loss, margin)
    return total, (grad_pos, grad_neg, w_pos, w_neg)


def _all_pairs_bwd(loss, margin, residuals, cotangent):
    grad_pos, grad_neg, w_pos, w_neg = residuals
    # Weights are data, not parameters: their cotangent is not needed.
    return (
        cotangent * grad_pos,
        jnp.zeros_like(w_pos),
        cotangent * grad_neg,
        jnp.zeros_like(w_neg),
    )


all_pairs_loss_sum.defvjp(_all_pairs_fwd, _all_pairs_bwd)


def exact_objective(
    scores, pos_idx, pos_w, neg_idx, neg_w, pair_norm, loss, margin, max_fpr=None
):
    """Mean over tasks of the normalised weighted all-pairs loss.

    Parameters
    ----------
    scores : jax.Array of shape (n_rows, n_tasks)
        Scores of every row for every task.
    pos_idx, neg_idx : jax.Array of shape (n_tasks, n_pos_padded / n_neg_padded)
        Row indices of each task's positives and negatives (padding: any row).
    pos_w, neg_w : jax.Array, same shapes
        Their weights, zero on padding.
    pair_norm : jax.Array of shape (n_tasks,)
        ``sum(pos_w[t]) * sum(neg_w[t])``.
    loss : str
        Loss name.
    margin : float
        Margin of the margin-based losses.
    max_fpr : float or None
        The one-way partial AUC up to this false-positive rate: each task's
        negatives are weighted by
        :func:`skpairauc._sorted.top_negative_weights` at the current scores,
        held fixed for the gradient.

    Returns
    -------
    objective : jax.Array (scalar)
    """

    def one_task(args):
        task, p_idx, p_w, n_idx, n_w, norm = args
        column = lax.dynamic_index_in_dim(scores, task, axis=1, keepdims=False)
        s_neg = column[n_idx]
        if max_fpr is not None:
            # The weights are held fixed: no gradient through the choice.
            n_w = top_negative_weights(lax.stop_gradient(s_neg), n_w, max_fpr, jnp)
            norm = norm * max_fpr
        total = all_pairs_loss_sum(column[p_idx], p_w, s_neg, n_w, loss, margin)
        return total / norm

    n_tasks = scores.shape[1]
    if n_tasks == 1:  # binary: no loop to compile
        return one_task((0, pos_idx[0], pos_w[0], neg_idx[0], neg_w[0], pair_norm[0]))
    per_task = lax.map(
        one_task, (jnp.arange(n_tasks), pos_idx, pos_w, neg_idx, neg_w, pair_norm)
    )
    return jnp.mean(per_task)
