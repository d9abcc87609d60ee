"""The registry of stochastic optimizers, keyed by the ``solver`` parameter.

Each entry maps the estimator's settings to the optax transformation that gives
the direction of an update, before scaling by ``-learning_rate``: the learning
rate is applied outside the optax chain so that it stays a traced value (a new
``learning_rate_init`` needs no new compile). optax is imported inside the
entries, so that importing the package imports neither JAX nor optax.
"""


def _adam(momentum):
    import optax

    return optax.scale_by_adam()


def _sgd(momentum):
    import optax

    # Nesterov momentum, as MLPClassifier's default for "sgd".
    return optax.trace(decay=momentum, nesterov=momentum > 0)


OPTIMIZERS = {"adam": _adam, "sgd": _sgd}

# Solvers that optimise the exact all-pairs objective, beside the stochastic
# ones above; "auto" chooses between them (see ``_policy.resolve_policy``).
EXACT_SOLVERS = ("lbfgs",)


def make_optimizer(name, momentum):
    """The optax transformation of the registry entry ``name``."""
    return OPTIMIZERS[name](momentum)
