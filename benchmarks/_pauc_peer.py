"""The LibAUC peer of ``bench_pauc.py``: one-way partial AUC with SOPA-s.

The same PyTorch MLP as ``_torch_peers.TorchAUCMLP`` (ReLU hidden layers,
sigmoid outputs, the same DualSampler-like batches: half positives, drawn
with replacement when a class has fewer rows than its half), trained with
LibAUC's one-way pAUC loss and the optimizer LibAUC pairs with it:

* ``libauc.losses.pAUC_DRO_Loss(data_len=n_train, gamma=0.9, margin=1.0,
  Lambda=1.0, surr_loss="squared_hinge")`` (the KL-DRO formulation of
  Zhu et al., ICML 2022); the loss keeps a moving average ``u`` per training
  positive, so each batch passes the training-set index of its rows;
* ``libauc.optimizers.SOPAs(params, lr=1e-3, mode="adam", weight_decay=1e-5)``
  (its other arguments at their defaults: gradient clipping at 2.0).

Where the settings come from (libauc 2.0.1 as installed):

* ``gamma``, ``margin``, ``Lambda``, ``lr``, ``weight_decay`` and
  ``mode="adam"``: ``libauc/trainer/config/spaces.py``,
  ``pAUC_DRO_LossSpace`` (the defaults LibAUC's own trainer uses for this
  loss: gamma 0.9, margin 1.0, Lambda 1.0; SOPAs lr 1e-3, weight decay 1e-5),
  which are also the signatures' defaults and the docstring example
  (``pAUC_DRO_Loss(data_len=..., gamma=0.9, Lambda=1.0)``,
  ``SOPAs(model.parameters(), lr=1e-3, mode='adam')``);
* the schedule: LibAUC's SOPA-s tutorial
  (``examples/11_Optimizing_pAUC_Loss_with_SOPAs_on_Imbalanced_data``)
  divides the learning rate by 10 at 1/3 and 2/3 of training (epochs 20 and
  40 of 60, ``optimizer.update_lr(decay_factor=10)``); here at steps 333
  and 666 of 1,000 (``decay_fractions``; done on ``param_groups``, which is
  all ``update_lr`` does, without its print). That tutorial trains on
  sigmoid outputs, as here, from a random initialisation: no cross-entropy
  pre-training, so the whole budget is the pAUC loss's. (The tutorial's
  gamma 0.1 and weight decay 5e-4 for a ResNet-18 on CIFAR-10 differ from the
  installed package's defaults; the package's defaults are used.)

The budget is the KEEL benchmark's for its LibAUC peers: 1,000 steps of 128
rows, one torch thread. Torch and LibAUC are imported inside ``fit``.
"""

from __future__ import annotations

from _torch_peers import TorchAUCMLP

#: The settings above, for the report.
SETTINGS = {
    "gamma": 0.9,
    "margin": 1.0,
    "Lambda": 1.0,
    "surr_loss": "squared_hinge",
    "lr": 1e-3,
    "mode": "adam",
    "weight_decay": 1e-5,
    "lr_decay": "/10 at 1/3 and 2/3 of the steps",
}


class TorchPAUCMLP(TorchAUCMLP):
    """PyTorch MLP trained with ``pAUC_DRO_Loss`` + ``SOPAs`` (see the module).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(64,)
    n_steps : int, default=1000
        Optimisation steps.
    batch_size : int, default=128
        Rows per step, half of them positives.
    random_state : int, default=0
    n_threads : int, default=1
        ``torch.set_num_threads`` for the fit.
    decay_fractions : tuple of float, default=(1/3, 2/3)
        Fractions of ``n_steps`` at which the learning rate is divided by 10
        (the tutorial's schedule; ``()``: a constant learning rate).
    """

    def __init__(
        self,
        hidden_layer_sizes=(64,),
        n_steps=1000,
        batch_size=128,
        random_state=0,
        n_threads=1,
        decay_fractions=(1 / 3, 2 / 3),
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.n_steps = n_steps
        self.batch_size = batch_size
        self.random_state = random_state
        self.n_threads = n_threads
        self.decay_fractions = decay_fractions

    def fit(self, X, y):
        """Train on ``X`` (float array) and binary ``y`` (1 = positive)."""
        import torch
        from libauc.losses import pAUC_DRO_Loss
        from libauc.optimizers import SOPAs

        X, draw, target = self._start(X, y)

        cpu = torch.device("cpu")
        model = self._build(X.shape[1])
        loss_fn = pAUC_DRO_Loss(
            data_len=len(X),
            gamma=SETTINGS["gamma"],
            margin=SETTINGS["margin"],
            Lambda=SETTINGS["Lambda"],
            surr_loss=SETTINGS["surr_loss"],
            device=cpu,
        )
        optimizer = SOPAs(
            model.parameters(),
            lr=SETTINGS["lr"],
            mode=SETTINGS["mode"],
            weight_decay=SETTINGS["weight_decay"],
            verbose=False,
            device=cpu,
        )
        decay_at = {int(f * self.n_steps) for f in self.decay_fractions} - {0}

        model.train()
        for step in range(self.n_steps):
            if step in decay_at:
                for group in optimizer.param_groups:
                    group["lr"] /= 10.0
            batch = draw()
            scores = torch.sigmoid(model(X[batch]))
            # The rows' indices in the training set: the loss's moving
            # average belongs to each training positive.
            loss = loss_fn(scores, target, torch.as_tensor(batch))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        self.model_ = model.eval()
        return self
