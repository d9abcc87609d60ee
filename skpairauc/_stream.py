"""``partial_fit``: training on a stream of blocks, with bounded reservoirs.

Pairs need rows of both sides of a task, and a block of a stream may hold one
class only. So the estimator keeps, for every class, a *reservoir*: a uniform
sample without replacement of the rows of that class seen so far, at most
:data:`RESERVOIR_ROWS_PER_CLASS` of them (each row gets a random key when it
arrives; the rows of largest key are kept, which is a uniform sample of all
rows seen). Each call trains one epoch of the stochastic solver on the block's
rows together with the reservoirs' rows, then the block's rows enter the
reservoirs. A fraction ``validation_fraction`` of each block's rows is held
out instead, into a second reservoir of at most
:data:`HELD_OUT_ROWS_PER_CLASS` rows per class, on which the threshold and
the probability map are refitted after every call.

Memory is bounded by ``(RESERVOIR_ROWS_PER_CLASS + HELD_OUT_ROWS_PER_CLASS)``
rows per class (in the user's dtype; sparse rows as CSR), whatever the
stream's length, plus one block and the training copy of one epoch's rows.
"""

import warnings
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.base import _fit_context
from sklearn.utils.metaestimators import available_if

from ._device import resolve_batch

# Rows of each class kept to pair the next blocks' rows with.
RESERVOIR_ROWS_PER_CLASS = 5_000
# Held-out rows of each class kept to refit the threshold and probabilities.
HELD_OUT_ROWS_PER_CLASS = 2_000


class Reservoir(NamedTuple):
    """Rows of one or more classes: ``X`` (array or CSR), labels, the
    user's weights and the random keys that decide which rows stay."""

    X: object
    y: np.ndarray
    weight: np.ndarray
    key: np.ndarray

    @property
    def nbytes(self):
        X = self.X
        if sp.issparse(X):
            size = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
        else:
            size = X.nbytes
        return size + self.y.nbytes + self.weight.nbytes + self.key.nbytes


def empty_reservoir(n_features, dtype, sparse):
    X = (
        sp.csr_matrix((0, n_features), dtype=dtype)
        if sparse
        else np.empty((0, n_features), dtype)
    )
    return Reservoir(X, np.empty(0, np.intp), np.empty(0), np.empty(0))


def stack(first, second):
    """Rows of ``first`` then ``second`` (arrays or CSR matrices)."""
    if sp.issparse(first) or sp.issparse(second):
        return sp.vstack([sp.csr_matrix(first), sp.csr_matrix(second)], format="csr")
    return np.concatenate([first, second])


def merge(reservoir, X, y, weight, key, cap):
    """``reservoir`` with the rows ``X, y, weight, key`` added, keeping the
    ``cap`` rows of largest key of each class."""
    X_all = stack(reservoir.X, X)
    y_all = np.concatenate([reservoir.y, y])
    w_all = np.concatenate([reservoir.weight, weight])
    k_all = np.concatenate([reservoir.key, key])
    keep = []
    for c in np.unique(y_all):
        members = np.flatnonzero(y_all == c)
        if len(members) > cap:
            members = members[np.argsort(-k_all[members], kind="stable")[:cap]]
        keep.append(members)
    keep = np.sort(np.concatenate(keep)) if keep else np.empty(0, np.intp)
    return Reservoir(X_all[keep], y_all[keep], w_all[keep], k_all[keep])


class StreamState(NamedTuple):
    """What ``partial_fit`` carries from one call to the next (picklable):
    the scaling fixed at the first training call, the parameters on scaled
    inputs and the optimizer's state (NumPy), the two reservoirs, the
    generator, and the total weight of the rows trained on so far."""

    standardizer: object
    params: dict | None
    opt_state: object
    reservoir: Reservoir
    held_out: Reservoir
    rng: np.random.Generator
    total_weight: float


def has_pairs(y_encoded, weight, n_classes):
    """Whether every class has rows of positive weight (every task's two
    sides can then be paired)."""
    totals = np.bincount(y_encoded, weights=weight, minlength=n_classes)
    return bool(np.all(totals > 0))


def train_epoch(state, inputs, settings, seed, n_features):
    """One epoch of the stochastic solver on ``inputs`` (a block with the
    reservoir's rows), from ``state``'s parameters and optimizer state.
    Returns ``(params, opt_state, loss, n_steps)``, NumPy, on scaled inputs."""
    import jax

    from ._layout import stochastic_layout
    from ._policy import Policy
    from ._prepare import penalty_strength, weighted_rows
    from ._scorers import to_numpy
    from ._stochastic import (
        _LAYOUT_STREAM,
        _StochasticLoop,
        _uniform,
        stochastic_config,
    )

    policy = weighted_rows(
        inputs, Policy(settings["solver"], np.arange(len(inputs.y_encoded)), None)
    )
    config = stochastic_config(inputs, policy, settings)
    batch = (int(settings["n_pos_per_batch"]), int(settings["n_neg_per_batch"]))
    layout = stochastic_layout(
        inputs.X,
        inputs.y_encoded,
        inputs.sample_weight,
        policy.train,
        inputs.n_classes,
        _uniform(inputs, policy),
        batch,
        np.random.default_rng([seed, _LAYOUT_STREAM]),
        n_features,  # no padded columns: the parameters keep one shape
        state.standardizer,
    )
    # The penalty of a fit on every row trained on so far.
    reg = penalty_strength(settings["alpha"], state.total_weight, 1.0)
    loop = _StochasticLoop(
        config,
        layout,
        {**settings, "max_iter": 1},
        seed,
        np.random.default_rng(seed),
        None,
        state.params,
        inputs.weight_unit,
        opt_state=state.opt_state,
        reg=reg,
    )
    try:
        loop.advance(1)
        params = to_numpy(loop.params)
        opt_state = jax.tree.map(np.asarray, jax.device_get(loop.opt_state))
        return params, opt_state, loop.loss_curve[-1], layout.steps_per_epoch
    finally:
        loop.close()


def _validated_block(estimator, X, y, classes, sample_weight):
    """The block's rows, encoded labels and weights, and the classes; sets
    ``n_features_in_`` on the first call. Raises before any work."""
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import _check_sample_weight

    from ._validation import label, validated_data

    if estimator.solver == "lbfgs":
        raise ValueError(
            "partial_fit trains with a stochastic solver ('adam' or 'sgd'); "
            "solver='lbfgs' optimises the exact objective of one whole data set: "
            "use fit, or set solver='adam'."
        )
    first = not hasattr(estimator, "classes_")
    if first and classes is None:
        raise ValueError(
            "classes must be passed on the first call to partial_fit: every "
            "class of the stream, since a block may lack some."
        )
    X, y = validated_data(estimator, X, y, reset=first)
    if classes is not None:
        classes = np.asarray(classes)
        check_classification_targets(classes)
        classes = np.unique(classes)
        if len(classes) < 2:
            raise ValueError(
                f"classes must hold at least 2 classes, got {classes.tolist()!r}."
            )
        if not first and not np.array_equal(classes, estimator.classes_):
            raise ValueError(
                f"classes={classes.tolist()!r} differs from the classes of the "
                f"previous calls, {estimator.classes_.tolist()!r}."
            )
    else:
        classes = estimator.classes_
    unseen = np.setdiff1d(np.unique(y), classes)
    if len(unseen):
        raise ValueError(
            f"y holds label(s) {[label(v) for v in unseen]!r} not in classes "
            f"{classes.tolist()!r}."
        )
    y_encoded = np.searchsorted(classes, y)
    weight = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    if not np.all(np.isfinite(weight)):
        raise ValueError("sample_weight must be finite.")
    return X, y_encoded, weight, classes


def _fit_inputs(X, y_encoded, weight, classes):
    """:class:`~skpairauc._validation.FitInputs` of rows whose weights are
    in the user's units."""
    from ._scaling import normalized_weights
    from ._validation import FitInputs

    normalized, unit = normalized_weights(weight)
    return FitInputs(X, y_encoded, classes, normalized, unit)


def fit_block(estimator, X, y, classes, sample_weight):
    """The work of :meth:`PairwiseAUCClassifier.partial_fit`; returns the
    fitted attributes as a dict (the estimator is not modified here)."""
    from sklearn.utils import check_random_state

    from ._policy import Policy
    from ._prepare import initial_params, prepare
    from ._scaling import fold
    from ._scorers import score_rows
    from ._threshold import fit_decision

    X, y_encoded, weight, classes = _validated_block(
        estimator, X, y, classes, sample_weight
    )
    n_classes, n_features = len(classes), X.shape[1]
    previous = getattr(estimator, "_stream", None)
    fitted = hasattr(estimator, "coefs_")
    if previous is None:
        seed = check_random_state(estimator.random_state).randint(
            np.iinfo(np.int32).max
        )
        previous = StreamState(
            None,
            None,
            None,
            empty_reservoir(n_features, X.dtype, sp.issparse(X)),
            empty_reservoir(n_features, X.dtype, sp.issparse(X)),
            np.random.default_rng(seed),
            0.0,
        )
    rng = previous.rng
    # Which rows are held out, and every row's reservoir key.
    held = (rng.random(len(y_encoded)) < estimator.validation_fraction) & (weight > 0)
    keys = rng.random(len(y_encoded))
    train = np.flatnonzero(~held)
    reservoir = previous.reservoir
    union_X = stack(reservoir.X, X[train])
    union_y = np.concatenate([reservoir.y, y_encoded[train]])
    union_w = np.concatenate([reservoir.weight, weight[train]])
    total_weight = previous.total_weight + float(weight[train].sum())

    settings = resolve_batch(estimator.get_params(), stochastic=True)
    settings["solver"] = "adam" if settings["solver"] == "auto" else settings["solver"]
    auto = isinstance(estimator.hidden_layer_sizes, str)
    attributes = {"classes_": classes}
    base = estimator.__dict__  # the counters and choices carried on
    hidden, alpha = _scorer(estimator, fitted, auto)
    standardizer, params = previous.standardizer, previous.params
    opt_state = previous.opt_state
    loss, n_steps, chose = None, 0, False
    if has_pairs(union_y, union_w, n_classes):
        inputs = _fit_inputs(union_X, union_y, union_w, classes)
        policy = Policy(settings["solver"], np.arange(len(union_y)), None)
        if params is None:
            if auto and not fitted:
                # The default's choice of scorer and penalty, on the rows at
                # hand; the stream trains on from the chosen model.
                base = estimator._fit(union_X, classes[union_y], union_w)
                chose = True
                hidden, alpha = base["hidden_layer_sizes_"], base["alpha_"]
                start = {
                    "coefs": base["coefs_"],
                    "intercepts": base["intercepts_"][:-1],
                }
                from_fit = True
            else:
                start, from_fit = initial_params(
                    rng,
                    hidden,
                    inputs,
                    estimator.activation,
                    estimator.__dict__ if fitted else {},
                )
            prepared = prepare(start, inputs, policy, from_fit, standardizer)
            standardizer = prepared.standardizer
            # One shape for every call: no padded feature columns.
            params = prepared.params
            params["coefs"][0] = params["coefs"][0][:n_features]
        if not chose:  # the call that chose keeps the chosen fit's model
            settings["alpha"] = alpha
            state = StreamState(
                standardizer,
                params,
                opt_state,
                reservoir,
                previous.held_out,
                rng,
                total_weight,
            )
            seed = int(rng.integers(np.iinfo(np.int32).max))
            params, opt_state, loss, n_steps = train_epoch(
                state, inputs, settings, seed, n_features
            )
    elif not fitted and params is None:
        warnings.warn(
            "partial_fit: the rows seen so far lack a class, so no pair can be "
            "formed yet; they are kept, and training starts at the first call "
            "that brings rows of every class.",
            UserWarning,
            stacklevel=4,
        )

    # The reservoirs take the block's rows.
    reservoir = merge(
        reservoir,
        X[train],
        y_encoded[train],
        weight[train],
        keys[train],
        RESERVOIR_ROWS_PER_CLASS,
    )
    rows_held = np.flatnonzero(held)
    held_out = merge(
        previous.held_out,
        X[rows_held],
        y_encoded[rows_held],
        weight[rows_held],
        keys[rows_held],
        HELD_OUT_ROWS_PER_CLASS,
    )
    stream = StreamState(
        standardizer, params, opt_state, reservoir, held_out, rng, total_weight
    )
    attributes["_stream"] = stream
    if params is None:
        if fitted:
            return attributes
        # Not trained yet: the initial scorer, an uninformative decision.
        raw = initial_params(
            rng,
            hidden,
            _fit_inputs(X, y_encoded, np.ones(len(y_encoded)), classes),
            estimator.activation,
            {},
        )[0]
        coefs = [np.asarray(W, np.float64) for W in raw["coefs"]]
        n_tasks = 1 if n_classes == 2 else n_classes
        intercepts = [np.asarray(b, np.float64) for b in raw["intercepts"]]
        intercepts.append(np.zeros(n_tasks))  # the output layer's
        return {
            **attributes,
            **_model_attributes(estimator, base, hidden, alpha, coefs, intercepts),
            "threshold_": 0.0 if n_classes == 2 else np.zeros(n_classes),
            "calibration_coef_": np.ones(n_tasks),
            "calibration_intercept_": np.zeros(n_tasks),
        }
    raw = fold(params, standardizer)
    coefs, intercepts = raw["coefs"], raw["intercepts"]
    # The decision: on the held-out reservoir when it has every class.
    if has_pairs(held_out.y, held_out.weight, n_classes):
        union_X, union_y, union_w = held_out.X, held_out.y, held_out.weight
    decision_inputs = _fit_inputs(union_X, union_y, union_w, classes)
    scores = score_rows(raw, union_X, estimator.activation)
    decision = fit_decision(
        scores,
        union_y,
        decision_inputs.sample_weight,
        estimator.threshold,
        decision_inputs.weight_unit,
    )
    attributes.update(
        _model_attributes(
            estimator,
            base,
            hidden,
            alpha,
            coefs,
            [*intercepts, np.zeros(coefs[-1].shape[1])],
            loss,
            n_steps,
        )
    )
    attributes.update(
        {
            "threshold_": decision.threshold,
            "calibration_coef_": decision.calibration_coef,
            "calibration_intercept_": decision.calibration_intercept,
        }
    )
    return attributes


def _scorer(estimator, fitted, auto):
    """The scorer and penalty of the stream: the fitted ones (a previous call
    or ``fit``), else the parameters (before ``"auto"`` has chosen: the
    linear scorer, a placeholder until a call has rows of every class)."""
    from ._capacity import DEFAULT_ALPHA
    from ._validation import validated_hidden_layer_sizes

    if fitted:
        return estimator.hidden_layer_sizes_, estimator.alpha_
    hidden = () if auto else validated_hidden_layer_sizes(estimator.hidden_layer_sizes)
    alpha = DEFAULT_ALPHA if estimator.alpha == "auto" else float(estimator.alpha)
    return hidden, alpha


def _model_attributes(
    estimator, base, hidden, alpha, coefs, intercepts, loss=None, n_steps=0
):
    """The fitted attributes of the scorer after a call; the counters and the
    capacity choice carry on from ``base`` (the previous calls' attributes,
    those of ``fit``, or of the first call's choice)."""
    curve = list(base.get("loss_curve_", []))
    if loss is not None:
        curve.append(float(loss))
    finite = [v for v in curve if np.isfinite(v)]
    capacity = (
        "capacity_candidates_",
        "capacity_scores_",
        "capacity_fold_scores_",
        "capacity_fold_soft_scores_",
    )
    return {
        **{name: base.get(name) for name in capacity},
        "hidden_layer_sizes_": tuple(hidden),
        "alpha_": float(alpha),
        "solver_": "adam" if estimator.solver == "auto" else estimator.solver,
        "early_stopping_": False,
        "coefs_": coefs,
        "intercepts_": intercepts,
        "n_iter_": base.get("n_iter_", 0) + (loss is not None),
        "t_": base.get("t_", 0) + n_steps,
        "loss_curve_": curve,
        "best_loss_": min(finite) if finite else float("nan"),
        "validation_scores_": None,
        "best_validation_score_": None,
    }


class StreamingMixin:
    """``partial_fit`` of :class:`~skpairauc.PairwiseAUCClassifier` (which
    provides ``_all_or_nothing`` and ``_fit``), and the estimator's size with
    its reservoirs."""

    def __sizeof__(self):
        # The partial_fit reservoirs dominate a streaming model's size; dask
        # reads it to decide whether to move the model or the data.
        stream = self.__dict__.get("_stream")
        extra = 0
        if stream is not None:
            extra = stream.reservoir.nbytes + stream.held_out.nbytes
        return object.__sizeof__(self) + extra

    def _check_solver(self):
        if self.solver == "lbfgs":
            raise AttributeError(
                "partial_fit is only available for stochastic solvers ('auto', "
                f"'adam', 'sgd'), not for solver={self.solver!r}."
            )
        return True

    @available_if(_check_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train on one block of a stream: one epoch of the stochastic solver.

        The block's rows are paired with a bounded reservoir of earlier rows
        of every class, so a block of one class still trains; the threshold
        and the probability map are refitted on a bounded reservoir of
        held-out rows (a ``validation_fraction`` of each block). See
        :ref:`partial_fit` for the semantics and the memory bound.

        ``solver`` must be stochastic ("auto" means "adam"). With
        ``hidden_layer_sizes="auto"`` the scorer and penalty are chosen, as
        ``fit`` chooses them, on the rows at hand at the first call that has
        rows of every class, and trained on from there; later calls keep that
        choice. After ``fit``, ``partial_fit`` continues from the fitted model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The block's rows. Not modified.
        y : array-like of shape (n_samples,)
            Their labels, each one of ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every class of the stream: required on the first call (unless the
            estimator was fitted), and if given later, the same.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights (a weight ``k`` counts as ``k`` rows).

        Returns
        -------
        self : object
            The classifier.
        """
        return self._all_or_nothing(fit_block, self, X, y, classes, sample_weight)
