"""The device's profile: batch sizes and the exact/stochastic switch."""

import numpy as np
import pytest

from skpairauc import PairwiseAUCClassifier, _device
from skpairauc._policy import resolve_solver


def _labels(n_pos, n_neg):
    return np.r_[np.ones(n_pos, int), np.zeros(n_neg, int)]


@pytest.mark.parametrize(
    "backend, expected", [("cpu", "adam"), ("gpu", "lbfgs"), ("tpu", "lbfgs")]
)
def test_auto_switches_to_stochastic_at_the_devices_size(
    monkeypatch, backend, expected
):
    monkeypatch.setattr(_device, "backend", lambda: backend)
    params = PairwiseAUCClassifier().get_params()
    # 5,000 x 5,000 pairs: above the CPU's 2**24, below the GPU's 2**28.
    assert resolve_solver(params, _labels(5000, 5000), 2) == expected
    # Small problems are exact everywhere, without reading the device.
    monkeypatch.setattr(_device, "backend", lambda: pytest.fail("device read"))
    assert resolve_solver(params, _labels(100, 1000), 2) == "lbfgs"


def test_auto_batches_are_the_devices(monkeypatch):
    settings = PairwiseAUCClassifier(n_neg_per_batch=100).get_params()
    monkeypatch.setattr(_device, "backend", lambda: "gpu")
    resolved = _device.resolve_batch(settings, stochastic=True)
    assert resolved["n_pos_per_batch"] == _device.PROFILES["gpu"].n_pos_per_batch
    assert resolved["n_neg_per_batch"] == 100  # set by the user: kept
    # An exact fit does not read the device.
    monkeypatch.setattr(_device, "backend", lambda: pytest.fail("device read"))
    assert _device.resolve_batch(settings, stochastic=False)["n_pos_per_batch"] == 128


def test_a_stochastic_fit_uses_the_profiles_batch(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 5))
    y = (X[:, 0] + rng.normal(size=3000) > 1.5).astype(int)
    params = {"hidden_layer_sizes": (), "solver": "adam", "max_iter": 3}
    monkeypatch.setitem(_device.PROFILES, "cpu", _device.DeviceProfile(64, 64, 2**24))
    small = PairwiseAUCClassifier(**params, random_state=0).fit(X, y)
    explicit = PairwiseAUCClassifier(
        **params, n_pos_per_batch=64, n_neg_per_batch=64, random_state=0
    ).fit(X, y)
    np.testing.assert_array_equal(small.coefs_[0], explicit.coefs_[0])
