"""Train with the policy's solver and return what it learnt.

The estimator imports this module inside ``fit``. :func:`train` routes a fit
to the exact solver (:mod:`skpairauc._exact`) or a stochastic one
(:mod:`skpairauc._stochastic`); each lays out the data, runs its solver and
returns a :class:`~skpairauc._prepare.SolverResult`, setting nothing on the
estimator. JAX is imported only by fits that compile or run a program:
importing the package, unpickling, predicting and small exact fits (the NumPy
objective of :mod:`skpairauc._host_objective`) need neither JAX nor optax.
"""

import numpy as np

from . import _host_objective
from ._exact import train_exact
from ._prepare import initial_params, prepare, weighted_rows
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


class CandidateFits:
    """The fits of one estimator ``fit``, each of a candidate (scorer and
    penalty) on some of its rows: :meth:`begin` gives a fit's starting point,
    :meth:`train` runs it. ``settings`` are the estimator's resolved
    parameters, ``fitted`` its attributes before this ``fit`` (for
    ``warm_start``)."""

    def __init__(self, settings, seed, activation, fitted):
        self.settings = settings
        self.seed = seed
        self.activation = activation
        self.fitted = fitted

    def begin(self, candidate, inputs, warm_start=False, start=None):
        """Initial parameters, generator, whether the parameters are fitted
        ones, and the fit's settings. A fit starts from the estimator's model
        (``warm_start``), from ``start`` (raw-input parameters of a selection
        path's previous fit), or anew. One generator per fit: initial weights
        and batches (the stochastic layout shuffles with its own stream of
        the seed)."""
        rng = np.random.default_rng(self.seed)
        fitted = self.fitted if warm_start else {}
        if start is not None:
            intercepts = [*start["intercepts"], None]  # the output's: unused
            fitted = {"coefs_": start["coefs"], "intercepts_": intercepts}
        params, is_fitted = initial_params(
            rng, candidate.hidden, inputs, self.activation, fitted
        )
        return params, rng, is_fitted, {**self.settings, "alpha": candidate.alpha}

    def train(
        self,
        candidate,
        inputs,
        policy,
        warm_start=False,
        start=None,
        ftol_per_tol=None,
        speculative=None,
    ):
        """Train ``candidate`` from :meth:`begin`'s start; an L-BFGS fit
        stops at ``ftol_per_tol`` when given (see
        :data:`skpairauc._exact.EXACT_FTOL_PER_TOL`). A ``speculative`` fit
        (an object with ``abandoned()`` and a ``warnings`` list) ends with
        :class:`skpairauc._exact.FitAbandoned` once ``abandoned()`` is true
        and keeps its convergence warnings in the list. Returns a
        :class:`~skpairauc._prepare.SolverResult`."""
        params, rng, is_fitted, settings = self.begin(
            candidate, inputs, warm_start, start
        )
        if ftol_per_tol is not None:
            settings["ftol_per_tol"] = ftol_per_tol
        if speculative is not None:
            settings["abandon"] = speculative.abandoned
            settings["deferred_warnings"] = speculative.warnings
        return train(params, inputs, policy, settings, self.seed, rng, is_fitted)
