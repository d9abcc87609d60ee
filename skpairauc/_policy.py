"""What a fit will do, decided from the parameters and the data before any
training (NumPy only): the solver, whether to stop early, the rows it trains on."""

from typing import NamedTuple

import numpy as np

from ._device import EXACT_MAX_PAIRS_ANY_DEVICE, PROFILES, exact_on_host, profile
from ._layout import task_classes, validation_split
from ._sorted import SORTED_LOSSES

# early_stopping="auto" turns early stopping on for the stochastic solvers above
# this many samples, as HistGradientBoostingClassifier does: there a validation
# split costs little, and its ROC AUC tells when to stop far sooner than a
# training loss that an MLP keeps lowering slowly.
EARLY_STOPPING_AUTO_MIN_SAMPLES = 10_000

# early_stopping="auto" needs at least this many held-out rows of every class;
# with fewer the validation AUC is too noisy to stop on, and the fit trains on
# all rows instead.
EARLY_STOPPING_AUTO_MIN_HELD_OUT = 5

# "auto" uses the exact solver up to this many positive-negative pairs (summed
# over tasks) on a CPU, where a full L-BFGS fit takes seconds; beyond it,
# stochastic steps reach the same AUC far sooner (see benchmarks/README.md).
# Other devices' limits are in skpairauc._device.
AUTO_EXACT_MAX_PAIRS = PROFILES["cpu"].exact_max_pairs

# The losses with a sort-based all-pairs sum (skpairauc._sorted) cost O(n log n)
# per L-BFGS iteration whatever the pair count, so "auto" keeps the exact
# solver for them up to a number of rows: far more for a linear scorer than
# when an MLP may train, whose exact fit then costs far more than Adam's (see
# benchmarks/README.md, "Sorted objectives").
SORTED_EXACT_MAX_ROWS_LINEAR = 2**22
SORTED_EXACT_MAX_ROWS = 2**15


# The validation ROC AUC that early stopping reads after every epoch is
# computed on at most this many held-out rows of each class (a uniform sample),
# so that scoring them takes less time than the training epoch it overlaps
# (see benchmarks/README.md). The AUC's sampling error is set by the smaller
# class, kept whole up to the cap; the threshold and probability map still use
# every held-out row.
VALIDATION_SCORE_MAX_CLASS_ROWS = 20_000
# The stream of the fit's seed that samples them (the layout uses stream 1,
# skpairauc._stochastic._LAYOUT_STREAM).
_SCORED_ROWS_STREAM = 2


def scored_rows(y_encoded, held_out, n_classes, seed):
    """The held-out rows whose ROC AUC early stopping reads after every epoch:
    at most ``VALIDATION_SCORE_MAX_CLASS_ROWS`` of each class, sorted."""
    counts = np.bincount(y_encoded[held_out], minlength=n_classes)
    if counts.max() <= VALIDATION_SCORE_MAX_CLASS_ROWS:
        return held_out
    rng = np.random.default_rng([seed, _SCORED_ROWS_STREAM])
    kept = []
    for c in range(n_classes):
        members = held_out[y_encoded[held_out] == c]
        if len(members) > VALIDATION_SCORE_MAX_CLASS_ROWS:
            members = rng.choice(
                members, VALIDATION_SCORE_MAX_CLASS_ROWS, replace=False
            )
        kept.append(members)
    return np.sort(np.concatenate(kept))


class Policy(NamedTuple):
    """The decisions of :func:`resolve_policy`.

    ``train`` are the rows the scorer is trained on; ``held_out`` the rows of
    the validation set (early stopping), or None.
    """

    solver: str
    train: np.ndarray
    held_out: np.ndarray | None

    @property
    def early_stopping(self):
        return self.held_out is not None


def _stochastic_only(params):
    return [
        name
        for name, used in (
            ("dropout", params["dropout"] > 0),
            ("early_stopping", params["early_stopping"] is True),
        )
        if used
    ]


def n_pairs(y_encoded, n_classes):
    """Positive-negative pairs summed over the tasks."""
    counts = np.bincount(y_encoded, minlength=n_classes).astype(np.float64)
    return sum(counts[c] * (counts.sum() - counts[c]) for c in task_classes(n_classes))


def _is_linear(hidden_layer_sizes):
    """Whether an explicit ``hidden_layer_sizes`` means a linear scorer."""
    if isinstance(hidden_layer_sizes, str):
        return False
    return np.size(hidden_layer_sizes) == 0


def resolve_solver(params, y_encoded, n_classes):
    """The solver a fit uses; raises if the parameters contradict each other."""
    stochastic_only = _stochastic_only(params)
    if params["solver"] == "lbfgs" and stochastic_only:
        raise ValueError(
            f"{' and '.join(stochastic_only)} need(s) a stochastic solver "
            "('adam' or 'sgd'); solver='lbfgs' optimises the exact objective."
        )
    if params["solver"] != "auto":
        return params["solver"]
    if stochastic_only:
        return "adam"
    linear = _is_linear(params["hidden_layer_sizes"])
    if params["loss"] in SORTED_LOSSES:
        limit = SORTED_EXACT_MAX_ROWS_LINEAR if linear else SORTED_EXACT_MAX_ROWS
        if len(y_encoded) <= limit:
            return "lbfgs"
    elif linear and exact_on_host() and len(y_encoded) <= SORTED_EXACT_MAX_ROWS_LINEAR:
        # The binned sums (skpairauc._binned) make a linear scorer's exact
        # iteration cost two products with the rows, as LogisticRegression's.
        return "lbfgs"
    pairs = n_pairs(y_encoded, n_classes)
    if pairs <= EXACT_MAX_PAIRS_ANY_DEVICE:
        return "lbfgs"
    # Larger problems run a compiled program anyway: the device decides.
    return "lbfgs" if pairs <= profile().exact_max_pairs else "adam"


def resolve_policy(params, y_encoded, n_classes, seed, sample_weight=None):
    """Decide the solver and the validation split.

    Parameters
    ----------
    params : dict
        The estimator's ``get_params()``.
    y_encoded : ndarray of shape (n_samples,)
        Class indices.
    n_classes : int
        Number of classes.
    seed : int
        The fit's integer seed (draws the validation split).
    sample_weight : ndarray of shape (n_samples,), default=None
        Only rows of positive weight are held out, and every class must keep
        some on both sides.

    Returns
    -------
    Policy
    """
    solver = resolve_solver(params, y_encoded, n_classes)
    all_rows = np.arange(len(y_encoded))
    eligible = None if sample_weight is None else sample_weight > 0
    early_stopping = params["early_stopping"]
    if early_stopping is True:
        train, held_out = validation_split(
            y_encoded, n_classes, params["validation_fraction"], seed, eligible
        )
        if len(np.unique(y_encoded[held_out])) < 2:
            raise ValueError(
                f"validation_fraction={params['validation_fraction']} leaves fewer "
                "than 2 classes (of rows with non-zero sample_weight) in the "
                "validation set, so its ROC AUC is undefined; raise "
                "validation_fraction or set early_stopping=False."
            )
        return Policy(solver, train, held_out)
    if (
        early_stopping == "auto"
        and solver != "lbfgs"
        and len(y_encoded) > EARLY_STOPPING_AUTO_MIN_SAMPLES
    ):
        # Only when the split gives every class enough held-out rows: the user
        # did not ask for early stopping, so a split that cannot support it
        # means training on all rows, never an error.
        train, held_out = validation_split(
            y_encoded, n_classes, params["validation_fraction"], seed, eligible
        )
        held_out_counts = np.bincount(y_encoded[held_out], minlength=n_classes)
        if held_out_counts.min() >= EARLY_STOPPING_AUTO_MIN_HELD_OUT:
            return Policy(solver, train, held_out)
    return Policy(solver, all_rows, None)
