"""The defaults: capacity chosen for the data, raw features, warnings, and
stochastic solvers that learn small tables."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_circles, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from skpairauc import PairwiseAUCClassifier


@pytest.fixture(scope="module")
def split():
    X, y = make_classification(
        n_samples=800, n_features=6, n_informative=4, weights=[0.85], random_state=3
    )
    return train_test_split(X, y, stratify=y, random_state=0)


# ------------------------------------------------------------ raw features
TRANSFORMS = {
    "one column x 1e6": lambda X: X * np.r_[1e6, np.ones(X.shape[1] - 1)],
    "one column + 1e6": lambda X: X + np.r_[1e6, np.zeros(X.shape[1] - 1)],
    "all x 1e20": lambda X: X * 1e20,
    "all x 1e-20": lambda X: X * 1e-20,
    # Float32 X takes another path: it is standardised in float32, block by
    # block as it is copied (Standardizer.transform_into).
    "float32, one column x 1e6": lambda X: (
        X * np.r_[1e6, np.ones(X.shape[1] - 1)]
    ).astype(np.float32),
    "float32, all x 1e20": lambda X: (X * 1e20).astype(np.float32),
    "float32, all x 1e-20": lambda X: (X * 1e-20).astype(np.float32),
}
SCORERS = {
    "linear exact": dict(hidden_layer_sizes=(), solver="lbfgs"),
    "mlp exact": dict(hidden_layer_sizes=(16,), solver="lbfgs"),
    "linear adam": dict(hidden_layer_sizes=(), solver="adam", max_iter=30),
    "mlp adam": dict(hidden_layer_sizes=(16,), solver="adam", max_iter=30),
}


@pytest.mark.parametrize("scorer", list(SCORERS))
def test_raw_units_train_the_model_of_standardised_data(split, scorer):
    X_train, X_test, y_train, y_test = split
    # The same data standardised by hand is the reference; for float32 inputs
    # the same data standardised and stored in float32. (The float64
    # transforms give the reference's model bit for bit. A float32 table
    # carries 7 digits: an MLP's L-BFGS on it follows the reference's path
    # only to round-off, and over ~100 non-convex iterations that can move
    # its stopping iteration and its test AUC. Over widths 8, 16, 32 and
    # seeds 0-2 on this split the float32 transforms moved the MLP's test AUC
    # by up to 0.009 (NumPy objective) and 0.015 (compiled) from the float64
    # reference, and by up to 0.006 from the float32 one (widths 8, 16);
    # this case, width 16 and seed 0, stays within 0.0035 of it.)
    mean, std = X_train.mean(0), X_train.std(0)
    params = dict(random_state=0, **SCORERS[scorer])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference_aucs = {}
        for dtype in (np.float64, np.float32):
            reference = PairwiseAUCClassifier(**params).fit(
                ((X_train - mean) / std).astype(dtype), y_train
            )
            test = ((X_test - mean) / std).astype(dtype)
            reference_aucs[dtype] = roc_auc_score(
                y_test, reference.decision_function(test)
            )
        for name, transform in TRANSFORMS.items():
            clf = PairwiseAUCClassifier(**params).fit(transform(X_train), y_train)
            raw_auc = roc_auc_score(y_test, clf.decision_function(transform(X_test)))
            auc = reference_aucs[transform(X_train[:1]).dtype.type]
            assert abs(raw_auc - auc) <= 0.005, name


def test_the_issue_example_is_no_longer_a_coin_flip():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    X[:, 0] *= 1e6
    clf = PairwiseAUCClassifier(random_state=0).fit(X, y)
    assert roc_auc_score(y, clf.decision_function(X)) > 0.95
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


@pytest.mark.parametrize("hidden", [(), (8,)])
def test_lbfgs_never_ends_above_its_start(hidden):
    # Nearly separable, unpenalised: the objective keeps falling to 0 and
    # float32 round-off makes line searches fail near the end.
    X, y = make_classification(n_samples=300, n_features=4, class_sep=4, random_state=1)
    for alpha in (0.0, 1.0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = PairwiseAUCClassifier(hidden, alpha=alpha, random_state=0).fit(X, y)
        assert clf.loss_curve_[-1] <= clf.loss_curve_[0]
        assert clf.best_loss_ == min(clf.loss_curve_)


# ------------------------------------------------------------ capacity
def test_the_default_chooses_and_exposes_its_capacity(split):
    X_train, _, y_train, _ = split
    clf = PairwiseAUCClassifier(random_state=0).fit(X_train, y_train)
    candidates = clf.capacity_candidates_
    assert candidates == [((), 10.0), ((), 0.1), ((64,), 10.0), ((64,), 1.0)]
    assert clf.capacity_scores_.shape == (4,)
    assert np.all((clf.capacity_scores_ > 0.5) & (clf.capacity_scores_ <= 1))
    # 3 folds, repeated twice (fewer than 200 positives); their mean is
    # capacity_scores_.
    assert clf.capacity_fold_scores_.shape == (6, 4)
    np.testing.assert_allclose(
        clf.capacity_fold_scores_.mean(axis=0), clf.capacity_scores_
    )
    assert clf.capacity_fold_soft_scores_.shape == (6, 4)
    best = candidates[int(np.argmax(clf.capacity_scores_))]
    assert (clf.hidden_layer_sizes_, clf.alpha_) == best
    assert [W.shape[0] for W in clf.coefs_][0] == X_train.shape[1]
    assert len(clf.coefs_) == len(clf.hidden_layer_sizes_) + 1


def test_soft_auc_counts_how_far_apart_pairs_are_ranked():
    from skpairauc import _monitor

    rng = np.random.default_rng(0)
    scores = rng.normal(size=300)
    y = (scores + rng.normal(size=300) > 1).astype(float)
    w = rng.uniform(0.1, 2.0, size=300)
    # The definition, pair by pair.
    spread = np.sqrt(
        np.average((scores - np.average(scores, weights=w)) ** 2, weights=w)
    )
    d = (scores[y == 1][:, None] - scores[y == 0][None, :]) / spread
    pair_w = w[y == 1][:, None] * w[y == 0][None, :]
    expected = np.sum(pair_w / (1 + np.exp(-d))) / pair_w.sum()
    value = _monitor.soft_auc(scores, y, w)
    assert value == pytest.approx(expected, rel=1e-12)
    # Scale and shift of the scores, and the weights' scale, do not matter;
    # nor does the block size of the pair loop.
    assert _monitor.soft_auc(1e6 * scores - 3, y, 7 * w) == pytest.approx(value)
    saved = _monitor.SOFT_AUC_BLOCK
    try:
        _monitor.SOFT_AUC_BLOCK = 5
        assert _monitor.soft_auc(scores, y, w) == pytest.approx(value, rel=1e-12)
    finally:
        _monitor.SOFT_AUC_BLOCK = saved
    assert _monitor.soft_auc(np.zeros(300), y, w) == 0.5
    # Perfectly ranked either way, the wider gap scores higher.
    y01 = np.r_[np.zeros(5), np.ones(5)]
    near, far = (
        np.r_[np.arange(5.0), 5 + np.arange(5.0)],
        np.r_[np.arange(5.0), 50 + np.arange(5.0)],
    )
    assert roc_auc_score(y01, near) == roc_auc_score(y01, far) == 1.0
    assert _monitor.soft_auc(far, y01, np.ones(10)) > _monitor.soft_auc(
        near, y01, np.ones(10)
    )


@pytest.mark.parametrize("n", [2, 7, 167, 5000])
def test_roc_auc_is_roc_auc_score_with_ties_and_weights(n):
    from skpairauc import _monitor

    rng = np.random.default_rng(n)
    y = np.r_[0.0, 1.0, (rng.random(n - 2) < 0.2)]
    for scores in (rng.normal(size=n), rng.normal(size=n).round(1), np.zeros(n)):
        for w in (None, rng.integers(0, 4, n).astype(float), rng.random(n)):
            if w is not None:
                w[:2] = 1.0  # both classes keep weight
            expected = roc_auc_score(y, scores, sample_weight=w)
            assert _monitor.roc_auc(scores, y, w) == pytest.approx(expected, abs=1e-12)
    # Integer weights count as repeated rows.
    w = rng.integers(1, 4, n)
    assert _monitor.roc_auc(scores, y, w.astype(float)) == pytest.approx(
        _monitor.roc_auc(np.repeat(scores, w), np.repeat(y, w), None)
    )


def test_roc_auc_keeps_roc_auc_scores_partial_auc_and_errors():
    from skpairauc import _monitor

    rng = np.random.default_rng(0)
    y, scores, w = (rng.random(200) < 0.3).astype(float), rng.normal(size=200), None
    assert _monitor.roc_auc(scores, y, w, max_fpr=0.1) == roc_auc_score(
        y, scores, max_fpr=0.1
    )

    def outcome(auc):  # scikit-learn's versions differ: an error or NaN
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                value = auc()
            return "value", bool(np.isnan(value)), [w.category for w in caught]
        except ValueError as error:
            return "error", str(error)

    for bad_scores, bad_y in ((scores, np.zeros(200)), (np.r_[np.nan, scores[1:]], y)):
        ours = outcome(lambda: _monitor.roc_auc(bad_scores, bad_y, w))
        assert ours == outcome(lambda: roc_auc_score(bad_y, bad_scores))
        assert ours[0] == "error" or ours[1]


def test_tied_candidates_are_told_apart_by_the_soft_auc():
    from skpairauc._capacity import choose

    folds = np.array([[1.0, 1.0, 0.9], [1.0, 1.0, 0.95]])
    soft = np.array([[0.80, 0.90, 0.99], [0.80, 0.90, 0.99]])
    assert choose(folds) == 0  # without soft scores: the earlier
    assert choose(folds, soft) == 1  # the third is not tied: never chosen
    # A mean below the best by more than round-off is not a tie.
    assert choose(folds - [[0, 1e-9, 0]], soft) == 0
    # Equal fold scores summed in another order are a tie.
    folds = np.array([[1.0, 0.7], [0.7, 1.0], [0.9, 0.9]])
    assert choose(folds, np.array([[0.5, 0.6]] * 3)) == 1


def test_the_default_breaks_ties_of_perfectly_ranked_folds():
    # Well separated classes: every candidate ranks every held-out fold
    # perfectly, so the ROC AUC cannot choose; the soft AUC does.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 4))
    X = X[np.abs(X[:, 0] + X[:, 1] - 1.0) > 0.5][:300]  # a gap between the classes
    y = (X[:, 0] + X[:, 1] > 1.0).astype(int)
    clf = PairwiseAUCClassifier(random_state=0).fit(X, y)
    assert np.all(clf.capacity_fold_scores_ == 1.0)
    soft = clf.capacity_fold_soft_scores_
    assert soft.shape == clf.capacity_fold_scores_.shape
    assert np.all((soft > 0.5) & (soft < 1.0))
    best = clf.capacity_candidates_[int(np.argmax(soft.mean(axis=0)))]
    assert (clf.hidden_layer_sizes_, clf.alpha_) == best
    assert best != clf.capacity_candidates_[0]


def test_one_cv_split_when_every_class_has_200_rows():
    X, y = make_classification(n_samples=500, n_features=4, random_state=0)
    assert np.bincount(y).min() >= 200
    clf = PairwiseAUCClassifier(random_state=0).fit(X, y)
    assert clf.capacity_fold_scores_.shape == (3, 4)
    # One class below 200 rows: the 3 folds are repeated with another shuffle.
    keep = np.r_[np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:150]]
    clf = PairwiseAUCClassifier(random_state=0).fit(X[keep], y[keep])
    assert clf.capacity_fold_scores_.shape == (6, 4)


def test_the_default_picks_an_mlp_where_a_line_cannot_rank():
    X, y = make_circles(n_samples=600, noise=0.1, factor=0.5, random_state=0)
    clf = PairwiseAUCClassifier(random_state=0).fit(X, y)
    assert clf.hidden_layer_sizes_ == (64,)
    assert roc_auc_score(y, clf.decision_function(X)) > 0.95


def test_explicit_parameters_mean_exactly_what_they_say(split):
    X_train, _, y_train, _ = split
    linear = PairwiseAUCClassifier(hidden_layer_sizes=(), random_state=0)
    linear.fit(X_train, y_train)
    assert (linear.hidden_layer_sizes_, linear.alpha_) == ((), 1.0)
    assert linear.capacity_scores_ is None and linear.capacity_candidates_ is None
    mlp = PairwiseAUCClassifier(hidden_layer_sizes=(5,), alpha=0.3, random_state=0)
    mlp.fit(X_train, y_train)
    assert (mlp.hidden_layer_sizes_, mlp.alpha_) == ((5,), 0.3)
    assert mlp.coefs_[0].shape == (X_train.shape[1], 5)
    # alpha set, scorer "auto": the choice is between scorers at that alpha.
    auto = PairwiseAUCClassifier(alpha=0.3, random_state=0).fit(X_train, y_train)
    assert auto.capacity_candidates_ == [((), 0.3), ((64,), 0.3)]
    assert auto.alpha_ == 0.3
    # The parameters themselves are never changed by fit.
    assert auto.get_params()["hidden_layer_sizes"] == "auto"


@pytest.mark.parametrize("cores", [1, 2])
def test_large_data_selection_trains_on_the_winner_as_its_own_fit_would(
    monkeypatch, cores
):
    # early_stopping=True gives the large-data path (a stochastic solver with
    # a validation split) on a table small enough for a test.
    X, y = make_circles(n_samples=3000, noise=0.2, factor=0.5, random_state=0)
    X = np.c_[X, np.random.default_rng(0).normal(size=(3000, 3))]
    common = dict(solver="adam", early_stopping=True, random_state=0, n_jobs=cores)
    auto = PairwiseAUCClassifier(**common).fit(X, y)
    assert auto.capacity_candidates_ == [((), 1.0), ((64,), 1.0)]
    assert auto.capacity_fold_scores_ is None
    assert auto.hidden_layer_sizes_ == (64,)  # a circle: the line cannot rank
    # Each candidate was scored on the validation rows after its first epochs;
    # the winner trained on from there: the model of its fit alone, whose
    # first epochs gave the winning score.
    alone = PairwiseAUCClassifier(hidden_layer_sizes=(64,), alpha=1.0, **common)
    alone.fit(X, y)
    n_selection = 10  # 1,250 steps at about 11 an epoch: the cap of 10
    assert alone.n_iter_ > n_selection  # the winner did train on
    assert auto.n_iter_ == alone.n_iter_
    assert auto.validation_scores_ == alone.validation_scores_
    for ours, theirs in zip(
        auto.coefs_ + auto.intercepts_, alone.coefs_ + alone.intercepts_
    ):
        np.testing.assert_array_equal(ours, theirs)
    assert auto.capacity_scores_[1] == max(alone.validation_scores_[:n_selection])
    linear = PairwiseAUCClassifier(
        hidden_layer_sizes=(), alpha=1.0, max_iter=n_selection, **common
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        linear.fit(X, y)
    assert auto.capacity_scores_[0] == max(linear.validation_scores_)
    assert auto.capacity_scores_[0] < auto.capacity_scores_[1]


def test_large_data_selection_within_max_iter_warns_once():
    X, y = make_classification(n_samples=2000, n_features=5, random_state=0)
    clf = PairwiseAUCClassifier(
        solver="adam", early_stopping=True, max_iter=3, random_state=0
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(convergence) == 1
    assert "maximum iterations (3)" in str(convergence[0].message)
    assert clf.n_iter_ == 3 and len(clf.validation_scores_) == 3


def test_too_few_rows_for_folds_fall_back_to_the_first_candidate():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.r_[np.ones(2, int), np.zeros(58, int)]
    with pytest.warns(UserWarning, match="only 2 training row"):
        clf = PairwiseAUCClassifier(random_state=0).fit(X, y)
    assert (clf.hidden_layer_sizes_, clf.alpha_) == ((), 10.0)
    assert clf.capacity_scores_ is None and clf.capacity_fold_scores_ is None


@pytest.mark.parametrize("problem", ["binary", "multiclass"])
def test_fold_fits_on_two_threads_score_as_one_thread(
    monkeypatch, request, split, problem
):
    # The fold fits are shared between n_jobs threads; each is independent,
    # so the fold scores, the choice and the refit must not depend on it.
    if problem == "multiclass":
        X, y = request.getfixturevalue("multiclass")
    else:
        X, y = split[0], split[2]
    fits = {}
    for n_jobs in (1, 2):
        fits[n_jobs] = PairwiseAUCClassifier(random_state=0, n_jobs=n_jobs).fit(X, y)
    one, two = fits[1], fits[2]
    assert one.capacity_fold_scores_.shape[0] >= 3
    np.testing.assert_array_equal(one.capacity_fold_scores_, two.capacity_fold_scores_)
    assert one.hidden_layer_sizes_ == two.hidden_layer_sizes_
    assert one.alpha_ == two.alpha_
    np.testing.assert_array_equal(one.decision_function(X), two.decision_function(X))


def test_an_error_in_a_fold_fit_reaches_the_caller(monkeypatch, split):
    from skpairauc import _training

    real_train = _training.train
    calls = []

    def failing(params, inputs, *args, **kwargs):
        calls.append(len(inputs.y_encoded))
        if len(calls) == 2:
            raise RuntimeError("fold fit failed")
        return real_train(params, inputs, *args, **kwargs)

    monkeypatch.setattr(_training, "train", failing)
    clf = PairwiseAUCClassifier(random_state=0, n_jobs=2)
    with pytest.raises(RuntimeError, match="fold fit failed"):
        clf.fit(split[0], split[2])
    # Nothing of the failed fit is left on the estimator.
    assert not hasattr(clf, "coefs_") and not hasattr(clf, "capacity_fold_scores_")


@pytest.mark.parametrize("during", ["selection", "race"])
def test_an_error_in_one_large_data_candidate_ends_the_others(monkeypatch, during):
    # The MLP's selection fails while the linear candidate trains (in its
    # selection epochs, or racing on after them): the error reaches the
    # caller, the linear fit stops within an epoch or two, and no thread
    # outlives the fit.
    import threading
    import time

    from skpairauc import _stochastic

    real_advance, real_close = (
        _stochastic.StochasticFit.advance,
        _stochastic.StochasticFit.close,
    )
    real_validation_auc = _stochastic.validation_auc
    linear, at_error, at_close = [], [], []
    mlp_ready = threading.Event()

    def slow_linear_validation(params, *args):
        if len(params["coefs"]) == 1:
            # The linear fit waits for the MLP's program (its compile may end
            # after the linear's), then takes 20 ms an epoch.
            mlp_ready.wait(60)
            time.sleep(0.02)
        return real_validation_auc(params, *args)

    def failing(self, last_epoch, keep_going=None):
        if len(self.params["coefs"]) == 1:
            linear.append(self)
            return real_advance(self, last_epoch, keep_going)
        mlp_ready.set()
        after = 0 if during == "selection" else 10  # its selection epochs
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            linear and linear[0]._loop is not None and linear[0]._loop.n_epochs > after
        ):
            time.sleep(0.0005)
        at_error.append(linear[0]._loop.n_epochs)
        raise RuntimeError("MLP selection failed")

    def close(self):
        if self in linear:
            at_close.append(self._loop.n_epochs)
        real_close(self)

    monkeypatch.setattr(_stochastic, "validation_auc", slow_linear_validation)
    monkeypatch.setattr(_stochastic.StochasticFit, "advance", failing)
    monkeypatch.setattr(_stochastic.StochasticFit, "close", close)
    X, y = make_classification(n_samples=3000, n_features=5, random_state=0)
    # Alone, the linear fit would train all 200 epochs (no early stop).
    max_iter = 200
    clf = PairwiseAUCClassifier(
        solver="adam",
        early_stopping=True,
        max_iter=max_iter,
        n_iter_no_change=max_iter,
        random_state=0,
        n_jobs=2,
    )
    with pytest.raises(RuntimeError, match="MLP selection failed"):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")
    assert [t for t in threading.enumerate() if t.name.startswith("skpairauc")] == []
    if during == "selection":
        assert 0 < at_error[0] < 10
    else:
        assert 10 < at_error[0] < 20
    assert at_close[0] <= at_error[0] + 2


# ------------------------------------------------------------ warnings
def test_no_convergence_warning_on_an_easy_table():
    X, y = make_classification(n_samples=1000, n_features=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        PairwiseAUCClassifier(random_state=0).fit(X, y)
        PairwiseAUCClassifier((64,), random_state=0).fit(X, y)


def test_max_iter_warns_and_the_default_refit_converges_before_it():
    # The threshold example's table: at the objective tolerance of 1e-6 the
    # default's MLP refit ran to max_iter=200, its objective flat to 1%.
    table = dict(n_informative=4, weights=[0.92], flip_y=0.03, class_sep=0.7)
    X, y = make_classification(3000, 10, random_state=1, **table)
    X, y = X[:1500], y[:1500]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = PairwiseAUCClassifier((64,), random_state=0).fit(X, y)
    assert clf.n_iter_ < 200
    # As MLPClassifier does: max_iter ends the fit, a warning says so.
    with pytest.warns(ConvergenceWarning, match=r"max_iter=20 .*last 5 iterations"):
        PairwiseAUCClassifier((64,), max_iter=20, random_state=0).fit(X, y)
    with pytest.warns(ConvergenceWarning, match=r"max_iter=100 "):
        PairwiseAUCClassifier((64,), max_iter=100, random_state=0).fit(X, y)


def test_a_class_with_few_rows_warns_and_enough_rows_do_not(split):
    X_train, _, y_train, _ = split
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        PairwiseAUCClassifier((), random_state=0).fit(X_train, y_train)
    y = y_train.copy()
    y[np.flatnonzero(y == 1)[4:]] = 0  # 4 positives left
    with pytest.warns(UserWarning, match="has only 4 training row"):
        PairwiseAUCClassifier((), random_state=0).fit(X_train, y)


def test_threshold_on_a_multiclass_problem_warns_that_it_is_ignored(multiclass):
    X, y = multiclass
    with pytest.warns(UserWarning, match="threshold='f1' is ignored"):
        PairwiseAUCClassifier((), threshold="f1").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        PairwiseAUCClassifier(()).fit(X, y)


# ------------------------------------------------------------ stochastic
@pytest.mark.parametrize("hidden", [(), (16,)])
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_stochastic_solvers_learn_a_small_table(hidden, solver):
    # 600 training rows: epochs of one pass would be 2 steps; the stochastic
    # solvers used to stop on that noise, under-trained (0.80 against 0.87).
    # An MLP's test AUC varies with its initialisation under either solver,
    # so the mean over 3 seeds is compared, each solver with the same seeds.
    X, y = make_classification(
        n_samples=900,
        n_features=10,
        n_informative=6,
        weights=[0.85],
        flip_y=0.03,
        random_state=5,
    )
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, stratify=y, random_state=0)

    def mean_auc(**params):
        aucs = []
        for seed in range(3):
            clf = PairwiseAUCClassifier(hidden, random_state=seed, **params)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(X_tr, y_tr)
            aucs.append(roc_auc_score(y_te, clf.decision_function(X_te)))
        return np.mean(aucs)

    assert mean_auc(solver=solver) >= mean_auc(solver="lbfgs") - 0.01


def test_n_jobs_none_runs_small_fits_on_one_thread():
    # Threads repay their contention for the GIL only from some size on;
    # an explicit n_jobs is always honoured.
    from skpairauc._threads import THREADS_MIN_CELLS, available_cores, fit_workers

    assert fit_workers(None, 500, 20) == 1
    assert 500 * (20 + 64) < THREADS_MIN_CELLS <= 2000 * (10 + 64)
    assert fit_workers(None, 2000, 10) == available_cores()
    assert fit_workers(2, 500, 20) == 2
    assert fit_workers(1, 10**6, 100) == 1
