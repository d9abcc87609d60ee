"""Smoke test of benchmarks/bench_compile_options.py (XLA's fusion emitters on
the stochastic epoch loop): its ``--quick`` mode runs end to end, one fresh
child per scorer and option set, into a temporary directory."""

import sys
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))


def test_compile_options_quick(tmp_path):
    import bench_compile_options as bench

    assert bench.main(["--quick", "--out", str(tmp_path)]) == 0
    rows = pd.read_csv(tmp_path / "compile_options.csv")
    assert rows["error"].isna().all(), rows["error"]
    pairs = set(zip(rows["scorer"], rows["options"]))
    assert pairs == {(s, a) for s in bench.SCORERS for a in bench.ARMS}
    assert len(rows) == len(pairs)  # one repeat in quick mode
    assert (rows["compile_wall_s"] > 0).all(), rows
    assert (rows["compile_cpu_s"] > 0).all(), rows
    assert (rows["steps_per_s"] > 0).all(), rows
    report = (tmp_path / "compile_options.md").read_text()
    assert "| options | compile wall (s) | compile CPU (s) | steps/s |" in report
    for scorer in bench.SCORERS:
        assert f"### {scorer} `{bench.SCORERS[scorer]}`" in report
        assert f"- {scorer} `{bench.SCORERS[scorer]}`: with the fusion" in report
    assert report.count("| off / defaults |") == len(bench.SCORERS)
