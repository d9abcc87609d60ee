"""The internal standardisation of the features and the weights (NumPy only).

Training sees every feature centred and scaled to unit (weighted) variance,
computed in float64 before the cast to float32, so raw units (a column in
millions, all of X times 1e20 or 1e-300, an offset of 1e6) train the same
model as standardised data. The transform is folded into the first layer
after training (:func:`fold`), so the fitted ``coefs_`` and ``intercepts_``
describe the model on raw inputs and prediction stays one plain forward pass.

Sample weights are expressed in units of their mean (:func:`normalized_weights`)
so that pair weights ``w_i * w_j`` stay far from float32's limits; the unit is
kept, since the penalty and the probability map need the user's totals.
"""

from typing import NamedTuple

import numpy as np


class Standardizer(NamedTuple):
    """``z = (x - mean) / scale`` column by column (float64 statistics)."""

    mean: np.ndarray
    scale: np.ndarray
    constant: np.ndarray  # bool: columns constant on the training rows

    def transform_into(self, X, out):
        """Write the standardised ``X`` into the float32 (or float64) array
        ``out`` (same shape). Float32 ``X`` whose statistics are float32
        numbers is standardised in float32, in place in ``out`` (the cast to
        float32 for training loses nothing more); other data in float64."""
        if X.dtype == np.float32 and out.dtype == np.float32:
            mean, scale = self.mean.astype(np.float32), self.scale.astype(np.float32)
            if np.all(np.isfinite(scale)) and np.all(
                scale >= np.finfo(np.float32).tiny
            ):
                np.subtract(X, mean, out=out)
                np.divide(out, scale, out=out)
                return
        out[...] = (np.asarray(X, dtype=np.float64) - self.mean) / self.scale


def _blocks(X, rows, chunk):
    """``X[rows]`` in row chunks (views of X when ``rows`` is None), in X's
    dtype if it is float32, else float64."""
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    n = len(X) if rows is None else len(rows)
    for begin in range(0, n, chunk):
        part = slice(begin, begin + chunk)
        yield part, np.asarray(X[part] if rows is None else X[rows[part]], dtype)


def _moments(X, rows, w, magnitude, chunk):
    """Weighted mean and variance of ``X[rows] / magnitude``, shifted by its
    first row (so large offsets do not cancel catastrophically), in one pass.

    Each chunk is reduced in the data's precision (float32 data: float32, at a
    third of the memory traffic of float64; the statistics only need to be
    close, since the same values are used to transform and to fold), and the
    chunk sums are accumulated in float64.
    """
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    first_row = X[0 if rows is None else rows[0]]
    shift = (np.asarray(first_row, np.float64) / magnitude).astype(dtype)
    divisor = None if np.all(magnitude == 1) else magnitude.astype(dtype)
    first = np.zeros(X.shape[1])
    second = np.zeros(X.shape[1])
    zeros = np.zeros(X.shape[1])
    low = np.full(X.shape[1], np.inf, dtype)
    high = np.full(X.shape[1], -np.inf, dtype)
    for part, block in _blocks(X, rows, chunk):
        weights = w[part].astype(dtype)
        zeros += weights @ (block == 0).astype(dtype)
        block = (block if divisor is None else block / divisor) - shift
        first += weights @ block
        second += weights @ np.square(block)
        np.minimum(low, block.min(axis=0), out=low)
        np.maximum(high, block.max(axis=0), out=high)
    total = w.sum()
    mean = first / total
    variance = np.maximum(second / total - np.square(mean), 0.0)
    shift = shift.astype(np.float64)
    low = (low.astype(np.float64) + shift) * magnitude
    high = (high.astype(np.float64) + shift) * magnitude
    mean = (mean + shift) * magnitude
    std = np.sqrt(variance) * magnitude
    return mean, column_scale(mean, std, low, high, zeros / total)


# A column with at least this (weighted) fraction of zeros is scaled by its
# largest magnitude (see column_scale).
MOSTLY_ZERO = 0.5


def column_scale(mean, std, low, high, zero_fraction):
    """The scale of each column, dense or sparse (the same rule, so a matrix
    trains one linear model in either format):

    * a column that is mostly zeros (at least :data:`MOSTLY_ZERO`): its
      largest magnitude, as ``MaxAbsScaler``. Its standard deviation shrinks
      with its frequency, and dividing a rare term or level by it would make
      its values large and the penalty on it weak;
    * a column of two values (an indicator): the gap between them;
    * any other column: its standard deviation, as ``StandardScaler``.

    See :ref:`sparse` for the numbers that chose this rule.
    """
    largest = np.maximum(np.abs(low), np.abs(high))
    # Bhatia-Davis: a variance of (mean - min) * (max - mean) puts all the
    # weight on the two extremes, so the column takes two values.
    spread = (mean - low) * (high - mean)
    two_valued = (np.square(std) >= (1 - 1e-6) * spread) & (high > low)
    scale = np.where(two_valued, high - low, std)
    return np.where(zero_fraction >= MOSTLY_ZERO, largest, scale)


# The smallest spread of a column that can be standardised: its weights on raw
# inputs are divided by it, and float64 ends near 1.8e308.
SMALLEST_SCALE = 1e-290
# Weights of the statistics are floored at this fraction of the mean weight,
# so that rows of negligible weight cannot be standardised to values so far
# out that sgd diverges on them (see benchmarks/README.md). The objective keeps
# the exact weights.
WEIGHT_FLOOR = 0.1
# Elements of X per chunk of the statistics' pass: 4 MiB of float32, which
# stays in cache (larger chunks are slower; see benchmarks/README.md).
CHUNK_ELEMENTS = 1 << 20


def check_scale(scale):
    """Raise if a column's scale is below :data:`SMALLEST_SCALE`: 1 / scale
    must be a float64 number, since the fitted weights on raw inputs are the
    trained ones divided by it."""
    too_small = scale < SMALLEST_SCALE
    if np.any(too_small):
        column = int(np.argmax(too_small))
        raise ValueError(
            f"Column {column} of X varies only by {scale[column]:.3g}: below "
            f"{SMALLEST_SCALE:g}, its weights on the raw scale would not be "
            "representable in float64. Rescale that column (e.g. multiply it by "
            "1e100) or drop it."
        )


def fit_standardizer(X, sample_weight, rows=None, chunk=None):
    """Weighted column means and standard deviations of ``X[rows]`` (default:
    all rows); ``sample_weight`` has one entry per row of ``X``.

    One pass over ``X`` in row chunks small enough to stay in cache (``chunk``
    rows; default: about :data:`CHUNK_ELEMENTS` elements), so no full-size
    temporary is made. When ``rows`` are at least half of ``X``, the pass
    reads all of ``X`` in order, the other rows weighted zero, which is
    faster than gathering the rows. If the squares may have overflowed or
    underflowed (spreads within a factor 1e4 of the square root of the
    dtype's largest or smallest number), a second pass over ``X[rows]``
    divides each column by its largest absolute value first. Constant
    columns get a scale of 1 (they become zero).
    """
    if chunk is None:
        chunk = max(1, CHUNK_ELEMENTS // max(X.shape[1], 1))
    w = np.asarray(sample_weight, dtype=np.float64)
    w = w if rows is None else w[rows]
    positive = w > 0
    w = np.where(positive, np.maximum(w, WEIGHT_FLOOR * w[positive].mean()), 0.0)
    info = np.finfo(np.float32 if X.dtype == np.float32 else np.float64)
    low, high = np.sqrt(info.tiny) * 1e4, np.sqrt(info.max) / 1e4
    first_rows, first_w = rows, w
    if rows is not None and 2 * len(rows) >= len(X):
        first_rows, first_w = None, np.zeros(len(X))
        first_w[rows] = w
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        mean, std = _moments(X, first_rows, first_w, np.ones(X.shape[1]), chunk)
    finite = np.all(np.isfinite(mean)) and np.all(np.isfinite(std))
    if not finite or np.any((std < low) | (std > high)):
        magnitude = np.zeros(X.shape[1])
        for _, block in _blocks(X, rows, chunk):
            magnitude = np.maximum(magnitude, np.abs(block).max(axis=0))
        magnitude = magnitude.astype(np.float64)
        magnitude[magnitude == 0] = 1.0
        mean, std = _moments(X, rows, w, magnitude, chunk)
    # A column whose spread is round-off of its mean is constant.
    constant = (std <= 1e-12 * np.abs(mean)) | (std == 0)
    std[constant] = 1.0
    check_scale(std)
    if X.dtype == np.float32:
        # Rounded to float32 numbers, so that the float32 transform and the
        # fold after training use exactly the same statistics.
        mean32, std32 = mean.astype(np.float32), std.astype(np.float32)
        if np.all(np.isfinite(std32)) and np.all(std32 >= np.finfo(np.float32).tiny):
            mean, std = mean32.astype(np.float64), std32.astype(np.float64)
    return Standardizer(mean, std, constant)


def fold(params, standardizer):
    """Parameters on standardised inputs -> the same model on raw inputs.

    ``W0 @ (x - m) / s + b0 = (W0 / s) @ x + (b0 - (m / s) @ W0)``. For a
    linear scorer the constant ``-(m / s) @ W0`` shifts every score equally;
    it is dropped (the decision is fitted on the folded scores). Returns
    float64 arrays.
    """
    coefs = [np.asarray(W, dtype=np.float64) for W in params["coefs"]]
    intercepts = [np.asarray(b, dtype=np.float64) for b in params["intercepts"]]
    # A constant column was 0 in training: its weights had no effect there
    # (an MLP's initial weights on it are never updated), and folded with its
    # mean they would cancel only up to round-off of mean * weight (1e284 for
    # a column of 1e300). The model ignores such a column.
    first = np.where(standardizer.constant[:, None], 0.0, coefs[0])
    coefs[0] = first / standardizer.scale[:, None]
    if intercepts:
        intercepts[0] = intercepts[0] - (standardizer.mean / standardizer.scale) @ first
    return {"coefs": coefs, "intercepts": intercepts}


def unfold(params, standardizer):
    """The inverse of :func:`fold` (for ``warm_start``), as float32."""
    coefs = [np.asarray(W, dtype=np.float64) for W in params["coefs"]]
    intercepts = [np.asarray(b, dtype=np.float64) for b in params["intercepts"]]
    first = coefs[0] * standardizer.scale[:, None]
    if intercepts:
        intercepts[0] = intercepts[0] + (standardizer.mean / standardizer.scale) @ first
    coefs[0] = first
    return {
        "coefs": [W.astype(np.float32) for W in coefs],
        "intercepts": [b.astype(np.float32) for b in intercepts],
    }


def normalized_weights(sample_weight):
    """``sample_weight`` divided by the mean of its non-zero entries (float64),
    and that mean: ``(w / unit, unit)``."""
    w = np.asarray(sample_weight, dtype=np.float64)
    positive = w > 0
    # Divide by the largest weight first, so the mean cannot overflow.
    largest = w.max()
    w = w / largest
    mean = w[positive].mean()
    return w / mean, float(largest * mean)
