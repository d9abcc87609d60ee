"""Every constant that depends on the device the compiled programs run on.

A CPU core runs a small step fast and a large one slowly; a GPU runs a step
of millions of pairs in about the time of a small one, so small steps leave
it idle (``benchmarks/results/device_gpu.md``). The device's profile sets the default
batch of the stochastic solvers (``n_pos_per_batch="auto"``,
``n_neg_per_batch="auto"``) and how many pairs ``solver="auto"`` still fits
exactly. Reading the device imports JAX, so it is read only by fits that run
a compiled program anyway.
"""

import importlib.util
import os
import sys
from typing import NamedTuple


class DeviceProfile(NamedTuple):
    """``n_pos_per_batch``, ``n_neg_per_batch``: the stochastic solvers'
    batch per task and step; ``exact_max_pairs``: the most pairs (summed
    over tasks) that ``solver="auto"`` fits with the exact solver."""

    n_pos_per_batch: int
    n_neg_per_batch: int
    exact_max_pairs: int


PROFILES = {
    # Measured on CPU cores (see benchmarks/README.md): about the largest
    # step that still runs near one core's peak rate per pair, and the
    # largest exact problem whose L-BFGS fit takes seconds.
    "cpu": DeviceProfile(128, 384, 2**24),
    # Sized, not yet measured: a step (4 million pairs) or an exact
    # evaluation (2**28 pairs) of milliseconds at a GPU's rate of about 1e11
    # pair terms per second; benchmarks/bench_device.py checks them.
    "gpu": DeviceProfile(1024, 4096, 2**28),
}
PROFILES["tpu"] = PROFILES["gpu"]

# The smallest exact_max_pairs of any device: up to it, "auto" chooses the
# exact solver without reading the device (and so without importing JAX).
EXACT_MAX_PAIRS_ANY_DEVICE = min(p.exact_max_pairs for p in PROFILES.values())


def backend():
    """JAX's default backend ("cpu", "gpu", "tpu"); imports JAX."""
    import jax

    return jax.default_backend()


# The distributions that give JAX a device other than the CPU (its plugins'
# namespace package, and the TPU runtime).
_ACCELERATOR_MODULES = ("jax_plugins", "libtpu")


def exact_on_host():
    """Whether exact fits run on the host (NumPy) rather than as compiled
    programs: when JAX's device is the CPU. Imports nothing: without JAX
    imported, the device is the CPU unless ``JAX_PLATFORMS`` names another
    or an accelerator plugin is installed."""
    platforms = os.environ.get("JAX_PLATFORMS", "")
    if platforms:
        return platforms.split(",")[0].strip() == "cpu"
    if "jax" in sys.modules:
        return backend() == "cpu"
    return not any(importlib.util.find_spec(m) for m in _ACCELERATOR_MODULES)


def profile(name=None):
    """The :class:`DeviceProfile` of backend ``name`` (default: JAX's default
    backend; unknown backends get the CPU's)."""
    return PROFILES.get(backend() if name is None else name, PROFILES["cpu"])


def resolve_batch(settings, stochastic):
    """``settings`` with "auto" batch sizes replaced by the device's (the
    CPU's when the fit is not ``stochastic``: they are then unused, and the
    device is not read)."""
    names = ("n_pos_per_batch", "n_neg_per_batch")
    if all(settings[name] != "auto" for name in names):
        return settings
    device = profile() if stochastic else PROFILES["cpu"]
    return {
        **settings,
        **{name: getattr(device, name) for name in names if settings[name] == "auto"},
    }
