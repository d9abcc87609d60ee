"""benchmarks/bench_sorted.py: its jax.numpy sort-based sums and tiled call
against the package's NumPy sums, and a smoke run of its ``--quick`` mode (no
timed assertions: whether a floor passes is what the full run reports)."""

import csv
import math
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPT = BENCHMARKS / "bench_sorted.py"
sys.path.insert(0, str(BENCHMARKS))

ARMS = [
    "PairwiseAUCClassifier",
    "LogisticRegression",
    "LogisticRegression, 1 BLAS thread",
]
FLOOR_IDS = ["gradient", "agreement", "fit-time", "fit-auc", "weights"]
HEADINGS = [
    "Protocol",
    "Gradient time against n",
    "Linear fit",
    "Sample weights as repeated rows",
    "Floors",
    "Machine",
]


def _positive(value):
    number = float(value)
    return math.isfinite(number) and number > 0


def test_benchmark_methods_compute_the_package_sums():
    import bench_sorted

    from skpairauc._sorted import sorted_pair_sums

    data = bench_sorted.pair_data(2_000)  # 20 positives, 1,980 negatives
    assert (len(data[0]), len(data[2])) == (20, 1_980)
    expected = sorted_pair_sums(*data, "squared_hinge", 1.0)
    assert expected[0] > 0
    # The jax.numpy version does the NumPy version's float64 arithmetic.
    assert (
        max(bench_sorted.agreement(bench_sorted.sorted_jax_call(*data)(), expected))
        < 1e-12
    )
    # The tiled float32 loop: the same sums to float32 round-off.
    total_err, grad_err = bench_sorted.agreement(
        bench_sorted.tiled_call(*data)(), expected
    )
    assert total_err < 1e-5 and grad_err < 1e-5


@pytest.mark.slow
def test_bench_sorted_quick_writes_every_section(tmp_path, run_quick_benchmark):
    from skpairauc._layout import bucket_length

    run_quick_benchmark(SCRIPT)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["sorted.csv", "sorted.md", "sorted_gradient.png"]
    assert (tmp_path / "sorted_gradient.png").read_bytes()[:4] == b"\x89PNG"

    with open(tmp_path / "sorted.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = ("gradient", "fit", "weights", "floor")
    section = {name: [r for r in rows if r["section"] == name] for name in names}
    assert len(rows) == sum(len(part) for part in section.values())

    # Gradient: both quick sizes; the first measured, the second (tiled limit
    # 0 s) extrapolated from it as padded n_pos x n_neg.
    small, large = section["gradient"]
    assert [(r["n"], r["n_pos"], r["n_neg"]) for r in (small, large)] == [
        ("1000", "10", "990"),
        ("3000", "30", "2970"),
    ]
    assert (small["tiled_status"], large["tiled_status"]) == (
        "measured",
        "extrapolated",
    )
    for row in (small, large):
        for method in ("tiled_jax", "sorted_numpy", "sorted_jax"):
            assert _positive(row[f"{method}_s"]), (method, row)
        assert len(row["sorted_numpy_all"].split()) == 3  # --repeats of quick
        assert float(row["tiled/numpy"]) == pytest.approx(
            float(row["tiled_jax_s"]) / float(row["sorted_numpy_s"])
        )
        assert float(row["jax_vs_numpy_err"]) < 1e-12
    assert len(small["tiled_jax_all"].split()) == 3 and large["tiled_jax_all"] == ""
    pairs = [
        bucket_length(int(r["n_pos"])) * bucket_length(int(r["n_neg"]))
        for r in (small, large)
    ]
    assert float(large["tiled_jax_s"]) == pytest.approx(
        float(small["tiled_jax_s"]) * pairs[1] / pairs[0]
    )
    assert float(small["total_rel_err"]) < 1e-5
    assert float(small["grad_rel_err"]) < 1e-5
    assert large["total_rel_err"] == ""  # nothing to compare with

    # Fits: every arm, on the first half of 20,000 rows.
    assert [r["arm"] for r in section["fit"]] == ARMS
    for row in section["fit"]:
        assert _positive(row["fit_s"]) and int(row["n_iter"]) >= 1
        assert 0.5 < float(row["test_auc"]) <= 1.0
    (weights,) = section["weights"]
    assert int(weights["n_rows"]) == 10_000
    assert 10_000 < int(weights["n_repeated_rows"]) < 20_000  # weights {0..3}
    # Integer weights are repeated rows to round-off at any size.
    assert float(weights["rel_diff"]) < 1e-8
    assert weights["n_iter_weighted"] == weights["n_iter_repeated"]

    assert [r["floor_id"] for r in section["floor"]] == FLOOR_IDS
    for row in section["floor"]:
        assert row["passed"].startswith("n/a (quick; "), row
        assert math.isfinite(float(row["measured"])), row

    report = (tmp_path / "sorted.md").read_text()
    for heading in HEADINGS:
        assert f"\n## {heading}" in report, heading
    assert "(extrapolated)" in report and "sorted_gradient.png" in report
    assert "python benchmarks/bench_sorted.py --quick" in report
