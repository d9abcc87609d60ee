"""The exact objective's value and gradient in NumPy, on the host.

The same objective as :func:`skpairauc._objective.exact_objective` plus the L2
penalty (see :func:`skpairauc._solvers.exact_program`), with the gradient by
hand-written back-propagation through the scorer. Each task's all-pairs sum is
taken over the pair matrix up to ``HOST_MAX_PAIRS`` pairs; beyond, by a
sort (the margin losses, :mod:`skpairauc._sorted`, exact) or on a lattice of
scores (the logistic loss, :mod:`skpairauc._binned`), whose cost grows with
the rows, not the pairs. Such fits neither import JAX nor compile anything.

Why: on small data compiling (and importing JAX) is most of a fit, and up to
``HOST_MAX_PAIRS`` NumPy evaluates the pair matrix within about twice the
compiled program's time; beyond it, the sums by sort or lattice take a small
part of a compiled evaluation of every pair (see benchmarks/README.md). The
compiled program still serves exact fits on an accelerator
(:func:`skpairauc._device.exact_on_host`).
"""

import numpy as np
from scipy.sparse import issparse

from ._binned import binned_pair_sums
from ._device import exact_on_host
from ._layout import task_classes
from ._losses import value_and_derivative
from ._scorers import l2_penalty, unflatten
from ._sorted import SORTED_LOSSES, sorted_pair_sums, top_negative_weights

# The host objective serves fits whose largest task has at most this many
# pairs: the compiled program's dense regime (skpairauc._objective
# .DENSE_MAX_PAIRS), where a fit is short and compiling dominates it. Its pair
# buffers (three float32, one float64) then take 5 MiB.
HOST_MAX_PAIRS = 512 * 512


def runs_on_host(y_train, n_classes, loss="logistic"):
    """Whether an exact fit on encoded labels ``y_train`` (rows of positive
    weight) uses the host objective: always for the losses with a sort-based
    all-pairs sum (:mod:`skpairauc._sorted`); for the others up to
    ``HOST_MAX_PAIRS`` pairs per task, and beyond when JAX's device is the
    CPU (:func:`skpairauc._device.exact_on_host`)."""
    if loss in SORTED_LOSSES:
        return True
    return _largest_task_pairs(y_train, n_classes) <= HOST_MAX_PAIRS or exact_on_host()


def scorer_dtype(y_train, n_classes, loss="logistic"):
    """The dtype of the host objective's rows and scorer: float64 where every
    task's sum is exact (the pair matrix, or a sort), so that weights sum as
    repeated rows do; float32 where a task's sum is binned, whose lattice
    error is far larger than float32's round-off and whose rows are many."""
    if loss in SORTED_LOSSES:
        return np.dtype(np.float64)
    exact = _largest_task_pairs(y_train, n_classes) <= HOST_MAX_PAIRS
    return np.dtype(np.float64 if exact else np.float32)


def _largest_task_pairs(y_train, n_classes):
    counts = np.bincount(y_train, minlength=n_classes)[task_classes(n_classes)]
    return int((counts.astype(np.int64) * (len(y_train) - counts)).max())


def _activate(name, z, derivative):
    """The hidden activation ``name`` applied to ``z`` in place, with the
    operations of :data:`skpairauc._scorers.ACTIVATIONS` (same results); its
    derivative goes to the buffer ``derivative`` (None for the identity).
    ReLU multiplies by its 0/1 derivative, which costs less than a maximum."""
    if name == "relu":
        np.greater(z, 0, out=derivative)
        z *= derivative
    elif name == "tanh":
        np.tanh(z, out=z)
        np.multiply(z, z, out=derivative)
        np.subtract(1.0, derivative, out=derivative)
    elif name == "logistic":
        z *= 0.5
        np.tanh(z, out=z)
        z += 1.0
        z *= 0.5
        np.subtract(1.0, z, out=derivative)
        derivative *= z


def _logistic_sums(s_pos, w_pos, s_neg, w_neg, buffers):
    """The logistic loss's weighted pair sum and its gradients with respect to
    both score vectors, in preallocated buffers (three float32, one float64).

    The value is ``skpairauc._losses``'s; the derivative ``-sigmoid(-d)`` is
    ``-(1 - tanh(d / 2)) / 2``, whose constant half is summed once per row
    instead of per pair. Pair terms are float32 (their transcendental
    functions are the cost); the gradient's weighted sums are float64, so a
    weight ``k`` sums as ``k`` repeated rows do (the value, which only steers
    the line search, is summed in float32)."""
    d, e, work, wide = buffers
    np.subtract(
        s_pos.astype(np.float32)[:, None], s_neg.astype(np.float32)[None, :], out=d
    )
    np.abs(d, out=e)
    np.negative(e, out=e)
    np.exp(e, out=e)
    np.log1p(e, out=e)
    np.minimum(d, 0.0, out=work)
    e -= work
    total = w_pos.astype(np.float32) @ (e @ w_neg.astype(np.float32))
    np.multiply(d, 0.5, out=work)
    np.tanh(work, out=work)  # sigmoid(-d) = 0.5 - 0.5 * work
    np.copyto(wide, work)
    grad_pos = -(0.5 * w_neg.sum() - 0.5 * (wide @ w_neg)) * w_pos
    grad_neg = (0.5 * w_pos.sum() - 0.5 * (w_pos @ wide)) * w_neg
    return total, grad_pos, grad_neg


class HostObjective:
    """``theta -> (value, gradient)`` of the exact objective on the exact
    layout ``rows``, ``pairs`` (see :func:`skpairauc._layout.exact_layout`),
    for flat parameters laid out as ``shapes`` (coefs, then intercepts).
    With ``max_fpr``, each task's negatives are weighted by
    :func:`skpairauc._sorted.top_negative_weights` at the current scores
    (the one-way partial AUC's pairs), held fixed for the gradient.

    The scorer and the gradient's sums over rows and pairs are in the rows'
    dtype (:func:`scorer_dtype`): with float64, a weight ``k`` gives the
    gradient of ``k`` repeated rows to float64 round-off.
    Returns a float and a float64 gradient. Padding (rows past the last real
    one, zero-weight pair entries) is dropped once here.
    """

    def __init__(
        self, rows, pairs, shapes, activation, loss, margin, reg, max_fpr=None
    ):
        pos_idx, pos_w, neg_idx, neg_w, pair_norm = pairs
        self.tasks = []
        last_row = 0
        for t in range(len(pos_idx)):
            keep_pos, keep_neg = pos_w[t] > 0, neg_w[t] > 0
            task = (
                pos_idx[t][keep_pos],
                np.asarray(pos_w[t][keep_pos], np.float64),
                neg_idx[t][keep_neg],
                np.asarray(neg_w[t][keep_neg], np.float64),
                # A partial AUC's pairs hold max_fpr of the negative weight.
                1.0 / (float(pair_norm[t]) * len(pos_idx) * (max_fpr or 1.0)),
            )
            self.tasks.append(task)
            last_row = max(last_row, task[0].max(initial=-1), task[2].max(initial=-1))
        rows = rows[: last_row + 1]
        # Sparse rows (a CSR matrix) stay sparse: the scorer's first product
        # and the first layer's gradient are SciPy's.
        self.rows = rows if issparse(rows) else np.asarray(rows)
        self.dtype = self.rows.dtype
        self.shapes = shapes
        self.activation = activation
        self.reg = float(reg)
        self.max_fpr = max_fpr
        self._sorted = (loss, float(margin)) if loss in SORTED_LOSSES else None
        self._loss = value_and_derivative(loss, margin, np)
        # Pair buffers for the tasks summed over the pair matrix (the
        # logistic loss up to HOST_MAX_PAIRS pairs); larger ones go binned.
        dense = [
            len(t[0]) * len(t[2])
            for t in self.tasks
            if len(t[0]) * len(t[2]) <= HOST_MAX_PAIRS
        ]
        n_rows, n_hidden = self.rows.shape[0], len(shapes) // 2
        widths = [shapes[layer][1] for layer in range(n_hidden)]

        def buffers():
            return [np.empty((n_rows, width), self.dtype) for width in widths]

        # Outputs, upstream gradients and the activation's derivatives.
        derivatives = [None] * n_hidden if activation == "identity" else buffers()
        self._layer_buffers = (buffers(), buffers(), derivatives)
        # A dense first layer multiplies the rows with a column of ones
        # appended: its intercept is then part of the product (no pass over
        # rows x width to add it) and its gradient part of the transposed
        # product (no sum over the rows).
        self._augmented = None
        if n_hidden and not issparse(self.rows):
            self._augmented = np.empty((n_rows, self.rows.shape[1] + 1), self.dtype)
            self._augmented[:, :-1] = self.rows
            self._augmented[:, -1] = 1.0
        self._score_grad = np.zeros((shapes[n_hidden][1], n_rows), self.dtype)
        self._ones = np.ones(n_rows, self.dtype)
        self._buffers = None
        self._kernels = {}  # the binned sums' loss spectra (skpairauc._binned)
        if self._sorted is None and loss == "logistic" and dense:
            longest = max(dense)
            self._buffers = [np.empty(longest, np.float32) for _ in range(3)]
            self._buffers.append(np.empty(longest))

    def _pair_sums(self, s_pos, w_pos, s_neg, w_neg):
        if self.max_fpr is not None:
            w_neg = top_negative_weights(s_neg, w_neg, self.max_fpr)
        if self._sorted is not None:
            return sorted_pair_sums(s_pos, w_pos, s_neg, w_neg, *self._sorted)
        if self._buffers is None or len(s_pos) * len(s_neg) > HOST_MAX_PAIRS:
            return binned_pair_sums(
                s_pos, w_pos, s_neg, w_neg, self._loss, self._kernels
            )
        shape = (len(s_pos), len(s_neg))
        views = [b[: shape[0] * shape[1]].reshape(shape) for b in self._buffers]
        return _logistic_sums(s_pos, w_pos, s_neg, w_neg, views)

    def __call__(self, theta):
        params = unflatten(np.asarray(theta, self.dtype), self.shapes)
        coefs, intercepts = params["coefs"], params["intercepts"]
        # Each layer's output and gradient go to buffers owned by this
        # objective: fresh arrays of rows x width at every evaluation cost as
        # much as the products themselves.
        hidden, upstreams, derivatives = self._layer_buffers
        outputs = [self.rows]  # the input of each layer
        for W, b, z, derivative in zip(coefs, intercepts, hidden, derivatives):
            if len(outputs) == 1 and self._augmented is not None:
                np.matmul(self._augmented, np.vstack([W, b]), out=z)
            elif issparse(outputs[-1]):
                z[...] = outputs[-1] @ W
                z += b
            else:
                np.matmul(outputs[-1], W, out=z)
                z += b
            _activate(self.activation, z, derivative)
            outputs.append(z)
        scores = outputs[-1] @ coefs[-1]

        value = 0.0
        score_grad = self._score_grad  # (task, row); rows in no task stay 0
        for t, (p_idx, p_w, n_idx, n_w, scale) in enumerate(self.tasks):
            column = scores[:, t]
            total, grad_pos, grad_neg = self._pair_sums(
                column[p_idx], p_w, column[n_idx], n_w
            )
            value += float(total) * float(scale)
            score_grad[t, p_idx] = grad_pos * scale
            score_grad[t, n_idx] = grad_neg * scale
        score_grad = score_grad.T

        coef_grads = [None] * len(coefs)
        intercept_grads = [None] * len(intercepts)
        coef_grads[-1] = outputs[-1].T @ score_grad
        # Back-propagated only through hidden layers (a linear scorer has
        # none: its (rows x features) upstream would be pure waste). With one
        # score the last layer's upstream, (score_grad w^T) * f'(h), is kept
        # as score_grad * f'(h) and its column factor w applied to the
        # layer's small gradients: one pass over rows x width fewer.
        columns = None
        if intercepts:
            upstream, derivative = upstreams[-1], derivatives[-1]
            if coefs[-1].shape[1] == 1:
                columns = coefs[-1][:, 0]
                if derivative is None:
                    np.copyto(upstream, score_grad)
                else:
                    np.multiply(derivative, score_grad, out=upstream)
            else:
                np.matmul(score_grad, coefs[-1].T, out=upstream)
                if derivative is not None:
                    upstream *= derivative
        for layer in reversed(range(len(intercepts))):
            upstream = upstreams[layer]
            if layer == 0 and self._augmented is not None:
                both = self._augmented.T @ upstream
                coef_grads[layer], intercept_grads[layer] = both[:-1], both[-1]
            else:
                coef_grads[layer] = outputs[layer].T @ upstream
                intercept_grads[layer] = self._ones @ upstream
            W = coefs[layer]
            if columns is not None:
                coef_grads[layer] *= columns
                intercept_grads[layer] *= columns
                W = W * columns
                columns = None
            if layer > 0:
                np.matmul(upstream, W.T, out=upstreams[layer - 1])
                if derivatives[layer - 1] is not None:
                    upstreams[layer - 1] *= derivatives[layer - 1]

        for W, grad in zip(coefs, coef_grads):
            grad += self.reg * W
        value += float(self.reg) * float(l2_penalty(np, params))
        gradient = np.concatenate(
            [np.ravel(g) for g in (*coef_grads, *intercept_grads)], dtype=np.float64
        )
        return value, gradient
