"""Exact all-pairs sums of the margin losses in O(n log n), and the negatives
that a partial AUC counts.

For a task with positive scores ``s_p`` (weights ``w``) and negative scores
``s_n`` (weights ``v``), write ``a_i = s_p,i - margin`` and ``b_j = s_n,j``, so
that the residual of pair ``(i, j)`` is ``r_ij = margin - (s_p,i - s_n,j) =
b_j - a_i``. Then

* ``square``: ``sum w_i v_j r_ij^2`` expands into the classes' weighted
  moments of ``a`` and ``b``: O(n), no sort;
* ``squared_hinge`` (``r^2`` where ``r > 0``) and ``hinge`` (``r`` where
  ``r > 0``): the pairs that count for positive ``i`` are the negatives with
  ``b_j > a_i``, a suffix of the negatives sorted by score, so one sort of
  each side and running sums of ``v``, ``v b`` and ``v b^2`` (and of ``w``
  and ``w a`` for the negatives' gradients) give the loss and its gradient
  with respect to every score exactly (Rust & Hocking, arXiv 2302.11062; Lee &
  Lin, Neural Computation 26(4), 2014).

Ties: a pair with ``r = 0`` exactly counts as ranked (loss and derivative 0),
as in :mod:`skpairauc._losses`. Sums are float64 and taken on scores shifted
by their weighted mean, so the expansions lose little to cancellation.

NumPy does the work: the exact solver calls it from the host between L-BFGS
steps, and NumPy's sort is far faster than JAX's on a CPU (see
benchmarks/README.md, "Sorted objectives").
"""

import numpy as np

#: The losses whose all-pairs sums this module computes.
SORTED_LOSSES = frozenset({"square", "squared_hinge", "hinge"})


def sorted_pair_sums(s_pos, w_pos, s_neg, w_neg, loss, margin):
    """The weighted loss sum over all pairs and its gradients with respect to
    both score vectors (float64), as :func:`skpairauc._losses.pair_block_sums`
    computes them over the pair matrix."""
    s_pos = np.asarray(s_pos, np.float64)
    s_neg = np.asarray(s_neg, np.float64)
    w_pos = np.asarray(w_pos, np.float64)
    w_neg = np.asarray(w_neg, np.float64)
    total_pos, total_neg = w_pos.sum(), w_neg.sum()
    shift = (w_pos @ s_pos + w_neg @ s_neg) / max(total_pos + total_neg, 1e-300)
    a = s_pos - margin - shift
    b = s_neg - shift
    if loss == "square":
        a1, a2 = w_pos @ a, w_pos @ (a * a)
        b1, b2 = w_neg @ b, w_neg @ (b * b)
        total = total_pos * b2 - 2.0 * a1 * b1 + a2 * total_neg
        return (
            total,
            -2.0 * w_pos * (b1 - a * total_neg),
            2.0 * w_neg * (b * total_pos - a1),
        )
    if loss not in ("squared_hinge", "hinge"):
        raise ValueError(f"loss {loss!r} has no sort-based all-pairs sum.")

    # Both sides sorted once; each side's sorted values are then searched in
    # the other's (sorted queries: a cache-friendly binary search), and the
    # results are put back in row order. The order among tied values does not
    # matter: a search puts all of them on the same side.
    order_a, order_b = np.argsort(a), np.argsort(b)
    a_sorted, w_sorted = a[order_a], w_pos[order_a]
    b_sorted, v_sorted = b[order_b], w_neg[order_b]
    # For each positive: the negatives scored above a_i (strictly), through
    # suffix sums over the negatives in increasing order.
    first_above = np.searchsorted(b_sorted, a_sorted, side="right")
    # For each negative: the positives with a_i below b_j (strictly), through
    # prefix sums over the positives in increasing order.
    below = np.searchsorted(a_sorted, b_sorted, side="left")
    s0 = _suffix_sums(v_sorted)[first_above]
    s1 = _suffix_sums(v_sorted * b_sorted)[first_above]
    p0 = _prefix_sums(w_sorted)[below]
    if loss == "hinge":
        total = w_sorted @ (s1 - a_sorted * s0)
        grad_pos_sorted = -w_sorted * s0
        grad_neg_sorted = v_sorted * p0
    else:
        s2 = _suffix_sums(v_sorted * b_sorted * b_sorted)[first_above]
        p1 = _prefix_sums(w_sorted * a_sorted)[below]
        # Clipped at 0: each positive's sum of squares is.
        per_pos = np.maximum(s2 - 2.0 * a_sorted * s1 + a_sorted * a_sorted * s0, 0.0)
        total = w_sorted @ per_pos
        grad_pos_sorted = -2.0 * w_sorted * (s1 - a_sorted * s0)
        grad_neg_sorted = 2.0 * v_sorted * (b_sorted * p0 - p1)
    grad_pos = np.empty_like(grad_pos_sorted)
    grad_pos[order_a] = grad_pos_sorted
    grad_neg = np.empty_like(grad_neg_sorted)
    grad_neg[order_b] = grad_neg_sorted
    return total, grad_pos, grad_neg


def _prefix_sums(x):
    """``out[k] = x[:k].sum()`` for ``k`` in ``0..len(x)``."""
    out = np.empty(len(x) + 1)
    out[0] = 0.0
    np.cumsum(x, out=out[1:])
    return out


def _suffix_sums(x):
    """``out[k] = x[k:].sum()`` for ``k`` in ``0..len(x)``."""
    out = np.empty(len(x) + 1)
    out[-1] = 0.0
    np.cumsum(x[::-1], out=out[-2::-1])
    return out


# The partial-AUC objective is this share of the mean loss over the pairs of
# the top max_fpr of the negatives, plus the rest of the full all-pairs mean:
# the top pairs alone let a fit on a hard table shrink or flip its scores
# (benchmarks/studies/study_pauc_share.py).
TOP_SHARE = 0.5


def top_negative_weights(s_neg, w_neg, max_fpr, xp=np):
    """The negatives' weights in the partial-AUC objective up to
    ``max_fpr``, which sum to ``max_fpr`` times the negative weight.

    Sorted by decreasing score (ties in row order), each negative's part of
    its weight within the first ``max_fpr`` of the total negative weight
    (the negative at the boundary keeps a fraction; the others none) makes
    the top pairs' share ``TOP_SHARE``; every negative also keeps ``1 -
    TOP_SHARE`` of ``max_fpr`` times its weight, the full AUC's share.
    ``xp`` is ``numpy`` or ``jax.numpy``."""
    # A stable sort (jax.numpy's argsort is stable by default; NumPy < 2 has
    # no ``stable`` keyword).
    order = np.argsort(-s_neg, kind="stable") if xp is np else xp.argsort(-s_neg)
    w_sorted = w_neg[order]
    before = xp.cumsum(w_sorted) - w_sorted
    budget = max_fpr * xp.sum(w_neg)
    top = xp.clip(budget - before, 0.0, w_sorted)
    kept_sorted = TOP_SHARE * top + (1.0 - TOP_SHARE) * max_fpr * w_sorted
    if xp is np:
        kept = np.empty_like(kept_sorted)
        kept[order] = kept_sorted
        return kept
    return xp.zeros_like(kept_sorted).at[order].set(kept_sorted)
