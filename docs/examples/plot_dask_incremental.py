"""
=====================================================
Training on a dask cluster with partial_fit
=====================================================

:meth:`~skpairauc.PairwiseAUCClassifier.partial_fit` trains on a stream of
blocks of rows, one call per block. dask-ml's
:class:`~dask_ml.wrappers.Incremental` feeds it the blocks of a dask array,
one after another, on the workers of a dask cluster; a few lines of plain
dask do the same without dask-ml.

This example needs the ``dask`` extra: ``pip install "skpairauc[dask]"``.
See :ref:`scaling` for what runs where and what crosses the network.
"""

# %%
# A local cluster
# ---------------
# Two workers of one thread each. ``processes=False`` makes them threads of
# this process, so the example also runs as a plain script: worker
# *processes* (the default) import the script again, so a script that starts
# them must keep its code under ``if __name__ == "__main__":``. On a real
# cluster, ``Client("tcp://<scheduler>:8786")`` connects to its running
# workers instead, and the rest of the code stays the same.
import dask
import dask.array as da
import matplotlib.pyplot as plt
from dask.distributed import Client, LocalCluster
from dask_ml.wrappers import Incremental
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from skpairauc import PairwiseAUCClassifier

cluster = LocalCluster(
    n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
)
client = Client(cluster)

# %%
# Data as a dask array
# --------------------
# 20,000 training rows with 5 % positives, in 10 blocks of 2,000 rows. Here
# the array wraps data in memory; in practice its blocks are read by the
# workers (``da.from_zarr``, or ``dask.dataframe.read_parquet(...)
# .to_dask_array(lengths=True)``), and the whole array never sits in one
# process.
X, y = make_classification(
    n_samples=24_000, n_features=20, weights=[0.95], random_state=0
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=4_000, stratify=y, random_state=0
)
X_blocks = da.from_array(X_train, chunks=(2_000, -1))
y_blocks = da.from_array(y_train, chunks=2_000)
X_blocks

# %%
# Incremental
# -----------
# ``Incremental.fit`` calls ``partial_fit`` once per block, in a random order
# (fixed by ``random_state``), each call a task on a worker that takes the
# previous call's estimator. The estimator needs every class at its first
# call: pass them as ``classes``. ``Incremental.score`` knows no ROC AUC for
# dask arrays, so the fitted estimator, ``estimator_``, is scored directly.
linear = {"hidden_layer_sizes": (), "random_state": 0}
incremental = Incremental(PairwiseAUCClassifier(**linear), random_state=0)
incremental.fit(X_blocks, y_blocks, classes=[0, 1])
incremental_auc = roc_auc_score(
    y_test, incremental.estimator_.decision_function(X_test)
)

# The same data in memory, with fit.
plain = PairwiseAUCClassifier(**linear).fit(X_train, y_train)
plain_auc = roc_auc_score(y_test, plain.decision_function(X_test))
print(f"test ROC AUC, Incremental over 10 blocks: {incremental_auc:.4f}")
print(f"test ROC AUC, fit on all rows at once:    {plain_auc:.4f}")
print(f"epochs of fit: {plain.n_iter_}")

# %%
# Prediction on a dask array runs on the workers too, block by block, and
# gives a dask array back.
proba = incremental.predict_proba(da.from_array(X_test, chunks=(2_000, -1)))
proba[:5].compute()

# %%
# Without dask-ml: a loop over the blocks
# ---------------------------------------
# ``to_delayed()`` gives the blocks of a dask array. This loop fetches them
# one at a time into this process and trains here, which shows how the test
# ROC AUC grows with the rows seen. Only one block is in this process's
# memory at a time, besides the estimator's bounded reservoirs.
model = PairwiseAUCClassifier(**linear)
rows, seen, curve = 0, [], []
for X_part, y_part in zip(X_blocks.to_delayed().ravel(), y_blocks.to_delayed()):
    X_part, y_part = dask.compute(X_part, y_part)
    model.partial_fit(X_part, y_part, classes=[0, 1])
    rows += len(y_part)
    seen.append(rows)
    curve.append(roc_auc_score(y_test, model.decision_function(X_test)))

# %%
# The curve still rises at the end: each call trains one epoch, on its block
# and the reservoirs, so the pass trained ten epochs, where ``fit`` trained
# until it stopped improving (``n_iter_`` epochs, printed above). Calling
# ``partial_fit`` on the same blocks again, a second pass, brings the model
# closer to ``fit``.
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(seen, curve, marker="o", label="partial_fit, block by block")
ax.axhline(plain_auc, color="k", linestyle="--", label="fit on all rows")
ax.axhline(incremental_auc, color="C1", linestyle=":", label="Incremental")
ax.set(xlabel="training rows seen", ylabel="test ROC AUC")
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()


# %%
# To train on the workers instead, next to the data, chain one task per
# block: each takes the previous task's estimator and one block, which is
# what ``Incremental`` does. The blocks in the same order give the same
# model as the loop above.
def _partial_fit(estimator, X, y, kwargs):
    return estimator.partial_fit(X, y, **kwargs)


def partial_fit_blocks(estimator, X, y, **kwargs):
    """Train ``estimator`` with ``partial_fit`` on the blocks of the dask
    arrays ``X`` and ``y``, in order, on the workers."""
    step = dask.delayed(_partial_fit)
    X_parts = X.rechunk({1: -1}).to_delayed().ravel()
    for X_part, y_part in zip(X_parts, y.to_delayed(), strict=True):
        estimator = step(estimator, X_part, y_part, kwargs)
    return estimator.compute()


on_workers = partial_fit_blocks(
    PairwiseAUCClassifier(**linear), X_blocks, y_blocks, classes=[0, 1]
)
workers_auc = roc_auc_score(y_test, on_workers.decision_function(X_test))
print(f"test ROC AUC, trained on the workers: {workers_auc:.4f}")
print(f"test ROC AUC, trained in this process: {curve[-1]:.4f}")

# %%
# Close the cluster when done.
client.close()
cluster.close()
