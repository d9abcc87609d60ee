"""
===========================
Reading the training curves
===========================

Every fit records how training went. ``loss_curve_`` holds the training
objective, per L-BFGS iteration or per epoch of a stochastic solver; with
``early_stopping=True``, ``validation_scores_`` holds the ROC AUC of the
held-out rows after each epoch. This example reads both for an MLP trained
with Adam at three learning rates, then for the exact L-BFGS solver.
"""

# %%
# Data
# ----
# 20,000 samples with 5 % positives: 750 × 14,250 = 10.7 million
# positive-negative pairs in the training part. Early stopping needs a
# stochastic solver, so we ask for Adam explicitly.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skpairauc import PairwiseAUCClassifier

X, y = make_classification(
    n_samples=20_000,
    n_features=20,
    n_informative=8,
    weights=[0.95],
    flip_y=0.02,
    random_state=0,
)
X = StandardScaler().fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, stratify=y, test_size=0.25, random_state=0
)

# %%
# Adam with early stopping
# ------------------------
# ``early_stopping=True`` holds out 10 % of each class, scores its ROC AUC
# after each epoch, stops after ``n_iter_no_change`` epochs without an
# improvement of ``tol``, and keeps the weights of the best epoch. The
# penalty is set weaker than the default (``alpha=1e-3``) so that the
# curves show what overfitting looks like.
fits = {}
for lr in [3e-4, 1e-3, 1e-2]:
    fits[lr] = PairwiseAUCClassifier(
        hidden_layer_sizes=(64,),
        solver="adam",
        learning_rate_init=lr,
        alpha=1e-3,
        early_stopping=True,
        n_iter_no_change=5,
        max_iter=40,
        random_state=0,
    ).fit(X_train, y_train)

for lr, clf in fits.items():
    best_epoch = int(np.argmax(clf.validation_scores_)) + 1
    test_auc = roc_auc_score(y_test, clf.decision_function(X_test))
    print(
        f"lr={lr:g}: {clf.n_iter_} epochs ({clf.t_} steps), best epoch "
        f"{best_epoch}, best validation AUC {clf.best_validation_score_:.4f}, "
        f"test AUC {test_auc:.4f}"
    )

# %%
# Plot the mean training loss of each epoch (left) and the validation ROC
# AUC (right). A dot marks the best epoch, the one whose weights are kept.
fig, (ax_loss, ax_val) = plt.subplots(1, 2, figsize=(11, 4))
for (lr, clf), color in zip(fits.items(), ["C0", "C1", "C2"]):
    epochs = np.arange(1, clf.n_iter_ + 1)
    best = int(np.argmax(clf.validation_scores_))
    ax_loss.plot(epochs, clf.loss_curve_, color=color, label=f"lr = {lr:g}")
    ax_val.plot(epochs, clf.validation_scores_, color=color, label=f"lr = {lr:g}")
    ax_val.plot(epochs[best], clf.validation_scores_[best], "o", color=color)
ax_loss.set(xlabel="epoch", ylabel="mean batch objective", title="loss_curve_")
ax_val.set(xlabel="epoch", ylabel="validation ROC AUC", title="validation_scores_")
ax_loss.legend()
fig.tight_layout()
plt.show()

# %%
# How to read them:
#
# - Every curve falls fast at first: most of the ranking is learnt in a few
#   epochs.
# - The smallest learning rate is slow. Its validation AUC soon improves by
#   less than ``tol`` per epoch while it is still below that of the other
#   runs, and early stopping ends it there. A small learning rate needs a
#   larger ``n_iter_no_change`` (or a smaller ``tol``).
# - The largest learning rate reaches its best validation AUC within a few
#   epochs, then the AUC drifts down while the training loss keeps falling:
#   the network starts to fit the training pairs' noise. Early stopping
#   keeps the weights of the best epoch.
# - The training loss says how well the model ranks the *training* pairs;
#   only the validation curve says how well it will rank new data. A falling
#   loss with a falling validation AUC is overfitting: raise ``alpha`` or
#   shrink the network.
#
# The exact solver
# ----------------
# On a subsample small enough for ``solver="auto"`` to compute every pair,
# L-BFGS records the exact objective at every iteration. It decreases
# monotonically, and ``n_iter_`` tells how many iterations the solver needed
# to reach ``tol``.
X_small, y_small = X_train[:4000], y_train[:4000]
exact = PairwiseAUCClassifier(hidden_layer_sizes=(), alpha=1e-3).fit(X_small, y_small)
print(f"solver_={exact.solver_!r}, n_iter_={exact.n_iter_}")

fig, ax = plt.subplots(figsize=(6, 3.5))
# loss_curve_ starts with the objective at the initial weights (iteration 0).
ax.plot(np.arange(len(exact.loss_curve_)), exact.loss_curve_, marker=".")
ax.set(
    xlabel="L-BFGS iteration",
    ylabel="exact objective",
    yscale="log",
    title="loss_curve_ of the exact solver",
)
fig.tight_layout()
plt.show()
