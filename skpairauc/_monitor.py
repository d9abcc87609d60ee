"""When the stochastic solvers stop, and which weights they keep (NumPy only).

:class:`StoppingMonitor` is the stopping rule of the stochastic loop, apart
from the loop: it sees one criterion value per epoch (the epoch's training
loss, or minus the validation ROC AUC with early stopping), keeps an explicit
copy of the best weights when the caller gives them, and says when to stop.
"""

import numpy as np

from ._scorers import score_rows
from ._threshold import roc_auc


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


def validation_auc(params, X, y_encoded, sample_weight, activation):
    """ROC AUC of the scorer on held-out rows (macro one-vs-rest for
    multiclass, over the classes present with both sides)."""
    return scores_auc(score_rows(params, X, activation), y_encoded, sample_weight)


def scores_auc(scores, y_encoded, sample_weight):
    """ROC AUC of held-out ``scores`` of shape (n, n_tasks): one column for a
    binary problem, else macro one-vs-rest over the classes present with both
    sides. Used by early stopping and by the capacity selection's folds."""
    if scores.shape[1] == 1:
        return roc_auc(scores[:, 0], (y_encoded == 1).astype(float), sample_weight)
    present = [
        c for c in range(scores.shape[1]) if 0 < np.sum(y_encoded == c) < len(y_encoded)
    ]
    return float(
        np.mean(
            [
                roc_auc(scores[:, c], (y_encoded == c).astype(float), sample_weight)
                for c in present
            ]
        )
    )
