"""PairwiseAUCClassifier: the estimator that orchestrates the private modules."""

import contextlib
import math
import mmap
import warnings
from numbers import Integral, Real

import jax
import numpy as np
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)
from threadpoolctl import threadpool_limits

from . import _solvers
from ._losses import LOSSES
from ._pairs import (
    bucket_length,
    class_layout,
    draw_uniforms,
    task_classes,
    uniform_sides,
)
from ._scorers import ACTIVATIONS, forward, init_scorer, to_numpy
from ._threshold import THRESHOLD_STRATEGIES, fit_sigmoid, roc_auc, select_threshold

# early_stopping="auto" turns early stopping on for the stochastic solvers above
# this many samples, as HistGradientBoostingClassifier does: there a 10%
# validation split costs little, and the validation ROC AUC, the quantity the
# user cares about, tells when to stop far sooner than a training loss that an
# MLP keeps lowering slowly for many epochs.
EARLY_STOPPING_AUTO_MIN_SAMPLES = 10_000

# "auto" uses the exact solver up to this many positive-negative pairs (summed
# over tasks). One exact gradient costs about n_pairs / 4e8 s on one core here
# (see benchmarks/), so 2**24 pairs is ~40 ms per L-BFGS iteration: a full fit
# in seconds. Beyond it, stochastic steps reach the same AUC far sooner.
AUTO_EXACT_MAX_PAIRS = 2**24


_POPULATE_MIN_BYTES = 1 << 24


def _aligned_empty(shape, dtype, alignment=64):
    """An uninitialised array whose data starts on an ``alignment`` boundary.

    XLA's CPU client aliases a 64-byte aligned NumPy buffer in
    ``jax.device_put`` instead of copying it, so the padded training copy of X
    is the only copy made (measured: +0 MB instead of +400 MB for 1e6 x 100).

    Large buffers are mapped with ``MAP_POPULATE`` where the OS has it (Linux),
    so the kernel provides all pages in one call instead of one page fault per
    4 KiB page during the copy: 0.16 s instead of ~0.4 s for 400 MB here. A
    mapping starts on a page boundary, so it is aligned too.
    """
    n_bytes = math.prod(shape) * np.dtype(dtype).itemsize
    if n_bytes >= _POPULATE_MIN_BYTES and hasattr(mmap, "MAP_POPULATE"):
        flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | mmap.MAP_POPULATE
        # The array holds the mapping; it is unmapped when the array is freed.
        return np.frombuffer(mmap.mmap(-1, n_bytes, flags=flags), dtype).reshape(shape)
    raw = np.empty(n_bytes + alignment, dtype=np.uint8)
    offset = -raw.ctypes.data % alignment
    return raw[offset : offset + n_bytes].view(dtype).reshape(shape)


def _padded_rows(X, rows, n_padded, chunk=65536):
    """``X[rows]`` as float32 in an aligned buffer of ``n_padded`` rows.

    Copies in chunks so no full-size temporary is made (also when ``X`` is
    float64); the padding rows are zero.
    """
    out = _aligned_empty((n_padded, X.shape[1]), np.float32)
    for begin in range(0, len(rows), chunk):
        end = min(begin + chunk, len(rows))
        out[begin:end] = X[rows[begin:end]]
    out[len(rows) :] = 0.0
    return out


def _chunked_forward(params, X, activation, chunk=16384):
    """NumPy scores of ``X`` in row chunks, so hidden activations stay small."""
    return np.concatenate(
        [
            forward(np, params, X[begin : begin + chunk], activation)
            for begin in range(0, max(len(X), 1), chunk)
        ]
    ).astype(np.float64)


def _label(value):
    """A class label as a plain Python value, for error messages."""
    return value.item() if isinstance(value, np.generic) else value


class PairwiseAUCClassifier(ClassifierMixin, BaseEstimator):
    """Classifier trained to maximise ROC AUC with a pairwise ranking loss.

    A scorer (linear, or a multi-layer perceptron) is trained on
    positive-negative pairs to minimise a surrogate of the pairwise ranking
    error ``1[s(x+) <= s(x-)]``, whose mean over all pairs is ``1 - ROC AUC``.
    The default surrogate is the logistic (RankNet) loss
    ``log(1 + exp(-(s(x+) - s(x-))))``. After training, a decision threshold
    is chosen on the scores and a one-dimensional logistic fit maps scores to
    probabilities.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=()
        Widths of the hidden layers of the scorer. ``()`` gives a linear
        scorer ``s(x) = x @ w``; ``(64,)`` an MLP with one hidden layer.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers.
    loss : {"logistic", "squared_hinge", "hinge", "square"}, \
            default="logistic"
        Pairwise surrogate loss of the score difference ``d``; see
        :func:`logistic_pairwise_loss` and its siblings.
    margin : float, default=1.0
        Margin of the "squared_hinge", "hinge" and "square" losses.
    solver : {"auto", "lbfgs", "adam", "sgd"}, default="auto"
        - "lbfgs": the exact objective over all positive-negative pairs,
          computed in tiles, minimised deterministically by optax's L-BFGS.
        - "adam", "sgd": stochastic; each step draws ``n_pos_per_batch``
          positives and ``n_neg_per_batch`` negatives (with probability
          proportional to sample weight), scores each once and averages the
          loss over all cross pairs.
        - "auto": "lbfgs" when the number of pairs is at most ``2**24``
          (about 40 ms per exact gradient on one CPU core) and neither
          ``dropout`` nor ``early_stopping=True`` is asked for; "adam"
          otherwise.
    alpha : float, default=1.0
        Strength of the L2 penalty ``alpha / 2 * ||W||^2`` on the weights (not
        the biases), divided by the total sample weight as in
        :class:`~sklearn.neural_network.MLPClassifier`. On this scale
        ``alpha=1`` is the penalty of ``LogisticRegression(C=1)``; the pairwise
        loss of a linear scorer on separable data otherwise grows the weights
        without bound, so the default is stronger than MLPClassifier's 1e-4.
    n_pos_per_batch : int, default=128
        Positives per task and step of the stochastic solvers.
    n_neg_per_batch : int, default=384
        Negatives per task and step of the stochastic solvers.
    learning_rate_init : float, default=1e-3
        Step size of "adam" and "sgd".
    momentum : float, default=0.9
        Nesterov momentum of "sgd".
    dropout : float, default=0.0
        Fraction of hidden units dropped at each stochastic step.
    max_iter : int, default=200
        "lbfgs": maximum iterations. "adam"/"sgd": maximum epochs, where an
        epoch is ``max(ceil(n_pos / n_pos_per_batch), ceil(n_neg /
        n_neg_per_batch))`` steps (the largest over tasks), so that every
        sample is drawn about once per epoch in expectation, capped at 250
        steps so that large data sets are checked for convergence often.
    tol : float, default=1e-4
        "lbfgs" stops when no gradient entry exceeds ``tol`` in absolute value.
        The stochastic solvers stop when the epoch loss (or, with early
        stopping, the validation ROC AUC) has not improved by at least ``tol``
        for ``n_iter_no_change`` consecutive epochs.
    n_iter_no_change : int, default=10
        Patience of the stochastic solvers, in epochs.
    early_stopping : "auto" or bool, default="auto"
        Hold out ``validation_fraction`` of the training data (stratified),
        score its ROC AUC after every epoch, stop when it has not improved by
        ``tol`` for ``n_iter_no_change`` epochs and keep the best weights. The
        threshold and probability mapping are then fitted on the held-out
        data. Stochastic solvers only. "auto" enables it when the solver is
        stochastic, there are more than 10,000 samples and every class puts
        at least 5 rows in the validation set (as in
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier`).
    validation_fraction : float, default=0.1
        Fraction of each class held out when ``early_stopping=True``.
    threshold : {"balanced_accuracy", "f1", "prior"} or float, \
            default="balanced_accuracy"
        How the decision threshold on the score is chosen (binary problems):

        - "balanced_accuracy": maximise balanced accuracy (Youden's J);
        - "f1": maximise the F1 score of the positive class;
        - "prior": where the Platt-calibrated probability, fitted under the
          training prevalence, crosses 0.5;
        - a float ``t`` in (0, 1): where that calibrated probability crosses
          ``t`` (``"prior"`` is ``t = 0.5``; a small ``t`` flags more
          positives, as screening wants).

        Chosen on the training data, or on the validation data when
        ``early_stopping=True``. Multiclass problems predict the class of
        highest calibrated one-vs-rest probability and ignore this parameter.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, batch sampling, dropout and the validation
        split. An int gives bit-identical models on a given machine.
    verbose : bool, default=False
        Print the loss after each epoch (or the L-BFGS summary).
    warm_start : bool, default=False
        Start from the weights of the previous fit, if the architecture
        matches.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when X has string column names.
    coefs_ : list of ndarray
        Weight matrices of the scorer, ``coefs_[i]`` of shape
        ``(n_units[i], n_units[i + 1])``; the output layer has one column for
        a binary problem and one per class otherwise.
    intercepts_ : list of ndarray
        Bias vectors; the output layer's is zero (a constant cancels in every
        score difference, so it is not learnt).
    threshold_ : float or ndarray of shape (n_classes,)
        Binary: the raw learnt score ``s`` above which ``classes_[1]`` is
        predicted (``s = decision_function(X) / calibration_coef_[0] +
        threshold_``).
        Multiclass: for each class, the raw score at which its one-vs-rest
        probability is 0.5.
    calibration_coef_ : ndarray of shape (n_tasks,)
        Slope ``a`` of the probability map ``sigmoid(a * s + b)``.
    calibration_intercept_ : ndarray of shape (n_tasks,)
        Intercept ``b`` of that map.
    solver_ : str
        The solver used ("lbfgs", "adam" or "sgd").
    early_stopping_ : bool
        Whether early stopping was used.
    n_iter_ : int
        L-BFGS iterations or stochastic epochs run.
    t_ : int
        Optimisation steps taken (L-BFGS iterations, or stochastic steps).
    loss_curve_ : list of float
        Objective at each iteration (lbfgs) or mean batch loss of each epoch.
    best_loss_ : float
        Lowest value of ``loss_curve_``.
    validation_scores_ : list of float or None
        Validation ROC AUC after each epoch (macro one-vs-rest for
        multiclass) when ``early_stopping=True``, else None.
    best_validation_score_ : float or None
        Best of ``validation_scores_``.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : Pointwise cross-entropy training of
        the same kind of network.
    sklearn.model_selection.TunedThresholdClassifierCV : Tune the decision
        threshold by cross-validation.
    sklearn.calibration.CalibratedClassifierCV : Cross-validated calibration.

    Notes
    -----
    **Probabilities.** ``predict_proba`` is ``sigmoid(a * s + b)`` with ``a > 0``
    fitted by weighted maximum likelihood (Platt scaling with Platt's smoothed
    targets) on the data the threshold was chosen on. For binary problems the
    intercept is tied to the threshold, ``b = -a * threshold_``, so that
    ``predict`` equals ``argmax(predict_proba)`` and ``decision_function`` is
    exactly the log-odds ``a * (s - threshold_)``. With ``threshold="prior"``
    ``b`` is fitted freely, so the probabilities are calibrated to the
    training prevalence; for cross-validated calibration wrap the model in
    :class:`~sklearn.calibration.CalibratedClassifierCV`.

    **Multiclass.** One score per class from a shared network; task ``k``
    ranks class ``k`` above the rest, and the objective is the mean over
    tasks, the surrogate of macro one-vs-rest ROC AUC.

    **Sample weights** enter as pair weights ``w_i * w_j``: weighting a row by
    an integer ``k`` gives the same objective as repeating it ``k`` times.

    **Compilation.** Training runs in jitted loops that are compiled once per
    configuration and bucketed data size; set JAX's persistent compilation
    cache (``jax.config.update("jax_compilation_cache_dir", path)``) to reuse
    them across processes. Prediction uses NumPy only.

    References
    ----------
    .. [1] C. Burges et al., "Learning to rank using gradient descent", ICML
       2005 (RankNet).
    .. [2] L. Yan, R. Dodier, M. Mozer, R. Wolniewicz, "Optimizing classifier
       performance via an approximation to the Wilcoxon-Mann-Whitney
       statistic", ICML 2003.
    .. [3] J. Platt, "Probabilistic outputs for support vector machines",
       1999.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.metrics import roc_auc_score
    >>> from sklearn.model_selection import train_test_split
    >>> from skpairauc import PairwiseAUCClassifier
    >>> X, y = make_classification(n_samples=1000, weights=[0.95], random_state=0)
    >>> X_train, X_test, y_train, y_test = train_test_split(
    ...     X, y, stratify=y, random_state=0)
    >>> clf = PairwiseAUCClassifier(random_state=0).fit(X_train, y_train)
    >>> clf.solver_
    'lbfgs'
    >>> auc = roc_auc_score(y_test, clf.decision_function(X_test))
    >>> print(f"test ROC AUC: {auc:.3f}")
    test ROC AUC: 0.935
    >>> clf.predict_proba(X_test[:2]).round(3)
    array([[0.001, 0.999],
           [1.   , 0.   ]])
    """

    _parameter_constraints = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "loss": [StrOptions(set(LOSSES))],
        "margin": [Interval(Real, 0, None, closed="neither")],
        "solver": [StrOptions({"auto", "lbfgs", "adam", "sgd"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "n_pos_per_batch": [Interval(Integral, 1, None, closed="left")],
        "n_neg_per_batch": [Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "threshold": [
            StrOptions(set(THRESHOLD_STRATEGIES)),
            Interval(Real, 0, 1, closed="neither"),
        ],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        hidden_layer_sizes=(),
        activation="relu",
        *,
        loss="logistic",
        margin=1.0,
        solver="auto",
        alpha=1.0,
        n_pos_per_batch=128,
        n_neg_per_batch=384,
        learning_rate_init=1e-3,
        momentum=0.9,
        dropout=0.0,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping="auto",
        validation_fraction=0.1,
        threshold="balanced_accuracy",
        random_state=None,
        verbose=False,
        warm_start=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.margin = margin
        self.solver = solver
        self.alpha = alpha
        self.n_pos_per_batch = n_pos_per_batch
        self.n_neg_per_batch = n_neg_per_batch
        self.learning_rate_init = learning_rate_init
        self.momentum = momentum
        self.dropout = dropout
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.threshold = threshold
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the scorer on positive-negative pairs, then pick the threshold.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; dense, finite. Not modified.
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights; pair ``(i, j)`` weighs ``w_i * w_j``.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        hidden = self._validated_hidden_layer_sizes()
        X, y = validate_data(
            self, X, y, dtype=[np.float64, np.float32], ensure_min_samples=2
        )
        check_classification_targets(y)
        classes, y_encoded = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                "PairwiseAUCClassifier needs samples of at least 2 classes to form "
                "positive-negative pairs; y contains only the class "
                f"{_label(classes[0])!r}."
            )
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        class_weight = np.bincount(
            y_encoded, weights=sample_weight, minlength=len(classes)
        )
        if np.any(class_weight <= 0):
            raise ValueError(
                "Every class needs a positive total sample_weight; class "
                f"{_label(classes[np.argmin(class_weight)])!r} has total weight 0."
            )
        solver = self._resolve_solver(y_encoded, len(classes))
        if (
            self.warm_start
            and hasattr(self, "classes_")
            and not np.array_equal(classes, self.classes_)
        ):
            raise ValueError(
                f"warm_start=True needs the same classes as the previous fit: "
                f"{self.classes_!r} != {classes!r}."
            )
        self.classes_ = classes
        self.solver_ = solver
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        train, held_out = np.arange(len(y)), None
        if self.early_stopping is True:
            train, held_out = self._validation_split(y_encoded, seed)
        elif (
            self.early_stopping == "auto"
            and solver != "lbfgs"
            and len(y) > EARLY_STOPPING_AUTO_MIN_SAMPLES
        ):
            split = self._validation_split(y_encoded, seed)
            if np.bincount(y_encoded[split[1]], minlength=len(classes)).min() >= 5:
                train, held_out = split
        self.early_stopping_ = held_out is not None

        # One generator for the initial weights, the shuffle and the batches.
        rng = np.random.default_rng(seed)
        params = self._initial_params(rng, hidden, X.shape[1], len(classes))
        if solver == "lbfgs":
            params = self._fit_exact(params, X, y_encoded, sample_weight, train)
        else:
            params = self._fit_stochastic(
                params, X, y_encoded, sample_weight, train, held_out, seed, rng
            )
        self.coefs_ = params["coefs"]
        n_outputs = self.coefs_[-1].shape[1]
        self.intercepts_ = [*params["intercepts"], np.zeros(n_outputs, np.float32)]

        if held_out is None:  # X itself, not X[arange(n)]: no copy of X
            self._fit_decision(X, y_encoded, sample_weight)
        else:
            self._fit_decision(
                X[held_out], y_encoded[held_out], sample_weight[held_out]
            )
        return self

    def _validated_hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
        if not all(isinstance(s, Integral) and s > 0 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must be a sequence of positive integers (or () "
                f"for a linear scorer), got {self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    def _resolve_solver(self, y_encoded, n_classes):
        stochastic_only = [
            name
            for name, used in (
                ("dropout", self.dropout > 0),
                ("early_stopping", self.early_stopping is True),
            )
            if used
        ]
        if self.solver == "lbfgs" and stochastic_only:
            raise ValueError(
                f"{' and '.join(stochastic_only)} need(s) a stochastic solver "
                "('adam' or 'sgd'); solver='lbfgs' optimises the exact objective."
            )
        if self.solver != "auto":
            return self.solver
        counts = np.bincount(y_encoded, minlength=n_classes).astype(np.float64)
        n_pairs = sum(
            counts[c] * (counts.sum() - counts[c]) for c in task_classes(n_classes)
        )
        if n_pairs <= AUTO_EXACT_MAX_PAIRS and not stochastic_only:
            return "lbfgs"
        return "adam"

    def _validation_split(self, y_encoded, seed):
        """Hold out ``validation_fraction`` of each class (at least one row of
        each class stays in training)."""
        rng = np.random.RandomState(seed)
        held_out = []
        for c in range(len(self.classes_)):
            members = rng.permutation(np.flatnonzero(y_encoded == c))
            n_val = min(
                int(round(self.validation_fraction * len(members))), len(members) - 1
            )
            held_out.append(members[:n_val])
        held_out = np.sort(np.concatenate(held_out))
        if len(np.unique(y_encoded[held_out])) < 2:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves fewer than 2 "
                "classes in the validation set, so its ROC AUC is undefined; raise "
                "validation_fraction or set early_stopping=False."
            )
        in_training = np.ones(len(y_encoded), dtype=bool)
        in_training[held_out] = False
        return np.flatnonzero(in_training), held_out

    def _initial_params(self, rng, hidden, n_features, n_classes):
        """NumPy float32 parameters: new ones, or copies of the fitted ones."""
        n_outputs = 1 if n_classes == 2 else n_classes
        if self.warm_start and hasattr(self, "coefs_"):
            shapes = [W.shape for W in self.coefs_]
            sizes = [n_features, *hidden, n_outputs]
            if shapes == list(zip(sizes[:-1], sizes[1:])):
                # Copies: the stochastic solver donates its input buffers,
                # which may alias the NumPy memory they were made from.
                return {
                    "coefs": [np.array(W, np.float32) for W in self.coefs_],
                    "intercepts": [
                        np.array(b, np.float32) for b in self.intercepts_[:-1]
                    ],
                }
        return init_scorer(rng, n_features, hidden, n_outputs, self.activation)

    def _fit_exact(self, params, X, y_encoded, sample_weight, train):
        n_classes = len(self.classes_)
        y_train, w_train = y_encoded[train], sample_weight[train]
        tasks = task_classes(n_classes)
        n_rows = bucket_length(len(train))
        X_dev = jax.device_put(_padded_rows(X, train, n_rows))
        pos_rows = [np.flatnonzero(y_train == c) for c in tasks]
        neg_rows = [np.flatnonzero(y_train != c) for c in tasks]
        n_pos = bucket_length(max(map(len, pos_rows)))
        n_neg = bucket_length(max(map(len, neg_rows)))

        def pad(row_lists, length):
            idx = np.zeros((len(tasks), length), np.int32)
            w = np.zeros((len(tasks), length), np.float32)
            for t, rows in enumerate(row_lists):
                idx[t, : len(rows)], w[t, : len(rows)] = rows, w_train[rows]
            return idx, w

        pos_idx, pos_w = pad(pos_rows, n_pos)
        neg_idx, neg_w = pad(neg_rows, n_neg)
        pair_norm = (pos_w.astype(np.float64).sum(1) * neg_w.sum(1)).astype(np.float32)
        config = _solvers.ExactConfig(
            activation=self.activation,
            loss=self.loss,
            margin=float(self.margin),
            # At least 256 so that common max_iter values share one compile.
            history_length=max(256, 1 << (self.max_iter - 1).bit_length()),
        )
        params, n_iter, history = _solvers.run_lbfgs(
            params,
            X_dev,
            (pos_idx, pos_w, neg_idx, neg_w, pair_norm),
            np.float32(self.alpha / w_train.sum()),
            np.int32(self.max_iter),
            np.float32(self.tol),
            config,
        )
        X_dev.delete()  # free the padded copy of X now, not at garbage collection
        self.n_iter_ = self.t_ = int(n_iter)
        self.loss_curve_ = [float(v) for v in np.asarray(history)[: self.n_iter_]]
        self.best_loss_ = min(self.loss_curve_)
        self.validation_scores_ = self.best_validation_score_ = None
        if self.verbose:
            print(
                f"L-BFGS: {self.n_iter_} iterations, loss = {self.loss_curve_[-1]:.8f}"
            )
        if self.n_iter_ >= self.max_iter:
            warnings.warn(
                f"L-BFGS reached max_iter={self.max_iter} before converging; "
                "increase max_iter or tol.",
                ConvergenceWarning,
            )
        return to_numpy(params)

    def _fit_stochastic(
        self, params, X, y_encoded, sample_weight, train, held_out, seed, rng
    ):
        n_classes = len(self.classes_)
        y_train, w_train = y_encoded[train], sample_weight[train]
        uniform = uniform_sides(y_train, w_train, n_classes)
        tasks = task_classes(n_classes)
        n_rows = bucket_length(len(train))
        config = _solvers.StochasticConfig(
            activation=self.activation,
            loss=self.loss,
            margin=float(self.margin),
            n_pos_per_batch=int(self.n_pos_per_batch),
            n_neg_per_batch=int(self.n_neg_per_batch),
            optimizer=self.solver_,
            momentum=float(self.momentum),
            dropout=float(self.dropout),
            uniform_weights=uniform,
        )
        # XLA compiles the training loop while NumPy lays out the data.
        compiling = _solvers.compile_ahead(params, n_rows, len(tasks), config)
        # Windows of consecutive rows need the rows shuffled within each class.
        order, bounds, cum_weight = class_layout(
            y_train, w_train, n_classes, rng if uniform else None
        )
        task_bounds = bounds[tasks].astype(np.int32)
        X_dev = jax.device_put(_padded_rows(X, train[order], n_rows))
        cum_dev = np.full(n_rows, cum_weight[-1], np.float32)
        cum_dev[: len(cum_weight)] = cum_weight
        counts = bounds[:, 1] - bounds[:, 0]
        steps = min(
            _solvers.MAX_STEPS_PER_EPOCH,
            max(
                max(
                    math.ceil(counts[c] / self.n_pos_per_batch),
                    math.ceil((len(y_train) - counts[c]) / self.n_neg_per_batch),
                )
                for c in tasks
            ),
        )
        compiling.result()
        params = jax.device_put(params)
        opt_state = _solvers.init_optimizer_state(params, config)
        lr = np.float32(self.learning_rate_init)
        reg = np.float32(self.alpha / w_train.sum())

        self.loss_curve_, self.t_ = [], 0
        self.validation_scores_ = [] if held_out is not None else None
        best, best_params, no_improvement = np.inf, None, 0
        if held_out is not None:  # copied once, not at every epoch
            validation = X[held_out], y_encoded[held_out], sample_weight[held_out]

        def start_epoch(epoch):
            # Asynchronous: returns while XLA still runs the epoch.
            nonlocal params, opt_state
            draws = draw_uniforms(
                rng,
                _solvers.MAX_STEPS_PER_EPOCH,
                len(tasks),
                config.n_pos_per_batch,
                config.n_neg_per_batch,
                uniform,
            )
            params, opt_state, loss = _solvers.run_epoch(
                params,
                opt_state,
                draws,
                np.int32(seed),
                np.int32(epoch),
                X_dev,
                cum_dev,
                task_bounds,
                np.int32(len(train)),
                lr,
                reg,
                np.int32(steps),
                config,
            )
            return loss

        # With a validation set, NumPy scores it on the main thread while XLA
        # trains: one BLAS thread keeps the two from fighting over the cores
        # (an MLP's validation pass took 50 ms with 2 BLAS threads and 26 ms
        # with one while XLA was busy, on 2 cores).
        one_blas_thread = (
            threadpool_limits(1, user_api="blas")
            if held_out is not None
            else contextlib.nullcontext()
        )
        with one_blas_thread:
            loss = start_epoch(1)
            for epoch in range(1, self.max_iter + 1):
                self.loss_curve_.append(float(loss))  # waits for the epoch to end
                self.t_ += steps
                if held_out is not None:
                    snapshot = to_numpy(params)
                    if epoch < self.max_iter:
                        # Start the next epoch before validating this one: the
                        # validation AUC is computed in NumPy while XLA trains, on
                        # another core if there is one. If the stopping rule ends
                        # the fit here, that epoch is discarded.
                        loss = start_epoch(epoch + 1)
                    score = self._validation_auc(snapshot, *validation)
                    self.validation_scores_.append(score)
                    criterion = -score
                else:
                    snapshot, criterion = None, self.loss_curve_[-1]
                if self.verbose:
                    extra = (
                        "" if held_out is None else f", validation AUC = {score:.6f}"
                    )
                    print(
                        f"Iteration {epoch}, loss = {self.loss_curve_[-1]:.8f}{extra}"
                    )
                if not np.isfinite(self.loss_curve_[-1]):
                    raise FloatingPointError(
                        f"The training loss diverged at epoch {epoch}; lower "
                        f"learning_rate_init (now {self.learning_rate_init})."
                    )
                if criterion > best - self.tol:
                    no_improvement += 1
                else:
                    no_improvement = 0
                if criterion < best:
                    best, best_params = criterion, snapshot
                if no_improvement >= self.n_iter_no_change:
                    break
                if held_out is None and epoch < self.max_iter:
                    loss = start_epoch(epoch + 1)
            else:
                warnings.warn(
                    f"Stochastic optimizer: maximum iterations ({self.max_iter}) "
                    "reached and the optimization has not converged yet.",
                    ConvergenceWarning,
                )
        # Free the padded copy of X now, not at garbage collection, once no
        # discarded epoch uses it any more.
        jax.block_until_ready(loss)
        X_dev.delete()
        self.n_iter_ = epoch
        self.best_loss_ = min(self.loss_curve_)
        if held_out is not None:
            self.best_validation_score_ = max(self.validation_scores_)
            return best_params
        self.best_validation_score_ = None
        return to_numpy(params)

    def _validation_auc(self, params, X, y_encoded, sample_weight):
        scores = _chunked_forward(params, X, self.activation)
        if len(self.classes_) == 2:
            return roc_auc(scores[:, 0], y_encoded, sample_weight)
        present = [
            c
            for c in range(len(self.classes_))
            if 0 < np.sum(y_encoded == c) < len(y_encoded)
        ]
        return float(
            np.mean(
                [roc_auc(scores[:, c], y_encoded == c, sample_weight) for c in present]
            )
        )

    def _fit_decision(self, X, y_encoded, sample_weight):
        """Choose the threshold and the score-to-probability map."""
        scores = self._raw_scores(X)
        if len(self.classes_) == 2:
            s, y01 = scores[:, 0], (y_encoded == 1).astype(np.float64)
            if isinstance(self.threshold, str):
                threshold = select_threshold(s, y01, sample_weight, self.threshold)
            else:
                # The score where the prevalence-calibrated probability is t.
                a, b = fit_sigmoid(s, y01, sample_weight)
                threshold = float((logit(self.threshold) - b) / a)
            slope, _ = fit_sigmoid(s, y01, sample_weight, threshold=threshold)
            self.threshold_ = threshold
            self.calibration_coef_ = np.array([slope])
            self.calibration_intercept_ = np.array([-slope * threshold])
            return
        fits = [
            fit_sigmoid(
                scores[:, c], (y_encoded == c).astype(np.float64), sample_weight
            )
            for c in range(len(self.classes_))
        ]
        self.calibration_coef_ = np.array([a for a, _ in fits])
        self.calibration_intercept_ = np.array([b for _, b in fits])
        self.threshold_ = -self.calibration_intercept_ / self.calibration_coef_

    # ------------------------------------------------------------ predict
    def _raw_scores(self, X):
        params = {"coefs": self.coefs_, "intercepts": self.intercepts_[:-1]}
        return _chunked_forward(params, X, self.activation)

    def decision_function(self, X):
        """Log-odds of the positive class (binary) or of each class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Binary: ``a * (s(x) - threshold_)``, increasing in the learnt
            score ``s``; positive means ``classes_[1]`` is predicted.
            Multiclass: the one-vs-rest log-odds of each class.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        logits = (
            self._raw_scores(X) * self.calibration_coef_ + self.calibration_intercept_
        )
        return logits[:, 0] if len(self.classes_) == 2 else logits

    def predict_proba(self, X):
        """Class probabilities from the fitted logistic map of the scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to 1. Binary: ``[1 - p, p]`` with
            ``p = sigmoid(decision_function(X))``. Multiclass: the one-vs-rest
            probabilities, normalised.
        """
        logits = self.decision_function(X)
        if len(self.classes_) == 2:
            p = expit(logits)
            return np.column_stack([1.0 - p, p])
        proba = expit(logits)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Binary: ``classes_[1]`` where ``decision_function(X) > 0``.
            Multiclass: the class of largest ``decision_function``.
        """
        logits = self.decision_function(X)
        if len(self.classes_) == 2:
            return self.classes_[(logits > 0).astype(int)]
        return self.classes_[np.argmax(logits, axis=1)]
