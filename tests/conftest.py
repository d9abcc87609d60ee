import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest
from sklearn.datasets import make_classification


def pytest_configure(config):
    # Hermetic runs: compiled programs go to a fresh cache of this session, not
    # to the user's ~/.cache/skpairauc (tests that need another setting set
    # SKPAIRAUC_CACHE_DIR themselves).
    os.environ["SKPAIRAUC_CACHE_DIR"] = tempfile.mkdtemp(prefix="skpairauc-tests-")


@pytest.fixture
def run_quick_benchmark(tmp_path):
    """``run(script, timeout=300)``: a benchmark script's smoke mode
    (``--quick``) on the CPU, written into ``tmp_path``; asserts that it
    succeeded and returns the finished process."""

    def run(script, timeout=300):
        proc = subprocess.run(
            [sys.executable, str(script), "--quick", "--out", str(tmp_path)],
            capture_output=True,
            text=True,
            env=dict(os.environ, JAX_PLATFORMS="cpu"),
            timeout=timeout,
        )
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
        return proc

    return run


@pytest.fixture(scope="session")
def imbalanced():
    """A small imbalanced binary problem (about 8% positives)."""
    X, y = make_classification(
        n_samples=600,
        n_features=8,
        n_informative=4,
        weights=[0.92],
        n_clusters_per_class=1,
        flip_y=0.02,
        random_state=0,
    )
    return X, y


@pytest.fixture(scope="session")
def multiclass():
    X, y = make_classification(
        n_samples=450,
        n_features=6,
        n_informative=4,
        n_classes=3,
        n_clusters_per_class=1,
        random_state=1,
    )
    return X, y


@pytest.fixture
def compiled_exact(monkeypatch):
    """Exact fits compile their objective however small the data (as fits
    on an accelerator do), for the tests of compiled programs and their
    caches: on a CPU an exact fit runs in NumPy and compiles nothing."""
    from skpairauc import _host_objective

    monkeypatch.setattr(_host_objective, "HOST_MAX_PAIRS", 0)
    monkeypatch.setattr(_host_objective, "exact_on_host", lambda: False)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
