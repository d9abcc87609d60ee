"""The pairwise surrogate losses: values, identities, gradients, jit."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from skpairauc import (
    hinge_pairwise_loss,
    logistic_pairwise_loss,
    square_pairwise_loss,
    squared_hinge_pairwise_loss,
)
from skpairauc._losses import LOSSES, value_and_derivative

SMOOTH = [logistic_pairwise_loss, squared_hinge_pairwise_loss, square_pairwise_loss]
ALL = {
    "logistic": logistic_pairwise_loss,
    "squared_hinge": squared_hinge_pairwise_loss,
    "hinge": hinge_pairwise_loss,
    "square": square_pairwise_loss,
}


def test_logistic_matches_definition_and_is_stable():
    d = jnp.array([-50.0, -3.0, -0.5, 0.0, 0.5, 3.0, 50.0])
    expected = np.log1p(np.exp(-np.asarray(d, dtype=np.float64)))
    np.testing.assert_allclose(logistic_pairwise_loss(d), expected, rtol=1e-6)
    big = logistic_pairwise_loss(jnp.array([-1e4, 1e4]))
    assert np.all(np.isfinite(big))
    np.testing.assert_allclose(big, [1e4, 0.0])


def test_logistic_identity_l_d_minus_l_minus_d():
    # log(1 + e^-d) - log(1 + e^d) = -d for every d.
    d = jnp.linspace(-20, 20, 101)
    np.testing.assert_allclose(
        logistic_pairwise_loss(d) - logistic_pairwise_loss(-d), -d, atol=2e-5
    )


def test_logistic_gradient_at_zero_is_minus_half():
    # A zero-initialised linear scorer starts at d = 0: the derivative must not
    # vanish there (max/abs autodiff would give 0).
    assert float(jax.grad(logistic_pairwise_loss)(0.0)) == pytest.approx(-0.5)
    g = jax.grad(lambda d: logistic_pairwise_loss(d).sum())(jnp.array([-2.0, 2.0]))
    np.testing.assert_allclose(g, -jax.nn.sigmoid(-jnp.array([-2.0, 2.0])), rtol=1e-6)


@pytest.mark.parametrize("loss", SMOOTH)
def test_gradients_match_finite_differences(loss):
    # Points away from the hinge kinks at d = margin.
    d = jnp.array([-2.3, -0.7, 0.2, 0.6, 1.7, 3.1], dtype=jnp.float32)
    check_grads(
        loss, (d,), order=2, modes=["fwd", "rev"], eps=1e-2, atol=1e-2, rtol=1e-2
    )


def test_hinge_gradient_matches_finite_differences_off_kink():
    d = jnp.array([-2.3, -0.7, 0.2, 1.7, 3.1])
    check_grads(hinge_pairwise_loss, (d,), order=1, modes=["rev"], eps=1e-3)


@pytest.mark.parametrize("margin", [0.5, 1.0, 2.0])
def test_margin_losses_values(margin):
    d = np.array([-1.0, 0.0, margin, margin + 1.0])
    hinge = np.maximum(margin - d, 0.0)
    np.testing.assert_allclose(hinge_pairwise_loss(d, margin), hinge)
    np.testing.assert_allclose(squared_hinge_pairwise_loss(d, margin), hinge**2)
    np.testing.assert_allclose(square_pairwise_loss(d, margin), (margin - d) ** 2)


@pytest.mark.parametrize("name", list(ALL))
def test_surrogates_upper_bound_zero_one_loss(name):
    # With margin 1, each loss (logistic scaled by 1/log 2) bounds 1[d <= 0].
    d = jnp.linspace(-3, 3, 601)
    value = ALL[name](d) / (np.log(2) if name == "logistic" else 1.0)
    assert np.all(np.asarray(value) >= np.asarray(d <= 0) - 1e-6)


# Textbook definitions, written independently of the registry.
DEFINITIONS = {
    "logistic": lambda d, m: jnp.log(1.0 + jnp.exp(-d)),
    "squared_hinge": lambda d, m: jnp.maximum(m - d, 0.0) ** 2,
    "hinge": lambda d, m: jnp.maximum(m - d, 0.0),
    "square": lambda d, m: (m - d) ** 2,
}


def test_registry_and_public_functions_cover_the_same_losses():
    assert set(LOSSES) == set(ALL) == set(DEFINITIONS)


@pytest.mark.parametrize("margin", [1.0, 0.5])
@pytest.mark.parametrize("name", list(ALL))
def test_fused_value_and_derivative_match_the_definition(name, margin):
    # Away from the kinks at d = margin; |d| small enough for the naive form.
    d = jnp.array([-4.0, -1.0, -0.3, 0.0, 0.4, 0.7, 1.3, 5.0])
    value, deriv = value_and_derivative(name, margin, jnp)(d)
    definition = DEFINITIONS[name]
    np.testing.assert_allclose(value, definition(d, margin), rtol=1e-6, atol=1e-7)
    expected = jax.vmap(jax.grad(lambda x: definition(x, margin)))(d)
    np.testing.assert_allclose(deriv, expected, rtol=1e-6, atol=1e-7)
    # The same entry in NumPy (float64) agrees: one implementation, any xp.
    value_np, deriv_np = value_and_derivative(name, margin, np)(np.asarray(d, float))
    np.testing.assert_allclose(value_np, value, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(deriv_np, deriv, rtol=1e-6, atol=1e-7)
    # The public function is that entry, with that derivative.
    public = ALL[name] if name == "logistic" else (lambda x: ALL[name](x, margin))
    if name != "logistic" or margin == 1.0:
        np.testing.assert_allclose(public(d), value, rtol=1e-6)
        np.testing.assert_allclose(jax.vmap(jax.grad(public))(d), deriv, rtol=1e-6)


def test_jitted_loss_does_not_recompile_on_second_call():
    traces = []

    @jax.jit
    def mean_loss(s_pos, s_neg):
        traces.append(1)
        return jnp.mean(logistic_pairwise_loss(s_pos[:, None] - s_neg[None, :]))

    rng = np.random.default_rng(0)
    mean_loss(rng.normal(size=4), rng.normal(size=7))
    mean_loss(rng.normal(size=4), rng.normal(size=7))
    assert len(traces) == 1
