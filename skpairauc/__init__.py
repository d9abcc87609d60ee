"""skpairauc: a scikit-learn classifier that trains directly for ROC AUC."""

from ._classifier import PairwiseAUCClassifier
from ._losses import (
    hinge_pairwise_loss,
    logistic_pairwise_loss,
    square_pairwise_loss,
    squared_hinge_pairwise_loss,
)

__version__ = "0.1.0"

__all__ = [
    "PairwiseAUCClassifier",
    "logistic_pairwise_loss",
    "squared_hinge_pairwise_loss",
    "hinge_pairwise_loss",
    "square_pairwise_loss",
    "__version__",
]
