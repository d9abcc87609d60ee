"""How the training data is laid out for the solvers (NumPy only).

Training rows are laid out sorted by class, so class ``c`` occupies the
contiguous range ``[start[c], stop[c])``. A *task* is one ranking problem: the
binary problem has one task (``classes_[1]`` against ``classes_[0]``), a
multiclass problem one task per class (that class against the rest).

* :func:`exact_layout` builds what the exact solver needs: the training rows
  (float32, zero-padded to a bucketed length) and, per task, the padded index
  and weight vectors of its positives and negatives;
* :func:`stochastic_layout` builds what the stochastic solvers need: the rows
  sorted by class (shuffled within each class when batches are windows, see
  :mod:`skpairauc._pairs`), the cumulative weights and each task's bounds;
* :func:`validation_split` holds out a stratified fraction for early stopping.

Lengths are padded to :func:`bucket_length` buckets so that data sets of a
similar size share one compiled training program.
"""

import math
import mmap
from itertools import pairwise
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ._threads import available_cores, parallel_map

_MAPPED_MIN_BYTES = 1 << 24

# An epoch of the stochastic solvers is one pass over the larger side of every
# task, but at most this many steps: on large data the stopping rule then looks
# at the loss or validation AUC often, not once per pass over all rows, and
# stops sooner at the same test AUC (see benchmarks/README.md). It is also the
# leading length of the loop's ``draws`` array, so every epoch length shares
# one compile.
MAX_STEPS_PER_EPOCH = 250

# And at least this many steps: on small data one pass is a handful of steps,
# whose mean loss is too noisy for the stopping rule, and max_iter such epochs
# are too few steps for the default learning rate (see benchmarks/README.md).
# Patience and max_iter, counted in epochs, then mean at least 500 and 10,000
# steps.
MIN_STEPS_PER_EPOCH = 50


def bucket_length(n):
    """Round a length up to one of eight sizes per octave below 2,048 (at
    least 8), four from 2,048.

    Jitted functions compile once per array shape; padding lengths to these
    buckets lets data sets of similar size share a compiled training program
    while wasting at most 12.5% of the rows. Eight sizes per octave keep the
    exact solver's pair padding, the product of both sides', small (see
    benchmarks/README.md). Lengths of 2,048 or more are multiples of 512,
    which the exact objective's tiles need.
    """
    n = max(int(n), 8)
    step = 1 << max(n.bit_length() - (4 if n < 2048 else 3), 1)
    return -(-n // step) * step


def task_classes(n_classes):
    """Class index of the positive side of each task."""
    return np.array([1]) if n_classes == 2 else np.arange(n_classes)


def class_layout(y_encoded, sample_weight, n_classes, rng=None):
    """Sort rows by class and summarise the layout.

    Parameters
    ----------
    y_encoded : ndarray of shape (n_samples,)
        Class indices in ``[0, n_classes)``.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative weights.
    n_classes : int
        Number of classes.
    rng : numpy.random.Generator, default=None
        If given, rows are shuffled within each class; else they keep their
        order (a stable sort).

    Returns
    -------
    order : ndarray of shape (n_samples,)
        Permutation that sorts the rows by class.
    bounds : ndarray of shape (n_classes, 2)
        ``[start, stop)`` of each class in sorted order.
    cum_weight : ndarray of shape (n_samples,)
        Cumulative sample weights in sorted order (float64).
    """
    if rng is None:
        order = np.argsort(y_encoded, kind="stable")
    else:
        shuffled = rng.permutation(len(y_encoded))
        order = shuffled[np.argsort(y_encoded[shuffled], kind="stable")]
    counts = np.bincount(y_encoded, minlength=n_classes)
    stop = np.cumsum(counts)
    bounds = np.stack([stop - counts, stop], axis=1)
    cum_weight = np.cumsum(sample_weight[order], dtype=np.float64)
    return order, bounds, cum_weight


def uniform_sides(y_encoded, sample_weight, n_classes):
    """Whether every task's two sides have equal weights within each side.

    Then windows give the exact sampling distribution (see the module
    docstring). True for unweighted data and, for binary targets, for weights
    that are constant within each class (e.g. ``class_weight``-style weights).
    """
    if np.all(sample_weight == sample_weight[0]):
        return True
    if n_classes != 2:
        return False
    return all(np.ptp(sample_weight[y_encoded == c]) == 0 for c in range(n_classes))


def draws_width(n_pos, n_neg, uniform):
    """Random numbers per task and step: one window offset per side when
    ``uniform``, else one per drawn row."""
    return 2 if uniform else n_pos + n_neg


def draw_uniforms(rng, n_steps, n_tasks, n_pos, n_neg, uniform):
    """The random numbers of ``n_steps`` steps, float32 in ``[0, 1)``, of shape
    ``(n_steps, n_tasks, draws_width(n_pos, n_neg, uniform))``."""
    width = draws_width(n_pos, n_neg, uniform)
    return rng.random((n_steps, n_tasks, width), dtype=np.float32)


def aligned_empty(shape, dtype, alignment=64):
    """An uninitialised array whose data starts on an ``alignment`` boundary.

    XLA's CPU client aliases a 64-byte aligned NumPy buffer in
    ``jax.device_put`` instead of copying it, so the padded training copy of X
    is the only copy made.

    Large buffers are anonymous mappings (page aligned, so aligned too; freed
    to the OS with the array). Their pages are provided as the copy first
    writes them, by both copying threads (:func:`padded_rows`), which is
    faster than ``MAP_POPULATE``; transparent huge pages are not asked for, as
    compacting memory for them made the mapping slow (see
    benchmarks/README.md).
    """
    n_bytes = math.prod(shape) * np.dtype(dtype).itemsize
    if n_bytes >= _MAPPED_MIN_BYTES and hasattr(mmap, "MAP_ANONYMOUS"):
        flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
        # The array holds the mapping; it is unmapped when the array is freed.
        return np.frombuffer(mmap.mmap(-1, n_bytes, flags=flags), dtype).reshape(shape)
    raw = np.empty(n_bytes + alignment, dtype=np.uint8)
    offset = -raw.ctypes.data % alignment
    return raw[offset : offset + n_bytes].view(dtype).reshape(shape)


# Rows are copied in blocks of about this many elements: a block (4 MiB of
# float32, e.g. 10,485 rows of 100 columns) stays in cache between its gather
# and its standardisation, however wide X is.
COPY_BLOCK_ELEMENTS = 1 << 20
# Copies of at least this many elements are split between two threads (NumPy
# releases the GIL while it copies; see benchmarks/README.md).
_THREADED_COPY_MIN_ELEMENTS = 1 << 22


def _n_copy_workers(n_elements):
    if n_elements < _THREADED_COPY_MIN_ELEMENTS:
        return 1
    return min(2, available_cores())


def padded_rows(X, rows, n_padded, n_columns=None, standardizer=None, dtype=np.float32):
    """``X[rows]`` as float32 in an aligned buffer of ``n_padded`` rows and
    ``n_columns`` columns (default: X's), standardised first if a
    :class:`~skpairauc._scaling.Standardizer` is given.

    Copies in blocks of about :data:`COPY_BLOCK_ELEMENTS` elements (no
    full-size temporary), each standardised while it is in cache (float32
    ``X`` in float32, other data in float64 before the cast); large copies in
    two threads. Padding rows and columns are zero. ``dtype=np.float64`` keeps
    float64 data exact (the NumPy objective). Sparse ``X`` (CSR) gives a
    :class:`~skpairauc._sparse.SparseRows` (scaled, not densified; no column
    padding).
    """
    if sp.issparse(X):
        from ._sparse import sparse_padded_rows

        return sparse_padded_rows(X, rows, n_padded, standardizer, dtype)
    n_features = X.shape[1]
    n_columns = n_features if n_columns is None else n_columns
    out = aligned_empty((n_padded, n_columns), dtype)
    rows = np.asarray(rows, dtype=np.intp)
    block_rows = max(1, COPY_BLOCK_ELEMENTS // max(n_features, 1))

    def copy(begin, end):
        for start in range(begin, end, block_rows):
            stop = min(start + block_rows, end)
            target = out[start:stop, :n_features]
            block = np.take(X, rows[start:stop], axis=0)
            if standardizer is not None:
                standardizer.transform_into(block, target)
            else:
                target[...] = block

    n_workers = _n_copy_workers(len(rows) * n_features)
    bounds = np.linspace(0, len(rows), n_workers + 1).astype(int)
    parallel_map(copy, list(pairwise(bounds)), n_workers)
    out[len(rows) :] = 0.0
    out[:, n_features:] = 0.0
    return out


# Feature counts are padded to buckets (zero columns, whose weights start at
# zero and stay zero) only while the padded copy is small: there the compile
# dominates a fit, and a sweep over many feature counts shares a few programs.
# Above it a fit trains long enough that its one compile does not matter, and
# the padding would only cost memory.
FEATURE_PADDING_MAX_ELEMENTS = 1 << 24


def feature_bucket(n_features, n_padded_rows):
    """Columns of the training copy: ``n_features`` rounded up to one of four
    sizes per octave (at least 8), unless the copy would be large."""
    if n_padded_rows * n_features > FEATURE_PADDING_MAX_ELEMENTS:
        return n_features
    n = max(int(n_features), 8)
    step = 1 << (n.bit_length() - 3)
    return -(-n // step) * step


class ExactLayout(NamedTuple):
    """The exact solver's inputs.

    ``rows`` is ``(n_padded, n_features)`` float32 (padding rows are zero);
    ``pairs`` is ``(pos_idx, pos_w, neg_idx, neg_w, pair_norm)`` as
    :func:`skpairauc._objective.exact_objective` takes them.
    """

    rows: np.ndarray
    pairs: tuple
    total_weight: float


def exact_pair_lengths(y_train, n_classes):
    """Padded lengths ``(n_pos, n_neg)`` of the exact solver's positive and
    negative index vectors for training labels ``y_train``."""
    counts = np.bincount(y_train, minlength=n_classes)[task_classes(n_classes)]
    return bucket_length(counts.max()), bucket_length((len(y_train) - counts).max())


def exact_layout(
    X,
    y_encoded,
    sample_weight,
    train,
    n_classes,
    n_columns=None,
    standardizer=None,
    dtype=np.float32,
):
    """Lay out the training rows ``train`` for the exact solver (see
    :func:`padded_rows` for ``n_columns``, ``standardizer`` and ``dtype``)."""
    y_train, w_train = y_encoded[train], sample_weight[train]
    tasks = task_classes(n_classes)
    rows = padded_rows(
        X, train, bucket_length(len(train)), n_columns, standardizer, dtype
    )
    pos_rows = [np.flatnonzero(y_train == c) for c in tasks]
    neg_rows = [np.flatnonzero(y_train != c) for c in tasks]
    n_pos, n_neg = exact_pair_lengths(y_train, n_classes)

    def pad(row_lists, length):
        idx = np.zeros((len(tasks), length), np.int32)
        w = np.zeros((len(tasks), length), dtype)
        for t, members in enumerate(row_lists):
            idx[t, : len(members)], w[t, : len(members)] = members, w_train[members]
        return idx, w

    pos_idx, pos_w = pad(pos_rows, n_pos)
    neg_idx, neg_w = pad(neg_rows, n_neg)
    # Each side of a task in units of its largest weight: the weighted pair
    # mean does not change, and its normaliser (at least 1) cannot underflow.
    for side in (pos_w, neg_w):
        side /= side.max(axis=1, keepdims=True)
    pair_norm = (pos_w.astype(np.float64).sum(1) * neg_w.sum(1)).astype(dtype)
    return ExactLayout(
        rows, (pos_idx, pos_w, neg_idx, neg_w, pair_norm), float(w_train.sum())
    )


class StochasticLayout(NamedTuple):
    """The stochastic solvers' inputs.

    ``rows``: the training rows sorted by class, float32, zero-padded;
    ``cum_weight``: their cumulative weights, padded with the total;
    ``task_bounds``: ``[start, stop)`` of each task's positive class;
    ``n_rows``: the number of real rows; ``steps_per_epoch``: see
    :func:`steps_per_epoch`; ``standardizer``: the one applied to ``rows``.
    """

    rows: np.ndarray
    cum_weight: np.ndarray
    task_bounds: np.ndarray
    n_rows: int
    steps_per_epoch: int
    total_weight: float
    standardizer: object = None


def steps_per_epoch(class_counts, n_classes, n_pos_per_batch, n_neg_per_batch):
    """Steps that draw every row of the larger side of each task about once,
    at least ``MIN_STEPS_PER_EPOCH`` and at most ``MAX_STEPS_PER_EPOCH``."""
    n_rows = int(np.sum(class_counts))
    one_pass = max(
        max(
            math.ceil(class_counts[c] / n_pos_per_batch),
            math.ceil((n_rows - class_counts[c]) / n_neg_per_batch),
        )
        for c in task_classes(n_classes)
    )
    return min(MAX_STEPS_PER_EPOCH, max(MIN_STEPS_PER_EPOCH, one_pass))


def stochastic_layout(
    X,
    y_encoded,
    sample_weight,
    train,
    n_classes,
    uniform,
    batch,
    rng,
    n_columns=None,
    standardizer=None,
):
    """Lay out the training rows ``train`` for the stochastic solvers.

    ``batch`` is ``(n_pos_per_batch, n_neg_per_batch)``; ``rng`` shuffles the
    rows within each class when ``uniform`` (windows need a shuffled layout);
    see :func:`padded_rows` for ``n_columns`` and ``standardizer``.
    """
    y_train, w_train = y_encoded[train], sample_weight[train]
    tasks = task_classes(n_classes)
    n_padded = bucket_length(len(train))
    order, bounds, cum_weight = class_layout(
        y_train, w_train, n_classes, rng if uniform else None
    )
    rows = padded_rows(X, train[order], n_padded, n_columns, standardizer)
    cum = np.full(n_padded, cum_weight[-1], np.float32)
    cum[: len(cum_weight)] = cum_weight
    counts = bounds[:, 1] - bounds[:, 0]
    return StochasticLayout(
        rows=rows,
        cum_weight=cum,
        task_bounds=bounds[tasks].astype(np.int32),
        n_rows=len(train),
        steps_per_epoch=steps_per_epoch(counts, n_classes, *batch),
        total_weight=float(w_train.sum()),
        standardizer=standardizer,
    )


def validation_split(y_encoded, n_classes, fraction, seed, eligible=None):
    """Hold out ``fraction`` of each class, at least one row of each class
    staying in training.

    Only ``eligible`` rows (a boolean mask; default all) are held out: the
    caller passes the rows of positive weight, since a held-out row of zero
    weight counts for nothing. Returns ``(train, held_out)`` sorted row
    indices; ``held_out`` may lack a class (the caller checks what it needs).
    """
    rng = np.random.RandomState(seed)
    eligible = np.ones(len(y_encoded), bool) if eligible is None else eligible
    held_out = []
    for c in range(n_classes):
        members = rng.permutation(np.flatnonzero((y_encoded == c) & eligible))
        n_val = min(int(round(fraction * len(members))), len(members) - 1)
        held_out.append(members[:n_val])
    held_out = np.sort(np.concatenate(held_out))
    in_training = np.ones(len(y_encoded), dtype=bool)
    in_training[held_out] = False
    return np.flatnonzero(in_training), held_out
