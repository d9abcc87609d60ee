"""Pairwise surrogate losses of the score difference ``d = s(x+) - s(x-)``.

Each loss upper-bounds (up to a constant factor) the 0-1 pairwise loss
``1[d <= 0]`` whose mean over all positive-negative pairs is ``1 - ROC AUC``.

``LOSSES`` is the registry: one :class:`PairwiseLoss` entry per value of the
estimator's ``loss`` parameter, holding the loss value and its derivative
computed together (they share one ``exp`` for the logistic loss). Training
uses the entry directly (the exact objective and the stochastic batch loss hand
the derivative to autodiff through a custom VJP), and the public functions
below are built from the same entry with a custom JVP, so the two can never
disagree. Adding a loss is one entry here plus its tests; the estimator's
parameter constraints read the registry's keys.

Entries are written against an array namespace ``xp`` (``numpy`` or
``jax.numpy``), so importing this module does not import JAX. The public
functions can be used directly by plain JAX users, e.g.
``jnp.mean(logistic_pairwise_loss(s_pos[:, None] - s_neg))``.
"""

import functools
from collections.abc import Callable
from typing import NamedTuple

__all__ = [
    "logistic_pairwise_loss",
    "squared_hinge_pairwise_loss",
    "hinge_pairwise_loss",
    "square_pairwise_loss",
]


class PairwiseLoss(NamedTuple):
    """A registry entry: ``value_and_derivative(xp, d, margin)``.

    Returns ``(loss(d), dloss/dd)`` elementwise. ``uses_margin`` says whether
    the ``margin`` parameter changes the loss.
    """

    value_and_derivative: Callable
    uses_margin: bool


def _logistic(xp, d, margin):
    # log(1 + exp(-d)) as max(-d, 0) + log1p(exp(-|d|)): never overflows, and
    # the derivative -sigmoid(-d) comes from the same exp(-|d|).
    e = xp.exp(-xp.abs(d))
    value = xp.maximum(-d, 0.0) + xp.log1p(e)
    return value, -xp.where(d >= 0, e, 1.0) / (1.0 + e)


def _squared_hinge(xp, d, margin):
    r = xp.maximum(margin - d, 0.0)
    return r * r, -2.0 * r


def _hinge(xp, d, margin):
    r = margin - d
    return xp.maximum(r, 0.0), xp.where(r > 0, -1.0, 0.0)


def _square(xp, d, margin):
    r = margin - d
    return r * r, -2.0 * r


LOSSES = {
    "logistic": PairwiseLoss(_logistic, uses_margin=False),
    "squared_hinge": PairwiseLoss(_squared_hinge, uses_margin=True),
    "hinge": PairwiseLoss(_hinge, uses_margin=True),
    "square": PairwiseLoss(_square, uses_margin=True),
}


def value_and_derivative(name, margin, xp):
    """``d -> (loss(d), dloss/dd)`` of the registry entry ``name``."""
    entry = LOSSES[name]
    return functools.partial(entry.value_and_derivative, xp, margin=margin)


def pair_block_sums(s_pos, w_pos, s_neg, w_neg, value_and_derivative):
    """The weighted loss sum over all pairs of a block, and its gradients with
    respect to both score vectors, the block taken at once (NumPy or JAX
    arrays; ``value_and_derivative`` from :func:`value_and_derivative`)."""
    value, deriv = value_and_derivative(s_pos[:, None] - s_neg[None, :])
    # Matrix-vector products reduce a block faster than a sum of products.
    total = w_pos @ (value @ w_neg)
    return total, (deriv @ w_neg) * w_pos, -(w_pos @ deriv) * w_neg


@functools.cache
def _differentiable(name):
    """The public JAX function of entry ``name``: its value, with the entry's
    derivative as a custom JVP (exact also where ``max``/``abs`` autodiff would
    be wrong, e.g. the logistic loss at ``d = 0``). Built on first use, so that
    importing the package does not import JAX."""
    import jax
    import jax.numpy as jnp

    compute = LOSSES[name].value_and_derivative

    @functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
    def loss(d, margin):
        return compute(jnp, d, margin)[0]

    @loss.defjvp
    def _(margin, primals, tangents):
        (d,), (d_dot,) = primals, tangents
        value, derivative = compute(jnp, d, margin)
        return value, derivative * d_dot

    return loss


def _apply(name, d, margin):
    import jax.numpy as jnp

    d = jnp.asarray(d)
    if not jnp.issubdtype(d.dtype, jnp.floating):
        d = d.astype(jnp.float32)
    return _differentiable(name)(d, float(margin))


def logistic_pairwise_loss(d):
    r"""Logistic (RankNet) loss of a pairwise score difference.

    .. math::

        \ell(d) = \log\left(1 + e^{-d}\right)

    where :math:`d = s(x^+) - s(x^-)`. It is the negative log-likelihood of
    "the positive is ranked first" under a Bradley-Terry model, the RankNet
    loss and the default of :class:`~skpairauc.PairwiseAUCClassifier`. It is
    smooth and convex, and :math:`\ell(d) / \log 2` upper-bounds the 0-1
    pairwise loss.

    Parameters
    ----------
    d : array-like
        Score differences, positive minus negative.

    Returns
    -------
    loss : jax.Array
        Elementwise loss, same shape as ``d``.

    See Also
    --------
    squared_hinge_pairwise_loss : A margin-based alternative.

    Notes
    -----
    Computed as ``max(-d, 0) + log1p(exp(-|d|))`` so that it never overflows,
    with an exact custom derivative :math:`-\sigma(-d)` (also at ``d = 0``).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from skpairauc import logistic_pairwise_loss
    >>> logistic_pairwise_loss(jnp.array([0.0, 100.0, -100.0])).round(4)
    Array([  0.6931,   0.    , 100.    ], dtype=float32)
    """
    return _apply("logistic", d, 1.0)


def squared_hinge_pairwise_loss(d, margin=1.0):
    r"""Squared hinge loss of a pairwise score difference.

    .. math::

        \ell(d) = \max(0, m - d)^2

    Differentiable everywhere, zero once a pair is ranked correctly by at least
    the margin :math:`m`. For :math:`m \ge 1` it upper-bounds the 0-1 pairwise
    loss.

    Parameters
    ----------
    d : array-like
        Score differences, positive minus negative.
    margin : float, default=1.0
        The margin :math:`m` by which a positive should outscore a negative.

    Returns
    -------
    loss : jax.Array
        Elementwise loss, same shape as ``d``.

    See Also
    --------
    hinge_pairwise_loss : The non-squared version.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from skpairauc import squared_hinge_pairwise_loss
    >>> squared_hinge_pairwise_loss(jnp.array([-1.0, 0.5, 2.0]))
    Array([4.  , 0.25, 0.  ], dtype=float32)
    """
    return _apply("squared_hinge", d, margin)


def hinge_pairwise_loss(d, margin=1.0):
    r"""Hinge loss of a pairwise score difference (RankSVM).

    .. math::

        \ell(d) = \max(0, m - d)

    The convex surrogate of RankSVM; not differentiable at :math:`d = m`, so it
    suits the stochastic solvers better than L-BFGS. For :math:`m \ge 1` it
    upper-bounds the 0-1 pairwise loss.

    Parameters
    ----------
    d : array-like
        Score differences, positive minus negative.
    margin : float, default=1.0
        The margin :math:`m`.

    Returns
    -------
    loss : jax.Array
        Elementwise loss, same shape as ``d``.

    See Also
    --------
    squared_hinge_pairwise_loss : A smooth variant.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from skpairauc import hinge_pairwise_loss
    >>> hinge_pairwise_loss(jnp.array([-1.0, 0.5, 2.0]))
    Array([2. , 0.5, 0. ], dtype=float32)
    """
    return _apply("hinge", d, margin)


def square_pairwise_loss(d, margin=1.0):
    r"""Square loss of a pairwise score difference.

    .. math::

        \ell(d) = (m - d)^2

    Also penalises pairs ranked correctly by more than the margin, which makes
    its all-pairs mean a function of the class means and variances of the
    scores only (the least-squares AUC surrogate). For :math:`m \ge 1` it
    upper-bounds the 0-1 pairwise loss.

    Parameters
    ----------
    d : array-like
        Score differences, positive minus negative.
    margin : float, default=1.0
        The target difference :math:`m`.

    Returns
    -------
    loss : jax.Array
        Elementwise loss, same shape as ``d``.

    See Also
    --------
    squared_hinge_pairwise_loss : Does not penalise well-ranked pairs.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from skpairauc import square_pairwise_loss
    >>> square_pairwise_loss(jnp.array([-1.0, 1.0, 3.0]))
    Array([4., 0., 4.], dtype=float32)
    """
    return _apply("square", d, margin)
