"""Capacity selection: which scorer and penalty the default trains.

With ``hidden_layer_sizes="auto"`` the estimator chooses among a small grid of
scorers and penalties (:func:`candidates`), as one stage of ``fit``:

* :func:`cross_validate`, when the training data allow an exact fit (or are
  too small to hold out a validation set): stratified K-fold
  cross-validation, repeated when a class is small; the best mean held-out
  ROC AUC wins (ties: the best mean soft AUC, then the earlier candidate),
  and is refitted on all rows, as ``LogisticRegressionCV`` does;
* :func:`select_on_validation`, on large data (a stochastic solver with a
  validation split): each scorer trains on all training rows for its first
  epochs; the best validation ROC AUC wins and trains on from there, so the
  winner's model is the one a fit of that scorer alone gives.

With more than one thread, a worker that finds no fold fit left refits the
candidate leading so far on all rows, kept if the last folds choose it
(:class:`skpairauc._speculation.Speculation`).

Both run their fits in worker threads while the calling thread waits
(:func:`until_interrupted`), so a Ctrl-C stops the selection between fits
(or epochs), keeps what was scored, and the best candidate scored so far
becomes the model, with a warning that says so.

The user guide (:ref:`defaults`) gives the rule's reasons and measurements.
"""

import math
import threading
import time
import warnings
from typing import NamedTuple

import numpy as np
from scipy.sparse import issparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold

from ._monitor import scores_auc, soft_auc
from ._policy import AUTO_EXACT_MAX_PAIRS, n_pairs, resolve_policy
from ._scorers import score_rows
from ._speculation import Speculation
from ._threads import Background, parallel_map

# The scorer grid of "auto": a linear scorer and an MLP with one hidden layer.
AUTO_HIDDEN = ((), (64,))
# The penalties tried with "auto" alpha, per scorer: a linear scorer needs a
# wide range; an MLP on imbalanced tables was never best below 1.
AUTO_ALPHAS = {(): (10.0, 0.1), (64,): (10.0, 1.0)}
# "auto" tries the MLP only up to this many features: on wider data (text,
# one-hot columns of many levels) its first layer of 64 weights per feature
# costs far more than it gains (see benchmarks/README.md, issue 22).
AUTO_MLP_MAX_FEATURES = 4096
# With an explicit hidden_layer_sizes, alpha="auto" means this value.
DEFAULT_ALPHA = 1.0
# Mean held-out ROC AUCs this close are a tie (round-off of sums of equal
# fold scores in another order), broken by the soft AUC.
TIE = 1e-12
N_FOLDS = 3
# The folds are repeated with other shuffles when a class has fewer rows (of
# positive weight) than REPEAT_BELOW_CLASS_ROWS: its held-out AUCs are noisy.
N_REPEATS = 2
REPEAT_BELOW_CLASS_ROWS = 200
# The objective tolerance (per `tol`, as skpairauc._exact.EXACT_FTOL_PER_TOL)
# of a fold fit that starts a penalty path from new weights: its model only
# scores its candidate and starts the next penalty's fit, which converges at
# the usual tolerance. Looser fits of every candidate would favour the weaker
# penalty, whose under-trained fold models look better than its refit
# (benchmarks/README.md, "Fewer L-BFGS iterations per selection").
PATH_START_FTOL_PER_TOL = 1.0
# Large-data selection: each scorer trains for about this many steps (whole
# epochs, at least one and at most SELECTION_MAX_EPOCHS) before the choice.
SELECTION_STEPS = 1250
SELECTION_MAX_EPOCHS = 10


class Candidate(NamedTuple):
    hidden: tuple
    alpha: float


class Selection(NamedTuple):
    """What :func:`select_and_train` chose and trained: the candidate, its
    :class:`~skpairauc._prepare.SolverResult`, the candidates scored (None
    without a choice), their scores and the per-fold scores (or None)."""

    chosen: Candidate
    result: object
    grid: list | None
    scores: np.ndarray | None
    fold_scores: np.ndarray | None
    fold_soft: np.ndarray | None


def candidates(hidden_param, alpha_param, validated_hidden, n_features=0):
    """The candidates for the given parameters, in order of preference.

    One candidate (no selection) when ``hidden_layer_sizes`` is explicit. With
    more than :data:`AUTO_MLP_MAX_FEATURES` features the grid has no MLP.
    """
    if hidden_param != "auto":
        alpha = DEFAULT_ALPHA if alpha_param == "auto" else float(alpha_param)
        return [Candidate(validated_hidden, alpha)]
    hiddens = [h for h in AUTO_HIDDEN if not h or n_features <= AUTO_MLP_MAX_FEATURES]
    if alpha_param == "auto":
        return [Candidate(h, a) for h in hiddens for a in AUTO_ALPHAS[h]]
    return [Candidate(h, float(alpha_param)) for h in hiddens]


def validation_candidates(grid):
    """The candidates trained on large data: one fit per scorer, at the
    default penalty unless ``alpha`` was set (on large data the penalty
    barely matters, and each extra candidate costs a stochastic fit)."""
    alphas = {c.alpha for c in grid}
    alpha = DEFAULT_ALPHA if len(alphas) > 1 else alphas.pop()
    return [Candidate(h, alpha) for h in dict.fromkeys(c.hidden for c in grid)]


def selection_epochs(steps_per_epoch, max_iter):
    """Epochs each scorer trains before the large-data choice: whole epochs
    of about ``SELECTION_STEPS`` steps, at least one, at most
    ``SELECTION_MAX_EPOCHS`` and ``max_iter``."""
    epochs = math.ceil(SELECTION_STEPS / steps_per_epoch)
    return max(1, min(epochs, SELECTION_MAX_EPOCHS, max_iter))


def choose(fold_scores, fold_soft_scores=None):
    """Index of the chosen candidate: the best mean held-out ROC AUC over the
    folds (``fold_scores`` of shape ``(n_folds, n_candidates)``); among
    candidates tied on it (within ``TIE``), the best mean of
    ``fold_soft_scores`` (the held-out :func:`skpairauc._monitor.soft_auc`,
    same shape), then the earlier candidate."""
    means = fold_scores.mean(axis=0)
    tied = np.flatnonzero(means >= means.max() - TIE)
    if fold_soft_scores is None or len(tied) == 1:
        return int(tied[0])
    return int(tied[np.argmax(fold_soft_scores.mean(axis=0)[tied])])


def choose_scored(fold_scores, fold_soft_scores):
    """:func:`choose` among the candidates scored on every fold (a column
    holds NaN where a fold fit did not run); None when there is none."""
    scored = np.flatnonzero(~np.isnan(fold_scores).any(axis=0))
    if len(scored) == 0:
        return None
    return int(scored[choose(fold_scores[:, scored], fold_soft_scores[:, scored])])


def until_interrupted(work, on_interrupt):
    """Run ``work()`` in a worker thread while this thread waits, and return
    the ``KeyboardInterrupt`` that ended it, or None.

    Ctrl-C reaches the main thread only: here it finds the waiting thread,
    not a fit, so no solver half-handles it. ``on_interrupt()`` then tells
    ``work`` to stop (the fits running end, the others are skipped) and the
    wait goes on until it has. A ``KeyboardInterrupt`` raised inside
    ``work`` is treated alike; any other error of ``work`` is raised.
    """
    finished, outcome = threading.Event(), {}

    def run():
        try:
            outcome["value"] = work()
        except BaseException as error:  # passed on below
            outcome["error"] = error
        finally:
            finished.set()

    thread = threading.Thread(target=run, name="skpairauc-selection", daemon=True)
    # The thread starts inside the try: a Ctrl-C that lands while it starts
    # (the work may already run) is handled like one during the wait. The
    # waits are on an event, not Thread.join: on CPython 3.11 a join that
    # Ctrl-C interrupts marks the thread as ended while it still runs.
    try:
        thread.start()
        finished.wait()
    except KeyboardInterrupt as interrupt:
        on_interrupt()
        if thread.ident is not None:  # it runs: its fits end, the rest skip
            finished.wait()
        return interrupt
    error = outcome.get("error")
    if isinstance(error, KeyboardInterrupt):
        on_interrupt()
        return error
    if error is not None:
        raise error
    return None


def _label(candidate):
    return f"hidden_layer_sizes={candidate.hidden}, alpha={candidate.alpha}"


def cv_folds(y_encoded, n_classes, seed):
    """Stratified folds ``[(train, test), ...]`` (3, or 6 when a class has
    fewer than ``REPEAT_BELOW_CLASS_ROWS`` rows), or None when a class has
    fewer rows than folds."""
    smallest = np.bincount(y_encoded, minlength=n_classes).min()
    if smallest < N_FOLDS:
        return None
    n_repeats = N_REPEATS if smallest < REPEAT_BELOW_CLASS_ROWS else 1
    rows = np.zeros((len(y_encoded), 1))  # StratifiedKFold reads only y
    return [
        fold
        for repeat in range(n_repeats)
        for fold in StratifiedKFold(
            N_FOLDS, shuffle=True, random_state=seed + repeat
        ).split(rows, y_encoded)
    ]


class CrossValidation(NamedTuple):
    """What :func:`cross_validate` measured: each candidate's held-out ROC
    AUC and soft AUC on each fold, of shape ``(n_folds, n_candidates)``
    (NaN where a fold fit did not run), the background compile that the
    caller joins after the refit, the ``KeyboardInterrupt`` that ended
    the fold fits early (or None), and the :class:`Speculation` (or None)."""

    scores: np.ndarray
    soft_scores: np.ndarray
    ahead: object
    interrupt: KeyboardInterrupt | None
    speculation: Speculation | None = None


def penalty_paths(grid):
    """The indices of ``grid``'s candidates, one list per scorer, each in
    order of decreasing penalty: on a fold, each L-BFGS fit of a path starts
    from the previous one's solution, as ``LogisticRegressionCV``'s paths
    do, which saves much of the later fits' iterations."""
    paths = {}
    for i, candidate in enumerate(grid):
        paths.setdefault(candidate.hidden, []).append(i)
    return [sorted(path, key=lambda i: -grid[i].alpha) for path in paths.values()]


def cross_validate(grid, inputs, settings, seed, train, policy, n_jobs):
    """Held-out ROC AUC and soft AUC (:func:`skpairauc._monitor.soft_auc`,
    which breaks ties) of each candidate on each stratified fold, as a
    :class:`CrossValidation` (None when a class is too small to be split
    into folds).

    ``train(candidate, fit_inputs, fit_policy, start=None,
    ftol_per_tol=None)`` fits one candidate, from ``start`` (raw-input
    parameters) when given, an L-BFGS fit stopping at ``ftol_per_tol``
    when given; each scorer's candidates run as a :func:`penalty_paths`
    path per fold, the first at ``PATH_START_FTOL_PER_TOL``. Folds
    are drawn from the rows of positive weight, so every class of every fold
    has weight on both of its sides. The fold fits run on ``n_jobs`` threads;
    each is deterministic, so the scores do not depend on which thread fits
    which fold. After a Ctrl-C (or an error) the fold fits running end and
    the others are skipped; a Ctrl-C is returned with the scores so far.
    """
    from . import _exact

    weighted = np.flatnonzero(inputs.sample_weight > 0)
    folds = cv_folds(inputs.y_encoded[weighted], inputs.n_classes, seed)
    if folds is None:
        return None
    fold_sets = []
    for fit_rows, test_rows in folds:
        fit_rows, test_rows = weighted[fit_rows], weighted[test_rows]
        fold_policy = resolve_policy(
            {**settings, "early_stopping": False},
            inputs.y_encoded[fit_rows],
            inputs.n_classes,
            seed,
        )
        fold_sets.append((fit_rows, test_rows, fold_policy))
    # While the first scorer's folds train, a background thread compiles the
    # other scorers' fold programs, then the refit program of the last scorer
    # (the MLP), ready if it wins.
    hiddens = list(dict.fromkeys(c.hidden for c in grid))
    jobs = [
        (hidden, inputs.y_encoded[fit_rows])
        for hidden in hiddens[1:]
        for fit_rows, _, fold_policy in fold_sets
        if fold_policy.solver == "lbfgs"
    ]
    if jobs and policy.solver == "lbfgs":
        jobs.append((hiddens[-1], inputs.y_encoded[weighted]))
    ahead = _exact.exact_programs_ahead(
        jobs, inputs.X.shape[1], inputs.n_classes, settings, issparse(inputs.X)
    )
    max_fpr, verbose = settings["max_fpr"], settings["verbose"]
    scores = np.full((len(fold_sets), len(grid)), np.nan)
    soft_scores = np.full_like(scores, np.nan)
    stop = threading.Event()

    fits = [(path, k) for path in penalty_paths(grid) for k in range(len(fold_sets))]
    speculation = None
    if n_jobs > 1 and policy.solver == "lbfgs":
        speculation = Speculation(len(fits), stop, choose_scored)

    def fold_path(path, k):
        if path is None:  # the last task: no fold fit left to take
            speculation.run(
                scores,
                lambda i, s: train(grid[i], inputs, policy, speculative=s),
            )
            return
        try:
            start = None
            for i in path:
                if stop.is_set():
                    return  # interrupted, or another fold fit failed
                result = fold_score(i, k, start)
                if fold_sets[k][2].solver == "lbfgs":
                    start = result.params
        finally:
            if speculation is not None:
                speculation.path_done(scores, soft_scores)

    def fold_score(i, k, start):
        fit_rows, test_rows, fold_policy = fold_sets[k]
        label = (
            f"Candidate {i + 1}/{len(grid)} ({_label(grid[i])}), "
            f"fold {k + 1}/{len(fold_sets)}"
        )
        if verbose:
            begins = "" if start is None else ", from the previous penalty's model"
            print(f"{label}: fit on {len(fit_rows)} rows{begins}")
        started = time.perf_counter()
        try:
            result = train(
                grid[i],
                inputs.subset(fit_rows),
                fold_policy,
                start=start,
                ftol_per_tol=PATH_START_FTOL_PER_TOL if start is None else None,
            )
            held_out = score_rows(
                result.params, inputs.X, settings["activation"], rows=test_rows
            )
            y_held_out = inputs.y_encoded[test_rows]
            w_held_out = inputs.sample_weight[test_rows]
            score = scores_auc(held_out, y_held_out, w_held_out, max_fpr=max_fpr)
            soft = scores_auc(held_out, y_held_out, w_held_out, soft_auc)
        except BaseException:
            stop.set()
            raise
        scores[k, i], soft_scores[k, i] = score, soft
        if verbose:
            seconds = time.perf_counter() - started
            auc = score
            if max_fpr is not None:
                auc = scores_auc(held_out, y_held_out, w_held_out)
            partial = "" if max_fpr is None else f", pAUC {score:.6f}"
            print(f"{label}: {seconds:.3f} s, held-out ROC AUC {auc:.6f}{partial}")
        return result

    if speculation is not None:
        fits.append((None, None))
    try:
        with warnings.catch_warnings():
            # A fold fit that stops early only scores a candidate.
            warnings.simplefilter("ignore", ConvergenceWarning)
            interrupt = until_interrupted(
                lambda: parallel_map(fold_path, fits, n_jobs), stop.set
            )
    except BaseException:
        ahead.join()
        raise
    return CrossValidation(scores, soft_scores, ahead, interrupt, speculation)


def select_on_validation(grid, inputs, policy, settings, seed, begin, n_jobs):
    """Large data: each candidate trains on all training rows for its first
    :func:`selection_epochs` epochs; the best validation ROC AUC of those
    epochs wins and trains on, exactly as a fit of that candidate alone
    would. Returns the candidates' scores, the chosen candidate and its
    :class:`~skpairauc._prepare.SolverResult`.

    ``begin(candidate, inputs)`` gives a candidate's initial parameters,
    generator and settings. With a worker per candidate (``n_jobs``), one
    done with its selection epochs trains on while it waits for the others
    (the choice reads only the selection epochs' scores, so it does not
    depend on how far each got). The programs compile in a background
    thread, the MLP's first, while another thread lays out the rows.

    A Ctrl-C ends the race after the epochs running: the candidate with the
    best validation score so far is the model as it stands (it does not
    train on), with a warning; without any score the interrupt is raised.
    """
    from . import _stochastic

    verbose = settings["verbose"]
    metric = "ROC AUC" if settings["max_fpr"] is None else "pAUC"
    laying_out = _stochastic.stochastic_data_ahead(inputs, policy, settings, seed)
    fits, compiling = [], None
    try:
        for candidate in grid:
            params, rng, _, fit_settings = begin(candidate, inputs)
            fits.append(
                _stochastic.StochasticFit(
                    params,
                    inputs,
                    policy,
                    fit_settings,
                    seed,
                    rng,
                    compile_ahead=False,
                )
            )
        compiling = Background(lambda: [fit.compile() for fit in reversed(fits)])
        data = laying_out.result()
        epochs = selection_epochs(data.layout.steps_per_epoch, settings["max_iter"])
        race = len(fits) <= n_jobs
        lock, n_done, decided = threading.Lock(), [0], threading.Event()
        started = [False] * len(fits)

        def undecided():
            return not decided.is_set()

        def select(i, fit, candidate):
            if decided.is_set():
                return  # a failure or a Ctrl-C: no choice will be made
            if verbose:
                print(f"Selection: {_label(candidate)}, its first {epochs} epochs")
            began = time.perf_counter()
            try:
                fit.start(data)
                started[i] = True
                if decided.is_set():
                    return  # a failure or a Ctrl-C while it started
                # Until every candidate is done, only a failure or a Ctrl-C
                # sets `decided`: then no choice will be made, so stop.
                fit.advance(epochs, keep_going=undecided)
            except BaseException:
                decided.set()  # no choice will be made: end the race
                raise
            if verbose:
                print(
                    f"Selection of candidate {i + 1}/{len(fits)} "
                    f"({_label(candidate)}): {time.perf_counter() - began:.2f} s, "
                    f"best validation {metric} {fit.best_validation_score(epochs):.6f}"
                )
            with lock:
                n_done[0] += 1
                if n_done[0] == len(fits):
                    decided.set()
            if race:
                fit.advance(settings["max_iter"], keep_going=undecided)

        interrupt = until_interrupted(
            lambda: parallel_map(
                select, list(zip(range(len(fits)), fits, grid)), n_jobs
            ),
            decided.set,
        )
        scores = np.array(
            [
                fit.best_validation_score(epochs) if done else None
                for fit, done in zip(fits, started)
            ],
            dtype=float,  # NaN for a candidate without a score
        )
        if interrupt is not None:
            return _interrupted_race(grid, fits, scores, interrupt)
        compiling.result()
        best = int(np.argmax(scores))
        if verbose:
            print(
                f"Chose {_label(grid[best])} (best validation {metric} of the "
                f"selection epochs: {', '.join(f'{v:.6f}' for v in scores)}); "
                "it trains on"
            )
        for i, fit in enumerate(fits):
            if i != best:
                fit.close()  # free its rows before the winner trains on
        began = time.perf_counter()
        fits[best].advance(settings["max_iter"])
        if verbose:
            print(f"Trained on: {time.perf_counter() - began:.2f} s")
        return scores, grid[best], fits[best].result()
    finally:
        laying_out.join()
        if compiling is not None:
            compiling.join()
        for fit in fits:
            fit.close()


def _interrupted_race(grid, fits, scores, interrupt):
    """After a Ctrl-C in :func:`select_on_validation`: the scores, the
    candidate of the best validation score so far and its fit as it stands,
    with a warning; the interrupt, with a warning, when no candidate has a
    score."""
    if np.isnan(scores).all():
        warnings.warn(
            "Capacity selection interrupted by the user before any candidate "
            "had a validation score: the estimator is left as it was.",
            UserWarning,
        )
        raise interrupt
    best = int(np.nanargmax(scores))
    with warnings.catch_warnings():
        # It stopped because of the interrupt, not for want of epochs.
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = fits[best].result()
    warnings.warn(
        f"Capacity selection interrupted by the user: the model is "
        f"{_label(grid[best])}, the candidate of the best validation score so "
        f"far, as it stands after {result.n_iter} epochs (not trained on).",
        UserWarning,
    )
    return scores, grid[best], result


def select_and_train(grid, inputs, policy, settings, seed, begin, train, n_jobs, warm):
    """The training stage of ``fit``: the one candidate of an explicit scorer
    (continuing a ``warm`` fit), or the choice among ``grid`` (by
    :func:`select_on_validation` on large data, else by
    :func:`cross_validate`) and the chosen candidate's fit on all rows.
    Returns a :class:`Selection`.

    On large data that an exact fit still serves (a linear scorer's binned
    sums, wide data where the grid has no MLP), the penalty is not chosen,
    as in the large-data race: each extra candidate would cost a fit per
    fold on all those rows."""
    large = n_pairs(inputs.y_encoded[policy.train], inputs.n_classes)
    if policy.solver == "lbfgs" and large > AUTO_EXACT_MAX_PAIRS:
        grid = validation_candidates(grid)
    if len(grid) == 1:
        result = train(grid[0], inputs, policy, warm_start=warm)
        return Selection(grid[0], result, grid, None, None, None)
    if policy.held_out is not None:
        grid = validation_candidates(grid)
        scores, chosen, result = select_on_validation(
            grid, inputs, policy, settings, seed, begin, n_jobs
        )
        return Selection(chosen, result, grid, scores, None, None)
    cv = cross_validate(grid, inputs, settings, seed, train, policy, n_jobs)
    if cv is None:  # a class too small to split: the first
        if settings["verbose"]:
            print(f"No cross-validation (a class has under {N_FOLDS} rows)")
        result = refit(grid[0], inputs, policy, train, settings["verbose"])
        return Selection(grid[0], result, grid, None, None, None)
    try:
        best = choose_scored(cv.scores, cv.soft_scores)
        n_done, n_fits = np.count_nonzero(~np.isnan(cv.scores)), cv.scores.size
        if best is None:
            warnings.warn(
                f"Capacity selection interrupted by the user after {n_done} of "
                f"{n_fits} fold fits, before any candidate was scored on every "
                "fold: the estimator is left as it was.",
                UserWarning,
            )
            raise cv.interrupt
        chosen = grid[best]
        if settings["verbose"]:
            metric = "ROC AUC" if settings["max_fpr"] is None else "pAUC"
            means = ", ".join(f"{v:.6f}" for v in cv.scores.mean(axis=0))
            print(
                f"Chose {_label(chosen)} (mean held-out {metric} of the "
                f"{len(grid)} candidates: {means})"
            )
        result = None
        if cv.speculation is not None and cv.interrupt is None:
            result = cv.speculation.kept(best)
        if result is None:
            result = refit(chosen, inputs, policy, train, settings["verbose"])
    finally:
        cv.ahead.join()
    if cv.interrupt is not None:
        n_scored = np.count_nonzero(~np.isnan(cv.scores).any(axis=0))
        warnings.warn(
            f"Capacity selection interrupted by the user after {n_done} of "
            f"{n_fits} fold fits: the model is {_label(chosen)}, the best of the "
            f"{n_scored} candidate(s) scored on every fold, refitted on all rows.",
            UserWarning,
        )
    return Selection(
        chosen, result, grid, cv.scores.mean(axis=0), cv.scores, cv.soft_scores
    )


def refit(candidate, inputs, policy, train, verbose):
    """The chosen candidate's fit on all rows. A Ctrl-C during it is the
    solver's to handle: a stochastic fit keeps its model and warns; an
    interrupted L-BFGS fit raises, and the estimator is left as it was."""
    if verbose:
        print(f"Refit {_label(candidate)} on all {len(inputs.y_encoded)} rows")
    began = time.perf_counter()
    result = train(candidate, inputs, policy)
    if verbose:
        print(f"Refit: {time.perf_counter() - began:.3f} s")
    return result
