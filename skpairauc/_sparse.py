"""Sparse input (NumPy and SciPy only): validation, scaling, and the training
copies of sparse rows.

Sparse ``X`` (any SciPy format) is converted to CSR once and never densified.
Training scales its columns without centring (centring would fill in every
zero), so the scale is folded into the first layer after training exactly as
the dense standardisation is, with a zero mean (:mod:`skpairauc._scaling`).

Which scale: the rule of :func:`skpairauc._scaling.column_scale`, the same
as for dense input, so that the same matrix trains the same linear model in
either format: mostly-zero columns (terms, one-hot levels) are divided by
their largest magnitude, other columns by their standard deviation.
"""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ._layout import aligned_empty, bucket_length, task_classes
from ._scaling import WEIGHT_FLOOR, Standardizer, check_scale, column_scale


def csr_if_sparse(X):
    """Sparse ``X`` as a CSR matrix with sorted indices (the user's matrix is
    never modified: a copy is made whenever a conversion is needed); dense
    ``X`` as it is."""
    if not sp.issparse(X):
        return X
    X = sp.csr_matrix(X)  # no copy for a csr_matrix or a csr_array
    if not X.has_sorted_indices:
        X = X.copy()
        X.sort_indices()
    return X


def _column_sums(X, w):
    """Weighted column sums of ``X``, of ``X**2`` and of ``X != 0``."""

    def weighted(data):
        matrix = sp.csr_matrix((data, X.indices, X.indptr), shape=X.shape)
        return np.asarray(matrix.T @ w, np.float64).ravel()

    data = X.data.astype(np.float64)
    return weighted(data), weighted(np.square(data)), weighted(np.ones_like(data))


def fit_sparse_scaler(X, sample_weight, rows=None):
    """The scale of each column of the CSR ``X`` over ``rows`` (default all),
    weighted, without centring, by the rule of
    :func:`skpairauc._scaling.column_scale` (the dense one); a
    :class:`~skpairauc._scaling.Standardizer` with a zero mean."""
    w = np.asarray(sample_weight, dtype=np.float64)
    if rows is not None:
        full = np.zeros(len(w))
        full[rows] = w[rows]
        w = full
    positive = w > 0
    w = np.where(positive, np.maximum(w, WEIGHT_FLOOR * w[positive].mean()), 0.0)
    total = w.sum()
    first, second, stored = _column_sums(X, w)
    mean = first / total
    std = np.sqrt(np.maximum(second / total - np.square(mean), 0.0))
    zero_fraction = np.clip(1.0 - stored / total, 0.0, 1.0)
    # The extremes over the rows of positive weight: their stored values,
    # and 0 where a column has zeros.
    kept = X[np.flatnonzero(positive)] if not np.all(positive) else X
    low = np.full(X.shape[1], np.inf)
    high = np.full(X.shape[1], -np.inf)
    np.minimum.at(low, kept.indices[: kept.nnz], kept.data[: kept.nnz])
    np.maximum.at(high, kept.indices[: kept.nnz], kept.data[: kept.nnz])
    stored_rows = np.bincount(kept.indices[: kept.nnz], minlength=X.shape[1])
    has_zeros = stored_rows < kept.shape[0]
    low = np.where(has_zeros, np.minimum(low, 0.0), low)
    high = np.where(has_zeros, np.maximum(high, 0.0), high)
    scale = column_scale(mean, std, low, high, zero_fraction)
    empty = ~np.isfinite(low) | ((low == 0) & (high == 0))
    scale = np.where(scale > 0, scale, 1.0)
    scale[empty] = 1.0
    check_scale(scale)
    if X.dtype == np.float32:
        scale32 = scale.astype(np.float32)
        if np.all(np.isfinite(scale32)) and np.all(
            scale32 >= np.finfo(np.float32).tiny
        ):
            scale = scale32.astype(np.float64)
    # Only empty columns are "constant": a column that is not centred keeps
    # its effect in training, so its weights must be kept when folded.
    return Standardizer(np.zeros(X.shape[1]), scale, empty)


class SparseRows(NamedTuple):
    """Training rows in CSR form, scaled, with zero-padded buffers.

    ``matrix``: a SciPy CSR matrix of ``n_padded`` rows (the padding rows are
    empty); ``arrays``: ``(indptr, indices, data)`` with ``indices`` and
    ``data`` padded to a bucketed length (what the compiled programs take:
    similar sizes share a program).
    """

    matrix: sp.csr_matrix
    arrays: tuple

    @property
    def shape(self):
        return self.matrix.shape


# Rows are copied in blocks of about this many non-zeros.
_COPY_BLOCK_NNZ = 1 << 20


def buffer_layout(nnz, n_columns):
    """The index dtype and the bucketed buffer length of a training copy of
    ``nnz`` non-zeros in ``n_columns`` columns (what the programs' shapes
    are made of)."""
    fits = max(nnz, n_columns) < np.iinfo(np.int32).max
    return (np.int32 if fits else np.int64), bucket_length(max(nnz, 1))


def sparse_padded_rows(X, rows, n_padded, standardizer=None, dtype=np.float32):
    """``X[rows]`` (CSR) scaled by ``standardizer`` (its mean is zero), as a
    :class:`SparseRows` of ``n_padded`` rows in ``dtype``; copied in row
    blocks, so no temporary of the whole selection is made."""
    rows = np.asarray(rows, dtype=np.intp)
    lengths = np.diff(X.indptr)[rows]
    indptr = np.zeros(n_padded + 1, np.int64)
    np.cumsum(lengths, out=indptr[1 : len(rows) + 1])
    indptr[len(rows) + 1 :] = indptr[len(rows)]
    nnz = int(indptr[-1])
    index_dtype, n_buffer = buffer_layout(nnz, X.shape[1])
    indptr = indptr.astype(index_dtype)
    indices = aligned_empty((n_buffer,), index_dtype)
    data = aligned_empty((n_buffer,), dtype)
    inverse = None if standardizer is None else 1.0 / standardizer.scale
    block = max(1, int(_COPY_BLOCK_NNZ // max(lengths.mean() if len(rows) else 1, 1)))
    for start in range(0, len(rows), block):
        part = X[rows[start : start + block]]
        begin, end = indptr[start], indptr[min(start + block, len(rows))]
        indices[begin:end] = part.indices
        values = part.data if inverse is None else part.data * inverse[part.indices]
        data[begin:end] = values
    indices[nnz:] = 0
    data[nnz:] = 0
    matrix = sp.csr_matrix(
        (data[:nnz], indices[:nnz], indptr), shape=(n_padded, X.shape[1]), copy=False
    )
    return SparseRows(matrix, (indptr, indices, data))


def batch_nnz_budget(X, train, y_encoded, n_classes, batch, uniform):
    """Non-zeros a step's batch of rows of ``X[train]`` can hold at most, over
    every task (a static size of the compiled step), bucketed; no batch ever
    holds more, so none is cut.

    ``batch`` is ``(n_pos_per_batch, n_neg_per_batch)``. A side of ``m``
    rows drawn as a window (``uniform``) from ``k`` rows repeats a row at
    most ``ceil(m / k)`` times, so it holds at most that many times its
    ``min(m, k)`` longest rows; drawn by weight, a row may repeat ``m`` times.
    """
    lengths = np.diff(X.indptr)[train]
    y = y_encoded[train]
    total = 0
    for task in task_classes(n_classes):
        for side, m in ((lengths[y == task], batch[0]), (lengths[y != task], batch[1])):
            if not uniform:
                total += m * int(side.max(initial=0))
                continue
            k = min(m, len(side))
            longest = np.partition(side, len(side) - k)[len(side) - k :]
            total += -(-m // len(side)) * int(longest.sum())
    return bucket_length(max(total, 1))
