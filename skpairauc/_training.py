"""Run a solver on laid-out data and return what it learnt.

This is the only module the estimator imports to train, and it imports it
inside ``fit``. Each ``train_*`` function lays out the data
(:mod:`skpairauc._layout`), runs the jitted loops of :mod:`skpairauc._solvers`
(or, for a small exact fit, the NumPy objective of
:mod:`skpairauc._host_objective`) and returns a :class:`SolverResult`; it sets
nothing on the estimator.

JAX (with :mod:`skpairauc._solvers`) is imported by the functions that compile
or run a program, not with this module: importing the package, unpickling a
model, predicting and an exact fit on small data need neither JAX nor optax.
"""

import contextlib
import threading
import warnings
from typing import NamedTuple

import numpy as np
import threadpoolctl
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import ThreadpoolController

from . import _host_objective, _lbfgs
from ._layout import (
    MAX_STEPS_PER_EPOCH,
    bucket_length,
    draw_uniforms,
    exact_layout,
    exact_pair_lengths,
    feature_bucket,
    padded_rows,
    stochastic_layout,
    task_classes,
    uniform_sides,
)
from ._monitor import StoppingMonitor, validation_auc
from ._policy import scored_rows
from ._scaling import fit_standardizer, fold, unfold
from ._scorers import flatten, param_shapes, to_numpy, unflatten
from ._threads import Background


class SolverResult(NamedTuple):
    """What a solver learnt.

    ``params``: float64 scorer parameters on raw inputs (the internal
    standardisation folded in); ``n_iter``: L-BFGS iterations or epochs;
    ``n_steps``: optimisation steps; ``loss_curve``: the objective at each
    L-BFGS iterate or the mean batch loss per epoch; ``validation_scores``:
    validation ROC AUC per epoch, or None.
    """

    params: dict
    n_iter: int
    n_steps: int
    loss_curve: list
    validation_scores: list | None


class _Prepared(NamedTuple):
    params: dict  # float32, on standardised inputs, first layer padded
    standardizer: object
    n_columns: int


def _prepare(params, inputs, policy, raw_params, standardizer=None):
    """Standardise (unless ``standardizer`` is given), pad the features, and
    express the initial parameters on the standardised, padded inputs.
    ``raw_params`` says whether ``params`` describe raw inputs (warm start)
    or standardised ones (a new init)."""
    if standardizer is None:
        standardizer = _fit_standardizer(inputs, policy)
    if raw_params:
        params = unfold(params, standardizer)
    n_features = inputs.X.shape[1]
    n_columns = _n_columns(inputs, policy)
    first = np.zeros((n_columns, params["coefs"][0].shape[1]), np.float32)
    first[:n_features] = params["coefs"][0]
    params = {
        "coefs": [first, *params["coefs"][1:]],
        "intercepts": params["intercepts"],
    }
    return _Prepared(params, standardizer, n_columns)


def _fit_standardizer(inputs, policy):
    return fit_standardizer(
        inputs.X,
        inputs.sample_weight,
        None if policy.held_out is None else policy.train,
    )


def _n_columns(inputs, policy):
    return feature_bucket(inputs.X.shape[1], bucket_length(len(policy.train)))


def _finish(params, prepared, n_features):
    """Drop the padded columns' (zero) weights and fold the standardisation in."""
    params = to_numpy(params)
    params["coefs"][0] = params["coefs"][0][:n_features]
    return fold(params, prepared.standardizer)


def _weighted_rows(inputs, policy):
    """The policy without the rows of zero weight: they count for nothing, and
    are left out of the statistics, the pairs and the validation set."""
    positive = inputs.sample_weight > 0
    if np.all(positive):
        return policy
    return policy._replace(
        train=policy.train[positive[policy.train]],
        held_out=None
        if policy.held_out is None
        else policy.held_out[positive[policy.held_out]],
    )


def runs_without_jax(inputs, policy):
    """Whether every fit of an estimator's ``fit`` under ``policy`` is exact
    and small enough for the NumPy objective (the fit on all its rows is the
    largest: folds and candidates train on fewer pairs)."""
    if policy.solver != "lbfgs":
        return False
    train = _weighted_rows(inputs, policy).train
    return _host_objective.runs_on_host(inputs.y_encoded[train], inputs.n_classes)


def train(params, inputs, policy, settings, seed, rng, warm_start=False):
    """Train with the policy's solver; returns a :class:`SolverResult`."""
    policy = _weighted_rows(inputs, policy)
    if policy.solver == "lbfgs":
        prepared = _prepare(params, inputs, policy, raw_params=warm_start)
        return train_exact(prepared, inputs, policy, settings)
    return train_stochastic(params, inputs, policy, settings, seed, rng, warm_start)


class StochasticData(NamedTuple):
    """What a stochastic fit trains on, whatever its scorer: the
    standardisation, the training layout, and the standardised validation
    rows with their labels and weights (or None)."""

    standardizer: object
    layout: object
    validation: tuple | None


# The stream of the fit's seed that shuffles the stochastic layout, apart from
# the one that draws initial weights and batches: the layout does not depend
# on the scorer, so it can be built before the scorer is chosen.
_LAYOUT_STREAM = 1


def _uniform(inputs, policy):
    """Whether the training rows' weights are equal within each side, so
    that windows of a shuffled layout sample the pairs."""
    train = policy.train
    return uniform_sides(
        inputs.y_encoded[train], inputs.sample_weight[train], inputs.n_classes
    )


def stochastic_data(inputs, policy, settings, seed):
    """Standardise and lay out the data of a stochastic fit (NumPy only)."""
    policy = _weighted_rows(inputs, policy)
    train, held_out = policy.train, policy.held_out
    n_classes = inputs.n_classes
    uniform = _uniform(inputs, policy)
    n_columns = _n_columns(inputs, policy)
    layout = stochastic_layout(
        inputs.X,
        inputs.y_encoded,
        inputs.sample_weight,
        train,
        n_classes,
        uniform,
        (int(settings["n_pos_per_batch"]), int(settings["n_neg_per_batch"])),
        np.random.default_rng([seed, _LAYOUT_STREAM]),
        n_columns,
        _fit_standardizer(inputs, policy),
    )
    standardizer = layout.standardizer
    validation = None
    if held_out is not None:  # standardised once, not at every epoch
        scored = scored_rows(inputs.y_encoded, held_out, n_classes, seed)
        validation = (
            padded_rows(inputs.X, scored, len(scored), n_columns, standardizer),
            inputs.y_encoded[scored],
            inputs.sample_weight[scored],
        )
    return StochasticData(standardizer, layout, validation)


def stochastic_data_ahead(inputs, policy, settings, seed):
    """Start :func:`stochastic_data` in a background thread (NumPy copies
    release the GIL): on large data the default lays out all rows while its
    candidates' programs compile. Returns the
    :class:`~skpairauc._threads.Background`; ``result()`` is the data."""
    return Background(
        lambda: stochastic_data(inputs, policy, settings, seed), name="skpairauc-data"
    )


def _exact_config(settings):
    from . import _solvers

    return _solvers.ExactConfig(
        activation=settings["activation"],
        loss=settings["loss"],
        margin=float(settings["margin"]),
    )


def _param_specs(sizes):
    """Float32 shapes of a scorer's parameters, for layer sizes
    ``[n_columns, *hidden_layer_sizes, n_outputs]`` (compiling needs no more)."""
    import jax

    struct = jax.ShapeDtypeStruct
    return {
        "coefs": [struct(shape, np.float32) for shape in zip(sizes, sizes[1:])],
        "intercepts": [struct((h,), np.float32) for h in sizes[1:-1]],
    }


def exact_programs_ahead(jobs, n_features, n_classes, settings):
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
        if not _host_objective.runs_on_host(y_train, n_classes)
    ]
    if not jobs:
        return Background(lambda: None)
    import jax

    from . import _solvers

    config = _exact_config(settings)
    n_tasks = len(task_classes(n_classes))
    n_outputs = 1 if n_classes == 2 else n_classes
    struct = jax.ShapeDtypeStruct

    def work():
        for hidden, y_train in jobs:
            n_rows = bucket_length(len(y_train))
            n_columns = feature_bucket(n_features, n_rows)
            n_pos, n_neg = exact_pair_lengths(y_train, n_classes)
            params = _param_specs([n_columns, *hidden, n_outputs])
            pairs = (
                struct((n_tasks, n_pos), np.int32),
                struct((n_tasks, n_pos), np.float32),
                struct((n_tasks, n_neg), np.int32),
                struct((n_tasks, n_neg), np.float32),
                struct((n_tasks,), np.float32),
            )
            _solvers.exact_program(params, n_rows, n_columns, pairs, config)

    return Background(work)


# L-BFGS also stops when an iteration lowers the objective (a mean pair loss,
# below 1 once training starts) by less than ``tol * EXACT_FTOL_PER_TOL``: 1e-6
# at the default tol. Smaller decreases no longer change the ranking (an
# MLP(64) on make_classification(1000, 20) took 116 iterations to reach it,
# and 325 to reach 1e-7, for the same test AUC to 1e-3), and they approach
# the float32 round-off of the objective.
EXACT_FTOL_PER_TOL = 1e-2


def train_exact(prepared, inputs, policy, settings):
    """Minimise the exact all-pairs objective with a small L-BFGS on the
    host, each value and gradient from one compiled program, or, on small
    data, from the NumPy objective of :mod:`skpairauc._host_objective`."""
    layout = exact_layout(
        inputs.X,
        inputs.y_encoded,
        inputs.sample_weight,
        policy.train,
        inputs.n_classes,
        prepared.n_columns,
        prepared.standardizer,
    )
    params = prepared.params
    reg = np.float32(settings["alpha"] / layout.total_weight)
    on_host = _host_objective.runs_on_host(
        inputs.y_encoded[policy.train], inputs.n_classes
    )
    if on_host:
        objective = _host_objective.HostObjective(
            layout.rows,
            layout.pairs,
            param_shapes(params),
            settings["activation"],
            settings["loss"],
            float(settings["margin"]),
            reg,
        )
    else:
        objective = _CompiledObjective(params, layout, settings, reg)

    def value_and_grad(theta):
        value, grad = objective(theta)
        if not np.all(np.isfinite(grad)):
            value = np.inf
        return value, grad

    max_iter = settings["max_iter"]
    # The host objective's matrix products on one BLAS thread: the default
    # fits two folds at once on two cores, and OpenBLAS threads on top of
    # that slowed the evaluations of an MLP(64) on 667 rows from 0.5 to 1.0-1.7
    # ms (and a thread count that changes between fits changes the result's
    # round-off).
    with one_blas_thread() if on_host else contextlib.nullcontext():
        result = _lbfgs.minimize(
            value_and_grad,
            flatten(params),
            max_iter=max_iter,
            gtol=settings["tol"],
            ftol=settings["tol"] * EXACT_FTOL_PER_TOL,
        )
    if not on_host:
        objective.close()
    theta, n_iter, curve = result.x, result.n_iter, result.curve
    start = curve[0]
    if not np.isfinite(start):
        raise ValueError(
            "The training objective is not finite at the initial weights; check "
            "X and sample_weight for values that overflow."
        )
    if settings["verbose"]:
        print(f"L-BFGS: {n_iter} iterations, loss = {curve[-1]:.8f}")
    recent, window = _recent_decrease(curve)
    if result.status == "max_iter" and recent > PLATEAU_FRACTION:
        warnings.warn(
            f"L-BFGS reached max_iter={max_iter} before converging: over its last "
            f"{window} iterations the objective still fell by {recent:.1%} of its "
            "whole decrease; increase max_iter or tol.",
            ConvergenceWarning,
        )
    elif result.status == "non-finite":
        warnings.warn(
            "L-BFGS stopped before converging because the objective or its "
            f"gradient became non-finite along the search direction of iteration "
            f"{n_iter + 1}; the model keeps the best weights found (objective "
            f"{curve[-1]:.6g} after {n_iter} iterations, from {start:.6g}).",
            ConvergenceWarning,
        )
    elif result.status == "line search" and not _stalled_at_round_off(curve):
        warnings.warn(
            "L-BFGS stopped before converging: its line search found no "
            f"decrease (objective {curve[-1]:.6g} after {n_iter} iterations, "
            f"from {start:.6g}).",
            ConvergenceWarning,
        )
    final = unflatten(theta.astype(np.float32), param_shapes(params))
    return SolverResult(
        _finish(final, prepared, inputs.X.shape[1]), n_iter, n_iter, curve, None
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
        self.reg = reg

    def __call__(self, theta):
        value, grad = self.program(
            theta.astype(np.float32), self.rows, self.pairs, self.reg
        )
        return float(value), np.asarray(grad, dtype=np.float64)

    def close(self):
        self.rows.delete()


# At max_iter, L-BFGS warns only if the objective was still falling
# materially: by more than this fraction of its whole decrease over the last
# tenth of the iterations (at least 5). Of 93 default fits (the 12 benchmark
# tables and the 19 holdout tables of benchmarks/study_selection.py, 3 splits
# each), 16 refits of an MLP reached max_iter=200 with their objective
# falling by 0.04% to 0.5% of its whole decrease over the last 20
# iterations; run to convergence (211 to 498 iterations) their test ROC AUC
# moved by 0.003 at most. A fit stopped far from convergence (an MLP at 20
# iterations) is still falling by several percent, and warns.
PLATEAU_FRACTION = 1e-2


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


def train_stochastic(params, inputs, policy, settings, seed, rng, warm_start=False):
    """Adam or SGD on sampled batches, with the stopping rule of
    :class:`~skpairauc._monitor.StoppingMonitor`: a :class:`StochasticFit`
    advanced to ``max_iter`` epochs at once."""
    fit = StochasticFit(params, inputs, policy, settings, seed, rng, warm_start)
    try:
        fit.start()
        fit.advance(settings["max_iter"])
        return fit.result()
    finally:
        fit.close()


class StochasticFit:
    """A stochastic fit trained in stretches of epochs.

    ``StochasticFit(...)`` starts compiling the fit's epoch program in the
    background (it needs only shapes; ``compile_ahead=False`` leaves that to
    the caller, through :meth:`compile`); :meth:`start` takes the laid-out
    data (:func:`stochastic_data`, built here if not given), :meth:`advance`
    trains up to an epoch number and :meth:`result` returns the
    :class:`SolverResult`. A later :meth:`advance` continues exactly where
    the previous one stopped (the same batches, dropout masks and stopping
    rule; an epoch already started carries over), so a fit advanced in
    stretches is the fit advanced to ``max_iter`` at once (tested). The
    large-data capacity selection trains every candidate for a few epochs
    and advances the winner (:meth:`skpairauc.PairwiseAUCClassifier.fit`).
    The owner calls :meth:`close` in any case (a ``finally``).
    """

    def __init__(
        self,
        params,
        inputs,
        policy,
        settings,
        seed,
        rng,
        warm_start=False,
        compile_ahead=True,
    ):
        from . import _solvers

        policy = _weighted_rows(inputs, policy)
        self.params, self.inputs, self.policy = params, inputs, policy
        self.settings, self.seed, self.rng = settings, seed, rng
        self.warm_start = warm_start
        self.config = _solvers.StochasticConfig(
            activation=settings["activation"],
            loss=settings["loss"],
            margin=float(settings["margin"]),
            n_pos_per_batch=int(settings["n_pos_per_batch"]),
            n_neg_per_batch=int(settings["n_neg_per_batch"]),
            optimizer=policy.solver,
            momentum=float(settings["momentum"]),
            dropout=float(settings["dropout"]),
            uniform_weights=_uniform(inputs, policy),
        )
        # XLA compiles the training loop (it needs only shapes) while NumPy
        # standardises and lays out the data: both release the GIL. The
        # program lands in skpairauc._programs, where the loop finds it (or
        # waits for it).
        self._compiling = Background(self.compile) if compile_ahead else None
        self._prepared = self._loop = None

    def compile(self):
        """Get the fit's epoch program (compiled, or loaded from the cache)."""
        from . import _solvers

        n_columns = _n_columns(self.inputs, self.policy)
        sizes = [n_columns, *(W.shape[1] for W in self.params["coefs"])]
        _solvers.epoch_program(
            _param_specs(sizes),
            bucket_length(len(self.policy.train)),
            n_columns,
            len(task_classes(self.inputs.n_classes)),
            self.config,
        )

    def start(self, data=None):
        """Take the laid-out data (built now when None) and the compiled
        program; nothing is trained yet."""
        try:
            if data is None:
                data = stochastic_data(
                    self.inputs, self.policy, self.settings, self.seed
                )
            if self._compiling is not None:
                self._compiling.result()
        finally:
            self._join_compile()
        prepared = _prepare(
            self.params, self.inputs, self.policy, self.warm_start, data.standardizer
        )
        validation = (
            None
            if data.validation is None
            else (*data.validation, self.config.activation)
        )
        self._prepared = prepared
        self._loop = _StochasticLoop(
            self.config,
            data.layout,
            self.settings,
            self.seed,
            self.rng,
            validation,
            prepared.params,
        )

    def advance(self, last_epoch, keep_going=None):
        """Train until epoch ``last_epoch`` (counted from the start of the
        fit), the stopping rule, or an epoch after which ``keep_going()``
        returns False."""
        self._loop.advance(last_epoch, keep_going)

    def best_validation_score(self, n_epochs=None):
        """The best validation ROC AUC of the first ``n_epochs`` epochs (all
        so far when None); None without validation."""
        scores = self._loop.scores
        return max(scores[:n_epochs]) if scores else None

    def result(self):
        """The :class:`SolverResult` (warns if ``max_iter`` ended the fit)."""
        result = self._loop.result()
        return result._replace(
            params=_finish(result.params, self._prepared, self.inputs.X.shape[1])
        )

    def _join_compile(self):
        if self._compiling is not None:
            self._compiling.join()

    def close(self):
        """Wait for the background compile and any epoch still running, and
        release the training rows."""
        self._join_compile()
        if self._loop is not None:
            self._loop.close()


# Fits running at once share one BLAS limit: the first to start sets it, the
# last to end restores the count it found, whichever threads those are. (When
# the first fit restored the count as it ended, a fit still running went back
# to every BLAS thread for the rest of its work; nested limits ending out of
# order left the process on one BLAS thread after two concurrent fits.)
# threadpoolctl 3.8 lets one thread at a time change OpenBLAS's process-wide
# count (the first to change it, until it ends or gives that up), and other
# threads' changes silently do nothing; so each change here gives control back
# at once (_release_blas_control). Without that, a fit that once limited the
# count in the main thread kept control for the life of the process, and the
# limits of later fits in other threads (the fold fits, the racing candidates
# of the large-data selection) did nothing.
# The controller is made once (finding the loaded BLAS libraries takes 3-8 ms;
# a limit from it, 10 us): small exact fits take the limit once each, and the
# default's selection makes about 25 of them.
_blas_limit_lock = threading.Lock()
_blas_users = 0
_blas_limit = None
_blas_controller = None


@contextlib.contextmanager
def one_blas_thread():
    """NumPy's BLAS on one thread while the block runs (see
    :meth:`_StochasticLoop.advance` and :func:`train_exact`), and while any
    other such block runs: the count comes back when the last one ends."""
    global _blas_users, _blas_limit, _blas_controller
    with _blas_limit_lock:
        if _blas_users == 0:
            if _blas_controller is None:
                _blas_controller = ThreadpoolController()
            _blas_limit = _blas_controller.limit(limits=1, user_api="blas")
            _release_blas_control()
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_limit_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limit.restore_original_limits()
                _release_blas_control()
                _blas_limit = None


def _release_blas_control():
    """Give up this thread's control of OpenBLAS's thread count, if it has it
    (threadpoolctl 3.8; earlier versions have no such control)."""
    controller_class = getattr(threadpoolctl, "OpenBLASController", None)
    clear = getattr(controller_class, "clear_controlling_thread", None)
    if clear is not None:
        clear()


def _block_until_ready(arrays):
    import jax

    return jax.block_until_ready(arrays)


class _StochasticLoop:
    """The epochs of a stochastic fit, pipelined: XLA trains epoch ``k + 1``
    while NumPy validates epoch ``k``. :meth:`advance` trains in stretches
    (see :class:`StochasticFit`)."""

    def __init__(self, config, layout, settings, seed, rng, validation, params):
        import jax

        from . import _solvers

        self.config, self.layout, self.settings = config, layout, settings
        self.seed, self.rng, self.validation = seed, rng, validation
        self.n_tasks = len(layout.task_bounds)
        self.rows = jax.device_put(layout.rows)
        self.lr = np.float32(settings["learning_rate_init"])
        self.reg = np.float32(settings["alpha"] / layout.total_weight)
        self.params = jax.device_put(params)
        self.opt_state = jax.device_put(
            _solvers.init_optimizer_state(self.params, config)
        )
        self.program = _solvers.epoch_program(
            self.params, *layout.rows.shape, self.n_tasks, config
        )
        self.monitor = StoppingMonitor(settings["tol"], settings["n_iter_no_change"])
        self.loss_curve = []
        self.scores = [] if validation is not None else None
        self.n_epochs = 0
        # Ended by the stopping rule or by the user (no more epochs to run).
        self.stopped = False
        self._running = None  # the epoch started and not yet taken
        self._closed = False

    def _start_epoch(self, epoch, params, opt_state):
        # Asynchronous: returns while XLA still runs the epoch.
        config, layout = self.config, self.layout
        draws = draw_uniforms(
            self.rng,
            MAX_STEPS_PER_EPOCH,
            self.n_tasks,
            config.n_pos_per_batch,
            config.n_neg_per_batch,
            config.uniform_weights,
        )
        return self.program(
            params,
            opt_state,
            draws,
            np.int32(self.seed),
            np.int32(epoch),
            self.rows,
            layout.cum_weight,
            layout.task_bounds,
            np.int32(layout.n_rows),
            self.lr,
            self.reg,
            np.int32(layout.steps_per_epoch),
        )

    def advance(self, last_epoch, keep_going=None):
        """Train until epoch ``last_epoch``, the stopping rule, or an epoch
        after which ``keep_going()`` returns False.

        With a validation set, NumPy scores it on one BLAS thread while XLA
        trains the next epoch, so the two do not fight over the cores (the
        1e6 x 100 fits of ``benchmarks/bench_speed.py``, in one process: MLP
        1.15-1.2 s with two BLAS threads, 0.9-0.97 s with one; linear 0.72 s,
        0.60-0.63 s). The limit is lifted when the stretch ends, as
        scikit-learn does around its own loops (``threadpoolctl``); see
        :func:`one_blas_thread` for fits running at once."""
        if self.stopped or self.n_epochs >= min(last_epoch, self.settings["max_iter"]):
            return
        if self.validation is None:
            self._advance(last_epoch, keep_going)
            return
        with one_blas_thread():
            self._advance(last_epoch, keep_going)

    def _start_next(self):
        # The next epoch, from the carried weights and optimizer state (handed
        # on to it: the program donates them).
        running = self._start_epoch(self.n_epochs + 1, self.params, self.opt_state)
        self._running, self.params, self.opt_state = running, None, None

    def _advance(self, last_epoch, keep_going):
        settings = self.settings
        max_iter, verbose = settings["max_iter"], settings["verbose"]
        monitor, loss_curve, scores = self.monitor, self.loss_curve, self.scores
        try:
            if self._running is None:
                self._start_next()
            while True:
                params, opt_state, loss = self._running
                loss_curve.append(float(loss))  # waits for the epoch to end
                self.n_epochs = epoch = self.n_epochs + 1
                self._running, self.params, self.opt_state = None, params, opt_state
                if not np.isfinite(loss_curve[-1]):
                    raise FloatingPointError(
                        f"The training loss diverged at epoch {epoch}. The features "
                        "were standardised and are finite and the weights are "
                        "normalised, so the step size is too large for this data: "
                        "lower learning_rate_init (now "
                        f"{settings['learning_rate_init']})."
                    )
                more = epoch < max_iter
                if self.validation is not None:
                    snapshot = to_numpy(params)  # an explicit copy of the weights
                    if more:
                        # Start the next epoch before validating this one: the
                        # validation AUC is computed in NumPy while XLA trains,
                        # on another core if there is one. If the stopping rule
                        # ends the fit here, that epoch is discarded; if the
                        # stretch ends here, the next stretch takes it.
                        self._start_next()
                    scores.append(validation_auc(snapshot, *self.validation))
                    stop = monitor.update(-scores[-1], snapshot)
                else:
                    stop = monitor.update(loss_curve[-1])
                if verbose:
                    extra = (
                        "" if scores is None else f", validation AUC = {scores[-1]:.6f}"
                    )
                    print(f"Iteration {epoch}, loss = {loss_curve[-1]:.8f}{extra}")
                if stop:
                    self.stopped = True
                    return
                if not more:
                    return
                if self.validation is None:
                    self._start_next()
                if epoch >= last_epoch or (keep_going is not None and not keep_going()):
                    return
        except KeyboardInterrupt:
            # As MLPClassifier: an interrupted fit leaves a usable model.
            if not loss_curve:
                raise
            warnings.warn(
                f"Training interrupted by the user after {self.n_epochs} epochs; "
                "the model keeps the weights reached so far.",
                UserWarning,
            )
            self.stopped = True
            if self._running is not None:
                # The newest weights: those of the epoch running (the ones it
                # started from were handed to it, and freed).
                self.params = _block_until_ready(self._running)[0]
                self._running = None
        except BaseException:
            self._wait()
            raise

    def _wait(self):
        """Let an epoch still running end (it reads the training rows)."""
        if self._running is not None:
            _block_until_ready(self._running)
            self._running = None

    def result(self):
        """The :class:`SolverResult` of the epochs run so far (float32, on
        the standardised, padded inputs); warns if the fit ran out of epochs
        before the stopping rule ended it."""
        self.close()
        max_iter = self.settings["max_iter"]
        if not self.stopped:
            warnings.warn(
                f"Stochastic optimizer: maximum iterations ({max_iter}) "
                "reached and the optimization has not converged yet.",
                ConvergenceWarning,
            )
        if self.monitor.best_params is not None:
            final = self.monitor.best_params
        else:
            final = to_numpy(self.params)
        n_epochs = self.n_epochs
        return SolverResult(
            final,
            n_epochs,
            n_epochs * self.layout.steps_per_epoch,
            self.loss_curve,
            self.scores,
        )

    def close(self):
        """Wait for an epoch still running (one the stopping rule discarded,
        or one a stretch left started) and free the training rows now, not at
        garbage collection."""
        self._wait()
        if not self._closed:
            self._closed = True
            self.rows.delete()
