"""PairwiseAUCClassifier: the estimator, a short sequence of stages.

``fit`` reads as: validate the inputs (:mod:`._validation`) -> resolve the
policy: solver, validation split (:mod:`._policy`) -> initial weights
(:mod:`._scorers`) -> train: lay out the data and run a solver, which returns a
result (:mod:`._training`, and :mod:`._capacity` for the default's choice of
scorer; the only stage that imports JAX) -> fit the decision: threshold and
probability map (:mod:`._threshold`) -> set every fitted attribute, in one
place. A failure at any stage leaves the estimator as it was before the call.
"""

from numbers import Integral, Real

import numpy as np
from scipy.special import expit, log_expit, logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._capacity import Candidate, candidates, select_and_train
from ._device import resolve_batch
from ._fork import check_not_forked_after_jax, note_jax_started
from ._losses import LOSSES
from ._optimizers import EXACT_SOLVERS, OPTIMIZERS
from ._policy import resolve_policy
from ._scorers import ACTIVATIONS, score_rows
from ._stream import StreamingMixin
from ._threads import fit_workers, one_blas_thread
from ._threshold import THRESHOLD_STRATEGIES, fit_decision
from ._validation import (
    validate_fit_inputs,
    validated_data,
    validated_hidden_layer_sizes,
    warn_about_the_data,
)


def _normalised_log_proba(logits):
    """Multiclass: the one-vs-rest log-probabilities, normalised in log space,
    so that logits far below 0 in every column still give finite values."""
    log_proba = log_expit(logits)
    return log_proba - logsumexp(log_proba, axis=1, keepdims=True)


class PairwiseAUCClassifier(StreamingMixin, ClassifierMixin, BaseEstimator):
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
    hidden_layer_sizes : "auto" or array-like of int, default="auto"
        Widths of the hidden layers of the scorer. ``()`` gives a linear
        scorer ``s(x) = x @ w``; ``(64,)`` an MLP with one hidden layer.
        "auto" chooses between a linear scorer and an MLP (64,) (and, with
        ``alpha="auto"``, the penalty) on the training data: by
        cross-validated ROC AUC, or on large data by the validation ROC AUC
        of their first epochs (see :ref:`defaults`). With more than 4,096
        features (text, one-hot columns of many levels) only linear scorers
        are tried. The choice is in ``hidden_layer_sizes_``, ``alpha_`` and
        ``capacity_scores_``. Its cost: 12 fold fits (24 when a class has
        under 200 rows) and a refit up to ``2**24`` pairs; two stochastic
        fits racing beyond; measured against gradient boosting in
        :ref:`defaults`.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers.
    loss : {"logistic", "squared_hinge", "hinge", "square"}, \
            default="logistic"
        Pairwise surrogate loss of the score difference ``d``; see
        :func:`logistic_pairwise_loss` and its siblings.
        The "square", "squared_hinge" and "hinge" losses are summed over all
        pairs exactly in ``O(n log n)`` (one sort of the scores, see
        :ref:`sorted_losses`), so their exact solver scales to millions of
        rows.
    margin : float, default=1.0
        Margin of the "squared_hinge", "hinge" and "square" losses.
    max_fpr : float in (0, 1] or None, default=None
        Train for the one-way partial ROC AUC over false-positive rates
        ``[0, max_fpr]`` (``roc_auc_score(..., max_fpr=max_fpr)``): half of
        the objective is the mean loss over the pairs of the negatives that
        score highest (the top ``max_fpr`` of them, chosen exactly at each
        L-BFGS iteration, or within each batch for the stochastic solvers),
        half the full all-pairs mean. The capacity choice and early stopping
        then read the standardised partial AUC. None: the full ROC AUC. See
        :ref:`partial_auc`.
    solver : {"auto", "lbfgs", "adam", "sgd"}, default="auto"
        - "lbfgs": the exact objective over all positive-negative pairs,
          minimised deterministically by L-BFGS. On a CPU, NumPy sums each
          task's pairs: over the pair matrix up to ``512 * 512`` pairs, by
          one sort (the sort-based losses, exact) or on a lattice of scores
          (the logistic loss, to about 1e-6 of the sum) beyond, so an
          iteration costs ``O(n)``; on a GPU, a compiled program sums them
          in tiles (see :ref:`training`).
        - "adam", "sgd": stochastic; each step draws ``n_pos_per_batch``
          positives and ``n_neg_per_batch`` negatives (with probability
          proportional to sample weight), scores each once and averages the
          loss over all cross pairs.
        - "auto": "lbfgs" when the number of pairs is at most ``2**24`` on
          a CPU (``2**28`` on a GPU: where an exact fit takes seconds), or
          the rows are at most ``2**22`` for a linear scorer
          (``hidden_layer_sizes=()``, or "auto" on data too wide for the
          MLP) on a CPU or with a sort-based loss ("square",
          "squared_hinge", "hinge"; ``2**15`` rows for an MLP); and neither
          ``dropout`` nor ``early_stopping=True`` is asked for. "adam"
          otherwise.
    alpha : "auto" or float, default="auto"
        Strength of the L2 penalty ``alpha / 2 * ||W||^2`` on the weights (not
        the biases) of the scorer on standardised features, divided by the
        total sample weight (the number of rows when unweighted), as in
        :class:`~sklearn.linear_model.LogisticRegression`: ``alpha=1`` is the
        penalty of ``LogisticRegression(C=1)`` on standardised data. "auto":
        chosen with the scorer when ``hidden_layer_sizes="auto"``, else 1.0.
    n_pos_per_batch : "auto" or int, default="auto"
        Positives per task and step of the stochastic solvers. "auto": the
        device's (128 on a CPU, 1,024 on a GPU; see :ref:`gpu`).
    n_neg_per_batch : "auto" or int, default="auto"
        Negatives per task and step of the stochastic solvers. "auto": the
        device's (384 on a CPU, 4,096 on a GPU).
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
        Fraction of each class held out when ``early_stopping=True``. The
        validation ROC AUC read after every epoch uses at most 20,000 of a
        class's held-out rows (a uniform sample); the threshold is fitted on
        all of them.
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
    n_jobs : int, default=None
        Workers (threads) for the fits of the capacity selection of
        ``hidden_layer_sizes="auto"``. None uses the cores available to the
        process, as :class:`~sklearn.ensemble.HistGradientBoostingClassifier`'s
        threads do; inside a joblib worker (``GridSearchCV(n_jobs=k)``) that
        is the worker's share of the cores. On small data (rows times
        features plus 64 under 100,000) None means one thread, which is
        faster there. ``-1`` means all cores, as in joblib.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, batch sampling, dropout and the validation
        split. An int gives bit-identical models on a given machine.
    verbose : bool, default=False
        Print the loss after each epoch (or the L-BFGS summary), and each
        capacity-selection fit's candidate, fold, time and held-out AUC.
    warm_start : bool, default=False
        Start from the weights of the previous fit, if the architecture
        matches.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    hidden_layer_sizes_ : tuple of int
        The scorer trained: the parameter, or the one "auto" chose.
    alpha_ : float
        The penalty used: the parameter, or the one "auto" chose.
    capacity_candidates_ : list of (tuple, float) or None
        The ``(hidden_layer_sizes, alpha)`` pairs "auto" chose among, in order
        of preference (ties on both scores go to the earlier); None without a
        choice.
    capacity_scores_ : ndarray of shape (n_candidates,) or None
        Their mean cross-validated ROC AUC (on large data: their best
        validation ROC AUC over the selection epochs); None without a choice,
        or when a class has too few rows to be split into 3 folds (then the
        first candidate is used). NaN for a candidate left unscored by a
        Ctrl-C (see :ref:`defaults`).
    capacity_fold_scores_ : ndarray of shape (n_folds, n_candidates) or None
        The held-out ROC AUC of each candidate on each cross-validation fold
        (3 folds, or 6 when repeated; NaN where a Ctrl-C stopped the fold
        fits); None without cross-validation (no choice, or the large-data
        selection by validation ROC AUC).
    capacity_fold_soft_scores_ : ndarray of shape (n_folds, n_candidates) or None
        The same folds' soft ROC AUC: the mean over held-out positive-negative
        pairs of ``sigmoid((s+ - s-) / spread)``, ``spread`` the standard
        deviation of the held-out scores (macro one-vs-rest for multiclass).
        Among candidates whose mean ROC AUC ties, the best mean of these wins
        (then the earlier); None when ``capacity_fold_scores_`` is.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when X has string column names.
    coefs_ : list of ndarray
        Weight matrices of the scorer on raw inputs (float64: the internal
        standardisation is folded into the first layer), ``coefs_[i]`` of shape
        ``(n_units[i], n_units[i + 1])``; the output layer has one column for
        a binary problem and one per class otherwise.
    intercepts_ : list of ndarray
        Bias vectors; the output layer's is zero (a constant cancels in every
        score difference, so it is not learnt; for a linear scorer the
        standardisation's constant shift is dropped with it).
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
        lbfgs: the objective at the initial weights and after each iteration
        (``n_iter_ + 1`` values). Stochastic solvers: the mean batch loss of
        each epoch (``n_iter_`` values).
    best_loss_ : float
        Lowest value of ``loss_curve_``.
    validation_scores_ : list of float or None
        Validation ROC AUC after each epoch (macro one-vs-rest for
        multiclass; on at most 20,000 held-out rows of each class) when
        early stopping was used, else None.
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

    **Raw features.** Features are standardised inside ``fit`` (weighted, in
    float64) and the transform is folded into ``coefs_`` and ``intercepts_``.

    **Sample weights** are repeated rows, as in scikit-learn: a row of weight
    ``k`` trains as ``k`` copies of it (pair weights ``w_i * w_j``, the
    penalty over the total weight, the threshold and probability map). The
    stochastic solvers match repetition in distribution only.

    **Threads and compilation.** During ``fit`` NumPy's BLAS runs on one
    thread. Compiled programs are kept in memory and on disk (see
    :ref:`compilation`); importing, unpickling and predicting need no JAX.

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
    >>> clf.solver_, clf.hidden_layer_sizes_, clf.alpha_
    ('lbfgs', (64,), 1.0)
    >>> auc = roc_auc_score(y_test, clf.decision_function(X_test))
    >>> print(f"test ROC AUC: {auc:.3f}")
    test ROC AUC: 0.927
    >>> clf.predict_proba(X_test[:2]).round(3)
    array([[0.177, 0.823],
           [1.   , 0.   ]])
    """

    _parameter_constraints = {
        "hidden_layer_sizes": [
            StrOptions({"auto"}),
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "loss": [StrOptions(set(LOSSES))],
        "margin": [Interval(Real, 0, None, closed="neither")],
        "max_fpr": [None, Interval(Real, 0, 1, closed="right")],
        "solver": [StrOptions({"auto", *EXACT_SOLVERS, *OPTIMIZERS})],
        "alpha": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
        "n_pos_per_batch": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "n_neg_per_batch": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
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
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        hidden_layer_sizes="auto",
        activation="relu",
        *,
        loss="logistic",
        margin=1.0,
        max_fpr=None,
        solver="auto",
        alpha="auto",
        n_pos_per_batch="auto",
        n_neg_per_batch="auto",
        learning_rate_init=1e-3,
        momentum=0.9,
        dropout=0.0,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping="auto",
        validation_fraction=0.1,
        threshold="balanced_accuracy",
        n_jobs=None,
        random_state=None,
        verbose=False,
        warm_start=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.margin = margin
        self.max_fpr = max_fpr
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
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the scorer on positive-negative pairs, then pick the threshold.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, finite; dense, or any SciPy sparse format (never
            densified). Not modified.
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative, finite row weights: a weight ``k`` counts as ``k``
            repeated rows.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        return self._all_or_nothing(self._fit, X, y, sample_weight)

    def _all_or_nothing(self, work, *args):
        """Set the fitted attributes that ``work(*args)`` returns, or, if it
        fails, leave the estimator as it was (validate_data sets
        ``n_features_in_`` early: everything is put back)."""
        state = dict(self.__dict__)
        try:
            fitted = work(*args)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(state)
            raise
        self.__dict__.update(fitted)
        return self

    def _fit(self, X, y, sample_weight):
        """The stages of ``fit``; returns the fitted attributes as a dict."""
        auto = isinstance(self.hidden_layer_sizes, str)
        hidden = None if auto else validated_hidden_layer_sizes(self.hidden_layer_sizes)
        inputs = validate_fit_inputs(self, X, y, sample_weight)
        warm = self.warm_start and hasattr(self, "classes_")
        if warm and not np.array_equal(inputs.classes, self.classes_):
            raise ValueError(
                f"warm_start=True needs the same classes as the previous fit: "
                f"{self.classes_!r} != {inputs.classes!r}."
            )
        settings = self.get_params()
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        grid = candidates(
            self.hidden_layer_sizes, self.alpha, hidden, inputs.X.shape[1]
        )
        if warm and auto:  # continue the previously selected scorer
            grid = [Candidate(self.hidden_layer_sizes_, self.alpha_)]
        if not any(c.hidden for c in grid):  # linear only: solved as such
            settings["hidden_layer_sizes"] = ()
        policy = resolve_policy(
            settings, inputs.y_encoded, inputs.n_classes, seed, inputs.sample_weight
        )
        settings = resolve_batch(settings, policy.solver != "lbfgs")
        warn_about_the_data(inputs, self.threshold)
        # JAX is imported by the solvers (_exact, _stochastic) where a fit
        # compiles or runs a program.
        from . import _training

        if not _training.runs_without_jax(inputs, policy, self.loss):
            check_not_forked_after_jax()
            note_jax_started()

        fits = _training.CandidateFits(settings, seed, self.activation, self.__dict__)
        # Verbose fits print in order, from one thread.
        n_jobs = 1 if self.verbose else fit_workers(self.n_jobs, *inputs.X.shape)
        with one_blas_thread():
            selection = select_and_train(
                grid,
                inputs,
                policy,
                settings,
                seed,
                fits.begin,
                fits.train,
                n_jobs,
                warm,
            )
        chosen, result, grid = selection.chosen, selection.result, selection.grid
        capacity_scores = selection.scores
        fold_scores, fold_soft_scores = selection.fold_scores, selection.fold_soft
        coefs = result.params["coefs"]
        intercepts = [*result.params["intercepts"], np.zeros(coefs[-1].shape[1])]

        # On the validation rows with early stopping, else on all of X
        # (gathered chunk by chunk: no copy of X or of its rows).
        rows = slice(None) if policy.held_out is None else policy.held_out
        scores = score_rows(
            {"coefs": coefs, "intercepts": intercepts[:-1]},
            inputs.X,
            self.activation,
            rows=policy.held_out,
        )
        decision = fit_decision(
            scores,
            inputs.y_encoded[rows],
            inputs.sample_weight[rows],
            self.threshold,
            inputs.weight_unit,
        )
        validation_scores = result.validation_scores
        return {
            "classes_": inputs.classes,
            "hidden_layer_sizes_": chosen.hidden,
            "alpha_": chosen.alpha,
            "capacity_candidates_": None
            if capacity_scores is None
            else [(c.hidden, c.alpha) for c in grid],
            "capacity_scores_": capacity_scores,
            "capacity_fold_scores_": fold_scores,
            "capacity_fold_soft_scores_": fold_soft_scores,
            "solver_": policy.solver,
            "early_stopping_": policy.early_stopping,
            "coefs_": coefs,
            "intercepts_": intercepts,
            "n_iter_": result.n_iter,
            "t_": result.n_steps,
            "loss_curve_": result.loss_curve,
            "best_loss_": float(np.nanmin(result.loss_curve))
            if np.any(np.isfinite(result.loss_curve))
            else float("nan"),
            "validation_scores_": validation_scores,
            "best_validation_score_": None
            if validation_scores is None
            else max(validation_scores),
            "threshold_": decision.threshold,
            "calibration_coef_": decision.calibration_coef,
            "calibration_intercept_": decision.calibration_intercept,
        }

    # ------------------------------------------------------------ predict
    def _raw_scores(self, X):
        params = {"coefs": self.coefs_, "intercepts": self.intercepts_[:-1]}
        return score_rows(params, X, self.activation)

    def decision_function(self, X):
        """Log-odds of the positive class (binary) or of each class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Binary: ``a * (s(x) - threshold_)``, increasing in the learnt
            score ``s``; positive means ``classes_[1]`` is predicted.
            Multiclass: the one-vs-rest log-odds of each class.
        """
        check_is_fitted(self)
        X = validated_data(self, X, reset=False)
        logits = (
            self._raw_scores(X) * self.calibration_coef_ + self.calibration_intercept_
        )
        return logits[:, 0] if len(self.classes_) == 2 else logits

    def predict_proba(self, X):
        """Class probabilities from the fitted logistic map of the scores.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
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
        return np.exp(_normalised_log_proba(logits))

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, computed without underflow.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``, finite where a probability underflows.
        """
        logits = self.decision_function(X)
        if len(self.classes_) == 2:
            return np.column_stack([log_expit(-logits), log_expit(logits)])
        return _normalised_log_proba(logits)

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
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
