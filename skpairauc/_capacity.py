"""Capacity selection: which scorer and penalty the default trains (NumPy and
scikit-learn only; training goes through :mod:`skpairauc._training`).

With ``hidden_layer_sizes="auto"`` the estimator chooses among a small grid of
scorers and penalties (:func:`candidates`):

* when the training data allow an exact fit (the policy's solver is exact, or
  the data are too small to hold out a validation set), by stratified K-fold
  cross-validation on the training data, repeated ``N_REPEATS`` times with
  other shuffles when a class has fewer than ``REPEAT_BELOW_CLASS_ROWS``
  rows: each candidate is fitted on K - 1 folds and scored by the
  ROC AUC of the held-out fold (macro one-vs-rest for multiclass); the best
  mean wins, ties going to the best mean held-out soft AUC
  (:func:`skpairauc._monitor.soft_auc`), then to the earlier candidate
  (linear before MLP, stronger penalty first), and is refitted on all rows,
  as ``LogisticRegressionCV`` does;
* on large data (a stochastic solver with a validation split), cross-validation
  would multiply long fits, so each scorer trains on all training rows for
  its first epochs (:func:`selection_epochs`: about ``SELECTION_STEPS``
  steps); the best validation ROC AUC so far wins, and its fit trains on
  from where it stopped. The winner's model is the one a fit of that scorer
  alone would give; only the losers' first epochs are extra work, and every
  scorer's epoch program is the one its full fit uses.

The rule was chosen on 26 imbalanced tables outside the benchmark's 12 (see
the user guide): cross-validated selection was the only rule tried that was
never more than 0.01 below ``LogisticRegression(class_weight="balanced")``
while gaining most where an MLP helps.
"""

import math
from typing import NamedTuple

import numpy as np

# The scorer grid of "auto": a linear scorer and an MLP with one hidden layer.
AUTO_HIDDEN = ((), (64,))
# The penalties tried with "auto" alpha, per scorer: a linear scorer needs a
# wide range (weakly to strongly regularised); an MLP on imbalanced tables
# was never best with alpha below 1. The linear scorer's middle value (1) was
# dropped: its held-out AUC is within noise of its neighbours', and every
# extra candidate is one more noisy score to take the maximum of. On the
# 99 tables of benchmarks/study_selection.py, selecting among these four
# matched the five with alpha 1 (each group's mean test AUC within 0.0005);
# tables more than 0.01 below balanced logistic regression: none of the 12
# benchmark tables (five: abalone19 at -0.014), 5 of 68 other KEEL tables
# (five: 5), none of 19 holdout tables (five: none).
AUTO_ALPHAS = {(): (10.0, 0.1), (64,): (10.0, 1.0)}
# With an explicit hidden_layer_sizes, alpha="auto" means this value.
DEFAULT_ALPHA = 1.0
# Mean held-out ROC AUCs this close are a tie (round-off of sums of equal
# fold scores in another order). Ties are common on tables whose folds are
# ranked perfectly by several candidates (shuttle-c0-vs-c4: every candidate
# scores 1.0 on every fold of 2 of 5 splits); the earlier candidate, the
# linear scorer with the strongest penalty, then reached test AUC 0.973
# where the others reached 0.991-1.0 and LogisticRegression 1.0. Ties are
# broken by the soft held-out AUC (_monitor.soft_auc), which counts how far
# apart each pair is ranked.
TIE = 1e-12
# Folds of the selection; 5 was no better than 3 on the tables tried, at
# about twice the cost.
N_FOLDS = 3
# Repeats of the 3 folds, with other shuffles, when a class has fewer than
# REPEAT_BELOW_CLASS_ROWS rows (of positive weight). With 17 positives in
# training (poker-8-9_vs_5) one 3-fold split chose the linear scorer on noise
# (test AUC 0.41 where the MLP reaches 0.90); two repeats chose the MLP on all
# 5 splits, for twice the cost. With a few hundred rows of every class the
# held-out AUCs are steadier: on the 80 tables of
# benchmarks/study_selection.py, the first split alone picked the same
# candidate as both on all 13 splits where every class had 200 rows or more
# (at 100 rows: 17 of 19), and the default fit on make_classification(1000,
# 20) takes half the time.
N_REPEATS = 2
REPEAT_BELOW_CLASS_ROWS = 200
# Threads that fit the folds, at most (and at most the cores available): two
# fits on two cores keep both busy while each waits for its compiled program
# (see _classifier._cross_validate; benchmarks/bench_latency.py).
FOLD_WORKERS = 2


# Large-data selection: each scorer trains for about this many steps (whole
# epochs, at least one and at most SELECTION_MAX_EPOCHS) before the choice.
# A stochastic epoch is at most 250 steps whatever the data size, so the
# budget, not the row count, sets the cost. 1,250 steps of the default batch
# separate a linear from a nonlinear table (validation AUC 0.76 against 0.82
# on 200,000 rows of make_classification(weights=[0.99], class_sep=0.8):
# benchmarks/bench_large_table.py) at a fraction of a full fit. (Until this
# release the scorers were scored on a stratified subsample of 50,000 rows for
# 10 epochs, about 1,170 steps on 1e6 rows: the same budget, a 20 times
# smaller validation set, and one more compiled program per fit.)
SELECTION_STEPS = 1250
SELECTION_MAX_EPOCHS = 10


class Candidate(NamedTuple):
    hidden: tuple
    alpha: float


def candidates(hidden_param, alpha_param, validated_hidden):
    """The candidates for the given parameters, in order of preference.

    One candidate (no selection) when ``hidden_layer_sizes`` is explicit.
    """
    if hidden_param != "auto":
        alpha = DEFAULT_ALPHA if alpha_param == "auto" else float(alpha_param)
        return [Candidate(validated_hidden, alpha)]
    if alpha_param == "auto":
        return [Candidate(h, a) for h in AUTO_HIDDEN for a in AUTO_ALPHAS[h]]
    return [Candidate(h, float(alpha_param)) for h in AUTO_HIDDEN]


def validation_candidates(grid):
    """The candidates trained on large data: one fit per scorer, at the
    default penalty unless ``alpha`` was set (on large data the penalty
    barely matters: linear alpha 0.1, 1 and 10 were within 1e-5 of validation
    AUC on 200,000 rows, and each extra fit costs a full stochastic fit)."""
    alphas = {c.alpha for c in grid}
    alpha = DEFAULT_ALPHA if len(alphas) > 1 else alphas.pop()
    return [Candidate(h, alpha) for h in dict.fromkeys(c.hidden for c in grid)]


def selection_epochs(steps_per_epoch, max_iter):
    """Epochs each scorer trains before the large-data choice: whole epochs
    of about ``SELECTION_STEPS`` steps, at least one, at most
    ``SELECTION_MAX_EPOCHS`` and ``max_iter``."""
    epochs = math.ceil(SELECTION_STEPS / steps_per_epoch)
    return max(1, min(epochs, SELECTION_MAX_EPOCHS, max_iter))


def choose(fold_scores, fold_soft_scores=None):
    """Index of the chosen candidate: the best mean held-out ROC AUC over the
    folds (``fold_scores`` of shape ``(n_folds, n_candidates)``); among
    candidates tied on it (within ``TIE``), the best mean of
    ``fold_soft_scores`` (the held-out :func:`skpairauc._monitor.soft_auc`,
    same shape), then the earlier candidate."""
    means = fold_scores.mean(axis=0)
    tied = np.flatnonzero(means >= means.max() - TIE)
    if fold_soft_scores is None or len(tied) == 1:
        return int(tied[0])
    return int(tied[np.argmax(fold_soft_scores.mean(axis=0)[tied])])


def stratified_k_folds(y, n_splits, seed):
    """The folds of ``StratifiedKFold(n_splits, shuffle=True,
    random_state=seed).split(X, y)``, ``[(train, test), ...]``, computed here.

    The same assignment as scikit-learn's (classes numbered by first
    appearance; each fold's share of a class by round robin over the sorted
    labels; each class's fold numbers shuffled by a ``RandomState(seed)``),
    so the folds, and the models chosen on them, are scikit-learn's. Computed
    here so that the first fit of a fresh process does not import
    ``sklearn.model_selection`` (and ``sklearn.metrics``) for it: about 20 ms
    of a 0.3 s default fit with a warm compile cache.
    """
    rng = np.random.RandomState(seed)
    _, first, inverse = np.unique(y, return_index=True, return_inverse=True)
    _, by_appearance = np.unique(first, return_inverse=True)
    encoded = by_appearance[inverse]
    n_classes = len(first)
    ordered = np.sort(encoded)
    allocation = np.asarray(
        [
            np.bincount(ordered[i::n_splits], minlength=n_classes)
            for i in range(n_splits)
        ]
    )
    test_folds = np.empty(len(y), dtype=np.intp)
    for k in range(n_classes):
        folds_for_class = np.arange(n_splits).repeat(allocation[:, k])
        rng.shuffle(folds_for_class)
        test_folds[encoded == k] = folds_for_class
    rows = np.arange(len(y))
    return [(rows[test_folds != i], rows[test_folds == i]) for i in range(n_splits)]


def cv_folds(y_encoded, n_classes, seed):
    """Stratified folds ``[(train, test), ...]`` (3, or 6 when a class has
    fewer than ``REPEAT_BELOW_CLASS_ROWS`` rows), or None when a class has
    fewer rows than folds."""
    smallest = np.bincount(y_encoded, minlength=n_classes).min()
    if smallest < N_FOLDS:
        return None
    folds = []
    for repeat in range(N_REPEATS if smallest < REPEAT_BELOW_CLASS_ROWS else 1):
        folds += stratified_k_folds(y_encoded, N_FOLDS, seed + repeat)
    return folds
