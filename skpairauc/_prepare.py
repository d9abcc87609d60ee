"""What every solver's fit starts from and ends with (NumPy only): the rows
it trains on, the standardisation, the initial parameters on the
standardised and padded inputs, the penalty, and the result on raw inputs."""

from typing import NamedTuple

import numpy as np
from scipy.sparse import issparse

from ._layout import bucket_length, feature_bucket
from ._scaling import fit_standardizer, fold, unfold
from ._scorers import init_scorer
from ._sparse import fit_sparse_scaler


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


class Prepared(NamedTuple):
    params: dict  # float32, on standardised inputs, first layer padded
    standardizer: object
    n_columns: int


def prepare(params, inputs, policy, raw_params, standardizer=None):
    """Standardise (unless ``standardizer`` is given), pad the features, and
    express the initial parameters on the standardised, padded inputs.
    ``raw_params`` says whether ``params`` describe raw inputs (warm start)
    or standardised ones (a new init)."""
    if standardizer is None:
        standardizer = standardizer_for(inputs, policy)
    if raw_params:
        params = unfold(params, standardizer)
    n_features = inputs.X.shape[1]
    n_columns = column_count(inputs, policy)
    first = np.zeros((n_columns, params["coefs"][0].shape[1]), np.float32)
    first[:n_features] = params["coefs"][0]
    params = {
        "coefs": [first, *params["coefs"][1:]],
        "intercepts": params["intercepts"],
    }
    return Prepared(params, standardizer, n_columns)


def standardizer_for(inputs, policy):
    """The scaling of a fit's training rows: standardisation for dense ``X``,
    scaling without centring for sparse ``X`` (:mod:`skpairauc._sparse`)."""
    fit = fit_sparse_scaler if issparse(inputs.X) else fit_standardizer
    return fit(
        inputs.X,
        inputs.sample_weight,
        None if policy.held_out is None else policy.train,
    )


def column_count(inputs, policy):
    """Columns of the training copy: padded for dense ``X`` (see
    :func:`~skpairauc._layout.feature_bucket`), not for sparse ``X``."""
    if issparse(inputs.X):
        return inputs.X.shape[1]
    return feature_bucket(inputs.X.shape[1], bucket_length(len(policy.train)))


def finish(params, prepared, n_features):
    """Drop the padded columns' (zero) weights and fold the standardisation in
    (NumPy float64: the NumPy objective's weights are float64, and the
    compiled programs' float32 weights convert exactly)."""
    params = {
        key: [np.array(a, dtype=np.float64) for a in arrays]
        for key, arrays in params.items()
    }
    params["coefs"][0] = params["coefs"][0][:n_features]
    return fold(params, prepared.standardizer)


def weighted_rows(inputs, policy):
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


def max_fpr_setting(settings):
    """The ``max_fpr`` of the settings as a float, or None (full AUC)."""
    max_fpr = settings["max_fpr"]
    return None if max_fpr is None else float(max_fpr)


def penalty_strength(alpha, total_weight, weight_unit):
    """The L2 coefficient of the objective, ``alpha`` over the user's total
    weight of the training rows (``total_weight`` in units of ``weight_unit``),
    as ``LogisticRegression`` scales its penalty: a weight ``k`` is ``k``
    repeated rows. 0 when the total overflows."""
    with np.errstate(over="ignore"):
        total = total_weight * weight_unit
    return float(alpha / total)


def param_specs(sizes):
    """Float32 shapes of a scorer's parameters, for layer sizes
    ``[n_columns, *hidden_layer_sizes, n_outputs]`` (compiling needs no more)."""
    import jax

    struct = jax.ShapeDtypeStruct
    return {
        "coefs": [struct(shape, np.float32) for shape in zip(sizes, sizes[1:])],
        "intercepts": [struct((h,), np.float32) for h in sizes[1:-1]],
    }


def initial_params(rng, hidden, inputs, activation, fitted):
    """The parameters a fit starts from, and whether they are fitted ones (on
    raw inputs) rather than new ones (on standardised inputs): a previous
    fit's ``coefs_`` and ``intercepts_`` in ``fitted`` (``warm_start``) when
    the architecture matches, else a new initialisation from ``rng``."""
    n_features = inputs.X.shape[1]
    n_outputs = 1 if inputs.n_classes == 2 else inputs.n_classes
    if "coefs_" in fitted:
        shapes = [W.shape for W in fitted["coefs_"]]
        sizes = [n_features, *hidden, n_outputs]
        if shapes == list(zip(sizes[:-1], sizes[1:])):
            # Copies: the stochastic solver donates its input buffers, which
            # may alias the NumPy memory they were made from.
            return {
                "coefs": [np.array(W, np.float64) for W in fitted["coefs_"]],
                "intercepts": [
                    np.array(b, np.float64) for b in fitted["intercepts_"][:-1]
                ],
            }, True
    return init_scorer(rng, n_features, hidden, n_outputs, activation), False
