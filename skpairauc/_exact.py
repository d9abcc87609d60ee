"""The exact solver: L-BFGS on the all-pairs objective (see
:mod:`skpairauc._objective` and :mod:`skpairauc._host_objective`), and the
compile-ahead of its programs. JAX is imported only by fits that compile."""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import _host_objective, _lbfgs
from ._layout import (
    bucket_length,
    exact_layout,
    exact_pair_lengths,
    feature_bucket,
    task_classes,
)
from ._prepare import (
    SolverResult,
    finish,
    max_fpr_setting,
    param_specs,
    penalty_strength,
)
from ._scorers import flatten, param_shapes, unflatten
from ._sparse import SparseRows
from ._threads import Background


def _exact_config(settings):
    from . import _solvers

    return _solvers.ExactConfig(
        activation=settings["activation"],
        loss=settings["loss"],
        margin=float(settings["margin"]),
        max_fpr=max_fpr_setting(settings),
    )


def exact_programs_ahead(jobs, n_features, n_classes, settings, sparse=False):
    """Start getting, in a background thread, the exact programs that fits
    of ``jobs`` will ask for: ``(hidden_layer_sizes, y_train)`` pairs, with
    ``y_train`` the encoded labels of a fit's rows of positive weight. Jobs
    whose fit runs on the host (:func:`skpairauc._host_objective.runs_on_host`)
    need no program.

    Cross-validation runs the linear folds while the MLP's program compiles on
    another core, and the refit finds its program ready. Returns the
    :class:`~skpairauc._threads.Background`; the caller joins it. A
    compile error reaches the fit that asks for that program.
    """
    jobs = [
        (hidden, y_train)
        for hidden, y_train in jobs
        if not _host_objective.runs_on_host(y_train, n_classes, settings["loss"])
    ]
    if not jobs:
        return Background(lambda: None)
    import jax

    from . import _solvers

    # A new partial-AUC fit first minimises the full-AUC objective: its
    # program is needed too.
    configs = [_exact_config(settings)]
    if configs[0].max_fpr is not None:
        configs.insert(0, configs[0]._replace(max_fpr=None))
    n_tasks = len(task_classes(n_classes))
    n_outputs = 1 if n_classes == 2 else n_classes
    struct = jax.ShapeDtypeStruct

    def work():
        for hidden, y_train in jobs:
            n_rows = bucket_length(len(y_train))
            n_columns = n_features if sparse else feature_bucket(n_features, n_rows)
            n_pos, n_neg = exact_pair_lengths(y_train, n_classes)
            params = param_specs([n_columns, *hidden, n_outputs])
            pairs = (
                struct((n_tasks, n_pos), np.int32),
                struct((n_tasks, n_pos), np.float32),
                struct((n_tasks, n_neg), np.int32),
                struct((n_tasks, n_neg), np.float32),
                struct((n_tasks,), np.float32),
            )
            for config in configs:
                _solvers.exact_program(params, n_rows, n_columns, pairs, config, sparse)

    return Background(work)


# L-BFGS also stops when an iteration lowers the objective (a mean pair loss,
# below 1 once training starts) by less than ``tol * EXACT_FTOL_PER_TOL``: 1e-5
# at the default tol. Smaller decreases no longer change the held-out ranking,
# and an MLP's fit spent most of its iterations below it (see
# benchmarks/README.md, "The default's cost"). A fit whose settings hold
# "ftol_per_tol" uses that instead (the capacity selection's fold fits that
# start a penalty path, skpairauc._capacity.PATH_START_FTOL_PER_TOL).
EXACT_FTOL_PER_TOL = 1e-1


class FitAbandoned(Exception):
    """Raised inside an exact fit once ``settings["abandon"]()`` is true: a
    speculative refit that is no longer wanted (see
    :func:`skpairauc._capacity.cross_validate`)."""


def _warn(settings, message):
    """A ``ConvergenceWarning`` now, or kept in ``settings["deferred_warnings"]``
    (a list) for the caller to issue if it keeps the fit."""
    deferred = settings.get("deferred_warnings")
    if deferred is None:
        warnings.warn(message, ConvergenceWarning)
    else:
        deferred.append(message)


def train_exact(prepared, inputs, policy, settings, warm_start=False):
    """Minimise the exact all-pairs objective with a small L-BFGS on the
    host, each value and gradient from one compiled program, or from the
    NumPy objective of :mod:`skpairauc._host_objective` (small data, and the
    losses with a sort-based sum). With ``max_fpr``, a new fit first
    minimises the full-AUC objective and starts the partial AUC's from there
    (``n_iter`` and the curve are the partial AUC's)."""
    y_train = inputs.y_encoded[policy.train]
    on_host = _host_objective.runs_on_host(y_train, inputs.n_classes, settings["loss"])
    layout = exact_layout(
        inputs.X,
        inputs.y_encoded,
        inputs.sample_weight,
        policy.train,
        inputs.n_classes,
        prepared.n_columns,
        prepared.standardizer,
        dtype=(
            _host_objective.scorer_dtype(y_train, inputs.n_classes, settings["loss"])
            if on_host
            else np.float32
        ),
    )
    params = prepared.params
    reg = penalty_strength(settings["alpha"], layout.total_weight, inputs.weight_unit)
    sparse = isinstance(layout.rows, SparseRows)

    def minimize(theta, max_fpr):
        fit_settings = {**settings, "max_fpr": max_fpr}
        if on_host:
            objective = _host_objective.HostObjective(
                layout.rows.matrix if sparse else layout.rows,
                layout.pairs,
                param_shapes(params),
                settings["activation"],
                settings["loss"],
                float(settings["margin"]),
                reg,
                max_fpr,
            )
        elif sparse:
            objective = _SparseCompiledObjective(params, layout, fit_settings, reg)
        else:
            objective = _CompiledObjective(params, layout, fit_settings, reg)

        abandon = settings.get("abandon")

        def value_and_grad(theta):
            if abandon is not None and abandon():
                raise FitAbandoned
            value, grad = objective(theta)
            if not np.all(np.isfinite(grad)):
                value = np.inf
            return value, grad

        try:
            return _lbfgs.minimize(
                value_and_grad,
                theta,
                max_iter=settings["max_iter"],
                gtol=settings["tol"],
                ftol=settings["tol"] * settings.get("ftol_per_tol", EXACT_FTOL_PER_TOL),
            )
        finally:
            if not on_host:
                objective.close()

    max_iter = settings["max_iter"]
    max_fpr = max_fpr_setting(settings)
    theta = flatten(params)
    if max_fpr is not None and not warm_start:
        # The partial AUC's pairs depend on the ranking: at the initial
        # weights (all scores tied, for a linear scorer) any choice of top
        # negatives is arbitrary and L-BFGS stalls on it. Start from the
        # full-AUC solution, whose top negatives are meaningful.
        theta = minimize(theta, None).x
    result = minimize(theta, max_fpr)
    theta, n_iter, curve = result.x, result.n_iter, result.curve
    start = curve[0]
    if not np.isfinite(start):
        raise ValueError(
            "The training objective is not finite at the initial weights; check "
            "X and sample_weight for values that overflow."
        )
    if settings["verbose"]:
        objective = "" if max_fpr is None else f" (partial AUC, max_fpr={max_fpr})"
        print(f"L-BFGS{objective}: {n_iter} iterations, loss = {curve[-1]:.8f}")
    if result.status == "max_iter":
        # As MLPClassifier does, whatever the last iterations gained.
        recent, window = _recent_decrease(curve)
        _warn(
            settings,
            f"L-BFGS reached max_iter={max_iter} before converging: over its last "
            f"{window} iterations the objective fell by {recent:.2%} of its "
            "whole decrease; increase max_iter or tol.",
        )
    elif result.status == "non-finite":
        _warn(
            settings,
            "L-BFGS stopped before converging because the objective or its "
            f"gradient became non-finite along the search direction of iteration "
            f"{n_iter + 1}; the model keeps the best weights found (objective "
            f"{curve[-1]:.6g} after {n_iter} iterations, from {start:.6g}).",
        )
    elif result.status == "line search" and not _stalled_at_round_off(curve):
        _warn(
            settings,
            "L-BFGS stopped before converging: its line search found no "
            f"decrease (objective {curve[-1]:.6g} after {n_iter} iterations, "
            f"from {start:.6g}).",
        )
    # The compiled objective's weights are float32; the host's float64.
    final = unflatten(
        theta if on_host else theta.astype(np.float32), param_shapes(params)
    )
    return SolverResult(
        finish(final, prepared, inputs.X.shape[1]), n_iter, n_iter, curve, None
    )


class _CompiledObjective:
    """``theta -> (value, float64 gradient)`` from the compiled exact program
    (imports JAX); ``close()`` frees the device copy of the rows now, not at
    garbage collection."""

    def __init__(self, params, layout, settings, reg):
        import jax

        from . import _solvers

        config = _exact_config(settings)
        self.program = _solvers.exact_program(
            params, layout.rows.shape[0], layout.rows.shape[1], layout.pairs, config
        )
        self.rows = jax.device_put(layout.rows)
        self.pairs = jax.device_put(layout.pairs)
        self.reg = np.float32(reg)

    def __call__(self, theta):
        value, grad = self.program(
            theta.astype(np.float32), self.rows, self.pairs, self.reg
        )
        return float(value), np.asarray(grad, dtype=np.float64)

    def close(self):
        self.rows.delete()


class _SparseCompiledObjective:
    """The compiled exact objective of sparse rows: SciPy multiplies the rows
    by the first layer's weights (and its transpose by their gradient) on the
    host; the compiled program does the rest, so no row is densified."""

    def __init__(self, params, layout, settings, reg):
        import jax

        from . import _solvers

        config = _exact_config(settings)
        self.rows = layout.rows.matrix
        self.program = _solvers.exact_program(
            params, *self.rows.shape, layout.pairs, config, from_first=True
        )
        self.pairs = jax.device_put(layout.pairs)
        self.reg = np.float32(reg)
        self.first_shape = np.shape(params["coefs"][0])

    def __call__(self, theta):
        theta32 = theta.astype(np.float32)
        W0 = theta32[: np.prod(self.first_shape)].reshape(self.first_shape)
        first = np.asarray(self.rows @ W0, np.float32)
        value, (grad, first_grad) = self.program(theta32, first, self.pairs, self.reg)
        grad = np.asarray(grad, dtype=np.float64)
        W0_grad = self.rows.T @ np.asarray(first_grad, np.float64)
        grad[: W0.size] += np.ravel(W0_grad)
        return float(value), grad

    def close(self):
        pass


def _recent_decrease(curve):
    """The objective's decrease over the last tenth of the iterations (at
    least 5) as a fraction of its decrease since the start (inf if it did
    not decrease), and that number of iterations."""
    window = min(max(5, (len(curve) - 1) // 10), len(curve) - 1)
    total = curve[0] - curve[-1]
    if not total > 0:
        return np.inf, window
    return (curve[-1 - window] - curve[-1]) / total, window


def _stalled_at_round_off(curve, window=3):
    """Whether the last iterations changed the objective by float32 round-off
    only (a line search that fails there has converged as far as float32
    allows)."""
    recent = np.asarray(curve[-window:])
    return len(recent) > 1 and np.ptp(recent) <= 1e-5 * max(abs(recent[-1]), 1e-3)
