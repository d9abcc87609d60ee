"""Checks of the estimator's inputs, before any work (NumPy / scikit-learn only)."""

from numbers import Integral
from typing import NamedTuple

import numpy as np
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, validate_data

from ._scaling import normalized_weights


class FitInputs(NamedTuple):
    """Validated training data.

    ``X`` is the validated array (float32 or float64; never the user's array
    modified); ``y_encoded`` the class indices into ``classes``;
    ``sample_weight`` float64, non-negative, with a positive total per class,
    rescaled to a mean of 1 over its non-zero entries.
    """

    X: np.ndarray
    y_encoded: np.ndarray
    classes: np.ndarray
    sample_weight: np.ndarray

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


# Integer labels spanning at most this many values (or as many as there are
# labels) are encoded by counting; others by sorting.
_COUNTING_MIN_SPAN = 1 << 16


def encode_labels(y):
    """``np.unique(y, return_inverse=True)``: the sorted classes and each
    label's index into them. Integer labels of a moderate span are counted
    instead of sorted (1e6 binary labels: 2.4 ms against 34 ms)."""
    if y.dtype.kind in "iu" and len(y):
        low, high = int(y.min()), int(y.max())
        span_ok = high - low < max(_COUNTING_MIN_SPAN, len(y))
        if span_ok and high <= np.iinfo(np.intp).max:
            offsets = y.astype(np.intp, copy=False)
            offsets = offsets - low if low else offsets
            present = np.flatnonzero(np.bincount(offsets, minlength=high - low + 1))
            lookup = np.zeros(high - low + 1, dtype=np.intp)
            lookup[present] = np.arange(len(present))
            return (present + low).astype(y.dtype), lookup[offsets]
    return np.unique(y, return_inverse=True)


def validate_fit_inputs(estimator, X, y, sample_weight):
    """Validate ``fit``'s arguments; sets ``n_features_in_`` (and
    ``feature_names_in_``) on ``estimator`` as ``validate_data`` does."""
    X, y = validate_data(
        estimator, X, y, dtype=[np.float64, np.float32], ensure_min_samples=2
    )
    if y.dtype.kind not in "iu":
        # Integer labels in one column are always binary or multiclass.
        check_classification_targets(y)
    classes, y_encoded = encode_labels(y)
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
    # Only the ratios of the weights matter (see _scaling.normalized_weights).
    sample_weight = normalized_weights(sample_weight)
    # Training runs in float32: a weight below its range (under 1e-38 of the
    # mean) is zero there, so it is zero everywhere (statistics, folds,
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
    return FitInputs(X, y_encoded, classes, sample_weight)
