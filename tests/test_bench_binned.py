"""benchmarks/bench_binned.py: its tiled calls and references against the
package's sums, and a smoke run of its ``--quick`` mode (no timed assertions:
the timings are what the full run reports)."""

import csv
import math
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPT = BENCHMARKS / "bench_binned.py"
sys.path.insert(0, str(BENCHMARKS))

HEADINGS = [
    "Protocol",
    "Evaluation time against n",
    "Accuracy against the reference",
    "Fits",
    "Machine",
]


def _positive(value):
    number = float(value)
    return math.isfinite(number) and number > 0


def test_benchmark_methods_compute_the_package_sums():
    import bench_binned

    from skpairauc._binned import binned_pair_sums
    from skpairauc._losses import pair_block_sums, value_and_derivative

    data = bench_binned.pair_data(3_000, scale=0.1)  # 150 positives
    assert (len(data[0]), len(data[2])) == (150, 2_850)
    loss = value_and_derivative("logistic", 1.0, np)
    exact = pair_block_sums(*data, loss)
    # The float64 tiled program (the tiled64 reference) is exact to round-off.
    tiled64 = bench_binned.Tiled(150, 2_850, np.float64)
    assert max(bench_binned.agreement(tiled64(tiled64.prepare(*data)), exact)) < 1e-12
    # The float32 program and the host's dense sums: float32 round-off.
    tiled = bench_binned.Tiled(150, 2_850)
    assert tiled.lengths[0] * tiled.lengths[1] > 512 * 512  # the tiled loop
    assert max(bench_binned.agreement(tiled(tiled.prepare(*data)), exact)) < 1e-6
    assert max(bench_binned.agreement(bench_binned.dense_call(data)(), exact)) < 1e-6
    # The binned sums: the lattice's error, far above float64 round-off at
    # this scale (the pairs sit where the loss is curved).
    binned = bench_binned.agreement(binned_pair_sums(*data, loss), exact)
    assert 1e-9 < max(binned) < 1e-5


@pytest.mark.slow
def test_bench_binned_quick_writes_every_section(tmp_path, run_quick_benchmark):
    from skpairauc._host_objective import HOST_MAX_PAIRS

    run_quick_benchmark(SCRIPT)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["binned.csv", "binned.md"]

    with open(tmp_path / "binned.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = ("time", "accuracy", "fit")
    section = {name: [r for r in rows if r["section"] == name] for name in names}
    assert len(rows) == sum(len(part) for part in section.values())

    # Evaluation time: every quick size, every method (dense: all fit 2^26).
    assert [(r["n"], r["n_pos"]) for r in section["time"]] == [
        ("1000", "50"),
        ("3000", "150"),
        ("10000", "500"),
    ]
    for row in section["time"]:
        for method in ("binned", "binned_cold", "tiled", "dense"):
            assert _positive(row[f"{method}_ms"]), (method, row)
        assert row["binned_calls"] == row["tiled_calls"] == "3"  # quick --repeats
        assert float(row["tiled/binned"]) == pytest.approx(
            float(row["tiled_ms"]) / float(row["binned_ms"])
        )

    # Accuracy: four scales per size; each reference in turn (the quick
    # limits), the float32 one at scale 1 only.
    accuracy = section["accuracy"]
    assert len(accuracy) == 12
    assert [float(r["scale"]) for r in accuracy[:4]] == [0.1, 1.0, 10.0, 100.0]
    kinds = [r["reference"] for r in accuracy]
    assert kinds[:8] == ["dense64"] * 4 + ["tiled64"] * 4
    assert kinds[8:] == ["sampled64", "tiled32", "sampled64", "sampled64"]
    for row in accuracy:
        assert _positive(row["binned_ms"]), row
        if row["reference"] == "sampled64":
            assert row["binned_total_err"] == ""
        else:
            assert float(row["binned_total_err"]) < 1e-5, row
            assert float(row["binned_grad_err"]) < 1e-5, row
            assert float(row["dense_grad_err"]) < 1e-6, row
        if row["reference"] in ("dense64", "tiled64"):
            assert float(row["tiled_grad_err"]) < 1e-6, row
            assert row["binned_sample_grad_err"] == ""
        else:  # the float32 program's size: float64 gradients of a sample
            assert float(row["binned_sample_grad_err"]) < 1e-5, row
    assert float(accuracy[9]["tiled_sample_grad_err"]) < 1e-6
    # The lattice grows with the scores' range, up to its cap (then the
    # spacing doubles).
    from skpairauc._binned import MAX_BINS

    bins = [int(r["n_bins"]) for r in accuracy[:4]]
    assert bins == sorted(bins) and 10 * bins[0] < bins[-1] <= MAX_BINS

    # Fits: both models, both arms; the compiled arm imported JAX, the binned
    # one did not; both above the host's dense limit.
    fits = section["fit"]
    assert [(r["model"], r["arm"]) for r in fits] == [
        ("linear", "binned"),
        ("linear", "compiled"),
        ("mlp", "binned"),
        ("mlp", "compiled"),
    ]
    for row in fits:
        assert "error" not in row or row["error"] == "", row
        assert _positive(row["first_fit_s"]) and _positive(row["second_fit_s"])
        assert int(row["n_iter"]) >= 1 and 0.8 < float(row["test_auc"]) <= 1.0
        assert row["jax_imported"] == str(row["arm"] == "compiled")
        assert int(row["n_pairs"]) > HOST_MAX_PAIRS
        assert row["same_second"] == "True"
    for binned, compiled in (fits[:2], fits[2:]):
        assert float(binned["compiled/binned_first"]) == pytest.approx(
            float(compiled["first_fit_s"]) / float(binned["first_fit_s"])
        )

    report = (tmp_path / "binned.md").read_text()
    for heading in HEADINGS:
        assert f"\n## {heading}" in report, heading
    assert "python benchmarks/bench_binned.py --quick" in report
