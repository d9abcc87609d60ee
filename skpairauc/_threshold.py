"""From ranking scores to decisions and probabilities (NumPy only).

Training optimises a ranking, which fixes scores only up to an increasing
transformation. Turning them into classes and probabilities is a separate,
one-dimensional problem solved here after training:

* :func:`select_threshold` picks the score above which a sample is called
  positive, by exhaustive search over all distinct cut points;
* :func:`fit_decision` puts these together into the fitted decision of the
  estimator (threshold and probability map);
* :func:`fit_sigmoid` fits ``P(y = 1 | s) = sigmoid(a * s + b)`` by weighted
  maximum likelihood (Platt scaling), optionally with the crossing point
  ``-b / a`` held at a chosen threshold.
"""

from typing import NamedTuple

import numpy as np
from scipy.special import log_expit, logit

THRESHOLD_STRATEGIES = ("balanced_accuracy", "f1", "prior")


def _cut_points(scores, y, sample_weight):
    """Weighted confusion counts for every cut between distinct scores.

    Returns ``cuts`` (ascending) and, for "predict positive iff score > cut",
    the true and false positive weights at each cut.
    """
    # Rows of zero weight are not there (they would add cut points, and move
    # the middle of a plateau of tied maxima).
    kept = sample_weight > 0
    if not np.all(kept):
        scores, y, sample_weight = scores[kept], y[kept], sample_weight[kept]
    # Ties end up adjacent in any sort order, and they are summed as groups
    # below, so the faster unstable sort is enough.
    order = np.argsort(scores)
    s, pos_w = scores[order], (sample_weight * y)[order]
    neg_w = (sample_weight * (1 - y))[order]
    distinct = np.flatnonzero(np.diff(s) > 0)
    # Candidate cuts: below everything, between each pair of distinct scores.
    cuts = np.concatenate([[s[0] - 1.0], 0.5 * (s[distinct] + s[distinct + 1])])
    # Weight strictly above each cut: total minus the cumulative weight up to it.
    cum_pos = np.concatenate([[0.0], np.cumsum(pos_w)[distinct]])
    cum_neg = np.concatenate([[0.0], np.cumsum(neg_w)[distinct]])
    tp = pos_w.sum() - cum_pos
    fp = neg_w.sum() - cum_neg
    # Plus one cut above everything (predict all negative).
    cuts = np.append(cuts, s[-1] + 1.0)
    return cuts, np.append(tp, 0.0), np.append(fp, 0.0)


def threshold_metric(scores, y, sample_weight, strategy):
    """Metric value of every candidate cut; returns ``(cuts, values)``."""
    cuts, tp, fp = _cut_points(scores, y, sample_weight)
    n_pos = np.sum(sample_weight * y)
    n_neg = np.sum(sample_weight * (1 - y))
    if strategy == "balanced_accuracy":
        values = 0.5 * (tp / n_pos + 1.0 - fp / n_neg)
    elif strategy == "f1":
        fn = n_pos - tp
        denominator = 2 * tp + fp + fn
        values = np.divide(
            2 * tp, denominator, np.zeros_like(tp), where=denominator > 0
        )
    else:  # pragma: no cover - guarded by callers
        raise ValueError(f"unknown threshold strategy {strategy!r}")
    return cuts, values


def select_threshold(scores, y, sample_weight, strategy, weight_unit=1.0):
    """The score cut maximising a metric of "predict positive iff score > cut".

    Parameters
    ----------
    scores : ndarray of shape (n_samples,)
    y : ndarray of shape (n_samples,)
        Binary labels in {0, 1}.
    sample_weight : ndarray of shape (n_samples,)
    strategy : {"balanced_accuracy", "f1", "prior"}
        "prior" is the point where the Platt-calibrated probability, fitted
        under the prevalence of ``y``, crosses 0.5.

    Returns
    -------
    threshold : float
        Among tied maxima, the middle one (the widest safe choice).
    """
    if strategy == "prior":
        slope, intercept = fit_sigmoid(
            scores, y, sample_weight, weight_unit=weight_unit
        )
        return float(-intercept / slope)
    cuts, values = threshold_metric(scores, y, sample_weight, strategy)
    best = np.flatnonzero(values >= values.max() - 1e-12)
    return float(cuts[best[len(best) // 2]])


def fit_sigmoid(
    scores, y, sample_weight, threshold=None, max_iter=100, weight_unit=1.0
):
    """Weighted Platt scaling: fit ``P(y=1 | s) = sigmoid(a * s + b)``.

    Targets are Platt's smoothed labels ``(N+ + 1) / (N+ + 2)`` and
    ``1 / (N- + 2)``, which keep the slope finite on separable scores. The
    slope is kept positive, so the probability is non-decreasing in the score.

    Parameters
    ----------
    scores, y, sample_weight : ndarray of shape (n_samples,)
    threshold : float or None
        If given, ``b = -a * threshold`` so that the probability crosses 0.5
        exactly at ``threshold``; only ``a`` is fitted.
    max_iter : int
        Newton iterations.
    weight_unit : float
        The user's weights are ``sample_weight * weight_unit``: Platt's
        targets count them, so a weight ``k`` counts as ``k`` rows.

    Returns
    -------
    slope, intercept : float
    """
    scores = np.asarray(scores, dtype=np.float64)
    w = np.asarray(sample_weight, dtype=np.float64)
    with np.errstate(over="ignore"):
        n_pos = np.sum(w * y) * weight_unit
        n_neg = np.sum(w * (1 - y)) * weight_unit
    # 1 - 1 / (n + 2) is (n + 1) / (n + 2), still 1 when n overflows.
    target = np.where(y == 1, 1.0 - 1.0 / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    # Standardise, so Newton's steps are well scaled for any score range.
    center = np.average(scores, weights=w) if threshold is None else threshold
    scale = np.sqrt(np.average((scores - center) ** 2, weights=w))
    scale = scale if scale > 0 else 1.0
    z = (scores - center) / scale
    features = (
        z[:, None] if threshold is not None else np.stack([z, np.ones_like(z)], 1)
    )
    theta = np.zeros(features.shape[1])
    theta[0] = 1.0
    # -log P(target | logit) summed: with log(1 - sigmoid(x)) = log_sigmoid(x)
    # - x, one log_sigmoid per evaluation; its exp is the probability that the
    # next Newton step needs (faster than the plain form on a large fit's
    # decision; see benchmarks/README.md).
    w_off = w * (1.0 - target)

    def nll(t):
        logit = features @ t
        log_p = log_expit(logit)
        return float(np.dot(w_off, logit) - np.dot(w, log_p)), log_p

    value, log_p = nll(theta)
    for _ in range(max_iter):
        p = np.exp(log_p)
        grad = features.T @ (w * (p - target))
        hess = (features * (w * p * (1 - p))[:, None]).T @ features
        hess += 1e-12 * np.eye(len(theta)) * max(np.trace(hess), 1.0)
        direction = np.linalg.solve(hess, grad)
        step = 1.0
        while step > 1e-10:  # backtracking: Newton may overshoot far from 0
            candidate = theta - step * direction
            new_value, new_log_p = nll(candidate)
            if new_value <= value:
                break
            step *= 0.5
        if step <= 1e-10:  # no decrease left: converged to round-off
            break
        theta, value, log_p = candidate, new_value, new_log_p
        # Stop on the step, not on the decrease: a decrease of eps leaves the
        # parameters sqrt(eps) from the optimum, and weighted rows and their
        # repetitions (sums of another size) would stop at different points.
        if np.max(np.abs(step * direction)) <= 1e-12 * max(1.0, np.abs(theta).max()):
            break
    # A positive slope keeps probabilities increasing in the score; a fitted
    # non-positive slope (scores that carry no signal) becomes a tiny one.
    a = max(theta[0], 1e-6) / scale
    b = -a * center + (theta[1] / 1.0 if threshold is None else 0.0)
    return float(a), float(b)


class Decision(NamedTuple):
    """The fitted decision: ``threshold_``, ``calibration_coef_`` and
    ``calibration_intercept_`` of the estimator (see its docstring)."""

    threshold: float | np.ndarray
    calibration_coef: np.ndarray
    calibration_intercept: np.ndarray


def fit_decision(scores, y_encoded, sample_weight, threshold, weight_unit=1.0):
    """Choose the threshold and the score-to-probability map.

    Parameters
    ----------
    scores : ndarray of shape (n_samples, n_tasks)
        Raw scores of the rows the decision is fitted on; one column for a
        binary problem, one per class otherwise.
    y_encoded : ndarray of shape (n_samples,)
        Class indices.
    sample_weight : ndarray of shape (n_samples,)
    threshold : str or float
        The estimator's ``threshold`` parameter (binary problems only).
    weight_unit : float
        See :func:`fit_sigmoid`.

    Returns
    -------
    Decision
    """
    if scores.shape[1] == 1:
        s, y01 = scores[:, 0], (y_encoded == 1).astype(np.float64)
        if isinstance(threshold, str):
            cut = select_threshold(s, y01, sample_weight, threshold, weight_unit)
        else:
            # The score where the prevalence-calibrated probability is t.
            a, b = fit_sigmoid(s, y01, sample_weight, weight_unit=weight_unit)
            cut = float((logit(threshold) - b) / a)
        slope, _ = fit_sigmoid(
            s, y01, sample_weight, threshold=cut, weight_unit=weight_unit
        )
        return Decision(cut, np.array([slope]), np.array([-slope * cut]))
    fits = [
        fit_sigmoid(
            scores[:, c],
            (y_encoded == c).astype(np.float64),
            sample_weight,
            weight_unit=weight_unit,
        )
        for c in range(scores.shape[1])
    ]
    coef = np.array([a for a, _ in fits])
    intercept = np.array([b for _, b in fits])
    return Decision(-intercept / coef, coef, intercept)
