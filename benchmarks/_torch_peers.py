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
because LibAUC recommends that sampler for its AUC losses.

:func:`torch_pairwise_training` is the speed benchmarks' peer instead: the same
work as one of skpairauc's stochastic steps, timed. Torch is imported lazily so
that this module can be imported without it; whether it imports is
``_harness.peer_status("libauc")``.
"""

from __future__ import annotations

import time

import numpy as np
from _measure import N_NEG_PER_BATCH, N_POS_PER_BATCH
from sklearn.base import BaseEstimator, ClassifierMixin

LIBAUC_METHODS = ("libauc_pairwise", "libauc_aucm_pesg")


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

    def _start(self, X, y):
        """Seed and thread settings, ``classes_``, and what a training loop
        needs: ``X`` as a tensor, ``draw()`` (the row indices of a batch,
        half positives, as DualSampler with rate 0.5) and the batch's
        targets."""
        import torch

        torch.set_num_threads(self.n_threads)
        torch.manual_seed(self.random_state)
        rng = np.random.default_rng(self.random_state)
        y = np.asarray(y)
        self.classes_ = np.array([0, 1])
        pos = np.flatnonzero(y == 1)
        neg = np.flatnonzero(y == 0)
        n_pos_batch = self.batch_size // 2
        n_neg_batch = self.batch_size - n_pos_batch

        def draw():
            return np.concatenate(
                [
                    rng.choice(pos, n_pos_batch, replace=len(pos) < n_pos_batch),
                    rng.choice(neg, n_neg_batch, replace=len(neg) < n_neg_batch),
                ]
            )

        target = torch.cat([torch.ones(n_pos_batch, 1), torch.zeros(n_neg_batch, 1)])
        X = torch.as_tensor(np.asarray(X, dtype=np.float32))
        return X, draw, target.float()

    def fit(self, X, y):
        """Train on ``X`` (float array) and binary ``y`` (1 = positive)."""
        import torch
        from libauc.losses import AUCMLoss, PairwiseAUCLoss
        from libauc.optimizers import PESG

        if self.method not in LIBAUC_METHODS:
            raise ValueError(f"method must be one of {LIBAUC_METHODS}.")
        X, draw, target = self._start(X, y)

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
            batch = draw()
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


def torch_pairwise_training(
    X, y, n_steps: int, impl: str = "libauc", hidden: tuple = (64,), seed: int = 0
) -> dict:
    """Train an MLP with a pairwise AUC loss in PyTorch, one thread.

    The same work as skpairauc's stochastic step: MLP ``d -> hidden -> 1``
    (ReLU), 128 positives and 384 negatives drawn uniformly per step, the
    logistic pairwise loss averaged over all 128 x 384 cross pairs, Adam with
    learning rate 1e-3.  ``impl="libauc"`` uses ``libauc.losses.
    PairwiseAUCLoss(surr_loss="logistic")`` as shipped; ``impl="torch"`` writes
    the same loss with torch ops (no LibAUC), to separate LibAUC's own cost.

    Returns
    -------
    dict
        ``total_s`` (model build + all steps), ``steps_per_s`` (steady state,
        after a short warm-up), ``setup_s``.
    """
    import torch
    from libauc.losses import PairwiseAUCLoss

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    start = time.perf_counter()
    X_t = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    y_t = torch.from_numpy(np.asarray(y, dtype=np.int64))
    pos = torch.nonzero(y_t == 1).squeeze(1)
    neg = torch.nonzero(y_t == 0).squeeze(1)
    layers, width = [], X_t.shape[1]
    for size in hidden:
        layers += [torch.nn.Linear(width, size), torch.nn.ReLU()]
        width = size
    model = torch.nn.Sequential(*layers, torch.nn.Linear(width, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    libauc_loss = PairwiseAUCLoss(surr_loss="logistic")
    setup_s = time.perf_counter() - start

    def step():
        rows = torch.cat(
            [
                pos[torch.randint(len(pos), (N_POS_PER_BATCH,))],
                neg[torch.randint(len(neg), (N_NEG_PER_BATCH,))],
            ]
        )
        scores = model(X_t[rows])
        if impl == "libauc":
            loss = libauc_loss(scores, y_t[rows])
        else:
            s = scores.squeeze(1)
            diff = s[:N_POS_PER_BATCH, None] - s[None, N_POS_PER_BATCH:]
            loss = torch.nn.functional.softplus(-diff).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    warmup = min(20, n_steps // 4)
    for _ in range(warmup):
        step()
    steady_start = time.perf_counter()
    for _ in range(n_steps - warmup):
        step()
    steady_s = time.perf_counter() - steady_start
    return {
        "impl": impl,
        "n_steps": n_steps,
        "setup_s": setup_s,
        "total_s": time.perf_counter() - start,
        "steps_per_s": (n_steps - warmup) / max(steady_s, 1e-9),
        "torch": torch.__version__,
    }
