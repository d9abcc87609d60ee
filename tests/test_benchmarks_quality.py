"""Smoke tests of the ranking-quality benchmarks (benchmarks/bench_*.py).

The loaders are tested on data the tests write themselves (CIFAR-10 batches
in the official python format) or that ships with installed packages; each
benchmark's ``--quick`` mode runs end to end into a temporary directory so the
scripts never rot. Optional peers (xgboost, lightgbm, torch, libauc) may be
absent: their rows must then say "not installed".
"""

import os
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import _data  # noqa: E402
import _seed_arms  # noqa: E402

OPTIONAL_PEERS = "xgboost,lightgbm,torch,libauc"


@pytest.fixture
def isolated_environ(monkeypatch):
    """Let ``main`` set its thread variables without leaking them."""
    monkeypatch.setattr(os, "environ", os.environ.copy())


def _write_batch(path, data, labels):
    # The official batches are Python-2 pickles with bytes keys; protocol 2
    # and bytes keys reproduce what ``pickle.load(..., encoding="bytes")`` sees.
    with open(path, "wb") as f:
        pickle.dump(
            {b"batch_label": b"test", b"data": data, b"labels": list(labels)},
            f,
            protocol=2,
        )


def _write_cifar(directory, n_per_batch=3):
    rng = np.random.default_rng(0)
    batches = {}
    for k, name in enumerate([*_data.CIFAR10_TRAIN_FILES, _data.CIFAR10_TEST_FILE]):
        data = rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8)
        labels = (np.arange(n_per_batch) + k) % 10
        _write_batch(directory / name, data, labels)
        batches[name] = (data, labels)
    return batches


def test_cifar10_loader_reads_python_batches(tmp_path):
    batches = _write_cifar(tmp_path)
    X_train, y_train, X_test, y_test = _data.load_cifar10_batches(tmp_path)
    assert X_train.shape == (15, 3072) and X_train.dtype == np.uint8
    assert X_test.shape == (3, 3072)
    expected = np.concatenate([batches[n][0] for n in _data.CIFAR10_TRAIN_FILES])
    np.testing.assert_array_equal(X_train, expected)
    np.testing.assert_array_equal(
        y_train, np.concatenate([batches[n][1] for n in _data.CIFAR10_TRAIN_FILES])
    )
    np.testing.assert_array_equal(y_test, batches["test_batch"][1])

    Xb, yb, Xb_test, yb_test = _data.load_cifar10_binary(tmp_path)
    assert Xb.dtype == np.float32 and 0.0 <= Xb.min() and Xb.max() <= 1.0
    np.testing.assert_allclose(Xb * 255.0, X_train, atol=1e-3)
    np.testing.assert_array_equal(yb, (y_train == 0).astype(int))  # airplane = 0
    np.testing.assert_array_equal(yb_test, (y_test == 0).astype(int))


def test_cifar10_loader_errors(tmp_path):
    _write_cifar(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3"):
        _data.load_cifar10_batches(tmp_path)
    _write_batch(tmp_path / "data_batch_3", np.zeros((2, 10), np.uint8), [0, 1])
    with pytest.raises(ValueError, match=r"\(n, 3072\)"):
        _data.load_cifar10_batches(tmp_path)


def test_mnist1d_is_generated_locally(monkeypatch):
    import mnist1d.data

    def no_network(*args, **kwargs):
        raise AssertionError("the MNIST-1D loader must not download")

    monkeypatch.setattr(mnist1d.data.requests, "get", no_network)
    np.random.seed(123)
    expected_next = np.random.rand()
    np.random.seed(123)
    X_train, y_train, X_test, y_test = _data.make_mnist1d_binary(n_samples=200)
    # The generator reseeds NumPy's global state; the loader restores it.
    assert np.random.rand() == expected_next
    assert X_train.shape == (160, 40) and X_test.shape == (40, 40)
    assert set(np.unique(y_train)) == {0, 1}
    assert 0 < y_train.mean() < 0.3  # class 0 of 10, about 10%


def test_digits_and_keel_loaders():
    X, y = _data.load_digits_binary()
    assert X.shape == (1797, 64) and y.sum() == 178
    X, y = _data.load_keel("yeast6")
    assert X.shape == (1484, 8) and y.sum() == 35
    with pytest.raises(ValueError, match="Unknown KEEL"):
        _data.load_keel("iris")


def test_subsample_positives_hits_the_fraction():
    y = np.r_[np.ones(300, int), np.zeros(1900, int)]
    keep = _data.subsample_positives(y, 0.05, np.random.default_rng(0))
    assert np.sum(y[keep] == 0) == 1900  # every negative is kept
    assert y[keep].mean() == pytest.approx(0.05, abs=1e-3)
    other = _data.subsample_positives(y, 0.05, np.random.default_rng(1))
    assert not np.array_equal(keep, other)  # the seed changes the subsample


@pytest.mark.slow
def test_seed_protocol_quick(tmp_path, isolated_environ):
    import bench_seed_protocol

    bench_seed_protocol.main(["--quick", "--out", str(tmp_path), "--seeds", "2"])
    rows = pd.read_csv(tmp_path / "seed_protocol.csv")
    assert {"dataset", "arm", "seed", "auc", "fit_time_s", "status"} <= set(rows)
    assert set(rows["arm"]) == set(bench_seed_protocol.ALL_ARMS)
    assert (rows["status"] == "ok").all(), rows[rows["status"] != "ok"]
    assert rows["auc"].between(0.0, 1.0).all()
    # Every seed draws its own subsample of about 5% positives.
    assert (rows["n_train_pos"] / rows["n_train"]).between(0.04, 0.06).all()
    # Same budget for the JAX arms (and skpairauc takes about as many steps).
    jax_steps = rows[rows["arm"].isin(_seed_arms.JAX_ARMS)]["steps"]
    assert jax_steps.nunique() == 1
    summary = pd.read_csv(tmp_path / "seed_protocol_summary.csv")
    assert len(summary) == len(bench_seed_protocol.ALL_ARMS)
    assert (summary["n_seeds"] == 2).all()
    for name in ("seed_protocol.md", "seed_protocol_auc.png", "seed_protocol_roc.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert "pairwise" in (tmp_path / "seed_protocol.md").read_text()


def test_keel_quick(tmp_path, isolated_environ):
    import bench_keel

    bench_keel.main(["--quick", "--out", str(tmp_path)])
    rows = pd.read_csv(tmp_path / "keel.csv")
    assert {"dataset", "model", "repeat", "auc", "fit_time_s", "status"} <= set(rows)
    assert set(rows["model"]) == set(bench_keel.QUICK_MODELS)
    ok = rows["status"] == "ok"
    # A peer either ran or is recorded as not installed; nothing else.
    assert (ok | rows["status"].str.startswith("not installed")).all(), rows
    assert ok[rows["model"].str.startswith(("skpairauc", "logreg"))].all()
    assert rows.loc[ok, "auc"].between(0.0, 1.0).all()
    overall = pd.read_csv(tmp_path / "keel_overall.csv")
    assert overall["mean_rank"].between(1, len(bench_keel.QUICK_MODELS)).all()
    for name in ("keel.md", "keel_auc.png", "keel_time.png", "keel_summary.csv"):
        assert (tmp_path / name).stat().st_size > 0


def test_keel_quick_without_optional_peers(tmp_path, isolated_environ):
    import bench_keel

    os.environ["SKPAIRAUC_BENCH_DISABLE"] = OPTIONAL_PEERS
    peers = [
        "xgb_logistic",
        "xgb_rank_pairwise",
        "lightgbm",
        "libauc_pairwise",
        "libauc_aucm_pesg",
    ]
    bench_keel.main(
        ["--quick", "--out", str(tmp_path), "--models", "logreg_balanced", *peers]
    )
    rows = pd.read_csv(tmp_path / "keel.csv").set_index("model")
    assert rows.loc["logreg_balanced", "status"] == "ok"
    for peer in peers:
        assert rows.loc[peer, "status"].startswith("not installed")
        assert np.isnan(rows.loc[peer, "auc"])
    report = (tmp_path / "keel.md").read_text()
    assert "Models that did not run" in report and "not installed" in report


@pytest.mark.slow
def test_seed_protocol_runs_on_cifar10_batches(tmp_path, isolated_environ):
    import bench_seed_protocol

    cifar = tmp_path / "cifar-10-batches-py"
    cifar.mkdir()
    _write_cifar(cifar, n_per_batch=40)
    out = tmp_path / "out"
    bench_seed_protocol.main(
        [
            "--quick",
            "--out",
            str(out),
            "--seeds",
            "1",
            "--cifar10",
            str(cifar),
            "--datasets",
            "cifar10-airplane",
            "--arms",
            "pairwise",
            "logreg_balanced",
        ]
    )
    rows = pd.read_csv(out / "seed_protocol.csv")
    assert set(rows["dataset"]) == {"cifar10-airplane"}
    assert (rows["status"] == "ok").all()
    assert (rows["n_test"] == 40).all() and (rows["n_test_pos"] == 4).all()
    assert rows["auc"].between(0.0, 1.0).all()


@pytest.mark.slow
def test_large_table_quick(tmp_path):
    import bench_large_table

    bench_large_table.main(["--quick", "--out", str(tmp_path)])
    rows = pd.read_csv(tmp_path / "large_table.csv")
    assert list(rows["model"]) == list(bench_large_table.models())
    assert rows["test_auc"].between(0.5, 1.0).all(), rows
    assert (rows["fit_s"] > 0).all()
    # The default's row records what it chose and how it trained.
    assert isinstance(rows["chosen"][0], str) and rows["solver"][0] in {"lbfgs", "adam"}
    report = (tmp_path / "large_table.md").read_text()
    assert "Floor: the default's test AUC >= 0.84" in report
