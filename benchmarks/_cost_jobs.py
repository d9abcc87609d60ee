"""The child job of ``bench_cost.py``: one fit of one model at one point.

The tables and models are the script's docstring's. :func:`job_fit` builds the
model (importing its library), then the data, and times ``fit`` alone; for
the default it also times a second, fresh estimator in the same process.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import _sparse_data as sd
import numpy as np

SEED = 0
MODELS = {  # key: what the report calls it
    "default": "PairwiseAUCClassifier()",
    "hgb": "HistGradientBoostingClassifier()",
    "lr": "LogisticRegression(balanced)",
    "mlp": "MLPClassifier(early_stopping)",
}
ONEHOT_ROWS, ONEHOT_D = 20_000, 1 + 5  # rows; raw columns (1 categorical + 5)


def build(model: str, table: str):
    """A fresh, unfitted model (importing its library)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if model == "default":
        from skpairauc import PairwiseAUCClassifier

        est = PairwiseAUCClassifier(random_state=SEED)
    elif model == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier

        native = {"categorical_features": [0]} if table == "onehot" else {}
        est = HistGradientBoostingClassifier(random_state=SEED, **native)
    elif model == "lr":
        from sklearn.linear_model import LogisticRegression

        est = LogisticRegression(class_weight="balanced", max_iter=1000)
    else:
        from sklearn.neural_network import MLPClassifier

        est = MLPClassifier(random_state=SEED, early_stopping=True)
    if table == "onehot":
        return ordinal_pipeline(est) if model == "hgb" else sd.onehot_pipeline(est)
    return make_pipeline(StandardScaler(), est) if model in ("lr", "mlp") else est


def ordinal_pipeline(est):
    """The one-hot table's level column as codes (at most 255), numerics as
    they are, then ``est``."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    codes = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=np.nan, max_categories=255
    )
    encode = ColumnTransformer(
        [("cat", codes, [sd.CAT_COLUMN])], remainder="passthrough"
    )
    return make_pipeline(encode, est)


def table_data(table: str, n: int, d: int):
    """``X_train, X_test, y_train, y_test`` of one point."""
    if table == "onehot":
        X, y = sd.onehot_table(n_rows=ONEHOT_ROWS, seed=SEED)
        return sd.stratified_split(X, y, test_size=0.2, seed=SEED)
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=round(1.25 * n), n_features=d, n_informative=8, weights=[0.95],
        random_state=SEED,
    )  # fmt: skip
    return X[:n], X[n:], y[:n], y[n:]


def timed_fit(model, X, y) -> tuple[float, list[str]]:
    """Seconds of ``model.fit(X, y)`` and the distinct warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    messages = {f"{w.category.__name__}: {str(w.message)[:100]}" for w in caught}
    return seconds, sorted(messages)


def fit_facts(model) -> dict:
    """The final estimator's iterations and, for skpairauc, what "auto" chose."""
    est = model[-1] if hasattr(model, "steps") else model
    facts = {}
    if hasattr(est, "n_iter_"):
        facts["n_iter"] = int(np.max(est.n_iter_))
    if hasattr(est, "hidden_layer_sizes_"):
        alpha, solver = getattr(est, "alpha_", "?"), getattr(est, "solver_", "?")
        facts["chosen"] = f"{est.hidden_layer_sizes_} alpha={alpha} {solver}"
    return facts


def job_fit(spec: dict) -> dict:
    """Time one model's fit (and the default's warm refit); its test AUC."""
    from sklearn.metrics import roc_auc_score

    start = time.perf_counter()
    model = build(spec["model"], spec["table"])
    X_train, X_test, y_train, y_test = table_data(spec["table"], spec["n"], spec["d"])
    load = os.getloadavg()[0]
    fit_s, caught = timed_fit(model, X_train, y_train)
    if hasattr(model, "decision_function"):
        scores = model.decision_function(X_test)
    else:
        scores = model.predict_proba(X_test)[:, 1]
    result = {"time_s": fit_s, "auc": roc_auc_score(y_test, scores), "load_1min": load}
    result.update(fit_facts(model))
    if spec["model"] == "default":
        import skpairauc

        result["source"] = str(Path(skpairauc.__file__).parent)
        left = spec["deadline_s"] - (time.perf_counter() - start)
        if 1.25 * fit_s + 5.0 < left:  # else the parent would lose both fits
            warm = build(spec["model"], spec["table"])
            result["warm_time_s"], more = timed_fit(warm, X_train, y_train)
            caught = sorted(set(caught) | set(more))
    result["warnings"] = " | ".join(caught)
    return result


JOBS = {"fit": job_fit}
