"""When the stochastic solvers stop, and which weights they keep (NumPy only).

:class:`StoppingMonitor` is the stopping rule of the stochastic loop, apart
from the loop: it sees one criterion value per epoch (the epoch's training
loss, or minus the validation ROC AUC with early stopping), keeps an explicit
copy of the best weights when the caller gives them, and says when to stop.
"""

import functools

import numpy as np
from sklearn.metrics import roc_auc_score

from ._scorers import score_rows


def roc_auc(scores, y, sample_weight, max_fpr=None):
    """Weighted ROC AUC of ``scores`` for the binary labels ``y`` (1 is
    positive), in the argument order of :func:`soft_auc`; with ``max_fpr``,
    the standardised partial AUC (``roc_auc_score``'s).

    The full AUC is the weighted share of positive-negative pairs ranked
    right, ties counting half: ``roc_auc_score``'s value, summed per distinct
    score, without its input checks, which cost a small table's selection
    more than its held-out scoring (benchmarks/README.md, "Fewer L-BFGS
    iterations per selection"). ``roc_auc_score`` still serves the partial
    AUC and the inputs it refuses (one class, non-finite scores).
    """
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(y) == 1
    w = np.ones(len(scores)) if sample_weight is None else np.asarray(sample_weight)
    w_pos, w_neg = np.where(positive, w, 0.0), np.where(positive, 0.0, w)
    total_pos, total_neg = w_pos.sum(), w_neg.sum()
    both_classes = total_pos > 0 and total_neg > 0
    if max_fpr is not None or not both_classes or not np.isfinite(scores).all():
        return roc_auc_score(y, scores, sample_weight=sample_weight, max_fpr=max_fpr)
    values, inverse = np.unique(scores, return_inverse=True)
    pos = np.bincount(inverse, weights=w_pos, minlength=len(values))
    neg = np.bincount(inverse, weights=w_neg, minlength=len(values))
    below = np.cumsum(neg) - neg  # negative weight under each distinct score
    return float(pos @ (below + 0.5 * neg) / (total_pos * total_neg))


class StoppingMonitor:
    """Stop after ``patience`` epochs without an improvement of ``tol``.

    Parameters
    ----------
    tol : float
        An epoch improves when its criterion is below the best so far minus
        ``tol``.
    patience : int
        Epochs without improvement before stopping (``n_iter_no_change``).
    """

    def __init__(self, tol, patience):
        self.tol = tol
        self.patience = patience
        self.best = np.inf
        self.best_params = None
        self.n_no_improvement = 0

    def update(self, criterion, params=None):
        """Record an epoch's criterion (lower is better); ``params`` are the
        weights it was measured on, kept if they are the best so far. Returns
        True when the fit should stop."""
        if criterion > self.best - self.tol:
            self.n_no_improvement += 1
        else:
            self.n_no_improvement = 0
        if criterion < self.best:
            self.best, self.best_params = criterion, params
        return self.n_no_improvement >= self.patience


def validation_auc(params, X, y_encoded, sample_weight, activation, max_fpr=None):
    """ROC AUC (with ``max_fpr``: standardised partial AUC) of the scorer on
    held-out rows (macro one-vs-rest for multiclass, over the classes present
    with both sides)."""
    scores = score_rows(params, X, activation)
    return scores_auc(scores, y_encoded, sample_weight, max_fpr=max_fpr)


def scores_auc(scores, y_encoded, sample_weight, metric=None, max_fpr=None):
    """ROC AUC of held-out ``scores`` of shape (n, n_tasks): one column for a
    binary problem, else macro one-vs-rest over the classes present with both
    sides. Used by early stopping and by the capacity selection's folds.
    ``metric(scores, y, sample_weight)`` replaces :func:`roc_auc` (e.g.
    :func:`soft_auc`); ``max_fpr`` is passed to :func:`roc_auc`."""
    if metric is None:
        metric = functools.partial(roc_auc, max_fpr=max_fpr)
    if scores.shape[1] == 1:
        return metric(scores[:, 0], (y_encoded == 1).astype(float), sample_weight)
    present = [
        c for c in range(scores.shape[1]) if 0 < np.sum(y_encoded == c) < len(y_encoded)
    ]
    return float(
        np.mean(
            [
                metric(scores[:, c], (y_encoded == c).astype(float), sample_weight)
                for c in present
            ]
        )
    )


# Pair differences evaluated at once by soft_auc (32 MiB of float64).
SOFT_AUC_BLOCK = 1 << 22


def soft_auc(scores, y, sample_weight):
    """The weighted mean over positive-negative pairs of
    ``sigmoid((s+ - s-) / spread)``, ``spread`` the weighted standard
    deviation of all the scores: a ROC AUC whose pairs count by how far they
    are ranked apart, in units of the scores' spread (so the scale of the
    scores does not matter). It still tells candidates apart when their ROC
    AUCs tie, e.g. when each held-out fold is perfectly ranked (0.5 when the
    scores are all equal)."""
    scores = np.asarray(scores, dtype=np.float64)
    w = np.asarray(sample_weight, dtype=np.float64)
    w = w / w.max()
    spread = np.sqrt(np.cov(scores, aweights=w, bias=True)) if len(scores) > 1 else 0
    if not spread > 0 or not np.isfinite(spread):
        return 0.5
    positive = y == 1
    s_pos, w_pos = scores[positive] / spread, w[positive]
    s_neg, w_neg = scores[~positive] / spread, w[~positive]
    rows = max(1, SOFT_AUC_BLOCK // max(len(s_neg), 1))
    total = 0.0
    for start in range(0, len(s_pos), rows):
        d = s_pos[start : start + rows, None] - s_neg[None, :]
        total += w_pos[start : start + rows] @ (0.5 + 0.5 * np.tanh(0.5 * d)) @ w_neg
    return float(total / (w_pos.sum() * w_neg.sum()))
