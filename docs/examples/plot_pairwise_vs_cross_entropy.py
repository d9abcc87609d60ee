"""
==========================================================
Pairwise AUC training vs cross-entropy on imbalanced data
==========================================================

Most classifiers are trained with cross-entropy (log loss), one sample at a
time. :class:`~skpairauc.PairwiseAUCClassifier` is trained on pairs: it
penalises every positive that does not score above a negative, which is
what ROC AUC measures. This example compares three linear models on an
imbalanced problem, by their ROC curves and by the decisions they make, and
shows why accuracy is the wrong yardstick here.
"""

# %%
# An imbalanced problem
# ---------------------
# 4,000 samples, 3 % positive, 20 features of which 5 are informative, and
# 2 % of the labels flipped at random. Half of it is kept for testing.
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    RocCurveDisplay,
    accuracy_score,
    balanced_accuracy_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skpairauc import PairwiseAUCClassifier

X, y = make_classification(
    n_samples=4000,
    n_features=20,
    n_informative=5,
    n_redundant=5,
    weights=[0.97],
    flip_y=0.02,
    class_sep=0.8,
    random_state=0,
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, stratify=y, test_size=0.5, random_state=0
)
print(f"{y_train.sum()} positives out of {len(y_train)} training samples")

# %%
# Three linear models
# -------------------
# Logistic regression trained with cross-entropy, the same with
# ``class_weight="balanced"`` (each class then carries half of the loss),
# and the pairwise model with a linear scorer, ``hidden_layer_sizes=()``
# (its default, ``"auto"``, would choose between a linear scorer and an MLP
# by cross-validation). All three score a sample by a linear function of
# standardised features (the pairwise model standardises inside ``fit``, so
# the scaler changes nothing for it). With an explicit scorer, the pairwise
# model's ``alpha="auto"`` means ``alpha=1``, which puts the same
# coefficient on the squared weights, relative to a mean loss, as
# ``LogisticRegression``'s default ``C=1``.
models = {
    "LogisticRegression": LogisticRegression(),
    "LogisticRegression, balanced": LogisticRegression(class_weight="balanced"),
    "PairwiseAUCClassifier": PairwiseAUCClassifier(
        hidden_layer_sizes=(), random_state=0
    ),
}

rows, scores = [], {}
for name, model in models.items():
    pipe = make_pipeline(StandardScaler(), model).fit(X_train, y_train)
    scores[name] = pipe.decision_function(X_test)
    y_pred = pipe.predict(X_test)
    rows.append(
        {
            "model": name,
            "ROC AUC": roc_auc_score(y_test, scores[name]),
            "accuracy": accuracy_score(y_test, y_pred),
            "balanced accuracy": balanced_accuracy_score(y_test, y_pred),
            "recall": recall_score(y_test, y_pred),
            "predicted positive": y_pred.mean(),
        }
    )
results = pd.DataFrame(rows).set_index("model")
results.round(3)

# %%
# ROC curves
# ----------
# The ROC curve shows the whole trade-off between true and false positives,
# whatever threshold a model uses to predict a class. The right panel
# enlarges the region of low false-positive rates, the one that matters when
# positives are rare and every alarm is checked by hand.
fig, (ax_full, ax_zoom) = plt.subplots(1, 2, figsize=(11, 4.8))
styles = [("C0", "--"), ("C0", ":"), ("C1", "-")]
for i, ((name, score), (color, linestyle)) in enumerate(zip(scores.items(), styles)):
    for ax in (ax_full, ax_zoom):
        RocCurveDisplay.from_predictions(
            y_test,
            score,
            name=name,
            ax=ax,
            curve_kwargs={"color": color, "linestyle": linestyle},
            plot_chance_level=(ax is ax_full and i == 0),
        )
ax_full.set(title="Held-out ROC curves")
ax_zoom.set(xlim=(0, 0.2), ylim=(0, 1), title="False-positive rate below 0.2")
ax_zoom.set_aspect("auto")
for ax in (ax_full, ax_zoom):
    ax.legend(fontsize="small", loc="lower right")
fig.tight_layout()
plt.show()

# %%
# The three rankings are of similar quality on this data: ROC AUC in the
# table above, the curves crossing one another. A linear model can only
# choose a direction in feature space, and here cross-entropy and the
# pairwise loss choose nearly the same one. Differences between the two
# kinds of training show up where the model is misspecified; whether they
# favour the pairwise loss on *your* data is a question for
# cross-validation (see :ref:`sphx_glr_auto_examples_plot_grid_search.py`
# and the scripts under ``benchmarks/`` in the source repository).
#
# Accuracy rewards ignoring the positives
# ---------------------------------------
# The models differ much more in their *decisions*. Plain logistic
# regression thresholds its probability at 0.5; with 3 % positives that cut
# rarely says "positive", so accuracy is high while most positives are
# missed. The balanced logistic regression and the pairwise model (whose
# default ``threshold="balanced_accuracy"`` picks the cut maximising
# balanced accuracy on the training data) predict many more positives,
# catch more of them, and pay with false alarms, which lowers plain
# accuracy.
fig, ax = plt.subplots(figsize=(8, 3.2))
results[["accuracy", "balanced accuracy", "recall"]].plot.barh(ax=ax)
ax.set(xlim=(0, 1), xlabel="held-out score", ylabel="")
ax.legend(loc="lower right", fontsize="small")
fig.tight_layout()
plt.show()

# %%
# What to take away
# -----------------
# - Compare rankers with ROC AUC (or a precision-recall curve), not with
#   accuracy: on imbalanced data accuracy mostly measures where the
#   threshold sits.
# - Choosing the threshold is a separate decision from learning the
#   ranking: see :ref:`sphx_glr_auto_examples_plot_threshold.py`.
# - The pairwise objective gives both classes the same total weight by
#   construction; it needs no ``class_weight``.
