"""The sparse benchmarks' data generators (fast; the benchmark smoke runs are
in test_benchmarks_speed.py)."""

import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

pytest.importorskip("pandas")

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import _sparse_data  # noqa: E402


def test_tfidf_like_is_a_normalised_deterministic_csr():
    X, y = _sparse_data.tfidf_like(2_000, 5_000, nnz_per_row=30, seed=0)
    assert X.format == "csr" and X.dtype == np.float64 and X.shape == (2_000, 5_000)
    assert X.has_canonical_format and (X.data > 0).all()
    assert 27 <= X.nnz / 2_000 <= 33
    assert np.diff(X.indptr).std() > 5  # row lengths vary
    np.testing.assert_allclose(np.sqrt(X.multiply(X).sum(axis=1)).A1, 1.0)
    assert y.sum() == 20 and set(np.unique(y)) == {0, 1}
    X2, y2 = _sparse_data.tfidf_like(2_000, 5_000, nnz_per_row=30, seed=0)
    assert (X != X2).nnz == 0 and np.array_equal(y, y2)
    assert _sparse_data.csr_megabytes(X) == pytest.approx(
        (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20
    )


def test_onehot_pipeline_passes_a_sparse_matrix():
    frame, y = _sparse_data.onehot_table(n_rows=2_000, seed=0)
    assert frame.shape == (2_000, 6) and y.sum() == 40
    encoded = _sparse_data.onehot_pipeline(None)[0].fit_transform(frame)
    assert sp.issparse(encoded)
    assert encoded.shape[1] == frame["category"].nunique() + 5
