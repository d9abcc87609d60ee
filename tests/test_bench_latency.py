"""Smoke run of benchmarks/bench_latency.py (no timed assertions).

The ``--quick`` mode runs end to end, in fresh child processes as the full
mode does, into a temporary directory; the outputs must exist, every
measured value must be finite and the report must have its sections. Whether
a floor passes is what the full benchmark reports; it is never asserted here.
"""

import csv
import math
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_latency.py"


@pytest.mark.slow
def test_bench_latency_quick_writes_finite_results(tmp_path, run_quick_benchmark):
    run_quick_benchmark(SCRIPT, timeout=900)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latency.csv", "latency.md"]

    with open(tmp_path / "latency.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["section"] for row in rows} == {
        "import",
        "predict",
        "first_fit",
        "programs",
        "grid",
    }
    for row in rows:
        value = float(row["value"])
        assert math.isfinite(value), row
        if row["unit"] == "s":
            assert value >= 0, row
        assert int(row["n"]) == len(row["values"].split()), row

    def value(section, name, cache, measure):
        (match,) = [
            r
            for r in rows
            if (r["section"], r["name"], r["cache"], r["measure"])
            == (section, name, cache, measure)
        ]
        return float(match["value"])

    assert value("import", "skpairauc", "", "import_s") > 0
    assert value("import", "jax", "", "import_s") > 0
    assert value("predict", "PairwiseAUCClassifier", "", "total_s") > 0
    for config, jax_in in (("() lbfgs", 0), ("() adam", 1)):
        fit = f"PairwiseAUCClassifier {config}"
        for cache in ("cold", "warm"):
            assert value("first_fit", fit, cache, "fit_s") > 0
            # A small exact fit runs the NumPy objective: no JAX in its process.
            assert value("first_fit", fit, cache, "jax_imported") == jax_in
    for n_jobs in (1, 2):
        for cache in ("cold", "warm"):
            assert value("grid", f"n_jobs={n_jobs}", cache, "fit_s") > 0
    assert value("programs", "() lbfgs: host_objective", "cold", "calls") >= 1
    program = "() adam: run_epoch"
    assert value("programs", program, "cold", "calls") >= 1
    assert value("programs", program, "cold", "obtain_s") > 0

    report = (tmp_path / "latency.md").read_text()
    assert report.startswith("# Latency of a fresh process")
    for heading in ("## Protocol", "## Floors", "## First fit", "## Machine"):
        assert heading in report
    assert "PASS" in report or "FAIL" in report
    assert "nan" not in report
