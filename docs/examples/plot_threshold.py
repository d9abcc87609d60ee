"""
================================
Choosing the decision threshold
================================

:class:`~skpairauc.PairwiseAUCClassifier` learns a ranking score; the cut
above which a sample is called positive is chosen after training, by the
rule given in ``threshold``. This example plots several metrics against the
threshold, marks where each rule cuts, and compares the rules with a
threshold tuned by cross-validation with scikit-learn's
:class:`~sklearn.model_selection.TunedThresholdClassifierCV`.
"""

# %%
# Data and a first model
# ----------------------
# 3,000 samples with 8 % positives and 3 % of the labels flipped, split in
# halves for training and testing.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.metrics import (
    balanced_accuracy_score,
    f1_score,
    precision_score,
    recall_score,
)
from sklearn.model_selection import TunedThresholdClassifierCV, train_test_split

from skpairauc import PairwiseAUCClassifier

X, y = make_classification(
    n_samples=3000,
    n_features=10,
    n_informative=4,
    weights=[0.92],
    flip_y=0.03,
    class_sep=0.7,
    random_state=1,
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, stratify=y, test_size=0.5, random_state=0
)

# %%
# The three named rules give three fits of the same model. The linear scorer
# trained by L-BFGS is deterministic, so the scores are identical and only
# ``threshold_`` differs.
strategies = ["balanced_accuracy", "f1", "prior"]
fitted = {
    name: PairwiseAUCClassifier(threshold=name, random_state=0).fit(X_train, y_train)
    for name in strategies
}
for name, clf in fitted.items():
    print(f"threshold={name!r:20} threshold_ = {clf.threshold_:+.3f}")


# %%
# ``threshold_`` is a value of the raw learnt score :math:`s`. The raw score
# can be recovered from ``decision_function``, which is
# ``calibration_coef_ * (s - threshold_)``.
def raw_score(clf, X):
    return clf.decision_function(X) / clf.calibration_coef_[0] + clf.threshold_


s_test = raw_score(fitted["balanced_accuracy"], X_test)

# %%
# Metrics against the threshold
# -----------------------------
# Sweep the cut over the test scores and compute four metrics of the
# predictions ``s > cut``. Recall falls and precision rises as the cut
# moves up; balanced accuracy and F1 peak at different places.
cuts = np.quantile(s_test, np.linspace(0.02, 0.995, 300))
metrics = {
    "balanced accuracy": balanced_accuracy_score,
    "F1": f1_score,
    "precision": precision_score,
    "recall": recall_score,
}
curves = {
    name: [
        metric(y_test, s_test > cut, zero_division=0.0)
        if name in ("precision", "F1")
        else metric(y_test, s_test > cut)
        for cut in cuts
    ]
    for name, metric in metrics.items()
}

fig, ax = plt.subplots(figsize=(9, 4.5))
for (name, values), style in zip(curves.items(), ["-", "-", ":", ":"]):
    ax.plot(cuts, values, style, label=name)
for (name, clf), color in zip(fitted.items(), ["C0", "C1", "k"]):
    ax.axvline(clf.threshold_, color=color, linestyle="--", lw=1)
    ax.annotate(
        f'"{name}"',
        (clf.threshold_, 1.02),
        xycoords=("data", "axes fraction"),
        ha="center",
        color=color,
        fontsize="small",
    )
ax.set(xlabel="cut on the raw score s", ylabel="test metric", ylim=(0, 1))
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
fig.tight_layout()
plt.show()

# %%
# The cuts were chosen on the training scores, but they land close to the
# peaks of the matching test curves: ``"balanced_accuracy"`` lies where
# balanced accuracy peaks, ``"f1"`` further right, where precision and recall
# balance. ``"prior"`` (the cut at which the Platt probability crosses 0.5)
# lies furthest right: like a cross-entropy classifier it predicts few
# positives.
#
# Tuning the threshold by cross-validation
# ----------------------------------------
# :class:`~sklearn.model_selection.TunedThresholdClassifierCV` chooses the
# cut on held-out folds instead of the training data, for any scorer. We
# tune on ``decision_function`` for balanced accuracy, and keep the
# cross-validated curve.
tuned = TunedThresholdClassifierCV(
    PairwiseAUCClassifier(random_state=0),
    scoring="balanced_accuracy",
    response_method="decision_function",
    cv=5,
    store_cv_results=True,
).fit(X_train, y_train)

fig, ax = plt.subplots(figsize=(8, 3.5))
ax.plot(
    tuned.cv_results_["thresholds"],
    tuned.cv_results_["scores"],
    label="cross-validated balanced accuracy",
)
ax.axvline(
    tuned.best_threshold_,
    color="C3",
    linestyle="--",
    label=f"best_threshold_ = {tuned.best_threshold_:.2f}",
)
ax.axvline(
    0.0,
    color="C0",
    linestyle="--",
    lw=1,
    label='threshold="balanced_accuracy" (0 on this scale)',
)
ax.set(xlabel="cut on decision_function", ylabel="balanced accuracy")
ax.legend(loc="upper left", fontsize="small")
fig.tight_layout()
plt.show()

# %%
# Held-out comparison
# -------------------
# Each row is one way of cutting the same ranking.
models = {f'threshold="{name}"': clf for name, clf in fitted.items()}
models["TunedThresholdClassifierCV"] = tuned
rows = []
for name, model in models.items():
    y_pred = model.predict(X_test)
    rows.append(
        {
            "rule": name,
            "balanced accuracy": balanced_accuracy_score(y_test, y_pred),
            "F1": f1_score(y_test, y_pred),
            "precision": precision_score(y_test, y_pred, zero_division=0.0),
            "recall": recall_score(y_test, y_pred),
            "predicted positive": y_pred.mean(),
        }
    )
pd.DataFrame(rows).set_index("rule").round(3)

# %%
# No rule is best for every metric. The two balanced-accuracy rules, in-fit
# and cross-validated, lead on balanced accuracy and recall; ``"f1"`` leads
# on F1; ``"prior"`` predicts very few positives, so its rare alarms are
# mostly right (high precision) and most positives are missed. For this
# linear model, tuning on held-out folds and the in-fit choice land close
# together; the difference is typically larger for flexible models (an MLP)
# whose training scores separate the classes better than new data will.
# The in-fit rules cost nothing extra; cross-validated tuning costs one fit
# per fold. To apply a
# cut you chose yourself, wrap the model in
# :class:`~sklearn.model_selection.FixedThresholdClassifier`.
