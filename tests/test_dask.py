"""skpairauc on a dask cluster: dask-ml's ``Incremental``, a plain-dask
``partial_fit`` loop, and ``GridSearchCV`` on joblib's dask backend.

One local cluster of two worker processes (one thread each) serves the whole
module. Its workers inherit this process's environment when they start, so
the fixtures point ``SKPAIRAUC_CACHE_DIR`` at a fresh directory first: the
tests can then tell which process compiled a program and which loaded it.

dask-ml 2025.1 with scikit-learn 1.9 fits, but ``Incremental.score`` cannot
give a ROC AUC: with dask arrays its own scorers know no "roc_auc"
(``ValueError: roc_auc is not a valid scoring value. ...``), and with NumPy
arrays scikit-learn's scorer does not see a classifier in the wrapper (it has
no classifier tags) and passes both columns of ``predict_proba`` to
``roc_auc_score`` (``ValueError: y should be a 1d array, got an array of
shape (4000, 2) instead.``). The tests score ``estimator_`` instead.

Skipped when dask, distributed or dask-ml is missing (``pip install
"skpairauc[dask]"``); ``import skpairauc`` never needs them.
"""

import numpy as np
import pytest

dask = pytest.importorskip("dask")
pytest.importorskip("distributed")
pytest.importorskip("dask_ml")

import dask.array as da  # noqa: E402
import joblib  # noqa: E402
from dask_ml.wrappers import Incremental  # noqa: E402
from distributed import Client, LocalCluster, get_task_stream  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402

import skpairauc  # noqa: E402
from skpairauc import PairwiseAUCClassifier, _programs  # noqa: E402

# 20 to 34 s on two cores: a cluster of two processes, each importing JAX.
pytestmark = pytest.mark.slow

CHUNK_ROWS = 2_000
PARAMS = {"hidden_layer_sizes": (), "random_state": 0}
# Measured on the 4,000 test rows: a plain fit 0.9286; Incremental over the
# 10 blocks 0.9182 to 0.9206 (seeds 0-3, blocks in order or shuffled); after
# the first 5 blocks only 0.868, after 1 block 0.664.
AUC_GAP = 0.02
AUC_FLOOR = 0.90


def partial_fit_blocks(estimator, X, y, **kwargs):
    """Train ``estimator`` with ``partial_fit`` on the blocks of the dask
    arrays ``X`` and ``y``, in order; returns the trained estimator.

    Each step is a task taking the previous step's estimator and one block,
    so training runs on the workers, one block at a time, as dask-ml's
    ``Incremental`` does (with ``shuffle_blocks=False``).
    """
    X_blocks = X.rechunk({1: -1}).to_delayed().ravel()
    y_blocks = y.to_delayed()
    if len(X_blocks) != len(y_blocks):
        raise ValueError("X and y need the same row chunks.")
    step = dask.delayed(_partial_fit)
    for X_block, y_block in zip(X_blocks, y_blocks):
        estimator = step(estimator, X_block, y_block, kwargs)
    return estimator.compute()


def _partial_fit(estimator, X, y, kwargs):
    return estimator.partial_fit(X, y, **kwargs)


def _stats():
    return dict(_programs.STATS)


@pytest.fixture(scope="module")
def data():
    """20,000 training rows (about 5 % positives) and 4,000 test rows."""
    X, y = make_classification(
        n_samples=24_000, n_features=20, weights=[0.95], random_state=0
    )
    return train_test_split(X, y, test_size=4_000, stratify=y, random_state=0)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """A fresh, empty compile cache for this process and the workers."""
    directory = tmp_path_factory.mktemp("dask") / "skpairauc-cache"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKPAIRAUC_CACHE_DIR", str(directory))
        # Three processes on one GPU, if JAX has one: none may take 75 % of it.
        patch.setenv("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
        # Programs compiled by earlier tests would be reused from memory.
        skpairauc.clear_compiled_programs()
        yield directory
    skpairauc.clear_compiled_programs()


@pytest.fixture(scope="module")
def client(cache_dir):
    # No dashboard: no port to take, no warning when 8787 is in use.
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def blocks(data):
    X_train, _, y_train, _ = data
    return (
        da.from_array(X_train, chunks=(CHUNK_ROWS, -1)),
        da.from_array(y_train, chunks=CHUNK_ROWS),
    )


def test_incremental_reaches_the_auc_of_a_plain_fit(client, data, blocks):
    X_train, X_test, y_train, y_test = data
    X, y = blocks
    model = Incremental(
        PairwiseAUCClassifier(**PARAMS), scoring="roc_auc", shuffle_blocks=False
    )
    with get_task_stream(client) as tasks:
        model.fit(X, y, classes=[0, 1])
    # One partial_fit task per block ran on the workers (key index -1 is the
    # unfitted estimator).
    steps = [t for t in tasks.data if t["key"][0].startswith("fit-")]
    assert sorted(t["key"][1] for t in steps if t["key"][1] >= 0) == list(
        range(X.numblocks[0])
    )

    auc = roc_auc_score(y_test, model.estimator_.decision_function(X_test))
    plain = PairwiseAUCClassifier(**PARAMS).fit(X_train, y_train)
    plain_auc = roc_auc_score(y_test, plain.decision_function(X_test))
    assert auc >= plain_auc - AUC_GAP, (auc, plain_auc)
    assert auc >= AUC_FLOOR, auc

    # Predicting a dask array maps the fitted estimator over its blocks.
    X_test_blocks = da.from_array(X_test, chunks=(CHUNK_ROWS, -1))
    np.testing.assert_array_equal(
        model.predict(X_test_blocks).compute(), model.estimator_.predict(X_test)
    )


def test_plain_dask_partial_fit_loop_matches_incremental(client, data, blocks):
    X_train = data[0]
    X, y = blocks
    looped = partial_fit_blocks(PairwiseAUCClassifier(**PARAMS), X, y, classes=[0, 1])
    wrapped = Incremental(PairwiseAUCClassifier(**PARAMS), shuffle_blocks=False)
    wrapped.fit(X, y, classes=[0, 1])
    # The same blocks in the same order and the same seed: the same model.
    np.testing.assert_array_equal(
        looped.decision_function(X_train),
        wrapped.estimator_.decision_function(X_train),
    )


def test_grid_search_on_the_dask_backend_shares_the_compile_cache(
    client, data, cache_dir
):
    X_train, _, y_train, _ = data

    # The workers use this process's cache directory and compute the same
    # cache keys (JAX and jaxlib versions, device, the package's source).
    here = _programs.cache_dir()
    assert here == cache_dir
    assert set(client.run(_programs.cache_dir).values()) == {here}
    assert set(client.run(_programs._environment).values()) == {
        _programs._environment()
    }

    def search():
        return GridSearchCV(
            PairwiseAUCClassifier(**PARAMS, solver="adam"),
            {"alpha": [0.01, 1.0, 100.0]},
            cv=3,
            scoring="roc_auc",
        )

    # Without dask, in this process, which fills the cache.
    local = search().fit(X_train, y_train)
    files = sorted(path.name for path in cache_dir.glob("*.bin"))
    assert files

    client.run(_programs.clear)  # no program left in the workers' memory
    before = client.run(_stats)
    with joblib.parallel_backend("dask"):
        on_dask = search().fit(X_train, y_train)
    after = client.run(_stats)

    assert on_dask.best_params_ == local.best_params_
    np.testing.assert_array_equal(
        on_dask.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    # The fold fits ran on the workers, which loaded the programs this
    # process had compiled instead of compiling them again.
    gained = {
        key: sum(after[w].get(key, 0) - before[w].get(key, 0) for w in after)
        for key in ("compiled", "loaded")
    }
    assert gained["loaded"] >= 1, gained
    assert gained["compiled"] == 0, gained
    assert sorted(path.name for path in cache_dir.glob("*.bin")) == files
