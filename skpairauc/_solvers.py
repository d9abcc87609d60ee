"""Jitted training loops: exact (L-BFGS on all pairs) and stochastic (Adam/SGD).

Both are module-level functions jitted once per *configuration*: the
architecture (read from the parameter shapes), the loss, the batch shape and
the bucketed data shapes. Learning rate, penalty, step counts and tolerances
are traced values, so changing them (or fitting a data set of a similar size)
reuses the compiled loop. ``TRACE_COUNTS`` counts traces; the tests use it to
prove that a second fit does not recompile.
"""

import threading
from collections import Counter
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from ._layout import MAX_STEPS_PER_EPOCH, draws_width
from ._losses import value_and_derivative
from ._objective import exact_objective
from ._optimizers import make_optimizer
from ._pairs import sample_task_batch
from ._scorers import forward, l2_penalty

TRACE_COUNTS = Counter()


class StochasticConfig(NamedTuple):
    """Static (compile-time) settings of the stochastic solver."""

    activation: str
    loss: str
    margin: float
    n_pos_per_batch: int
    n_neg_per_batch: int
    optimizer: str  # "adam" or "sgd"
    momentum: float
    dropout: float
    uniform_weights: bool


class ExactConfig(NamedTuple):
    """Static (compile-time) settings of the exact solver."""

    activation: str
    loss: str
    margin: float
    history_length: int
    memory_size: int = 10


def batch_loss(params, X, pos, neg, key, config):
    """Mean pairwise loss over all cross pairs of a batch, every task.

    ``pos`` and ``neg`` are ``(n_tasks, n_pos)`` and ``(n_tasks, n_neg)`` row
    indices. Each row is scored once; the ``n_pos * n_neg`` differences per
    task are formed from those scores (one forward pass per row, not two per
    pair as a literal siamese network would do).
    """
    n_tasks, n_pos = pos.shape
    rows = jnp.concatenate([pos, neg], axis=1).reshape(-1)
    scores = forward(
        jnp, params, X[rows], config.activation, dropout_rate=config.dropout, key=key
    ).reshape(n_tasks, -1, n_tasks)
    if n_tasks == 1:  # binary: skip the advanced indexing below
        own = scores[..., 0]
    else:  # row block t was drawn for task t: keep its own score column
        tasks = jnp.arange(n_tasks)
        own = scores[tasks, :, tasks]
    d = own[:, :n_pos, None] - own[:, None, n_pos:]
    return sampled_mean_loss(d, config.loss, config.margin)


# Negatives per positive whose loss values estimate the batch loss (see below).
N_NEG_FOR_VALUE = 48


@partial(jax.custom_vjp, nondiff_argnums=(1, 2))
def sampled_mean_loss(d, loss, margin):
    """Mean loss over all pairs ``d``, its value estimated on a subset.

    The gradient is exact: the derivative over every pair. The value, used only
    for ``loss_curve_`` and the stopping rule, is the mean over the first
    ``N_NEG_FOR_VALUE`` negatives of each positive (negatives are i.i.d. draws,
    so it is unbiased). Computing ``log1p`` for every pair only to report it
    took about 40% of a linear scorer's step on the CPU.
    """
    return _sampled_value(d, loss, margin)


def _sampled_value(d, loss, margin):
    value, _ = value_and_derivative(loss, margin, jnp)(d[..., :N_NEG_FOR_VALUE])
    return jnp.mean(value)


def _sampled_mean_loss_fwd(d, loss, margin):
    _, deriv = value_and_derivative(loss, margin, jnp)(d)
    return _sampled_value(d, loss, margin), deriv / d.size


def _sampled_mean_loss_bwd(loss, margin, scaled_deriv, cotangent):
    return (cotangent * scaled_deriv,)


sampled_mean_loss.defvjp(_sampled_mean_loss_fwd, _sampled_mean_loss_bwd)


@partial(jax.jit, static_argnames="config", donate_argnames=("params", "opt_state"))
def run_epoch(
    params,
    opt_state,
    draws,
    seed,
    epoch,
    X,
    cum_weight,
    bounds,
    n_rows,
    lr,
    reg,
    n_steps,
    config,
):
    """Run ``n_steps`` stochastic steps inside one ``fori_loop``.

    Parameters
    ----------
    params, opt_state : pytrees
        Scorer parameters and optimizer state (donated).
    draws : jax.Array of shape (MAX_STEPS_PER_EPOCH, n_tasks, width)
        Uniform random numbers; step ``i`` draws its batch from ``draws[i]``
        (see :func:`skpairauc._pairs.draw_uniforms`).
    seed, epoch : int
        The fit's integer seed and the epoch number (from 1); they seed the
        dropout masks only: ``fold_in(fold_in(key(seed), epoch), step)``.
    X : jax.Array of shape (n_padded, n_features)
        Training rows sorted by class, zero-padded.
    cum_weight : jax.Array of shape (n_padded,)
        Cumulative sample weights in that order, padded with the total.
    bounds : jax.Array of shape (n_tasks, 2)
        ``[start, stop)`` of each task's positive class.
    n_rows : int
        Number of real (unpadded) rows.
    lr, reg : float
        Learning rate and the L2 coefficient (alpha / total weight).
    n_steps : int
        Number of steps, at most ``MAX_STEPS_PER_EPOCH`` (traced: no
        recompile when it changes).
    config : StochasticConfig
        Static settings.

    Returns
    -------
    params, opt_state, mean_loss
    """
    TRACE_COUNTS["run_epoch"] += 1
    n_tasks = bounds.shape[0]
    optimizer = make_optimizer(config.optimizer, config.momentum)
    draw = partial(
        sample_task_batch,
        cum_weight=cum_weight,
        n_rows=n_rows,
        n_pos=config.n_pos_per_batch,
        n_neg=config.n_neg_per_batch,
        uniform=config.uniform_weights,
    )

    def objective(p, pos, neg, dropout_key):
        return batch_loss(p, X, pos, neg, dropout_key, config) + reg * l2_penalty(
            jnp, p
        )

    def step(i, carry):
        params, opt_state, loss_sum = carry
        if n_tasks == 1:
            pos, neg = draw(draws[i, 0], start=bounds[0, 0], stop=bounds[0, 1])
            pos, neg = pos[None], neg[None]
        else:
            pos, neg = jax.vmap(lambda u, a, b: draw(u, start=a, stop=b))(
                draws[i], bounds[:, 0], bounds[:, 1]
            )
        dropout_key = None
        if config.dropout > 0:  # static: without dropout the loop has no PRNG
            epoch_key = jax.random.fold_in(jax.random.key(seed), epoch)
            dropout_key = jax.random.fold_in(epoch_key, i)
        loss, grads = jax.value_and_grad(objective)(params, pos, neg, dropout_key)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = jax.tree.map(lambda p, u: p - lr * u, params, updates)
        return params, opt_state, loss_sum + loss

    params, opt_state, loss_sum = lax.fori_loop(
        0, n_steps, step, (params, opt_state, jnp.zeros((), jnp.float32))
    )
    return params, opt_state, loss_sum / jnp.maximum(n_steps, 1)


@partial(jax.jit, static_argnames="config")
def init_optimizer_state(params, config):
    """Fresh optimizer state for the stochastic solver."""
    return make_optimizer(config.optimizer, config.momentum).init(params)


class BackgroundCompile:
    """Run ``work`` in a thread that belongs to one fit.

    The fit joins it (``result()``) before it trains and in any case before it
    returns (``join()`` from a ``finally``), so no thread outlives the fit that
    started it, and a compile error reaches the caller.
    """

    def __init__(self, work):
        self._error = None

        def run():
            try:
                work()
            except BaseException as error:  # passed on by result()
                self._error = error

        self._thread = threading.Thread(
            target=run, name="skpairauc-compile", daemon=True
        )
        self._thread.start()

    def join(self):
        self._thread.join()

    def result(self):
        self.join()
        if self._error is not None:
            raise self._error


def compile_ahead(params, n_rows, n_tasks, config):
    """Start compiling ``init_optimizer_state`` and ``run_epoch`` in the background.

    Compiling needs only shapes, so it can overlap with the copy of ``X`` into
    the training layout (XLA compiles and NumPy copies without holding the
    GIL). The compiled executables land in JAX's caches, so the later calls
    with real arrays of these shapes neither trace nor compile again; on a
    second fit of the same shapes this finds everything cached and returns at
    once.

    Returns
    -------
    BackgroundCompile
        Owned by the calling fit, which joins it with ``result()``; that
        re-raises any compile error.
    """
    struct = jax.ShapeDtypeStruct
    p = jax.tree.map(lambda a: struct(np.shape(a), np.float32), params)
    n_features = p["coefs"][0].shape[0]
    width = draws_width(
        config.n_pos_per_batch, config.n_neg_per_batch, config.uniform_weights
    )
    i32, f32 = struct((), np.int32), struct((), np.float32)

    def work():
        # Arguments passed as the estimator passes them (``config`` by position),
        # since that is part of the cache key; the sharding-free structs match
        # the uncommitted arrays the estimator passes.
        init_optimizer_state.trace(p, config).lower().compile()
        opt_state = jax.tree.map(
            lambda a: struct(a.shape, a.dtype),
            jax.eval_shape(init_optimizer_state, p, config),
        )
        run_epoch.trace(
            p,
            opt_state,
            struct((MAX_STEPS_PER_EPOCH, n_tasks, width), np.float32),
            i32,
            i32,
            struct((n_rows, n_features), np.float32),
            struct((n_rows,), np.float32),
            struct((n_tasks, 2), np.int32),
            i32,
            f32,
            f32,
            i32,
            config,
        ).lower().compile()

    return BackgroundCompile(work)


@partial(jax.jit, static_argnames="config")
def run_lbfgs(params, X, pairs, reg, max_iter, tol, config):
    """Minimise the exact all-pairs objective with optax's L-BFGS.

    The whole optimisation runs inside one ``lax.while_loop``; it stops after
    ``max_iter`` iterations, when the largest absolute gradient entry is at
    most ``tol``, or when an iteration no longer decreases the objective by
    more than float32 round-off.

    Parameters
    ----------
    params : pytree
        Initial scorer parameters.
    X : jax.Array of shape (n_padded, n_features)
        Training rows (padding rows carry zero weight).
    pairs : tuple
        ``(pos_idx, pos_w, neg_idx, neg_w, pair_norm)``, see
        :func:`skpairauc._objective.exact_objective`.
    reg : float
        L2 coefficient (alpha / total weight).
    max_iter : int
        Iteration budget (traced), at most ``config.history_length``.
    tol : float
        Gradient tolerance.
    config : ExactConfig
        Static settings.

    Returns
    -------
    params, n_iter, loss_history
        ``loss_history[:n_iter]`` is the objective at each iterate.
    """
    TRACE_COUNTS["run_lbfgs"] += 1

    # Jitted inside the loop so that its jaxpr is traced once and reused by the
    # several call sites of L-BFGS and its line search (halves fit-time tracing).
    @jax.jit
    def objective(p):
        scores = forward(jnp, p, X, config.activation)
        data_loss = exact_objective(scores, *pairs, config.loss, config.margin)
        return data_loss + reg * l2_penalty(jnp, p)

    optimizer = optax.lbfgs(memory_size=config.memory_size)
    value_and_grad = optax.value_and_grad_from_state(objective)
    # Below this relative decrease an iteration only shuffles float32 noise.
    rel_eps = 10 * jnp.finfo(jnp.float32).eps

    def cond(carry):
        it, _, _, _, done = carry
        return (it < max_iter) & ~done

    def body(carry):
        it, params, state, history, _ = carry
        value, grad = value_and_grad(params, state=state)
        updates, state = optimizer.update(
            grad, state, params, value=value, grad=grad, value_fn=objective
        )
        params = optax.apply_updates(params, updates)
        history = history.at[it].set(value)
        grad_max = optax.tree.max(jax.tree.map(jnp.abs, grad))
        previous = jnp.where(it > 0, history[jnp.maximum(it - 1, 0)], jnp.inf)
        stalled = previous - value <= rel_eps * jnp.maximum(jnp.abs(value), 1e-30)
        done = (grad_max <= tol) | stalled | ~jnp.isfinite(value)
        return it + 1, params, state, history, done

    history = jnp.full((config.history_length,), jnp.nan, jnp.float32)
    init = (jnp.zeros((), jnp.int32), params, optimizer.init(params), history, False)
    n_iter, params, _, history, _ = lax.while_loop(cond, body, init)
    return params, n_iter, history
