"""Property-based tests: whatever valid-looking data it gets, a fit ends either
in a clear ``ValueError``/``TypeError`` or in a finite, usable model.

``hypothesis`` draws shapes (2-300 rows, 1-7 columns), X dtypes (float64,
float32, float16, int64, int32, uint8, bool) and value ranges (subnormal 1e-320
up to 1e306, per column or shared, with offsets), duplicate and constant
columns, duplicated rows (with or without their labels), label types (int,
negative int, str, object, bool, integral and fractional float), 2-4 classes
(possibly one with a single row), sample weights (none, zeros, 1e-30, 1e30,
1e-300, 1e300, 1e308, mixed, per class; float64, float32, int or a list) and
the estimator's solver, loss, scorer, threshold and early stopping. For every
draw the fit must either

* raise a ``ValueError``/``TypeError`` whose message matches one of the
  accepted patterns (``ACCEPTED_ERRORS``) *and* whose condition holds for the
  drawn data, or
* return a model whose fitted attributes (``coefs_``, ``intercepts_``, the
  calibration, ``threshold_``, ``loss_curve_``, ``validation_scores_``),
  ``decision_function`` and ``predict_proba`` are finite, whose probability
  rows sum to 1 and whose ``predict`` returns only labels seen in ``y``,

and in both cases X, y and sample_weight must be left unmodified. Any other
exception (``IndexError``, ``ZeroDivisionError``, ...) is a failure; a
``FloatingPointError`` is accepted only from a stochastic solver whose loss
diverged, with a message that names the step size.

A drawn case is a small ``Case`` record of knobs (its repr is printed for a
falsifying example); the arrays are built from it deterministically by
``Case.build()``, so ``Case(...).build()`` reproduces a failure outside pytest.
Failures found so far are kept in ``REGRESSIONS`` and run first as explicit
examples under every profile.

Profiles (``SKPAIRAUC_HYPOTHESIS_PROFILE``):

* ``ci`` (default): a fixed, derandomized set of examples (150 per property
  test), about 2 minutes for the whole file on 2 busy CPU cores; no example
  database is written.
* ``long``: 1500 fresh random examples per property test (about 11 minutes
  here)::

      SKPAIRAUC_HYPOTHESIS_PROFILE=long python -m pytest tests/test_properties.py

  A failure prints a ``@reproduce_failure`` blob and the ``Case``; pass
  ``--hypothesis-seed=N`` to replay a whole long run.
"""

import copy
import dataclasses
import os
import re
import warnings

import numpy as np
import pytest
from hypothesis import (
    HealthCheck,
    currently_in_test_context,
    example,
    given,
    note,
    settings,
)
from hypothesis import strategies as st

from skpairauc import PairwiseAUCClassifier

settings.register_profile(
    "ci",
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    max_examples=1500,
    derandomize=False,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Applied per test (not loaded globally), so other Hypothesis users are unaffected.
PROFILE = settings(
    settings.get_profile(os.environ.get("SKPAIRAUC_HYPOTHESIS_PROFILE", "ci"))
)


# --------------------------------------------------------------------- data

# Value ranges per X dtype, as powers of ten: every drawn value (|z| below
# ~45: a standard normal plus the class shift, times the scale, plus the
# offset) fits the dtype.
# The first entry is the plainest: Hypothesis shrinks towards it.
SCALE_EXPONENTS = {
    # -310 and -320: subnormal float64 values.
    "float64": (0, -320, -310, -300, -40, -20, -8, 3, 8, 20, 38, 39, 100, 300, 306),
    "float32": (0, -44, -38, -20, -8, 3, 8, 20, 36),
    "float16": (0, -7, -3, 2, 3),
    "int64": (0, -3, 2, 6, 12, 17),
    "int32": (0, -3, 2, 6, 8),
    "uint8": (0, 1),
    "bool": (0,),
}
OFFSETS = {
    "float64": (0.0, 1.0, -1e3, 1e8, -1e30, 1e300),
    "float32": (0.0, 1.0, -1e3, 1e8, -1e30, 1e37),
    "float16": (0.0, 1.0, -100.0, 1000.0),
    "int64": (0.0, 1.0, -1e3, 1e17),
    "int32": (0.0, 1.0, -1e3, 1e9),
    "uint8": (0.0, 100.0),
    "bool": (0.0, 1.0, -1.0),  # the cut: X = z > offset
}

WEIGHT_KINDS = (
    None,  # no sample_weight
    "ones",
    "uniform",  # U(0.1, 10)
    "integers",  # 0..4, zeros included
    "zeros_mixed",  # {0, 1}
    "tiny",  # all 1e-30
    "huge",  # all 1e30
    "zero_and_tiny",  # {0, 1e-30}
    "one_and_huge",  # {1, 1e30}
    "tiny_and_huge",  # {1e-30, 1e30}
    "one_and_tiny",  # {1, 1e-30}
    "one_and_1e-300",  # {1, 1e-300}
    "one_and_1e300",  # {1, 1e300}
    "near_max",  # all 1e308: their sum overflows float64
    "lognormal",  # exp(N(0, 15^2)): spans ~1e-20..1e20
    "per_class",  # constant within a class, 1e-30 / 1 / 1e30
    # {0, 1e-30, 1, 3, 1e30}: a fold's class may keep only weights that
    # underflow float32 next to the others (a zero pair total, once).
    "five_scales",
)

LABELS = {
    "int": [0, 1, 2, 3],
    "negative_int": [-7, -3, -2, -1],
    "pm_one": [-1, 1],
    "large_int": [10**12, -(10**12), 7, 2**40],
    "str": ["neg", "pos", "c", "d"],
    "object": ["a", "b", "cc", "ddd"],  # object dtype
    "bool": [False, True],
    "float": [0.0, 1.0, 2.0, -3.0],
    "fractional_float": [0.5, 1.5, 2.5, -0.25],  # a regression target
}


@dataclasses.dataclass(frozen=True)
class Case:
    """Knobs of one draw; ``build()`` makes the arrays deterministically."""

    seed: int
    n_samples: int
    n_features: int
    n_classes: int
    singleton_class: bool  # the last class has exactly one row
    label_kind: str
    signal: float  # class separation of the standard-normal base data
    x_dtype: str
    scale_exponents: tuple  # one per column
    offset: float
    constant_columns: int  # how many columns are constant
    duplicate_column: bool  # the last column copies the first
    duplicated_rows: float  # fraction of rows overwritten by copies of others
    keep_labels_of_copies: bool  # copied rows also copy their label
    weight_kind: object
    weight_fraction: float  # share of rows that get the "other" weight value
    weight_format: str  # "float64", "float32" (if it fits), "int" (if integral), "list"
    params: tuple  # sorted (name, value) pairs for the estimator

    def estimator_params(self):
        return dict(self.params)

    def build(self):
        """Return ``X, y, sample_weight`` for this case."""
        rng = np.random.default_rng(self.seed)
        n, f, k = self.n_samples, self.n_features, self.n_classes
        # Class codes: every class present; the singleton class has one row.
        codes = np.empty(n, dtype=np.int64)
        first = rng.permutation(n)[:k]
        codes[first] = np.arange(k)
        rest = np.setdiff1d(np.arange(n), first)
        n_free = k - 1 if self.singleton_class else k
        p = rng.dirichlet(np.ones(n_free) * 2)
        codes[rest] = rng.choice(n_free, size=len(rest), p=p)

        z = rng.standard_normal((n, f))
        z += self.signal * codes[:, None] * rng.standard_normal(f)
        if self.duplicated_rows > 0:
            dst = rng.choice(n, int(self.duplicated_rows * n), replace=False)
            src = rng.choice(n, len(dst))
            z[dst] = z[src]
            if self.keep_labels_of_copies:
                codes[dst] = codes[src]
                codes[first] = np.arange(k)  # keep every class present
        X = self._scaled(z)
        y = np.asarray(LABELS[self.label_kind], dtype=None)[codes]
        if self.label_kind == "object":
            y = y.astype(object)
        return X, y, self._weights(codes, rng)

    def _scaled(self, z):
        f = z.shape[1]
        scale = 10.0 ** np.array(self.scale_exponents, dtype=np.float64)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            if self.x_dtype == "bool":
                values = z > self.offset
            else:
                values = z * scale + self.offset
                if self.x_dtype.startswith(("int", "uint")):
                    info = np.iinfo(self.x_dtype)
                    values = np.clip(np.round(values), info.min, info.max)
        for j in range(self.constant_columns):
            values[:, f - 1 - j] = values[0, f - 1 - j]
        if self.duplicate_column and f >= 2:
            values[:, -1] = values[:, 0]
        X = np.ascontiguousarray(values.astype(self.x_dtype))
        assert np.all(np.isfinite(X.astype(np.float64))), "the strategy drew inf"
        return X

    def _weights(self, codes, rng):
        n, kind, frac = len(codes), self.weight_kind, self.weight_fraction
        if kind is None:
            return None
        other = rng.random(n) < frac

        def mix(base, alt):
            return np.where(other, alt, base).astype(np.float64)

        if kind == "ones":
            w = np.ones(n)
        elif kind == "uniform":
            w = rng.uniform(0.1, 10.0, n)
        elif kind == "integers":
            w = rng.integers(0, 5, n).astype(np.float64)
        elif kind == "zeros_mixed":
            w = mix(1.0, 0.0)
        elif kind == "tiny":
            w = np.full(n, 1e-30)
        elif kind == "huge":
            w = np.full(n, 1e30)
        elif kind == "zero_and_tiny":
            w = mix(1e-30, 0.0)
        elif kind == "one_and_huge":
            w = mix(1.0, 1e30)
        elif kind == "tiny_and_huge":
            w = mix(1e-30, 1e30)
        elif kind == "one_and_tiny":
            w = mix(1.0, 1e-30)
        elif kind == "one_and_1e-300":
            w = mix(1.0, 1e-300)
        elif kind == "one_and_1e300":
            w = mix(1.0, 1e300)
        elif kind == "near_max":
            w = np.full(n, 1e308)
        elif kind == "lognormal":
            w = np.exp(rng.normal(0.0, 15.0, n))
        elif kind == "per_class":
            w = np.array([1e-30, 1.0, 1e30, 1.0])[codes]
        elif kind == "five_scales":
            w = rng.choice([0.0, 1e-30, 1.0, 3.0, 1e30], n)
        else:  # pragma: no cover
            raise AssertionError(kind)
        if self.weight_format == "float32" and w.max() < 1e38:
            return w.astype(np.float32)
        if self.weight_format == "int" and np.all(w == np.round(w)) and w.max() < 2**62:
            return w.astype(np.int64)
        if self.weight_format == "list":
            return w.tolist()
        return w


@st.composite
def cases(draw, shapes=None):
    """Draw a ``Case``; ``shapes``, a list of ``(n_samples, n_features)``,
    restricts the shapes."""
    n_classes = draw(st.integers(2, 4))
    if shapes is None:
        n_samples = draw(st.integers(max(2, n_classes), 300))
        n_features = draw(st.integers(1, 7))
    else:
        n_samples, n_features = draw(
            st.sampled_from([s for s in shapes if s[0] >= n_classes])
        )
    singleton = n_classes < n_samples and draw(st.booleans())
    label_kinds = [
        kind
        for kind, values in LABELS.items()
        if len(values) >= n_classes and (kind != "bool" or n_classes == 2)
    ]
    x_dtype = draw(st.sampled_from(list(SCALE_EXPONENTS)))
    exponents = st.sampled_from(SCALE_EXPONENTS[x_dtype])
    if draw(st.booleans()):  # one scale for all columns
        scale_exponents = (draw(exponents),) * n_features
    else:
        scale_exponents = tuple(draw(exponents) for _ in range(n_features))
    weight_kind = draw(st.sampled_from(WEIGHT_KINDS))
    return Case(
        seed=draw(st.integers(0, 2**16)),
        n_samples=n_samples,
        n_features=n_features,
        n_classes=n_classes,
        singleton_class=singleton,
        label_kind=draw(st.sampled_from(label_kinds)),
        signal=draw(st.sampled_from([0.0, 0.5, 3.0])),
        x_dtype=x_dtype,
        scale_exponents=scale_exponents,
        offset=draw(st.sampled_from(OFFSETS[x_dtype])),
        constant_columns=draw(st.integers(0, n_features)),
        duplicate_column=draw(st.booleans()),
        duplicated_rows=draw(st.sampled_from([0.0, 0.3, 0.9])),
        keep_labels_of_copies=draw(st.booleans()),
        weight_kind=weight_kind,
        weight_fraction=draw(st.sampled_from([0.5, 0.1, 0.9])),
        weight_format=draw(st.sampled_from(["float64", "float32", "int", "list"])),
        params=tuple(sorted(draw(estimator_params()).items())),
    )


@st.composite
def estimator_params(draw):
    solver = draw(st.sampled_from(["lbfgs", "adam", "sgd"]))
    params = {
        "solver": solver,
        "loss": draw(st.sampled_from(["logistic", "squared_hinge", "hinge", "square"])),
        "hidden_layer_sizes": draw(st.sampled_from([(), (4,)])),
        "threshold": draw(st.sampled_from(["balanced_accuracy", "f1", "prior", 0.3])),
        "random_state": draw(st.integers(0, 2)),
    }
    if solver == "lbfgs":
        params["max_iter"] = draw(st.sampled_from([50, 200]))
        params["early_stopping"] = False
    else:
        # Small epochs and batches keep each stochastic example fast; the
        # batch sizes are compile-time constants, so they are fixed.
        params["max_iter"] = draw(st.integers(1, 4))
        params["n_pos_per_batch"] = 16
        params["n_neg_per_batch"] = 32
        params["early_stopping"] = draw(st.booleans())
    return params


# --------------------------------------------------------------- the checks


def _class_weights(y, sample_weight):
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
    _, codes = np.unique(np.asarray(y), return_inverse=True)
    return np.bincount(codes, weights=w)


def _extreme_X(case, X, y, w):
    magnitude = np.abs(X.astype(np.float64))
    nonzero = magnitude[magnitude > 0]
    return magnitude.max() > 1e15 or (len(nonzero) > 0 and nonzero.min() < 1e-15)


def _extreme_weights(case, X, y, w):
    if w is None:
        return False
    w = np.asarray(w, dtype=np.float64)
    positive = w[w > 0]
    return len(positive) > 0 and (
        positive.min() < 1e-15
        or positive.max() > 1e15
        or positive.max() / positive.min() > 1e15
    )


def _tiny_spread(case, X, y, w):
    spread = np.ptp(X.astype(np.float64), axis=0)
    return bool(np.any((spread > 0) & (spread < 1e-286)))


# Accepted errors: (exception type, message pattern, condition on the drawn
# case that makes the error legitimate). Any other exception, or an accepted
# message raised where its condition does not hold, is a failure.
ACCEPTED_ERRORS = [
    (
        ValueError,
        r"Sample weights must contain at least one non-zero number",
        lambda case, X, y, w: np.all(np.asarray(w, dtype=np.float64) == 0),
    ),
    (
        ValueError,
        r"Unknown label type",
        lambda case, X, y, w: case.label_kind == "fractional_float",
    ),
    (
        ValueError,
        r"class .* total weight 0",
        lambda case, X, y, w: np.any(_class_weights(y, w) == 0),
    ),
    (
        ValueError,
        r"validation_fraction|validation set",
        lambda case, X, y, w: case.estimator_params().get("early_stopping") is True,
    ),
    # Data beyond what float32 training can represent: the message must name
    # X or sample_weight and the range problem, and the data must be extreme.
    (
        ValueError,
        r"\bX\b.*sample_weight.*(float32|range|overflow)",
        lambda *args: _extreme_X(*args) or _extreme_weights(*args),
    ),
    (ValueError, r"\bX\b.*(float32|too large|overflow|range)", _extreme_X),
    # A stochastic fit whose loss diverges says so, and which knob to turn: a
    # step size the user chose can be too large for some data (sgd with the
    # square loss on a handful of rows); the model is never returned NaN.
    (
        FloatingPointError,
        r"diverged.*learning_rate_init",
        lambda case, X, y, w: case.estimator_params().get("solver") in ("adam", "sgd"),
    ),
    # A column whose spread is below what standardising can fold back into
    # float64 weights (the message names the column).
    (ValueError, r"Column \d+ of X varies only by", _tiny_spread),
    (
        ValueError,
        r"sample_weight.*(float32|range|too (small|large)|overflow|underflow)",
        _extreme_weights,
    ),
]


def _check_error(exc, case, X, y, w):
    message = str(exc)
    for types, pattern, condition in ACCEPTED_ERRORS:
        if isinstance(exc, types) and re.search(pattern, message):
            assert condition(case, X, y, w), (
                f"error {message!r} matches {pattern!r} but its condition does not "
                "hold for this data"
            )
            return
    raise AssertionError(
        f"{type(exc).__name__} with a message outside the accepted patterns: "
        f"{message!r}"
    ) from exc


def _check_model(clf, X, y):
    classes = np.unique(np.asarray(y))
    np.testing.assert_array_equal(clf.classes_, classes)
    for name in ("coefs_", "intercepts_"):
        for i, array in enumerate(getattr(clf, name)):
            assert np.all(np.isfinite(array)), f"{name}[{i}] = {array!r}"
    for name in ("calibration_coef_", "calibration_intercept_", "threshold_"):
        value = getattr(clf, name)
        assert np.all(np.isfinite(value)), f"{name} = {value!r}"
    for name in ("loss_curve_", "validation_scores_"):
        value = getattr(clf, name, None)
        if value is not None:
            assert np.all(np.isfinite(value)), f"{name} = {value!r}"

    scores = clf.decision_function(X)
    expected = (len(X),) if len(classes) == 2 else (len(X), len(classes))
    assert scores.shape == expected
    assert np.all(np.isfinite(scores)), f"non-finite decision_function: {scores!r}"

    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), len(classes))
    assert np.all(np.isfinite(proba)), f"non-finite predict_proba: {proba!r}"
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-6)

    predicted = clf.predict(X)
    assert predicted.shape == (len(X),)
    assert set(predicted.tolist()) <= set(classes.tolist())


def _snapshot(X, y, w):
    return X.copy(), y.copy(), copy.deepcopy(w)


def _check_unmodified(before, X, y, w):
    X0, y0, w0 = before
    assert X.dtype == X0.dtype and y.dtype == y0.dtype
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    if w0 is None:
        assert w is None
    elif isinstance(w0, list):
        assert w == w0
    else:
        assert w.dtype == w0.dtype
        np.testing.assert_array_equal(w, w0)


def _fit_and_check(case):
    X, y, w = case.build()
    if currently_in_test_context():  # printed with a falsifying example
        magnitude = np.abs(X.astype(np.float64))
        note(
            f"X {X.dtype} {X.shape}, |X| in [{magnitude.min():.3g}, "
            f"{magnitude.max():.3g}]; y {y.dtype} classes "
            f"{np.unique(y, return_counts=True)}; class weights "
            f"{_class_weights(y, w)}"
        )
    before = _snapshot(X, y, w)
    clf = PairwiseAUCClassifier(**case.estimator_params())
    try:
        with warnings.catch_warnings():
            # ConvergenceWarning is expected with these tiny budgets; NumPy
            # RuntimeWarnings are judged by their outcome (a finite model).
            warnings.simplefilter("ignore")
            clf.fit(X, y, sample_weight=w)
    except (ValueError, TypeError, FloatingPointError) as exc:
        _check_unmodified(before, X, y, w)
        _check_error(exc, case, X, y, w)
        return
    _check_unmodified(before, X, y, w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check_model(clf, X, y)
    _check_unmodified(before, X, y, w)


# ---------------------------------------------------------------- the tests

_STOCHASTIC = {"max_iter": 3, "n_pos_per_batch": 16, "n_neg_per_batch": 32}


def _plain(params=None, **changes):
    """A plain case (40 rows, 2 informative float64 columns, no weights,
    L-BFGS) with ``changes``; ``params`` update the estimator's."""
    estimator = {
        "solver": "lbfgs",
        "loss": "logistic",
        "hidden_layer_sizes": (),
        "threshold": "balanced_accuracy",
        "random_state": 0,
        "max_iter": 200,
        "early_stopping": False,
    }
    estimator.update(params or {})
    if estimator["solver"] != "lbfgs":
        estimator = {**_STOCHASTIC, **estimator}
    fields = dict(
        seed=0,
        n_samples=40,
        n_features=2,
        n_classes=2,
        singleton_class=False,
        label_kind="int",
        signal=3.0,
        x_dtype="float64",
        scale_exponents=(0, 0),
        offset=0.0,
        constant_columns=0,
        duplicate_column=False,
        duplicated_rows=0.0,
        keep_labels_of_copies=False,
        weight_kind=None,
        weight_fraction=0.5,
        weight_format="float64",
        params=tuple(sorted(estimator.items())),
    )
    fields.update(changes)
    return Case(**fields)


# Failures found by these properties, kept as explicit examples so that every
# profile runs them first (see the issue "Never a NaN model").
REGRESSIONS = [
    # float32 pair weights: sum(w_pos) * sum(w_neg) under/overflowed -> NaN.
    _plain(weight_kind="tiny"),
    _plain(weight_kind="huge"),
    _plain(weight_kind="one_and_huge"),
    _plain(weight_kind="zero_and_tiny"),
    # X beyond float32's range, or so large that float32 training overflows.
    _plain(scale_exponents=(39, 39)),
    _plain({"solver": "adam"}, scale_exponents=(39, 39)),
    _plain(
        {"solver": "sgd", "loss": "square"},
        x_dtype="float32",
        offset=-1e30,
        scale_exponents=(-20, -20),
    ),
    # SGD: alpha / sum(w) with tiny weights; unscaled features with the
    # square loss.
    _plain({"solver": "sgd"}, weight_kind="tiny"),
    _plain(
        {"solver": "sgd", "loss": "square", "hidden_layer_sizes": (4,)},
        x_dtype="int32",
        scale_exponents=(2, 2),
    ),
    # Subnormal features: the standardisation folded into coefs_ overflows.
    _plain(scale_exponents=(-310, -310)),
    _plain({"hidden_layer_sizes": (4,)}, scale_exponents=(0, -320)),
    # Weighted standardisation, weights 1e-30 (one class) and 1 (the other):
    # standardised values of 5e14.
    _plain(
        {"solver": "sgd", "loss": "square"},
        seed=3,
        weight_kind="per_class",
        x_dtype="bool",
        offset=1.0,
        n_samples=5,
        singleton_class=True,
    ),
    # Early stopping: a held-out class with zero total weight.
    _plain(
        {"solver": "adam", "early_stopping": True},
        weight_kind="zeros_mixed",
        weight_fraction=0.9,
        n_samples=60,
    ),
    _plain(
        {"solver": "adam", "early_stopping": True, "threshold": "f1"},
        weight_kind="zeros_mixed",
        weight_fraction=0.9,
        n_samples=60,
    ),
    # Early stopping with weights {1, 1e-300} (found by the long profile): the
    # 1e-300 rows are 0 in float32 training but were held out as positive,
    # and the product of two tiny class totals underflowed in roc_auc: a NaN
    # validation score.
    _plain(
        {"solver": "adam", "early_stopping": True, "max_iter": 1},
        n_samples=15,
        signal=0.0,
        weight_kind="one_and_1e-300",
        weight_fraction=0.9,
    ),
    _plain(
        {"solver": "adam", "early_stopping": True, "max_iter": 1},
        seed=2,
        n_features=3,
        n_classes=3,
        singleton_class=True,
        signal=0.0,
        scale_exponents=(0, 0, 0),
        weight_kind="one_and_1e-300",
        weight_fraction=0.9,
    ),
    # MLP, constant columns of 1e300: their untrained first-layer weights are
    # folded into intercepts_[0] as -1e300 * W, which cancels at prediction
    # with round-off of ~1e284 (threshold_ overflows).
    _plain(
        {
            "hidden_layer_sizes": (4,),
            "loss": "squared_hinge",
            "random_state": 1,
            "max_iter": 1,
        },
        n_samples=12,
        n_features=3,
        n_classes=3,
        signal=0.0,
        scale_exponents=(8, 8, 8),
        offset=1e300,
        weight_kind="one_and_1e300",
        weight_fraction=0.9,
    ),
    # Multiclass predict_proba: every one-vs-rest probability underflows to 0.
    Case(
        seed=234,
        n_samples=234,
        n_features=7,
        n_classes=3,
        singleton_class=False,
        label_kind="int",
        signal=0.0,
        x_dtype="bool",
        scale_exponents=(0,) * 7,
        offset=1.0,
        constant_columns=0,
        duplicate_column=False,
        duplicated_rows=0.0,
        keep_labels_of_copies=False,
        weight_kind="one_and_tiny",
        weight_fraction=0.9,
        weight_format="float64",
        params=tuple(
            sorted(
                {
                    **_STOCHASTIC,
                    "early_stopping": True,
                    "hidden_layer_sizes": (),
                    "loss": "hinge",
                    "max_iter": 1,
                    "random_state": 0,
                    "solver": "adam",
                    "threshold": "balanced_accuracy",
                }.items()
            )
        ),
    ),
]


def _with_regressions(test):
    for case in reversed(REGRESSIONS):
        test = example(case=case)(test)
    return test


@PROFILE
@_with_regressions
@given(case=cases())
def test_any_draw_gives_a_finite_model_or_a_clear_error(case):
    """Everything drawn at once: shapes, dtypes, ranges, labels, weights,
    estimator parameters."""
    _fit_and_check(case)


# A few shapes, so that the JAX programs compiled for them are reused and the
# budget goes to many draws of values, labels, weights and parameters.
FEW_SHAPES = [(2, 1), (5, 2), (40, 3), (150, 3)]


@PROFILE
@given(case=cases(shapes=FEW_SHAPES))
def test_extreme_values_and_weights_on_a_few_shapes(case):
    _fit_and_check(case)


@pytest.mark.parametrize("kind", ["int", "str", "bool", "float", "negative_int"])
def test_label_kinds_round_trip_with_default_parameters(kind):
    """A plain check next to the properties: each label kind, default
    parameters (the capacity selection included)."""
    case = _plain(label_kind=kind, n_samples=60)
    _fit_and_check(dataclasses.replace(case, params=(("random_state", 0),)))
