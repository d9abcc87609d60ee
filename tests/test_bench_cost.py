"""benchmarks/bench_cost.py: a smoke run of its ``--quick`` mode (each fit in a
child process) and of ``--baseline`` (no timed assertions: whether a floor
passes is what the full run reports)."""

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_cost.py"
COLUMNS = [
    "label", "table", "n", "d", "model", "status", "time_s", "warm_time_s", "auc",
    "chosen", "n_iter", "warnings", "load_1min",
]  # fmt: skip
MODELS = ["default", "hgb", "lr", "mlp"]


def _run(*args):
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc


def _rows(directory):
    with open(directory / "cost.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        return reader.fieldnames, list(reader)


@pytest.mark.slow
def test_bench_cost_quick_writes_every_model_and_floor(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    _run("--out", first, "--label", "smoke")
    assert sorted(p.name for p in first.iterdir()) == [
        "cost.csv",
        "cost.md",
        "cost_time.png",
    ]
    assert (first / "cost_time.png").read_bytes()[:4] == b"\x89PNG"

    columns, rows = _rows(first)
    assert columns == COLUMNS
    # Quick mode: n in {500, 1000}, d = 20, no one-hot table; every model at
    # every point, in sweep order.
    assert [(r["table"], r["n"], r["d"], r["model"]) for r in rows] == [
        ("dense", n, "20", model) for n in ("500", "1000") for model in MODELS
    ]
    for row in rows:
        assert row["label"] == "smoke" and row["status"] == "ok", row
        assert 0.0 < float(row["auc"]) <= 1.0, row
        assert math.isfinite(float(row["time_s"])) and float(row["time_s"]) > 0
        assert int(row["n_iter"]) >= 1, row
        # Only the default is fitted twice and says what "auto" chose.
        is_default = row["model"] == "default"
        assert (row["warm_time_s"] != "") == is_default, row
        assert (row["chosen"] != "") == is_default, row
        if is_default:
            assert float(row["warm_time_s"]) > 0
            assert "alpha=" in row["chosen"], row

    report = (first / "cost.md").read_text()
    for heading in (
        "## Protocol",
        "## Dense tables, d = 20",
        "## Floors",
        "## Machine",
    ):
        assert f"\n{heading}" in report, heading
    assert "**(1) The default's first fit <= 2x HGB's:**" in report
    assert "**(2) No cliff" in report
    assert "no `--baseline` given" in report
    # The smoke sizes are not the floors' sizes: no verdict stands alone.
    assert "n/a (quick; " in report and "| PASS |" not in report
    assert "| FAIL |" not in report
    assert "python benchmarks/bench_cost.py --quick" in report

    # A second run of the default alone, checked against the first: the same
    # seeds give the same AUC, so floor (3) passes at both points.
    _run("--out", second, "--models", "default", "--baseline", first / "cost.csv")
    _, again = _rows(second)
    assert [r["model"] for r in again] == ["default", "default"]
    for old, new in zip(rows[:: len(MODELS)], again):
        assert float(new["auc"]) == pytest.approx(float(old["auc"]), abs=1e-9)
    report = (second / "cost.md").read_text()
    assert "**(3) The default's test AUC >= the baseline's - 0.005**" in report
    assert report.count("n/a (quick; PASS)") >= 2


@pytest.mark.slow
def test_bench_cost_skips_larger_sizes_after_a_fit_over_the_timeout(tmp_path):
    _run("--out", tmp_path, "--models", "lr", "--fit-timeout", "0")
    _, rows = _rows(tmp_path)
    assert [(r["n"], r["status"]) for r in rows] == [
        ("500", "ok"),
        ("1000", "skipped (fit over 0 s at n=500)"),
    ]
    assert rows[1]["time_s"] == rows[1]["auc"] == ""
