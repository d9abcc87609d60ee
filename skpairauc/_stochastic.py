"""The stochastic solvers (Adam, SGD): the laid-out data, a fit trained in
stretches of epochs, and its pipelined epoch loop. JAX is imported by the
functions that compile or run a program."""

import warnings
from typing import NamedTuple

import numpy as np
from scipy.sparse import issparse
from sklearn.exceptions import ConvergenceWarning

from ._layout import (
    MAX_STEPS_PER_EPOCH,
    bucket_length,
    draw_uniforms,
    padded_rows,
    stochastic_layout,
    task_classes,
    uniform_sides,
)
from ._monitor import StoppingMonitor, validation_auc
from ._policy import scored_rows
from ._prepare import (
    SolverResult,
    column_count,
    finish,
    max_fpr_setting,
    param_specs,
    penalty_strength,
    prepare,
    standardizer_for,
    weighted_rows,
)
from ._scorers import to_numpy
from ._sparse import batch_nnz_budget, buffer_layout
from ._threads import Background


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
    policy = weighted_rows(inputs, policy)
    train, held_out = policy.train, policy.held_out
    n_classes = inputs.n_classes
    uniform = _uniform(inputs, policy)
    n_columns = column_count(inputs, policy)
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
        standardizer_for(inputs, policy),
    )
    standardizer = layout.standardizer
    validation = None
    if held_out is not None:  # standardised once, not at every epoch
        scored = scored_rows(inputs.y_encoded, held_out, n_classes, seed)
        rows = padded_rows(inputs.X, scored, len(scored), n_columns, standardizer)
        validation = (
            getattr(rows, "matrix", rows),  # sparse rows: scored by SciPy
            inputs.y_encoded[scored],
            inputs.sample_weight[scored],
        )
    return StochasticData(standardizer, layout, validation)


def stochastic_config(inputs, policy, settings):
    """The compile-time settings of a stochastic fit of ``inputs`` under
    ``policy`` (whose rows of zero weight are already left out)."""
    from . import _solvers

    return _solvers.StochasticConfig(
        activation=settings["activation"],
        loss=settings["loss"],
        margin=float(settings["margin"]),
        n_pos_per_batch=int(settings["n_pos_per_batch"]),
        n_neg_per_batch=int(settings["n_neg_per_batch"]),
        optimizer=policy.solver,
        momentum=float(settings["momentum"]),
        dropout=float(settings["dropout"]),
        uniform_weights=_uniform(inputs, policy),
        sparse_budget=_sparse_budget(inputs, policy, settings),
        max_fpr=max_fpr_setting(settings),
    )


def _sparse_budget(inputs, policy, settings):
    """The most non-zeros of a step's batch (sparse ``X``), or 0 (dense)."""
    if not issparse(inputs.X):
        return 0
    return batch_nnz_budget(
        inputs.X,
        policy.train,
        inputs.y_encoded,
        inputs.n_classes,
        (int(settings["n_pos_per_batch"]), int(settings["n_neg_per_batch"])),
        _uniform(inputs, policy),
    )


def _rows_spec(inputs, policy, n_columns):
    """The shapes of the layout's training rows, before it is built."""
    import jax

    n_padded = bucket_length(len(policy.train))
    if not issparse(inputs.X):
        return jax.ShapeDtypeStruct((n_padded, n_columns), np.float32)
    nnz = int(np.diff(inputs.X.indptr)[policy.train].sum())
    index, n_buffer = buffer_layout(nnz, n_columns)
    return (
        jax.ShapeDtypeStruct((n_padded + 1,), index),
        jax.ShapeDtypeStruct((n_buffer,), index),
        jax.ShapeDtypeStruct((n_buffer,), np.float32),
    )


def stochastic_data_ahead(inputs, policy, settings, seed):
    """Start :func:`stochastic_data` in a background thread (NumPy copies
    release the GIL): on large data the default lays out all rows while its
    candidates' programs compile. Returns the
    :class:`~skpairauc._threads.Background`; ``result()`` is the data."""
    return Background(
        lambda: stochastic_data(inputs, policy, settings, seed), name="skpairauc-data"
    )


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
        policy = weighted_rows(inputs, policy)
        self.params, self.inputs, self.policy = params, inputs, policy
        self.settings, self.seed, self.rng = settings, seed, rng
        self.warm_start = warm_start
        self.config = stochastic_config(inputs, policy, settings)
        # XLA compiles the training loop (it needs only shapes) while NumPy
        # standardises and lays out the data: both release the GIL. The
        # program lands in skpairauc._programs, where the loop finds it (or
        # waits for it).
        self._compiling = Background(self.compile) if compile_ahead else None
        self._prepared = self._loop = None

    def compile(self):
        """Get the fit's epoch program (compiled, or loaded from the cache)."""
        from . import _solvers

        n_columns = column_count(self.inputs, self.policy)
        sizes = [n_columns, *(W.shape[1] for W in self.params["coefs"])]
        _solvers.epoch_program(
            param_specs(sizes),
            _rows_spec(self.inputs, self.policy, n_columns),
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
        prepared = prepare(
            self.params, self.inputs, self.policy, self.warm_start, data.standardizer
        )
        validation = (
            None
            if data.validation is None
            else (*data.validation, self.config.activation, self.config.max_fpr)
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
            self.inputs.weight_unit,
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
            params=finish(result.params, self._prepared, self.inputs.X.shape[1])
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


def _block_until_ready(arrays):
    import jax

    return jax.block_until_ready(arrays)


class _StochasticLoop:
    """The epochs of a stochastic fit, pipelined: XLA trains epoch ``k + 1``
    while NumPy validates epoch ``k``. :meth:`advance` trains in stretches
    (see :class:`StochasticFit`)."""

    def __init__(
        self,
        config,
        layout,
        settings,
        seed,
        rng,
        validation,
        params,
        weight_unit,
        opt_state=None,
        reg=None,
    ):
        import jax

        from . import _solvers

        self.config, self.layout, self.settings = config, layout, settings
        self.seed, self.rng, self.validation = seed, rng, validation
        self.n_tasks = len(layout.task_bounds)
        self.rows = jax.device_put(getattr(layout.rows, "arrays", layout.rows))
        self.lr = np.float32(settings["learning_rate_init"])
        if reg is None:
            reg = penalty_strength(settings["alpha"], layout.total_weight, weight_unit)
        self.reg = np.float32(reg)
        self.params = jax.device_put(params)
        if opt_state is None:  # a new fit; partial_fit carries its state over
            opt_state = _solvers.init_optimizer_state(self.params, config)
        self.opt_state = jax.device_put(opt_state)
        self.program = _solvers.epoch_program(
            self.params, self.rows, self.n_tasks, config
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
        after which ``keep_going()`` returns False. With a validation set,
        NumPy scores epoch ``k`` while XLA trains epoch ``k + 1``."""
        if self.stopped or self.n_epochs >= min(last_epoch, self.settings["max_iter"]):
            return
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
                    metric = "AUC" if self.config.max_fpr is None else "pAUC"
                    extra = (
                        ""
                        if scores is None
                        else f", validation {metric} = {scores[-1]:.6f}"
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
        import jax

        self._wait()
        if not self._closed:
            self._closed = True
            for array in jax.tree.leaves(self.rows):
                array.delete()
