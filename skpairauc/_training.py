"""Train with the policy's solver and return what it learnt.

The estimator imports this module inside ``fit``. :func:`train` routes a fit
to the exact solver (:mod:`skpairauc._exact`) or a stochastic one
(:mod:`skpairauc._stochastic`); each lays out the data, runs its solver and
returns a :class:`~skpairauc._prepare.SolverResult`, setting nothing on the
estimator. JAX is imported only by fits that compile or run a program:
importing the package, unpickling, predicting and small exact fits (the NumPy
objective of :mod:`skpairauc._host_objective`) need neither JAX nor optax.
"""

from . import _host_objective
from ._exact import train_exact
from ._prepare import prepare, weighted_rows
from ._stochastic import train_stochastic


def runs_without_jax(inputs, policy, loss):
    """Whether every fit of an estimator's ``fit`` under ``policy`` is exact
    and small enough for the NumPy objective (the fit on all its rows is the
    largest: folds and candidates train on fewer pairs)."""
    if policy.solver != "lbfgs":
        return False
    train = weighted_rows(inputs, policy).train
    return _host_objective.runs_on_host(inputs.y_encoded[train], inputs.n_classes, loss)


def train(params, inputs, policy, settings, seed, rng, warm_start=False):
    """Train with the policy's solver; returns a
    :class:`~skpairauc._prepare.SolverResult`."""
    policy = weighted_rows(inputs, policy)
    if policy.solver == "lbfgs":
        prepared = prepare(params, inputs, policy, raw_params=warm_start)
        return train_exact(prepared, inputs, policy, settings, warm_start)
    return train_stochastic(params, inputs, policy, settings, seed, rng, warm_start)
