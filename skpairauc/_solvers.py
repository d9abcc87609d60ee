"""Training programs: the exact objective's value and gradient, and the
stochastic epoch loop (Adam/SGD).

Each is compiled once per *configuration* (the architecture, read from the
parameter shapes; the loss; the batch shape; the bucketed data shapes) and
kept by :mod:`skpairauc._programs`, which bounds how many stay loaded and
saves them on disk for the next process. Learning rate, penalty and step
counts are traced values, so changing them (or fitting a data set of a similar
size) reuses the compiled program. ``TRACE_COUNTS`` counts traces; the tests
use it to prove that a second fit does not recompile.
"""

from collections import Counter
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from . import _programs
from ._layout import MAX_STEPS_PER_EPOCH, draws_width
from ._losses import value_and_derivative
from ._objective import exact_objective
from ._optimizers import make_optimizer
from ._pairs import sample_task_batch
from ._scorers import forward, l2_penalty, param_shapes, unflatten
from ._sorted import TOP_SHARE

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
    # Sparse rows: the most non-zeros a step's batch holds (0: dense rows).
    sparse_budget: int = 0
    # Partial AUC: a batch's pairs are those of its top-scoring negatives.
    max_fpr: float | None = None


class ExactConfig(NamedTuple):
    """Static (compile-time) settings of the exact objective."""

    activation: str
    loss: str
    margin: float
    max_fpr: float | None = None


def batch_loss(params, X, pos, neg, key, config):
    """Mean pairwise loss over all cross pairs of a batch, every task.

    ``pos`` and ``neg`` are ``(n_tasks, n_pos)`` and ``(n_tasks, n_neg)`` row
    indices. Each row is scored once; the ``n_pos * n_neg`` differences per
    task are formed from those scores (one forward pass per row, not two per
    pair as a literal siamese network would do).
    """
    n_tasks, n_pos = pos.shape
    rows = jnp.concatenate([pos, neg], axis=1).reshape(-1)
    first = first_layer(X, rows, params["coefs"][0], config.sparse_budget)
    scores = forward(
        jnp,
        params,
        None,
        config.activation,
        dropout_rate=config.dropout,
        key=key,
        first=first,
    ).reshape(n_tasks, -1, n_tasks)
    if n_tasks == 1:  # binary: skip the advanced indexing below
        own = scores[..., 0]
    else:  # row block t was drawn for task t: keep its own score column
        tasks = jnp.arange(n_tasks)
        own = scores[tasks, :, tasks]
    own_pos, own_neg = own[:, :n_pos], own[:, n_pos:]
    d = own_pos[:, :, None] - own_neg[:, None, :]
    loss = sampled_mean_loss(d, config.loss, config.margin)
    if config.max_fpr is None:
        return loss
    # Partial AUC: the batch's top negatives get TOP_SHARE of the loss, as in
    # the exact objective (skpairauc._sorted.top_negative_weights).
    top = top_negatives(own_neg, config.max_fpr)
    top_loss = sampled_mean_loss(
        own_pos[:, :, None] - top[:, None, :], config.loss, config.margin
    )
    return TOP_SHARE * top_loss + (1.0 - TOP_SHARE) * loss


def top_negatives(s_neg, max_fpr):
    """The ``ceil(max_fpr * n_neg)`` highest scores of each row of ``s_neg``
    (a batch's negatives per task): the batch's estimate of the partial
    AUC's negatives. The choice is held fixed for the gradient; the scores
    keep theirs."""
    k = max(1, int(np.ceil(max_fpr * s_neg.shape[1] - 1e-9)))
    _, top = lax.top_k(lax.stop_gradient(s_neg), k)
    return jnp.take_along_axis(s_neg, top, axis=1)


def first_layer(X, rows, W, budget):
    """``X[rows] @ W``: dense ``X`` is an array; sparse ``X`` is the CSR
    arrays ``(indptr, indices, data)`` of :class:`skpairauc._sparse
    .SparseRows`, whose rows' non-zeros (at most ``budget`` in all) are
    gathered into one flat run and summed per row, so no row is densified.
    The gradient with respect to ``W`` is a scatter-add of the same size."""
    if budget == 0:
        return X[rows] @ W
    indptr, indices, data = X
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    ends = jnp.cumsum(lengths)
    owner = jnp.repeat(jnp.arange(rows.shape[0]), lengths, total_repeat_length=budget)
    position = jnp.arange(budget, dtype=ends.dtype)
    valid = position < ends[-1]
    element = jnp.where(valid, starts[owner] + position - (ends - lengths)[owner], 0)
    values = jnp.where(valid, data[element], 0.0)
    return jax.ops.segment_sum(
        values[:, None] * W[indices[element]],
        owner,
        num_segments=rows.shape[0],
        indices_are_sorted=True,
    )


# Negatives per positive whose loss values estimate the batch loss (see below).
N_NEG_FOR_VALUE = 48


@partial(jax.custom_vjp, nondiff_argnums=(1, 2))
def sampled_mean_loss(d, loss, margin):
    """Mean loss over all pairs ``d``, its value estimated on a subset.

    The gradient is exact: the derivative over every pair. The value, used only
    for ``loss_curve_`` and the stopping rule, is the mean over the first
    ``N_NEG_FOR_VALUE`` negatives of each positive (negatives are i.i.d. draws,
    so it is unbiased): computing ``log1p`` for every pair only to report it
    would be a large share of a linear scorer's step (see
    benchmarks/README.md).
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


def _epoch_loop(
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
        (see :func:`skpairauc._layout.draw_uniforms`).
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


def rows_spec(rows):
    """The shapes of a layout's training rows as the programs take them: a
    dense array, or the CSR arrays of :class:`skpairauc._sparse.SparseRows`."""
    arrays = getattr(rows, "arrays", rows)
    return _specs(arrays)


def _epoch_args(params, opt_state, rows, n_tasks, config):
    """Example arguments (shapes) of the epoch loop; ``rows`` is
    :func:`rows_spec`'s."""
    struct = jax.ShapeDtypeStruct
    i32, f32 = struct((), np.int32), struct((), np.float32)
    width = draws_width(
        config.n_pos_per_batch, config.n_neg_per_batch, config.uniform_weights
    )
    # Rows of the layout: a dense array's, or one fewer than CSR's indptr.
    n_rows = (rows[0].shape[0] - 1) if isinstance(rows, tuple) else rows.shape[0]
    return (
        params,
        opt_state,
        struct((MAX_STEPS_PER_EPOCH, n_tasks, width), np.float32),
        i32,
        i32,
        rows,
        struct((n_rows,), np.float32),
        struct((n_tasks, 2), np.int32),
        i32,
        f32,
        f32,
        i32,
    )


def _specs(tree):
    return jax.tree.map(
        lambda a: (
            jax.ShapeDtypeStruct(np.shape(a), np.asarray(a).dtype)
            if not hasattr(a, "dtype")
            else jax.ShapeDtypeStruct(a.shape, a.dtype)
        ),
        tree,
    )


def _optimizer_state_shapes(params, config):
    """The structure, shapes and dtypes of the optimizer state (a trace of
    ``init``, nothing compiled)."""
    return jax.eval_shape(
        lambda p: make_optimizer(config.optimizer, config.momentum).init(p),
        _specs(params),
    )


def init_optimizer_state(params, config):
    """Fresh optimizer state for the stochastic solver.

    Every registered optimizer starts from zeros (a test checks each entry of
    :data:`~skpairauc._optimizers.OPTIMIZERS`), so the state is NumPy zeros of
    the structure, shapes and dtypes that a trace of ``init`` gives: no
    compiled program to compile or load (see benchmarks/README.md).
    """
    shapes = _optimizer_state_shapes(params, config)
    return jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), shapes)


# XLA options of a linear scorer's epoch loop: without XLA's newer fusion
# emitters it compiles in about half the time and trains as fast. An MLP's loop
# and the exact solver's programs keep XLA's defaults, under which they train
# faster (see benchmarks/README.md; benchmarks/studies/bench_compile_options.py).
LINEAR_EPOCH_OPTIONS = {"xla_cpu_use_fusion_emitters": False}


def epoch_program(params, rows, n_tasks, config):
    """The compiled epoch loop for these parameters, training rows (arrays or
    their :func:`rows_spec`) and config (compiled or loaded on first use).
    Its arguments are ``_epoch_loop``'s, in its order, without ``config``;
    ``params`` and ``opt_state`` are donated. A fit looks it up once, not at
    every epoch (the lookup traces the optimizer's state shapes)."""
    opt_state = _optimizer_state_shapes(params, config)
    args = _epoch_args(_specs(params), opt_state, rows_spec(rows), n_tasks, config)
    linear = len(params["coefs"]) == 1
    return _programs.get(
        "run_epoch",
        lambda config: partial(_epoch_loop, config=config),
        config,
        args,
        donate_argnums=(0, 1),
        compiler_options=LINEAR_EPOCH_OPTIONS if linear else None,
    )


def run_epoch(*args):
    """Run the compiled epoch loop: the arguments of ``_epoch_loop``, in its
    order, ``config`` last; ``params`` and ``opt_state`` are donated."""
    *arrays, config = args
    params, X, bounds = arrays[0], arrays[5], arrays[7]
    program = epoch_program(params, X, bounds.shape[0], config)
    return program(*arrays)


def _exact_value_and_grad(config):
    """``(theta, X, pairs, reg) -> (value, gradient)`` on flat float32
    parameters ``theta`` whose layout is ``config.shapes``."""

    def objective(theta, X, pairs, reg):
        TRACE_COUNTS["exact_objective"] += 1
        p = unflatten(theta, config.shapes)
        scores = forward(jnp, p, X, config.exact.activation)
        data_loss = exact_objective(
            scores,
            *pairs,
            config.exact.loss,
            config.exact.margin,
            config.exact.max_fpr,
        )
        return data_loss + reg * l2_penalty(jnp, p)

    return jax.value_and_grad(objective)


def _exact_value_and_grads_from_first(config):
    """``(theta, first, pairs, reg) -> (value, (gradient, first_gradient))``:
    the exact objective given the first layer's product ``first = X @ W0``
    (sparse rows, multiplied on the host), its gradient with respect to
    ``theta`` (whose ``W0`` part is the penalty's alone) and to ``first``."""

    def objective(theta, first, pairs, reg):
        TRACE_COUNTS["exact_objective"] += 1
        p = unflatten(theta, config.shapes)
        scores = forward(jnp, p, None, config.exact.activation, first=first)
        data_loss = exact_objective(
            scores,
            *pairs,
            config.exact.loss,
            config.exact.margin,
            config.exact.max_fpr,
        )
        return data_loss + reg * l2_penalty(jnp, p)

    return jax.value_and_grad(objective, argnums=(0, 1))


class _ExactProgramKey(NamedTuple):
    exact: ExactConfig
    shapes: tuple


def exact_program(params, n_rows, n_features, pairs, config, from_first=False):
    """The compiled value-and-gradient of the exact objective for these shapes.

    The program takes flat float32 parameters (laid out as
    :func:`~skpairauc._scorers.param_shapes` of ``params``), the rows, the
    pairs and the penalty coefficient, and returns the value and gradient.
    ``from_first`` (sparse rows): it takes the first layer's product
    ``X @ W0`` (``(n_rows, width)`` float32) in place of the rows, and
    returns its gradient too (:func:`_exact_value_and_grads_from_first`).
    """
    shapes = param_shapes(params)
    key = _ExactProgramKey(config, shapes)
    n_params = sum(int(np.prod(shape)) for shape in shapes)
    struct = jax.ShapeDtypeStruct
    args = (
        struct((n_params,), np.float32),
        struct((n_rows, shapes[0][1] if from_first else n_features), np.float32),
        _specs(pairs),
        struct((), np.float32),
    )
    if from_first:
        name, build = (
            "exact_value_and_grads_from_first",
            _exact_value_and_grads_from_first,
        )
    else:
        name, build = "exact_value_and_grad", _exact_value_and_grad
    return _programs.get(name, build, key, args)
