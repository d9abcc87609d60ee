"""Checks of the estimator's inputs, before any work (NumPy / scikit-learn only)."""

import warnings
from numbers import Integral
from typing import NamedTuple

import numpy as np
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, validate_data

from ._scaling import normalized_weights
from ._sparse import csr_if_sparse

# The sparse formats validate_data passes through (it converts others to
# CSR); csr_if_sparse then makes every one CSR.
SPARSE_FORMATS = ("csr", "csc", "coo")


class FitInputs(NamedTuple):
    """Validated training data.

    ``X`` is the validated array (float32 or float64, dense or a SciPy CSR
    matrix; never the user's array modified); ``y_encoded`` the class
    indices into ``classes``;
    ``sample_weight`` float64, non-negative, with a positive total per class,
    divided by ``weight_unit`` (the mean of the user's non-zero weights) so
    that float32 training neither overflows nor underflows. The user's
    weights are ``sample_weight * weight_unit``: the penalty and the
    probability map's class counts use them, so a weight ``k`` is ``k``
    repeated rows.
    """

    X: np.ndarray
    y_encoded: np.ndarray
    classes: np.ndarray
    sample_weight: np.ndarray
    weight_unit: float = 1.0

    def subset(self, rows):
        """The inputs restricted to ``rows`` (in the same weight unit)."""
        return FitInputs(
            self.X[rows],
            self.y_encoded[rows],
            self.classes,
            self.sample_weight[rows],
            self.weight_unit,
        )

    @property
    def n_classes(self):
        return len(self.classes)


def label(value):
    """A class label as a plain Python value, for error messages."""
    return value.item() if isinstance(value, np.generic) else value


def validated_hidden_layer_sizes(sizes):
    """``hidden_layer_sizes`` as a tuple of positive ints, or a ValueError."""
    original = sizes
    sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
    if not all(isinstance(s, Integral) and s > 0 for s in sizes):
        raise ValueError(
            "hidden_layer_sizes must be a sequence of positive integers (or () "
            f"for a linear scorer), got {original!r}."
        )
    return tuple(int(s) for s in sizes)


def validated_data(estimator, X, y="no_validation", **kwargs):
    """``validate_data`` as the estimator calls it (float32 or float64, dense
    or sparse), with sparse ``X`` as CSR; ``kwargs`` go to ``validate_data``."""
    out = validate_data(
        estimator,
        X,
        y,
        accept_sparse=SPARSE_FORMATS,
        dtype=[np.float64, np.float32],
        **kwargs,
    )
    if isinstance(out, tuple):
        return (csr_if_sparse(out[0]), out[1])
    return csr_if_sparse(out)


def validate_fit_inputs(estimator, X, y, sample_weight):
    """Validate ``fit``'s arguments; sets ``n_features_in_`` (and
    ``feature_names_in_``) on ``estimator`` as ``validate_data`` does."""
    X, y = validated_data(estimator, X, y, ensure_min_samples=2)
    if y.dtype.kind not in "iu":
        # Integer labels in one column are always binary or multiclass.
        check_classification_targets(y)
    classes, y_encoded = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            "PairwiseAUCClassifier needs samples of at least 2 classes to form "
            "positive-negative pairs; y contains only the class "
            f"{label(classes[0])!r}."
        )
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    class_weight = np.bincount(y_encoded, weights=sample_weight, minlength=len(classes))
    if np.any(class_weight <= 0):
        raise ValueError(
            "Every class needs a positive total sample_weight; class "
            f"{label(classes[np.argmin(class_weight)])!r} has total weight 0."
        )
    sample_weight, weight_unit = normalized_weights(sample_weight)
    # Training runs in float32: a weight below its range relative to the mean
    # (under 1e-38 of it) is zero there, so it is zero everywhere (statistics, folds,
    # validation splits), not positive in some stages and zero in others.
    sample_weight = np.where(sample_weight.astype(np.float32) > 0, sample_weight, 0.0)
    in_float32 = np.bincount(
        y_encoded,
        weights=sample_weight.astype(np.float32).astype(np.float64),
        minlength=len(classes),
    )
    if np.any(in_float32 <= 0):
        raise ValueError(
            "sample_weight spans too many orders of magnitude: the weights of "
            f"class {label(classes[np.argmin(in_float32)])!r} are below float32's "
            "range relative to the mean weight (training runs in float32)."
        )
    return FitInputs(X, y_encoded, classes, sample_weight, weight_unit)


# Fewer training rows of a class than this get a warning: its side of every
# pair, its threshold and its probability map rest on a handful of rows.
MIN_ROWS_PER_CLASS = 5


def warn_about_the_data(inputs, threshold):
    """Warn about a class with very few rows, and a threshold that a
    multiclass problem ignores."""
    counts = np.bincount(inputs.y_encoded, minlength=inputs.n_classes)
    if counts.min() < MIN_ROWS_PER_CLASS:
        small = inputs.classes[np.argmin(counts)]
        warnings.warn(
            f"Class {label(small)!r} has only {counts.min()} training row(s): the "
            "ranking, threshold and probabilities learnt for it are unreliable.",
            UserWarning,
            stacklevel=4,
        )
    if inputs.n_classes > 2 and threshold != "balanced_accuracy":
        warnings.warn(
            f"threshold={threshold!r} is ignored on a multiclass problem: it "
            "predicts the class of highest one-vs-rest probability.",
            UserWarning,
            stacklevel=4,
        )
