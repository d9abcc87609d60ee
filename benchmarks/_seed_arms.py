"""The arms of ``bench_seed_protocol.py``: how each one trains and scores.

Each fitter takes ``(X, y, config, seed)`` and returns ``(score, steps)``: a
function that scores new rows and the number of training steps it took. The
four JAX arms share one training loop (one MLP with dropout, Adam, one batch
budget) and differ in the loss and the batch composition only.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

JAX_ARMS = ("pairwise", "ce_same_batches", "ce_uniform", "ce_balanced")
ALL_ARMS = (*JAX_ARMS, "skpairauc", "logreg_balanced")


def init_mlp(key, n_features, hidden_layer_sizes):
    """Glorot-uniform MLP ``[(W, b), ...]`` with one output (with a bias)."""
    import jax
    import jax.numpy as jnp

    sizes = [n_features, *hidden_layer_sizes, 1]
    params = []
    for k, (fan_in, fan_out) in zip(
        jax.random.split(key, len(sizes) - 1), zip(sizes[:-1], sizes[1:])
    ):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        W = jax.random.uniform(k, (fan_in, fan_out), jnp.float32, -bound, bound)
        params.append((W, jnp.zeros((fan_out,), jnp.float32)))
    return params


def mlp_scores(params, X, dropout_rate=0.0, key=None):
    """ReLU MLP scores of shape ``(n,)``; inverted dropout on hidden units."""
    import jax
    import jax.numpy as jnp

    h = X
    for layer, (W, b) in enumerate(params[:-1]):
        h = jax.nn.relu(h @ W + b)
        if key is not None and dropout_rate > 0:
            keep = 1.0 - dropout_rate
            mask = jax.random.bernoulli(jax.random.fold_in(key, layer), keep, h.shape)
            h = jnp.where(mask, h / keep, 0.0)
    W, b = params[-1]
    return (h @ W + b)[:, 0]


@functools.cache
def _make_trainer(loss_kind, n_pos_per_batch, dropout_rate, learning_rate):
    """Build (once per configuration) the jitted loop over all steps.

    ``batch_index`` has shape ``(n_steps, batch_size)``; for the pairwise loss
    the first ``n_pos_per_batch`` columns are positives and the rest
    negatives. ``batch_weight`` holds per-sample CE weights (ignored by the
    pairwise loss).
    """
    import jax
    import jax.numpy as jnp
    import optax

    optimizer = optax.adam(learning_rate)

    def loss_fn(params, X_batch, y_batch, w_batch, key):
        s = mlp_scores(params, X_batch, dropout_rate, key)
        if loss_kind == "pairwise":
            diff = s[:n_pos_per_batch, None] - s[None, n_pos_per_batch:]
            # softplus(-d) = log(1 + exp(-d)), written stably by JAX.
            return jnp.mean(jax.nn.softplus(-diff))
        # Sigmoid cross-entropy from logits, stable form.
        ce = jax.nn.softplus(s) - y_batch * s
        return jnp.sum(w_batch * ce) / jnp.sum(w_batch)

    @jax.jit
    def train(params, X, y, batch_index, batch_weight, key):
        opt_state = optimizer.init(params)

        def step(carry, inputs):
            params, opt_state = carry
            index, weight, t = inputs
            grads = jax.grad(loss_fn)(
                params, X[index], y[index], weight, jax.random.fold_in(key, t)
            )
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), None

        steps = jnp.arange(batch_index.shape[0])
        (params, _), _ = jax.lax.scan(
            step, (params, opt_state), (batch_index, batch_weight, steps)
        )
        return params

    return train


def draw_batches(y, arm, n_steps, n_pos_per_batch, n_neg_per_batch, rng):
    """Per-step sample indices and CE weights for one arm (NumPy, reproducible)."""
    batch_size = n_pos_per_batch + n_neg_per_batch
    if arm in ("pairwise", "ce_same_batches"):
        pos = np.flatnonzero(y == 1)
        neg = np.flatnonzero(y == 0)
        index = np.concatenate(
            [
                rng.choice(pos, (n_steps, n_pos_per_batch)),
                rng.choice(neg, (n_steps, n_neg_per_batch)),
            ],
            axis=1,
        )
        weight = np.ones((n_steps, batch_size), np.float32)
    else:
        index = rng.integers(0, len(y), (n_steps, batch_size))
        if arm == "ce_balanced":
            class_weight = len(y) / (2.0 * np.bincount(y, minlength=2))
            weight = class_weight[y[index]].astype(np.float32)
        else:
            weight = np.ones((n_steps, batch_size), np.float32)
    return index.astype(np.int32), weight


def fit_jax_arm(arm, X, y, config, seed):
    """Train the shared MLP for one arm; return a scoring function."""
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng([seed, ALL_ARMS.index(arm)])
    index, weight = draw_batches(
        y,
        arm,
        config["n_steps"],
        config["n_pos_per_batch"],
        config["n_neg_per_batch"],
        rng,
    )
    init_key, dropout_key = jax.random.split(jax.random.key(seed))
    # Same initialisation for every arm of a seed: only the loss (and, for the
    # uniform arms, the batch composition) differs.
    params = init_mlp(init_key, X.shape[1], config["hidden_layer_sizes"])
    train = _make_trainer(
        "pairwise" if arm == "pairwise" else "ce",
        config["n_pos_per_batch"],
        config["dropout"],
        config["learning_rate"],
    )
    params = train(
        params,
        jnp.asarray(X, jnp.float32),
        jnp.asarray(y, jnp.float32),
        jnp.asarray(index),
        jnp.asarray(weight),
        dropout_key,
    )
    params = jax.block_until_ready(params)
    params_np = [(np.asarray(W), np.asarray(b)) for W, b in params]

    def score(X_new):
        h = np.asarray(X_new, np.float32)
        for W, b in params_np[:-1]:
            h = np.maximum(h @ W + b, 0.0)
        W, b = params_np[-1]
        return (h @ W + b)[:, 0]

    return score, config["n_steps"]


def fit_skpairauc(X, y, config, seed):
    """The public estimator with the protocol's settings."""
    from sklearn.exceptions import ConvergenceWarning

    from skpairauc import PairwiseAUCClassifier
    from skpairauc._layout import steps_per_epoch

    # Ask for the number of epochs that gives (about) the same number of steps
    # as the JAX arms, with the estimator's own epoch length (no held-out
    # rows: early_stopping=False).
    epoch = steps_per_epoch(
        np.bincount(y, minlength=2),
        2,
        config["n_pos_per_batch"],
        config["n_neg_per_batch"],
    )
    max_iter = max(1, int(round(config["n_steps"] / epoch)))
    clf = PairwiseAUCClassifier(
        hidden_layer_sizes=config["hidden_layer_sizes"],
        solver="adam",
        dropout=config["dropout"],
        learning_rate_init=config["learning_rate"],
        n_pos_per_batch=config["n_pos_per_batch"],
        n_neg_per_batch=config["n_neg_per_batch"],
        max_iter=max_iter,
        # A fixed budget, as for the other arms: no early stop on the training
        # loss and no held-out validation set.
        n_iter_no_change=max_iter + 1,
        tol=0.0,
        early_stopping=False,
        random_state=seed,
    )
    with warnings.catch_warnings():
        # max_iter is a fixed budget here, not a convergence criterion.
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return clf.decision_function, int(getattr(clf, "t_", -1))


def fit_logreg(X, y, config, seed):
    """``LogisticRegression(class_weight="balanced")``, otherwise defaults."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(class_weight="balanced", max_iter=1000)
    clf.fit(X, y)
    return clf.decision_function, int(np.max(clf.n_iter_))


FITTERS = {
    **{arm: functools.partial(fit_jax_arm, arm) for arm in JAX_ARMS},
    "skpairauc": fit_skpairauc,
    "logreg_balanced": fit_logreg,
}
