"""Scorers: a linear model is the MLP with no hidden layer.

A scorer maps ``X`` of shape ``(n_samples, n_features)`` to ``(n_samples,
n_outputs)`` scores (one output per one-vs-rest task). The output layer has no
bias: a constant shift cancels in every score difference ``s(x+) - s(x-)``, so
it is not identifiable from a pairwise loss.

The forward pass is written once against an array namespace ``xp`` so that
training runs it with ``jax.numpy`` and prediction with plain NumPy (prediction
then needs no JIT compile and works on a fitted estimator without JAX state).
"""

import math

import numpy as np
from scipy.sparse import issparse


def _logistic(xp, z):
    # 0.5 * (1 + tanh(z / 2)) is the logistic function without overflow.
    return 0.5 * (1.0 + xp.tanh(0.5 * z))


# The registry of hidden activations, keyed by the ``activation`` parameter
# (whose constraints read these keys): ``f(xp, z)`` for NumPy and jax.numpy.
ACTIVATIONS = {
    "identity": lambda xp, z: z,
    "logistic": _logistic,
    "tanh": lambda xp, z: xp.tanh(z),
    "relu": lambda xp, z: xp.maximum(z, 0),
}

# Glorot-uniform factor of each activation, as in MLPClassifier.
_INIT_FACTOR = {"logistic": 2.0}


def init_scorer(rng, n_features, hidden_layer_sizes, n_outputs, activation):
    """Initialise weights with Glorot-uniform scaling, as ``MLPClassifier`` does.

    Done in NumPy, as ``MLPClassifier`` does, so that no JAX function is
    compiled for it.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the random weights.
    n_features : int
        Input dimension.
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers; ``()`` gives a linear scorer.
    n_outputs : int
        Number of scores per sample.
    activation : str
        Hidden activation, one of ``ACTIVATIONS``.

    Returns
    -------
    params : dict
        ``{"coefs": [W_0, ...], "intercepts": [b_0, ...]}`` of float32 NumPy
        arrays, with one intercept per hidden layer (the output layer has
        none). A linear scorer starts at zero, which makes its fit independent
        of the seed.
    """
    sizes = [n_features, *hidden_layer_sizes, n_outputs]
    if not hidden_layer_sizes:
        return {
            "coefs": [np.zeros((n_features, n_outputs), np.float32)],
            "intercepts": [],
        }
    factor = _INIT_FACTOR.get(activation, 6.0)
    coefs, intercepts = [], []
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        bound = math.sqrt(factor / (fan_in + fan_out))
        coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32))
        if layer < len(sizes) - 2:
            intercepts.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    return {"coefs": coefs, "intercepts": intercepts}


def forward(xp, params, X, activation, *, dropout_rate=0.0, key=None, first=None):
    """Score ``X`` with a scorer; ``xp`` is ``numpy`` or ``jax.numpy``.

    ``X`` may be a SciPy sparse matrix with ``xp = numpy``. ``first``, when
    given, is the first layer's product ``X @ coefs[0]`` computed elsewhere
    (sparse rows), and ``X`` is not read. Dropout (inverted, on hidden units)
    is applied only when ``key`` is given and ``dropout_rate > 0``; it needs
    ``xp = jax.numpy``.
    """
    coefs, intercepts = params["coefs"], params["intercepts"]
    activate = ACTIVATIONS[activation]
    if first is None:
        first = X @ coefs[0]
    if not intercepts:  # a linear scorer: the first layer is the output
        return first
    h = X
    for layer, b in enumerate(intercepts):
        h = activate(xp, (first if layer == 0 else h @ coefs[layer]) + b)
        if key is not None and dropout_rate > 0:
            import jax

            keep = 1.0 - dropout_rate
            mask = jax.random.bernoulli(jax.random.fold_in(key, layer), keep, h.shape)
            h = xp.where(mask, h / keep, 0.0)
    return h @ coefs[-1]


def param_shapes(params):
    """The shapes of a scorer's parameters, coefs then intercepts: the layout
    of its flat vector (:func:`unflatten`)."""
    return tuple(np.shape(a) for a in (*params["coefs"], *params["intercepts"]))


def flatten(params):
    """A scorer's parameters as one float64 vector, coefs then intercepts (the
    layout :func:`unflatten` reads)."""
    return np.concatenate(
        [np.ravel(a) for a in (*params["coefs"], *params["intercepts"])]
    ).astype(np.float64)


def unflatten(theta, shapes):
    """Scorer parameters from the flat vector ``theta`` laid out as
    ``shapes`` (:func:`param_shapes`); NumPy or JAX arrays (views, no copy)."""
    arrays, offset = [], 0
    for shape in shapes:
        size = math.prod(shape)
        arrays.append(theta[offset : offset + size].reshape(shape))
        offset += size
    n_layers = (len(shapes) + 1) // 2  # one intercept fewer than coefs
    return {"coefs": arrays[:n_layers], "intercepts": arrays[n_layers:]}


def l2_penalty(xp, params):
    """Half the squared L2 norm of the weights (biases are not penalised)."""
    return 0.5 * sum(xp.vdot(W, W) for W in params["coefs"])


def _in_float32(params):
    """``params`` as float32, or None if that would lose a weight (overflow,
    or a non-zero weight rounded to zero)."""
    cast = {k: [np.asarray(a, np.float32) for a in v] for k, v in params.items()}
    for key, arrays in params.items():
        for original, single in zip(arrays, cast[key]):
            original = np.asarray(original)
            if not np.all(np.isfinite(single)) or np.any(
                (single == 0) & (original != 0)
            ):
                return None
    return cast


def score_rows(params, X, activation, rows=None, chunk=8192):
    """NumPy float64 scores of ``X[rows]`` (default: all of ``X``) in row
    chunks, so hidden activations stay small (prediction, the validation
    score and the decision): 8,192 rows of 64 hidden units are 2 MiB, which
    stay in cache (see benchmarks/README.md). ``rows`` are gathered chunk by
    chunk, so no copy of ``X[rows]`` is made.

    float32 rows are scored in float32 when the weights are float32 numbers
    without loss (half the memory traffic of upcasting every row)."""
    if X.dtype == np.float32:
        params = _in_float32(params) or params
    n = X.shape[0] if rows is None else len(rows)

    def block(begin):
        part = slice(begin, begin + chunk)
        if rows is None:
            return X[part]
        return X[rows[part]] if issparse(X) else np.take(X, rows[part], axis=0)

    return np.concatenate(
        [
            forward(np, params, block(begin), activation)
            for begin in range(0, max(n, 1), chunk)
        ]
    ).astype(np.float64)


def to_numpy(params):
    """Copy parameters to NumPy ``float32`` arrays (the fitted attributes)."""
    return {
        "coefs": [np.asarray(W, dtype=np.float32) for W in params["coefs"]],
        "intercepts": [np.asarray(b, dtype=np.float32) for b in params["intercepts"]],
    }
