"""
=====================================================
Tuning with GridSearchCV on ROC AUC in a Pipeline
=====================================================

:class:`~skpairauc.PairwiseAUCClassifier` is a regular scikit-learn
estimator, so its hyper-parameters are tuned like any other: put it in a
:class:`~sklearn.pipeline.Pipeline` behind its preprocessing, and let
:class:`~sklearn.model_selection.GridSearchCV` pick the parameters with the
best cross-validated ROC AUC.

The task is to find the handwritten nines among the other digits of
scikit-learn's ``load_digits`` (about 10 % positives, 64 pixel features).
"""

# %%
# Data
# ----
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skpairauc import PairwiseAUCClassifier

X, y = load_digits(return_X_y=True)
y = (y == 9).astype(int)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, stratify=y, test_size=0.3, random_state=0
)
print(f"{len(y_train)} training samples, {y_train.mean():.1%} positive")

# %%
# The pipeline and the grid
# -------------------------
# ``PairwiseAUCClassifier`` standardises the features inside ``fit``, so the
# scaler is not needed here; it stands for whatever preprocessing your
# pipeline has (a scaler is harmless). Two parameters usually matter most:
# the strength of the L2 penalty ``alpha`` and the loss. Parameters of a
# step are addressed as ``<step>__<param>``. ``scoring="roc_auc"`` ranks the
# candidates by the ROC AUC of their ``decision_function`` on each
# validation fold.
pipe = Pipeline(
    [
        ("scale", StandardScaler()),
        # An explicit scorer: the default, hidden_layer_sizes="auto", would
        # itself choose scorer and alpha by cross-validation inside each fit.
        ("clf", PairwiseAUCClassifier(hidden_layer_sizes=(), random_state=0)),
    ]
)
param_grid = {
    "clf__alpha": [1e-2, 1.0, 100.0],
    "clf__loss": ["logistic", "squared_hinge"],
}
search = GridSearchCV(
    pipe,
    param_grid,
    scoring="roc_auc",
    cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=0),
)
search.fit(X_train, y_train)
print("best parameters:", search.best_params_)
print(f"best cross-validated ROC AUC: {search.best_score_:.4f}")

# %%
# All candidates
# --------------
# ``cv_results_`` holds the score of every candidate on every fold.
results = pd.DataFrame(search.cv_results_)
columns = ["param_clf__loss", "param_clf__alpha", "mean_test_score", "std_test_score"]
results[columns].sort_values("mean_test_score", ascending=False).round(4)

# %%
# Plot the mean validation ROC AUC against ``alpha`` for each loss, with one
# standard deviation over the folds.
fig, ax = plt.subplots(figsize=(6, 4))
for loss, group in results.groupby("param_clf__loss"):
    group = group.sort_values("param_clf__alpha")
    ax.errorbar(
        group["param_clf__alpha"].astype(float),
        group["mean_test_score"],
        yerr=group["std_test_score"],
        marker="o",
        capsize=3,
        label=loss,
    )
ax.set(xscale="log", xlabel="alpha", ylabel="cross-validated ROC AUC")
ax.legend(title="loss")
fig.tight_layout()
plt.show()

# %%
# The refitted model
# ------------------
# With ``refit=True`` (the default) the search refits the best pipeline on
# the whole training set; it is then used like any fitted pipeline. The
# held-out ROC AUC is the honest estimate of how well the tuned model ranks.
test_auc = roc_auc_score(y_test, search.decision_function(X_test))
print(f"held-out ROC AUC of the tuned pipeline: {test_auc:.4f}")

# %%
# A larger search would also try ``hidden_layer_sizes`` (e.g. ``()`` and
# ``(64,)``) and, for a multi-layer perceptron, ``activation``. The
# :ref:`tuning advice <tuning>` in the user guide suggests ranges.
