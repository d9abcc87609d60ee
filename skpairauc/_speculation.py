"""A refit started while the last fold fits of the capacity selection run
(:func:`skpairauc._capacity.cross_validate`), kept if the folds choose its
candidate."""

import threading
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning


class Speculation:
    """A refit on all rows that a worker thread starts once no fold fit is
    left for it to take, of the candidate leading at that moment (the best
    mean over the folds scored so far): with 3 folds on 2 threads one
    thread would otherwise wait for the other's last fold. If the finished
    folds choose another candidate, the refit is abandoned at its next
    objective evaluation (:class:`skpairauc._exact.FitAbandoned`); if they
    choose it, the caller keeps it. The refit is the one the caller would
    run, so the model does not depend on this. ``warnings`` holds the
    refit's convergence warnings, for the caller to issue if it keeps it.
    ``choose(scores, soft_scores)`` is the caller's choice among the
    candidates scored on every fold."""

    def __init__(self, n_paths, stop, choose):
        self.lock = threading.Lock()
        self.choose = choose
        self.n_left = n_paths
        self.stop = stop
        self.index = self.result = None
        self.wrong = False
        self.warnings = []

    def abandoned(self):
        return self.wrong or self.stop.is_set()

    def path_done(self, scores, soft_scores):
        with self.lock:
            self.n_left -= 1
            if self.n_left == 0 and self.index is not None:
                self.wrong = self.choose(scores, soft_scores) != self.index

    def run(self, scores, refit):
        """Guess and refit (``refit(index, self)``), unless the fold fits
        ended or stopped."""
        with self.lock:
            if self.stop.is_set() or self.n_left == 0:
                return  # the caller refits now
            self.index = self.guess(scores)
            if self.index is None:
                return
        try:
            self.result = refit(self.index, self)
        except Exception:  # FitAbandoned, or an error the caller's refit meets again
            self.result = None

    @staticmethod
    def guess(scores):
        """The candidate of the best mean held-out score over the folds
        scored so far (None if none is)."""
        counts = (~np.isnan(scores)).sum(axis=0)
        if not counts.any():
            return None
        means = np.where(counts > 0, np.nansum(scores, axis=0), -np.inf)
        return int(np.argmax(means / np.maximum(counts, 1)))

    def kept(self, chosen_index):
        """The refit of ``chosen_index`` if this is it (its warnings issued
        now), else None."""
        if self.result is None or self.index != chosen_index or self.abandoned():
            return None
        for message in self.warnings:
            warnings.warn(message, ConvergenceWarning)
        return self.result
