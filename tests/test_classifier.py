"""Behaviour of PairwiseAUCClassifier: consistency, quality, state, compiles."""

import pickle
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest
from scipy.special import expit
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score

from skpairauc import PairwiseAUCClassifier, _solvers
from skpairauc._layout import validation_split

SOLVERS = [
    dict(solver="lbfgs"),
    dict(solver="lbfgs", hidden_layer_sizes=(16,)),
    dict(solver="adam", learning_rate_init=0.01, max_iter=60),
    dict(solver="sgd", hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=60),
]


@pytest.mark.parametrize("params", SOLVERS)
def test_prediction_methods_agree(imbalanced, params):
    X, y = imbalanced
    clf = PairwiseAUCClassifier(random_state=0, **params).fit(X, y)
    decision = clf.decision_function(X)
    proba = clf.predict_proba(X)
    pred = clf.predict(X)
    np.testing.assert_array_equal(pred, clf.classes_[(decision > 0).astype(int)])
    np.testing.assert_array_equal(pred, clf.classes_[np.argmax(proba, axis=1)])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # Probabilities increase with the score.
    order = np.argsort(decision)
    assert np.all(np.diff(proba[order, 1]) >= 0)
    # The scorer learnt something and the probabilities carry it.
    assert roc_auc_score(y, decision) > 0.85
    assert roc_auc_score(y, proba[:, 1]) == pytest.approx(roc_auc_score(y, decision))


def test_probabilities_are_informative_not_a_raw_sigmoid(imbalanced):
    X, y = imbalanced
    clf = PairwiseAUCClassifier(threshold="prior", random_state=0).fit(X, y)
    p = clf.predict_proba(X)[:, 1]
    # Calibrated to the training prevalence: mean probability ~ positive rate.
    assert p.mean() == pytest.approx(y.mean(), abs=0.03)
    # And sharper than the constant predictor in log loss.
    from sklearn.metrics import log_loss

    assert log_loss(y, p) < log_loss(y, np.full_like(p, y.mean()))


def test_threshold_strategies_pick_their_metric_optimum_on_training_data(imbalanced):
    from sklearn.metrics import balanced_accuracy_score, f1_score

    X, y = imbalanced
    base = PairwiseAUCClassifier(random_state=0).fit(X, y)
    scores = base._raw_scores(X)[:, 0]
    for strategy, metric in [
        ("balanced_accuracy", balanced_accuracy_score),
        ("f1", f1_score),
    ]:
        clf = PairwiseAUCClassifier(threshold=strategy, random_state=0).fit(X, y)
        best = max(metric(y, scores > t) for t in np.unique(scores) - 1e-9)
        assert metric(y, clf.predict(X)) == pytest.approx(best)
    # A float t cuts where the prevalence-calibrated probability reaches t.
    prior = PairwiseAUCClassifier(threshold="prior", random_state=0).fit(X, y)
    for t in (0.1, 0.5, 0.8):
        fixed = PairwiseAUCClassifier(threshold=t, random_state=0).fit(X, y)
        slope = prior.calibration_coef_[0]
        crossing = expit(slope * (fixed.threshold_ - prior.threshold_))
        assert crossing == pytest.approx(t, abs=1e-6)
        np.testing.assert_array_equal(
            fixed.predict(X), (scores > fixed.threshold_).astype(int)
        )
    half = PairwiseAUCClassifier(threshold=0.5, random_state=0).fit(X, y)
    assert half.threshold_ == pytest.approx(prior.threshold_)


def test_stochastic_solver_reaches_exact_solver_auc():
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    X, y = make_classification(
        n_samples=3000, n_features=10, n_informative=5, weights=[0.9], random_state=2
    )
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, stratify=y, random_state=0)
    exact = PairwiseAUCClassifier((), solver="lbfgs").fit(X_tr, y_tr)
    stochastic = PairwiseAUCClassifier(
        (), solver="adam", learning_rate_init=0.01, max_iter=100, random_state=0
    ).fit(X_tr, y_tr)
    auc_exact = roc_auc_score(y_te, exact.decision_function(X_te))
    auc_stochastic = roc_auc_score(y_te, stochastic.decision_function(X_te))
    assert auc_stochastic >= auc_exact - 0.01
    # The exact solver found the minimum of the all-pairs objective: evaluated
    # naively at the stochastic solution, that objective is no lower, and close.
    # Training sees standardised features; the fitted weights act on raw ones.
    pos, neg = X_tr[y_tr == 1], X_tr[y_tr == 0]
    scale = X_tr.std(axis=0)

    def objective(clf):
        w = clf.coefs_[0][:, 0].astype(np.float64)
        d = (pos @ w)[:, None] - (neg @ w)[None, :]
        penalty = 0.5 * clf.alpha_ * np.sum((w * scale) ** 2) / len(y_tr)
        return np.logaddexp(0, -d).mean() + penalty

    assert objective(exact) <= objective(stochastic) + 1e-6
    assert objective(stochastic) <= objective(exact) + 0.01


def test_multiclass_one_vs_rest(multiclass):
    X, y = multiclass
    clf = PairwiseAUCClassifier(random_state=0).fit(X, y)
    assert clf.coefs_[0].shape[0] == X.shape[1]
    assert clf.coefs_[-1].shape[1] == 3
    decision = clf.decision_function(X)
    assert decision.shape == (len(y), 3)
    np.testing.assert_array_equal(clf.predict(X), np.argmax(clf.predict_proba(X), 1))
    from sklearn.linear_model import LogisticRegression

    auc = roc_auc_score(y, clf.predict_proba(X), multi_class="ovr")
    reference = LogisticRegression().fit(X, y).predict_proba(X)
    assert auc > roc_auc_score(y, reference, multi_class="ovr") - 0.02
    assert clf.threshold_.shape == (3,)


@pytest.mark.parametrize("params", SOLVERS)
def test_same_random_state_same_model_bit_for_bit(imbalanced, params):
    X, y = imbalanced
    a = PairwiseAUCClassifier(random_state=7, **params).fit(X, y)
    b = PairwiseAUCClassifier(random_state=7, **params).fit(X, y)
    for wa, wb in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(a.decision_function(X), b.decision_function(X))
    assert a.loss_curve_ == b.loss_curve_


def test_different_seeds_give_different_mlps(imbalanced):
    X, y = imbalanced
    params = dict(hidden_layer_sizes=(8,), solver="adam", max_iter=3)
    a = PairwiseAUCClassifier(random_state=1, **params).fit(X, y)
    b = PairwiseAUCClassifier(random_state=2, **params).fit(X, y)
    assert not np.array_equal(a.coefs_[0], b.coefs_[0])


def test_fitted_state_is_numpy_only(imbalanced):
    X, y = imbalanced
    clf = PairwiseAUCClassifier(
        hidden_layer_sizes=(4,),
        solver="adam",
        early_stopping=True,
        max_iter=5,
        random_state=0,
    ).fit(X, y)

    def leaves(value):
        if isinstance(value, (list, tuple)):
            for v in value:
                yield from leaves(v)
        elif isinstance(value, dict):
            for v in value.values():
                yield from leaves(v)
        else:
            yield value

    for name, value in vars(clf).items():
        for leaf in leaves(value):
            assert not isinstance(leaf, jax.Array), name
            assert not callable(leaf), name
    assert all(type(W) is np.ndarray for W in clf.coefs_ + clf.intercepts_)
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_pickle_round_trip_in_a_fresh_process(imbalanced, tmp_path):
    X, y = imbalanced
    clf = PairwiseAUCClassifier(hidden_layer_sizes=(8,), random_state=0).fit(X, y)
    model, data = tmp_path / "model.pkl", tmp_path / "X.npy"
    model.write_bytes(pickle.dumps(clf))
    np.save(data, X)
    script = textwrap.dedent(
        f"""
        import pickle, sys, numpy as np
        clf = pickle.loads(open({str(model)!r}, "rb").read())
        np.save(sys.argv[1], clf.predict_proba(np.load({str(data)!r})))
        # Unpickling and prediction are NumPy: neither JAX nor optax is imported.
        print("jax" in sys.modules, "optax" in sys.modules)
        """
    )
    out = tmp_path / "proba.npy"
    result = subprocess.run(
        [sys.executable, "-c", script, str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    np.testing.assert_array_equal(np.load(out), clf.predict_proba(X))
    assert result.stdout.strip() == "False False"


def test_second_fit_of_similar_size_does_not_recompile():
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=1400, n_features=12, weights=[0.9], random_state=0
    )
    settings = [
        dict(solver="lbfgs", hidden_layer_sizes=(5,)),
        dict(solver="adam", hidden_layer_sizes=(5,), max_iter=2),
    ]
    for params in settings:
        PairwiseAUCClassifier(random_state=0, **params).fit(X[:1300], y[:1300])
        before = _solvers.TRACE_COUNTS.copy()
        # Other size in the same buckets (rows, positives, negatives: 1,408,
        # 144, 1,280), other seed, learning rate and budget.
        PairwiseAUCClassifier(
            random_state=1, learning_rate_init=0.02, alpha=1e-3, **params
        ).set_params(max_iter=3 if params["solver"] == "adam" else 120).fit(
            X[:1340], y[:1340]
        )
        assert _solvers.TRACE_COUNTS == before, params


def test_first_fit_traces_the_stochastic_loop_once(imbalanced):
    # The loop is compiled ahead, in a background thread, from shapes alone;
    # the fit's own call must then find it cached instead of compiling again.
    X, y = imbalanced
    before = _solvers.TRACE_COUNTS["run_epoch"]
    PairwiseAUCClassifier(
        hidden_layer_sizes=(7,), activation="tanh", solver="adam", max_iter=2
    ).fit(X, y)
    assert _solvers.TRACE_COUNTS["run_epoch"] == before + 1


def test_warm_start_leaves_the_previous_weights_untouched(imbalanced):
    # The solver donates its parameter buffers; warm start must hand it copies.
    X, y = imbalanced
    clf = PairwiseAUCClassifier(
        hidden_layer_sizes=(8,), solver="adam", max_iter=2, warm_start=True
    ).fit(X, y)
    previous = clf.coefs_ + clf.intercepts_
    saved = [a.copy() for a in previous]
    clf.fit(X, y)
    for array, copy in zip(previous, saved):
        np.testing.assert_array_equal(array, copy)
    assert not np.array_equal(clf.coefs_[0], saved[0])


def test_warm_start_continues_from_previous_weights(imbalanced):
    X, y = imbalanced
    clf = PairwiseAUCClassifier(
        hidden_layer_sizes=(8,),
        solver="adam",
        max_iter=3,
        warm_start=True,
        random_state=0,
    )
    first_loss = clf.fit(X, y).loss_curve_[-1]
    second_curve = clf.fit(X, y).loss_curve_
    assert second_curve[0] < first_loss + 0.05
    cold = PairwiseAUCClassifier(
        hidden_layer_sizes=(8,), solver="adam", max_iter=3, random_state=0
    ).fit(X, y)
    assert second_curve[0] < cold.loss_curve_[0]


def test_early_stopping_picks_threshold_on_validation_data(imbalanced):
    X, y = imbalanced
    clf = PairwiseAUCClassifier(
        solver="adam",
        learning_rate_init=0.01,
        early_stopping=True,
        validation_fraction=0.3,
        n_iter_no_change=3,
        max_iter=50,
        random_state=0,
    ).fit(X, y)
    assert clf.n_iter_ < 50
    assert clf.best_validation_score_ > 0.8


def test_early_stopping_returns_the_best_validated_epoch(imbalanced):
    # The next epoch starts before the current one is validated; the model
    # returned must still be the best validated one, not that extra epoch.
    X, y = imbalanced
    clf = PairwiseAUCClassifier(
        hidden_layer_sizes=(8,),
        solver="adam",
        learning_rate_init=0.05,
        early_stopping=True,
        validation_fraction=0.3,
        n_iter_no_change=2,
        max_iter=40,
        random_state=0,
    ).fit(X, y)
    assert clf.n_iter_ < 40  # stopped early, with an extra epoch in flight
    assert len(clf.validation_scores_) == len(clf.loss_curve_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    # Rebuild the validation split exactly as fit draws it.
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    _, held_out = validation_split(np.searchsorted(clf.classes_, y), 2, 0.3, seed)
    auc = roc_auc_score(y[held_out], clf.decision_function(X[held_out]))
    assert auc == pytest.approx(clf.best_validation_score_, abs=1e-6)


def test_verbose_prints_progress(imbalanced, capsys):
    X, y = imbalanced
    PairwiseAUCClassifier(solver="adam", max_iter=2, verbose=True).fit(X, y)
    assert "Iteration 2, loss =" in capsys.readouterr().out


def test_early_stopping_auto_turns_on_for_large_stochastic_fits():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12_000, 4)).astype(np.float32)
    y = (X[:, 0] + rng.normal(size=12_000) > 2.0).astype(int)
    big = PairwiseAUCClassifier(solver="adam", max_iter=3, random_state=0).fit(X, y)
    assert big.early_stopping_ and len(big.validation_scores_) == big.n_iter_
    small = PairwiseAUCClassifier(solver="adam", max_iter=3, random_state=0)
    assert not small.fit(X[:5000], y[:5000]).early_stopping_
    assert not PairwiseAUCClassifier(random_state=0).fit(X, y).early_stopping_  # lbfgs
    # Too few positives to hold 5 out: auto leaves early stopping off.
    y_rare = np.zeros_like(y)
    y_rare[:20] = 1
    rare = PairwiseAUCClassifier(solver="adam", max_iter=2, random_state=0)
    assert not rare.fit(X, y_rare).early_stopping_


def test_verbose_large_data_selection_says_what_trains(capsys):
    X, y = make_classification(n_samples=3000, n_features=5, random_state=0)
    PairwiseAUCClassifier(
        solver="adam", early_stopping=True, max_iter=12, verbose=True, random_state=0
    ).fit(X, y)
    out = capsys.readouterr().out.splitlines()
    starts = [i for i, line in enumerate(out) if line.startswith("Selection: ")]
    chose = [i for i, line in enumerate(out) if line.startswith("Chose ")]
    assert [out[i] for i in starts] == [
        "Selection: hidden_layer_sizes=(), alpha=1.0, its first 10 epochs",
        "Selection: hidden_layer_sizes=(64,), alpha=1.0, its first 10 epochs",
    ]
    # Each candidate's epochs follow its line, then the choice, then the
    # winner's further epochs (from epoch 11).
    assert out[starts[0] + 1].startswith("Iteration 1, ")
    assert out[starts[1] + 1].startswith("Iteration 1, ")
    assert len(chose) == 1 and chose[0] > starts[1]
    assert out[chose[0] + 1].startswith("Iteration 11, ")


@pytest.mark.parametrize("data", ["imbalanced", "multiclass"])
def test_predict_log_proba_is_the_log_of_predict_proba(request, data):
    X, y = request.getfixturevalue(data)
    clf = PairwiseAUCClassifier((), solver="lbfgs", random_state=0).fit(X, y)
    log_proba = clf.predict_log_proba(X)
    assert log_proba.shape == (len(X), len(clf.classes_))
    np.testing.assert_allclose(np.exp(log_proba), clf.predict_proba(X), atol=1e-12)
    # Far from the data a probability underflows; its log stays finite.
    far = clf.predict_log_proba(1e6 * X[:5])
    assert np.all(np.isfinite(far)) and far.min() < -700
