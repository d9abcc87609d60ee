"""LibAUC peers: the same MLP in PyTorch trained with LibAUC's AUC losses.

Two recipes, each with LibAUC's documented defaults / recommendations:

``"libauc_pairwise"``
    ``libauc.losses.PairwiseAUCLoss(surr_loss="logistic", hparam=1.0)`` (the
    class default) on sigmoid outputs, optimised with ``torch.optim.Adam``
    (lr 1e-3, weight decay 1e-4; LibAUC's docs name Adam/SGD for this loss).
``"libauc_aucm_pesg"``
    ``libauc.losses.AUCMLoss(margin=1.0)`` on sigmoid outputs with
    ``libauc.optimizers.PESG(lr=0.1, momentum=0.9, epoch_decay=2e-3,
    weight_decay=1e-4)``; the learning rate is divided by 10 with
    ``update_regularizer`` at 50% and 75% of training, as in LibAUC's
    tutorials.

Both draw mini-batches the way ``libauc.sampler.DualSampler`` does with
``sampling_rate=0.5`` (half positives, half negatives, positives resampled),
because LibAUC recommends that sampler for its AUC losses. Torch is imported
lazily so that this module can be imported without it.
"""

from __future__ import annotations

import os

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

LIBAUC_METHODS = ("libauc_pairwise", "libauc_aucm_pesg")


def _disabled():
    """Peers disabled by ``SKPAIRAUC_BENCH_DISABLE`` (simulates absent packages)."""
    value = os.environ.get("SKPAIRAUC_BENCH_DISABLE", "")
    return {part.strip() for part in value.split(",") if part.strip()}


def libauc_status():
    """Return ``None`` if torch and LibAUC's losses import, else the reason."""
    if {"torch", "libauc"} & _disabled():
        return "not installed (disabled by SKPAIRAUC_BENCH_DISABLE)"
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        return f"not installed (torch: {exc})"
    try:
        from libauc.losses import AUCMLoss, PairwiseAUCLoss  # noqa: F401
        from libauc.optimizers import PESG  # noqa: F401
    except ImportError as exc:
        return f"not installed (libauc: {exc})"
    return None


class TorchAUCMLP(ClassifierMixin, BaseEstimator):
    """A small scikit-learn-like wrapper: PyTorch MLP trained with a LibAUC loss.

    Parameters
    ----------
    method : {"libauc_pairwise", "libauc_aucm_pesg"}
    hidden_layer_sizes : tuple of int, default=(64,)
        ReLU hidden layers, as in the skpairauc MLP it is compared with.
    n_steps : int, default=1500
        Optimisation steps.
    batch_size : int, default=128
        Samples per step, half of them positives (DualSampler, rate 0.5).
    random_state : int, default=0
    n_threads : int, default=1
        ``torch.set_num_threads`` for the fit.
    """

    def __init__(
        self,
        method="libauc_pairwise",
        hidden_layer_sizes=(64,),
        n_steps=1500,
        batch_size=128,
        random_state=0,
        n_threads=1,
    ):
        self.method = method
        self.hidden_layer_sizes = hidden_layer_sizes
        self.n_steps = n_steps
        self.batch_size = batch_size
        self.random_state = random_state
        self.n_threads = n_threads

    def _build(self, n_features):
        import torch

        layers = []
        width = n_features
        for size in self.hidden_layer_sizes:
            layers += [torch.nn.Linear(width, size), torch.nn.ReLU()]
            width = size
        layers.append(torch.nn.Linear(width, 1))
        return torch.nn.Sequential(*layers)

    def fit(self, X, y):
        """Train on ``X`` (float array) and binary ``y`` (1 = positive)."""
        import torch
        from libauc.losses import AUCMLoss, PairwiseAUCLoss
        from libauc.optimizers import PESG

        if self.method not in LIBAUC_METHODS:
            raise ValueError(f"method must be one of {LIBAUC_METHODS}.")
        torch.set_num_threads(self.n_threads)
        torch.manual_seed(self.random_state)
        rng = np.random.default_rng(self.random_state)
        X = torch.as_tensor(np.asarray(X, dtype=np.float32))
        y = np.asarray(y)
        self.classes_ = np.array([0, 1])
        pos = np.flatnonzero(y == 1)
        neg = np.flatnonzero(y == 0)
        n_pos_batch = self.batch_size // 2
        n_neg_batch = self.batch_size - n_pos_batch
        target = torch.cat(
            [torch.ones(n_pos_batch, 1), torch.zeros(n_neg_batch, 1)]
        ).float()

        model = self._build(X.shape[1])
        if self.method == "libauc_pairwise":
            loss_fn = PairwiseAUCLoss(surr_loss="logistic", hparam=1.0)
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
            decay_at = ()
        else:
            loss_fn = AUCMLoss(margin=1.0, device=torch.device("cpu"))
            optimizer = PESG(
                model.parameters(),
                loss_fn=loss_fn,
                lr=0.1,
                momentum=0.9,
                epoch_decay=2e-3,
                weight_decay=1e-4,
                verbose=False,
                device=torch.device("cpu"),
            )
            decay_at = (self.n_steps // 2, (3 * self.n_steps) // 4)

        model.train()
        for step in range(self.n_steps):
            if step in decay_at:
                optimizer.update_regularizer(decay_factor=10)
            batch = np.concatenate(
                [
                    rng.choice(pos, n_pos_batch, replace=len(pos) < n_pos_batch),
                    rng.choice(neg, n_neg_batch, replace=len(neg) < n_neg_batch),
                ]
            )
            scores = torch.sigmoid(model(X[batch]))
            loss = loss_fn(scores, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        self.model_ = model.eval()
        return self

    def decision_function(self, X):
        """Scores (logits of the sigmoid output): higher means more positive."""
        import torch

        with torch.no_grad():
            out = self.model_(torch.as_tensor(np.asarray(X, dtype=np.float32)))
        return out.numpy().ravel().astype(np.float64)
