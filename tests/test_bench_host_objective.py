"""Smoke test of benchmarks/bench_host_objective.py (the NumPy exact objective
against the compiled program): its ``--quick`` mode runs end to end."""

import csv
import math
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))


def test_host_objective_quick(tmp_path, monkeypatch):
    import bench_host_objective as bench

    # The script turns the disk cache off for its own process; keep the
    # test session's setting afterwards.
    monkeypatch.setenv("SKPAIRAUC_CACHE_DIR", "")
    assert bench.main(["--quick", "--out", str(tmp_path)]) == 0
    with open(tmp_path / "host_objective.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected = {(s, n) for s in bench.SCORERS for n in bench.MODES["quick"]["rows"]}
    assert {(r["scorer"], int(r["rows"])) for r in rows} == expected
    for row in rows:
        assert int(row["pairs"]) == (int(row["rows"]) // 2) ** 2
        for column in ("host_ms", "compiled_ms", "compile_s"):
            assert math.isfinite(float(row[column])) and float(row[column]) > 0
    report = (tmp_path / "host_objective.md").read_text()
    assert report.startswith("# The exact objective in NumPy")
    assert "| scorer | rows | pairs | host_ms |" in report
