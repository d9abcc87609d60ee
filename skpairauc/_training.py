"""Run a solver on laid-out data and return what it learnt (imports JAX).

This is the only module the estimator imports to train, and it imports it
inside ``fit``: importing the package, unpickling a model and predicting need
neither JAX nor optax. Each ``train_*`` function lays out the data
(:mod:`skpairauc._layout`), runs the jitted loops of :mod:`skpairauc._solvers`
and returns a :class:`SolverResult`; it sets nothing on the estimator.
"""

import warnings
from typing import NamedTuple

import jax
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import _solvers
from ._layout import (
    MAX_STEPS_PER_EPOCH,
    bucket_length,
    draw_uniforms,
    exact_layout,
    stochastic_layout,
    task_classes,
    uniform_sides,
)
from ._monitor import StoppingMonitor, validation_auc
from ._scorers import to_numpy


class SolverResult(NamedTuple):
    """What a solver learnt.

    ``params``: NumPy float32 scorer parameters; ``n_iter``: L-BFGS
    iterations or epochs; ``n_steps``: optimisation steps; ``loss_curve``:
    the objective per iteration or the mean batch loss per epoch;
    ``validation_scores``: validation ROC AUC per epoch, or None.
    """

    params: dict
    n_iter: int
    n_steps: int
    loss_curve: list
    validation_scores: list | None


def train_exact(params, inputs, policy, settings):
    """Minimise the exact all-pairs objective with L-BFGS."""
    layout = exact_layout(
        inputs.X, inputs.y_encoded, inputs.sample_weight, policy.train, inputs.n_classes
    )
    rows = jax.device_put(layout.rows)
    max_iter = settings["max_iter"]
    config = _solvers.ExactConfig(
        activation=settings["activation"],
        loss=settings["loss"],
        margin=float(settings["margin"]),
        # At least 256 so that common max_iter values share one compile.
        history_length=max(256, 1 << (max_iter - 1).bit_length()),
    )
    params, n_iter, history = _solvers.run_lbfgs(
        params,
        rows,
        layout.pairs,
        np.float32(settings["alpha"] / layout.total_weight),
        np.int32(max_iter),
        np.float32(settings["tol"]),
        config,
    )
    rows.delete()  # free the padded copy of X now, not at garbage collection
    n_iter = int(n_iter)
    loss_curve = [float(v) for v in np.asarray(history)[:n_iter]]
    if settings["verbose"]:
        print(f"L-BFGS: {n_iter} iterations, loss = {loss_curve[-1]:.8f}")
    if not np.all(np.isfinite(loss_curve)):
        warnings.warn(
            "L-BFGS stopped because the objective became non-finite at iteration "
            f"{int(np.argmin(np.isfinite(loss_curve))) + 1}; the model may be "
            "unusable. Check X for extreme values and sample_weight for extreme "
            "ratios.",
            ConvergenceWarning,
        )
    elif n_iter >= max_iter:
        warnings.warn(
            f"L-BFGS reached max_iter={max_iter} before converging; "
            "increase max_iter or tol.",
            ConvergenceWarning,
        )
    return SolverResult(to_numpy(params), n_iter, n_iter, loss_curve, None)


def train_stochastic(params, inputs, policy, settings, seed, rng):
    """Adam or SGD on sampled batches, with the stopping rule of
    :class:`~skpairauc._monitor.StoppingMonitor`."""
    n_classes = inputs.n_classes
    train, held_out = policy.train, policy.held_out
    uniform = uniform_sides(
        inputs.y_encoded[train], inputs.sample_weight[train], n_classes
    )
    n_tasks = len(task_classes(n_classes))
    config = _solvers.StochasticConfig(
        activation=settings["activation"],
        loss=settings["loss"],
        margin=float(settings["margin"]),
        n_pos_per_batch=int(settings["n_pos_per_batch"]),
        n_neg_per_batch=int(settings["n_neg_per_batch"]),
        optimizer=policy.solver,
        momentum=float(settings["momentum"]),
        dropout=float(settings["dropout"]),
        uniform_weights=uniform,
    )
    # XLA compiles the training loop while NumPy lays out the data.
    compiling = _solvers.compile_ahead(
        params, bucket_length(len(train)), n_tasks, config
    )
    try:
        layout = stochastic_layout(
            inputs.X,
            inputs.y_encoded,
            inputs.sample_weight,
            train,
            n_classes,
            uniform,
            (config.n_pos_per_batch, config.n_neg_per_batch),
            rng,
        )
        compiling.result()
    finally:
        compiling.join()
    validation = None
    if held_out is not None:  # copied once, not at every epoch
        validation = (
            inputs.X[held_out],
            inputs.y_encoded[held_out],
            inputs.sample_weight[held_out],
            config.activation,
            n_classes,
        )
    return _StochasticLoop(config, layout, settings, seed, rng, validation).run(params)


class _StochasticLoop:
    """The epochs of a stochastic fit, pipelined: XLA trains epoch ``k + 1``
    while NumPy validates epoch ``k``."""

    def __init__(self, config, layout, settings, seed, rng, validation):
        self.config, self.layout, self.settings = config, layout, settings
        self.seed, self.rng, self.validation = seed, rng, validation
        self.n_tasks = len(layout.task_bounds)

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
        return _solvers.run_epoch(
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
            config,
        )

    def run(self, params):
        settings, layout = self.settings, self.layout
        max_iter, verbose = settings["max_iter"], settings["verbose"]
        steps = layout.steps_per_epoch
        self.rows = jax.device_put(layout.rows)
        self.lr = np.float32(settings["learning_rate_init"])
        self.reg = np.float32(settings["alpha"] / layout.total_weight)
        params = jax.device_put(params)
        opt_state = _solvers.init_optimizer_state(params, self.config)
        monitor = StoppingMonitor(settings["tol"], settings["n_iter_no_change"])
        loss_curve, scores = [], [] if self.validation is not None else None
        n_epochs, converged = 0, False
        running = self._start_epoch(1, params, opt_state)
        try:
            for epoch in range(1, max_iter + 1):
                params, opt_state, loss = running
                loss_curve.append(float(loss))  # waits for the epoch to end
                n_epochs = epoch
                if not np.isfinite(loss_curve[-1]):
                    raise FloatingPointError(
                        f"The training loss diverged at epoch {epoch}; lower "
                        f"learning_rate_init (now {settings['learning_rate_init']})."
                    )
                if self.validation is not None:
                    snapshot = to_numpy(params)  # an explicit copy of the weights
                    if epoch < max_iter:
                        # Start the next epoch before validating this one: the
                        # validation AUC is computed in NumPy while XLA trains,
                        # on another core if there is one. If the stopping rule
                        # ends the fit here, that epoch is discarded.
                        running = self._start_epoch(epoch + 1, params, opt_state)
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
                    converged = True
                    break
                if self.validation is None and epoch < max_iter:
                    running = self._start_epoch(epoch + 1, params, opt_state)
        except KeyboardInterrupt:
            # As MLPClassifier: an interrupted fit leaves a usable model.
            if not loss_curve:
                raise
            warnings.warn(
                f"Training interrupted by the user after {n_epochs} epochs; the "
                "model keeps the weights reached so far.",
                UserWarning,
            )
            converged = True
            # The newest weights: those of the epoch running or just ended
            # (``params`` may have been handed to, and freed by, that epoch).
            params = jax.block_until_ready(running)[0]
        finally:
            # Free the padded copy of X now, not at garbage collection, once no
            # discarded epoch uses it any more.
            jax.block_until_ready(running)
            self.rows.delete()
        if not converged:
            warnings.warn(
                f"Stochastic optimizer: maximum iterations ({max_iter}) "
                "reached and the optimization has not converged yet.",
                ConvergenceWarning,
            )
        if monitor.best_params is not None:
            final = monitor.best_params
        else:
            final = to_numpy(params)
        return SolverResult(final, n_epochs, n_epochs * steps, loss_curve, scores)
