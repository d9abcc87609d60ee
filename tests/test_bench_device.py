"""Smoke run of benchmarks/bench_device.py so the script never rots."""

import csv
import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_device.py"


@pytest.mark.slow
def test_bench_device_quick_writes_finite_positive_measures(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_device", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--quick", "--out", str(tmp_path)])
    with open(tmp_path / "device_quick.csv") as f:
        rows = list(csv.DictReader(f))
    # Steps/s of two scorers, the exact throughput, and two whole fits of each
    # scorer (the device's batch and the CPU's).
    assert len(rows) == 7
    assert sum("CPU batch" in row["measure"] for row in rows) == 2
    assert all(float(row["value"]) > 0 for row in rows)
    assert {row["unit"] for row in rows} == {"steps/s", "pairs/s", "s"}
    summary = (tmp_path / "device_quick.md").read_text()
    assert summary.startswith("# Training throughput")
