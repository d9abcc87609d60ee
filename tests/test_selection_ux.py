"""What the capacity selection of ``hidden_layer_sizes="auto"`` tells the
user (verbose lines) and what a Ctrl-C during it leaves (issue 23)."""

import re
import signal
import threading
import time
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from skpairauc import PairwiseAUCClassifier, _stochastic, _training

# 300 rows, a class under 200 rows: 6 folds (3, repeated), 4 candidates.
N_FOLDS, N_CANDIDATES = 6, 4
GRID = [((), 10.0), ((), 0.1), ((64,), 10.0), ((64,), 1.0)]
FLOAT = r"(\d+\.\d+)"


@pytest.fixture(scope="module")
def data():
    return make_classification(300, 5, random_state=0)


def _candidate(params, settings):
    hidden = tuple(W.shape[1] for W in params["coefs"][:-1])
    return hidden, settings["alpha"]


def _patch_train(monkeypatch, n_rows, on_fit):
    """Call ``on_fit(candidate, nth, is_fold)`` before each fit (``nth``
    counts that candidate's fits from 1)."""
    real_train, counts, lock = _training.train, {}, threading.Lock()

    def train(params, inputs, policy, settings, *args, **kwargs):
        candidate = _candidate(params, settings)
        with lock:
            counts[candidate] = counts.get(candidate, 0) + 1
            nth = counts[candidate]
        on_fit(candidate, nth, len(inputs.y_encoded) < n_rows)
        return real_train(params, inputs, policy, settings, *args, **kwargs)

    monkeypatch.setattr(_training, "train", train)
    return counts


@pytest.fixture(autouse=True)
def python_sigint_handling():
    """Python's own SIGINT handling (a KeyboardInterrupt in the main thread)
    for each test, whatever an earlier test or library in the same run left
    (another handler, or SIGINT blocked): a terminal's Ctrl-C meets that."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    blocked = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        signal.signal(signal.SIGINT, previous)


def _ctrl_c():
    """A Ctrl-C as the terminal sends it: SIGINT, taken by the main thread."""
    signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
    time.sleep(0.05)  # the main thread takes it before this fit goes on


def _no_selection_threads():
    return [t for t in threading.enumerate() if t.name.startswith("skpairauc")] == []


# ------------------------------------------------------------------ verbose
def test_verbose_labels_each_fold_fit_with_its_time_and_held_out_auc(data, capsys):
    X, y = data
    clf = PairwiseAUCClassifier(random_state=0, verbose=True).fit(X, y)
    out = capsys.readouterr().out.splitlines()
    label = r"Candidate (\d)/4 \(hidden_layer_sizes=(.*), alpha=(.*)\), fold (\d)/6"
    starts = [
        (i, match)
        for i, line in enumerate(out)
        if (match := re.fullmatch(label + ": fit on 200 rows(.*)", line))
    ]
    ends = [
        re.fullmatch(label + rf": {FLOAT} s, held-out ROC AUC {FLOAT}", line)
        for line in out
    ]
    ends = [match for match in ends if match]
    assert len(starts) == len(ends) == N_CANDIDATES * N_FOLDS
    # Each fold fit: its label, its solver's lines, then its time and score,
    # scorer by scorer, fold by fold, each scorer's penalties in decreasing
    # order (GRID's), the second starting from the first's model.
    order = [(p + j, k) for p in (0, 2) for k in range(N_FOLDS) for j in (0, 1)]
    for (i, k), (start, begun), end in zip(order, starts, ends):
        assert out[start + 1].startswith("L-BFGS: ")
        from_previous = ", from the previous penalty's model"
        assert begun.group(5) == ("" if i in (0, 2) else from_previous)
        hidden, alpha = GRID[i]
        assert end.groups()[:4] == (str(i + 1), str(hidden), str(alpha), str(k + 1))
        assert float(end.group(6)) == pytest.approx(
            clf.capacity_fold_scores_[k, i], abs=1e-6
        )
    chose = out.index(
        f"Chose hidden_layer_sizes={clf.hidden_layer_sizes_}, alpha={clf.alpha_} "
        "(mean held-out ROC AUC of the 4 candidates: "
        + ", ".join(f"{v:.6f}" for v in clf.capacity_scores_)
        + ")"
    )
    assert out[chose + 1] == (
        f"Refit hidden_layer_sizes={clf.hidden_layer_sizes_}, alpha={clf.alpha_} "
        "on all 300 rows"
    )
    assert out[chose + 2].startswith("L-BFGS: ")
    assert re.fullmatch(rf"Refit: {FLOAT} s", out[chose + 3])
    assert chose + 4 == len(out)


def test_verbose_with_max_fpr_prints_both_held_out_aucs(data, capsys):
    X, y = data
    clf = PairwiseAUCClassifier(random_state=0, verbose=True, max_fpr=0.2).fit(X, y)
    out = capsys.readouterr().out
    ends = re.findall(
        rf"Candidate (\d)/4 .*, fold (\d)/6: {FLOAT} s, held-out ROC AUC {FLOAT}, "
        rf"pAUC {FLOAT}\n",
        out,
    )
    assert len(ends) == N_CANDIDATES * N_FOLDS
    # The selection reads the partial AUC; the full one is printed beside it.
    for i, k, _, auc, pauc in ends:
        score = clf.capacity_fold_scores_[int(k) - 1, int(i) - 1]
        assert float(pauc) == pytest.approx(score, abs=1e-6)
    pauc = np.array([float(e[4]) for e in ends])
    auc = np.array([float(e[3]) for e in ends])
    assert not np.allclose(auc, pauc, atol=1e-3)
    assert "(mean held-out pAUC of the 4 candidates: " in out


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_verbose_large_data_selection_prints_each_candidates_time(capsys):
    X, y = make_classification(n_samples=3000, n_features=5, random_state=0)
    clf = PairwiseAUCClassifier(
        solver="adam", early_stopping=True, max_iter=11, verbose=True, random_state=0
    ).fit(X, y)
    out = capsys.readouterr().out.splitlines()
    ends = [
        re.fullmatch(
            rf"Selection of candidate (\d)/2 \(hidden_layer_sizes=(.*), "
            rf"alpha=1.0\): {FLOAT} s, best validation ROC AUC {FLOAT}",
            line,
        )
        for line in out
    ]
    ends = [match for match in ends if match]
    assert [(m.group(1), m.group(2)) for m in ends] == [("1", "()"), ("2", "(64,)")]
    np.testing.assert_allclose(
        [float(m.group(4)) for m in ends], clf.capacity_scores_, atol=1e-6
    )
    chose = next(i for i, line in enumerate(out) if line.startswith("Chose "))
    assert out[chose + 1].startswith("Iteration 11, ")
    assert re.fullmatch(rf"Trained on: {FLOAT} s", out[-1])


# ------------------------------------------------------- Ctrl-C, fold fits
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_ctrl_c_after_one_candidate_is_scored_refits_it_and_warns(
    data, monkeypatch, n_jobs
):
    X, y = data

    def on_fit(candidate, nth, is_fold):
        if candidate == GRID[2] and nth == 2:  # the MLP's second fold
            raise KeyboardInterrupt

    counts = _patch_train(monkeypatch, len(y), on_fit)
    clf = PairwiseAUCClassifier(random_state=0, n_jobs=n_jobs)
    with pytest.warns(UserWarning, match="interrupted by the user") as caught:
        clf.fit(X, y)
    message = str(caught[-1].message)
    n_done = int(re.search(r"after (\d+) of 24 fold fits", message).group(1))
    # The linear scorer's path (both penalties) runs fold by fold first.
    linear = clf.capacity_scores_[:2]
    best = GRID[int(np.nanargmax(linear))]
    n_scored = np.count_nonzero(np.isfinite(linear))
    if n_jobs == 1:
        assert n_done == 2 * N_FOLDS + 2  # and the MLP's path on one fold
        assert n_scored == 2
    assert 2 * N_FOLDS <= n_done <= 2 * N_FOLDS + 4 and n_scored >= 1
    assert (
        f"the model is hidden_layer_sizes={best[0]}, alpha={best[1]}, the best "
        f"of the {n_scored} candidate(s) scored on every fold, refitted on all "
        "rows." in message
    )
    # The fold fits not started were skipped (24 folds, 1 refit).
    assert sum(counts.values()) < 2 * N_FOLDS + 6
    assert (clf.hidden_layer_sizes_, clf.alpha_) == best
    assert np.isnan(clf.capacity_scores_[2:]).all()
    assert np.isfinite(clf.capacity_fold_scores_[:, GRID.index(best)]).all()
    # The refit on all rows is that candidate's own fit.
    alone = PairwiseAUCClassifier((), alpha=best[1], random_state=0).fit(X, y)
    np.testing.assert_allclose(clf.decision_function(X), alone.decision_function(X))
    assert (clf.predict(X) == alone.predict(X)).all()
    assert _no_selection_threads()


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_ctrl_c_in_the_last_fold_fit_keeps_the_choice_of_all_folds(
    data, monkeypatch, n_jobs
):
    # A real SIGINT while the last fold fit runs: the main thread takes it,
    # the fits running end and every candidate is scored: the choice and the
    # model are those of an uninterrupted fit, with a warning.
    X, y = data
    full = PairwiseAUCClassifier(random_state=0, n_jobs=n_jobs).fit(X, y)
    n_calls = [0]

    def on_fit(candidate, nth, is_fold):
        n_calls[0] += 1
        if n_calls[0] == N_CANDIDATES * N_FOLDS:
            _ctrl_c()

    _patch_train(monkeypatch, len(y), on_fit)
    clf = PairwiseAUCClassifier(random_state=0, n_jobs=n_jobs)
    with pytest.warns(UserWarning, match="after 24 of 24 fold fits: the model is"):
        clf.fit(X, y)
    assert (clf.hidden_layer_sizes_, clf.alpha_) == (
        full.hidden_layer_sizes_,
        full.alpha_,
    )
    np.testing.assert_array_equal(clf.capacity_fold_scores_, full.capacity_fold_scores_)
    np.testing.assert_array_equal(clf.decision_function(X), full.decision_function(X))
    assert _no_selection_threads()


@pytest.mark.parametrize("how", ["raised in a fit", "SIGINT"])
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_ctrl_c_before_any_candidate_is_scored_leaves_the_estimator_as_it_was(
    data, monkeypatch, n_jobs, how
):
    X, y = data
    clf = PairwiseAUCClassifier(random_state=1, n_jobs=n_jobs)
    # A fitted estimator: its model must survive the interrupted fit.
    clf.fit(X[:, :4], y)
    before = dict(clf.__dict__)

    def on_fit(candidate, nth, is_fold):
        if candidate == GRID[0] and nth == 2:
            if how == "SIGINT":
                _ctrl_c()
            else:
                raise KeyboardInterrupt

    _patch_train(monkeypatch, len(y), on_fit)
    with pytest.warns(UserWarning, match="before any candidate was scored on every"):
        with pytest.raises(KeyboardInterrupt):
            clf.fit(X, y)
    assert clf.__dict__.keys() == before.keys()
    assert all(clf.__dict__[key] is value for key, value in before.items())
    assert clf.n_features_in_ == 4
    assert _no_selection_threads()


def test_ctrl_c_before_any_candidate_leaves_a_new_estimator_unfitted(data, monkeypatch):
    X, y = data

    def on_fit(candidate, nth, is_fold):
        raise KeyboardInterrupt

    _patch_train(monkeypatch, len(y), on_fit)
    clf = PairwiseAUCClassifier(random_state=0)
    before = dict(clf.__dict__)
    with pytest.warns(UserWarning, match="after 0 of 24 fold fits"):
        with pytest.raises(KeyboardInterrupt):
            clf.fit(X, y)
    assert clf.__dict__ == before


# ----------------------------------------------------------- Ctrl-C, refit
def test_ctrl_c_in_an_lbfgs_refit_leaves_the_estimator_as_it_was(data, monkeypatch):
    # L-BFGS has no partial result to keep: the interrupt is raised.
    X, y = data

    def on_fit(candidate, nth, is_fold):
        if not is_fold:
            raise KeyboardInterrupt

    _patch_train(monkeypatch, len(y), on_fit)
    clf = PairwiseAUCClassifier(random_state=0)
    before = dict(clf.__dict__)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning says a model was kept
        with pytest.raises(KeyboardInterrupt):
            clf.fit(X, y)
    assert clf.__dict__ == before


def test_ctrl_c_in_a_stochastic_refit_keeps_its_model(data, monkeypatch):
    # The refit runs in the main thread: a stochastic fit takes the Ctrl-C
    # itself and keeps the weights it reached.
    X, y = data
    start_epoch = _stochastic._StochasticLoop._start_epoch
    calls = [0]

    def interrupted(self, *args):
        if threading.current_thread() is threading.main_thread():
            calls[0] += 1
            if calls[0] == 3:
                raise KeyboardInterrupt
        return start_epoch(self, *args)

    monkeypatch.setattr(_stochastic._StochasticLoop, "_start_epoch", interrupted)
    clf = PairwiseAUCClassifier(solver="adam", max_iter=4, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    messages = [str(w.message) for w in caught if w.category is UserWarning]
    assert any("Training interrupted by the user after 2 epochs" in m for m in messages)
    assert not any("Capacity selection" in m for m in messages)
    assert clf.n_iter_ == 2 and np.isfinite(clf.capacity_scores_).all()
    assert np.all(np.isfinite(clf.predict_proba(X)))


# ------------------------------------------- Ctrl-C, large-data selection
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_ctrl_c_in_large_data_selection_keeps_the_best_fit_as_it_stands(
    monkeypatch, n_jobs
):
    X, y = make_classification(n_samples=3000, n_features=5, random_state=0)
    real_validation_auc = _stochastic.validation_auc
    n_calls = [0]

    def validation_auc(*args):
        n_calls[0] += 1
        if n_calls[0] == 3:
            _ctrl_c()
        return real_validation_auc(*args)

    monkeypatch.setattr(_stochastic, "validation_auc", validation_auc)
    clf = PairwiseAUCClassifier(
        solver="adam", early_stopping=True, random_state=0, n_jobs=n_jobs
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1, messages  # no ConvergenceWarning: it was stopped
    scores = clf.capacity_scores_
    best = int(np.nanargmax(scores))
    assert clf.hidden_layer_sizes_ == [(), (64,)][best]
    assert messages[0] == (
        "Capacity selection interrupted by the user: the model is "
        f"hidden_layer_sizes={clf.hidden_layer_sizes_}, alpha=1.0, the candidate "
        "of the best validation score so far, as it stands after "
        f"{clf.n_iter_} epochs (not trained on)."
    )
    # Stopped within an epoch of the Ctrl-C, far from its 10 selection epochs.
    assert clf.n_iter_ <= 4 and clf.best_validation_score_ == scores[best]
    if n_jobs == 1:  # the MLP never started
        assert clf.hidden_layer_sizes_ == () and np.isnan(scores[1])
    assert np.all(np.isfinite(clf.predict_proba(X)))
    assert _no_selection_threads()


def test_ctrl_c_before_any_large_data_score_leaves_the_estimator_as_it_was(
    monkeypatch,
):
    X, y = make_classification(n_samples=3000, n_features=5, random_state=0)

    def start(self, data=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(_stochastic.StochasticFit, "start", start)
    clf = PairwiseAUCClassifier(solver="adam", early_stopping=True, random_state=0)
    before = dict(clf.__dict__)
    with pytest.warns(UserWarning, match="before any candidate had a validation"):
        with pytest.raises(KeyboardInterrupt):
            clf.fit(X, y)
    assert clf.__dict__ == before
    assert _no_selection_threads()


# ------------------------------------------------- the speculative refit
def _speculation_spy(monkeypatch, guess):
    """Make the idle worker's guess ``guess(scores)`` and record each
    speculation's guess and whether its refit came back."""
    from skpairauc import _capacity

    real_run, seen = _capacity.Speculation.run, []

    def run(self, scores, refit):
        raised = []

        def recorded(index, speculation):
            try:
                return refit(index, speculation)
            except BaseException as error:
                raised.append(type(error).__name__)
                raise

        real_run(self, scores, recorded)
        seen.append((self.index, self.result is not None, raised))

    monkeypatch.setattr(_capacity.Speculation, "guess", staticmethod(guess))
    monkeypatch.setattr(_capacity.Speculation, "run", run)
    return seen


@pytest.mark.parametrize("right", [True, False])
def test_a_refit_started_while_the_last_folds_run_is_kept_only_if_chosen(
    data, monkeypatch, right
):
    # With 2 threads the worker that finds no fold fit left refits the
    # candidate leading so far. Kept when the folds choose it; abandoned at
    # its first objective evaluation when they choose another. Either way
    # the model is the one-thread fit's.
    X, y = data
    one = PairwiseAUCClassifier(random_state=0, n_jobs=1).fit(X, y)
    chosen = GRID.index((one.hidden_layer_sizes_, one.alpha_))
    guessed = chosen if right else (chosen + 1) % N_CANDIDATES
    seen = _speculation_spy(monkeypatch, lambda scores: guessed)
    refits = []

    def on_fit(candidate, nth, is_fold):
        if candidate == GRID[3] and nth == N_FOLDS:
            time.sleep(0.3)  # the last fold fit: the other worker speculates
        if not is_fold:
            refits.append(candidate)
            if candidate != GRID[chosen]:
                time.sleep(0.6)  # the last folds end before it evaluates

    _patch_train(monkeypatch, len(y), on_fit)
    two = PairwiseAUCClassifier(random_state=0, n_jobs=2).fit(X, y)
    assert seen == [(guessed, right, [] if right else ["FitAbandoned"])]
    assert refits == ([GRID[chosen]] if right else [GRID[guessed], GRID[chosen]])
    np.testing.assert_array_equal(one.capacity_fold_scores_, two.capacity_fold_scores_)
    np.testing.assert_array_equal(one.decision_function(X), two.decision_function(X))
    assert _no_selection_threads()


def test_a_kept_speculative_refit_warns_as_a_refit_does(data, monkeypatch):
    # Its convergence warnings wait in a list (the fold fits' are silenced
    # meanwhile) and are issued when the refit is kept, not before.
    X, y = data
    seen = _speculation_spy(monkeypatch, lambda scores: 3)  # the MLP, alpha 1
    _patch_train(
        monkeypatch,
        len(y),
        lambda candidate, nth, is_fold: (
            time.sleep(0.3) if candidate == GRID[3] and nth == N_FOLDS else None
        ),
    )
    monkeypatch.setattr("skpairauc._capacity.choose_scored", lambda *scores: 3)
    clf = PairwiseAUCClassifier(random_state=0, n_jobs=2, max_iter=7)
    with pytest.warns(ConvergenceWarning, match="max_iter=7 ") as caught:
        clf.fit(X, y)
    assert seen == [(3, True, [])]
    assert [w.category for w in caught].count(ConvergenceWarning) == 1
    assert (clf.hidden_layer_sizes_, clf.alpha_) == GRID[3] and clf.n_iter_ == 7
