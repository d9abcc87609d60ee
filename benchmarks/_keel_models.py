"""The models of ``bench_keel.py``: each one by name, and whether it can run here.

Models that need scaled inputs get a ``StandardScaler``; tree ensembles see
raw features; every library runs on one thread. Quick mode shortens the fits
(``mode``: the script's settings).
"""

from __future__ import annotations

import _torch_peers
import numpy as np
from _harness import peer_status

HIDDEN = (64,)


def model_status(name):
    """Why ``name`` cannot run here, or ``None`` if it can."""
    for prefix, peer in (
        ("skpairauc", "skpairauc"),
        ("xgb", "xgboost"),
        ("lightgbm", "lightgbm"),
        ("libauc", "libauc"),
    ):
        if name.startswith(prefix):
            return peer_status(peer)
    return None


class _RankerAsScorer:
    """Fit an ``XGBRanker`` with the whole training set as one query."""

    def __init__(self, ranker):
        self.ranker = ranker

    def fit(self, X, y):
        self.ranker.fit(X, y, qid=np.zeros(len(y), dtype=np.int64))
        return self

    def decision_function(self, X):
        return self.ranker.predict(X)


def make_model(name, y_train, seed, mode):
    """A fresh, unfitted model exposing ``fit`` and a scoring method."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n_pos = int(np.sum(y_train == 1))
    n_neg = len(y_train) - n_pos
    if name == "skpairauc_default":
        # The estimator exactly as a user gets it: every parameter at its
        # default (capacity chosen inside fit), on raw features (it
        # standardises internally).
        from skpairauc import PairwiseAUCClassifier

        params = {"random_state": seed}
        if mode["skpairauc_max_iter"]:
            params["max_iter"] = mode["skpairauc_max_iter"]
        return PairwiseAUCClassifier(**params)
    if name.startswith("skpairauc"):
        from skpairauc import PairwiseAUCClassifier

        params = {
            "hidden_layer_sizes": HIDDEN if "_mlp_" in name else (),
            "solver": "lbfgs" if name.endswith("exact") else "adam",
            "random_state": seed,
        }
        if mode["skpairauc_max_iter"]:
            params["max_iter"] = mode["skpairauc_max_iter"]
        return make_pipeline(StandardScaler(), PairwiseAUCClassifier(**params))
    if name == "logreg_balanced":
        return make_pipeline(
            StandardScaler(),
            LogisticRegression(class_weight="balanced", max_iter=1000),
        )
    if name == "sklearn_mlp":
        return make_pipeline(
            StandardScaler(),
            MLPClassifier(
                hidden_layer_sizes=HIDDEN,
                max_iter=mode["sklearn_mlp_max_iter"],
                random_state=seed,
            ),
        )
    if name == "xgb_logistic":
        from xgboost import XGBClassifier

        return XGBClassifier(
            objective="binary:logistic",
            scale_pos_weight=n_neg / max(n_pos, 1),
            n_estimators=mode["n_estimators"],
            n_jobs=1,
            random_state=seed,
        )
    if name == "xgb_rank_pairwise":
        from xgboost import XGBRanker

        return _RankerAsScorer(
            XGBRanker(
                objective="rank:pairwise",
                n_estimators=mode["n_estimators"],
                n_jobs=1,
                random_state=seed,
            )
        )
    if name == "lightgbm":
        from lightgbm import LGBMClassifier

        return LGBMClassifier(
            n_estimators=mode["n_estimators"],
            n_jobs=1,
            random_state=seed,
            verbose=-1,
        )
    if name.startswith("libauc"):
        return make_pipeline(
            StandardScaler(),
            _torch_peers.TorchAUCMLP(
                method=name,
                hidden_layer_sizes=HIDDEN,
                n_steps=mode["libauc_steps"],
                random_state=seed,
            ),
        )
    raise ValueError(f"unknown model {name!r}")


def ranking_scores(model, X):
    """Ranking scores: decision_function, else P(positive)."""
    if hasattr(model, "decision_function"):
        return np.asarray(model.decision_function(X), np.float64).ravel()
    return np.asarray(model.predict_proba(X))[:, 1]
