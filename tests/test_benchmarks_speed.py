"""Smoke tests of the speed and scale benchmarks (no timed assertions).

Each script's ``--quick`` mode runs end to end into a temporary directory and
the CSV it writes is checked: the columns, one row per floor / arm, positive
finite times, computed ratios and throughputs. Whether a floor passes is what
the full benchmark reports; it is never asserted here. torch and LibAUC are
optional: without them the LibAUC rows must say "not installed".
"""

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import _data  # noqa: E402
import _harness  # noqa: E402
import _measure  # noqa: E402
import _report  # noqa: E402
import _scale_jobs  # noqa: E402
import _speed_common  # noqa: E402
import _speed_peers  # noqa: E402
import bench_scale  # noqa: E402
import bench_speed  # noqa: E402

FLOOR_IDS = ["1a", "1b", "2a", "2b", "3a", "3b", "3e", "3f", "3c", "3d", "4", "5"]


def _run_quick(script, out):
    """Run ``script --quick --out out`` in a fresh interpreter."""
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc.stdout


def _read_csv(path):
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        return reader.fieldnames, list(reader)


def _positive_finite(value):
    number = float(value)
    return math.isfinite(number) and number > 0


@pytest.fixture(scope="module")
def speed_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("speed")
    stdout = _run_quick("bench_speed.py", out)
    return out, stdout


@pytest.fixture(scope="module")
def scale_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("scale")
    stdout = _run_quick("bench_scale.py", out)
    return out, stdout


@pytest.mark.slow
def test_speed_quick_writes_every_floor(speed_out):
    out, stdout = speed_out
    columns, rows = _read_csv(out / "speed.csv")
    assert columns == bench_speed.FLOOR_COLUMNS
    assert [row["floor_id"] for row in rows] == FLOOR_IDS
    libauc_missing = _harness.peer_status("libauc") is not None
    for row in rows:
        assert _positive_finite(row["floor"])
        # Quick mode never claims a floor: the sizes are not the floor's.
        assert row["passed"].startswith("n/a (quick; ")
        if row["floor_id"] == "4" and libauc_missing:
            assert "not installed" in row["detail"]
            continue
        assert _positive_finite(row["measured"]), row
    assert "floor_id" in stdout and "measured" in stdout
    for name in ("speed.md", "speed.png", "speed_details.csv"):
        assert (out / name).stat().st_size > 0


@pytest.mark.slow
def test_speed_quick_ratios_are_computed(speed_out):
    out, _ = speed_out
    rows = {row["floor_id"]: row for row in _read_csv(out / "speed.csv")[1]}
    _, details = _read_csv(out / "speed_details.csv")
    values = {(d["section"], d["name"]): d["value"] for d in details}
    logreg = float(values[("fit_large_logreg", "fit_s")])
    for model, floor_id in (("linear", "3a"), ("mlp", "3b"), ("default", "3e")):
        ours = float(values[(f"fit_large_{model}", "fit_s")])
        assert logreg > 0 and ours > 0
        assert float(rows[floor_id]["measured"]) == pytest.approx(ours / logreg)
    for model, floor_id in (("linear", "3c"), ("mlp", "3d")):
        extra = float(values[(f"fit_large_{model}", "extra_mb")])
        assert float(rows[floor_id]["measured"]) == pytest.approx(extra)
        budget = float(values[(f"fit_large_{model}", "budget_mb")])
        data = float(values[(f"fit_large_{model}", "data_mb")])
        x_mb = float(values[(f"fit_large_{model}", "x_mb")])
        assert budget == pytest.approx(data + x_mb + 300.0)
    for name in ("compile_s", "first_fit_s", "steps_per_s", "flop_ceiling_steps_per_s"):
        assert _positive_finite(values[("stochastic_linear", name)]), name
    assert _positive_finite(values[("exact", "transcendental_ceiling_pairs_per_s")])
    assert _positive_finite(values[("cold_cached_0", "first_fit_s")])


@pytest.mark.slow
def test_scale_quick_writes_every_arm(scale_out):
    out, stdout = scale_out
    columns, rows = _read_csv(out / "scale.csv")
    assert columns == bench_scale.COLUMNS
    sizes = bench_scale.MODES["quick"]["sizes"]
    assert {(int(r["n_samples"]), r["arm"]) for r in rows} == {
        (n, arm) for n in sizes for arm in bench_scale.ARMS
    }
    statuses = {r["status"] for r in rows}
    assert statuses <= {"ok", "skipped", "not installed"}, statuses
    for row in rows:
        if row["status"] != "ok":
            assert row["note"], row
            continue
        assert _positive_finite(row["fit_s"]), row
        assert float(row["compile_s"]) >= 0
        assert _positive_finite(row["steady_s"]), row
        assert float(row["steady_s"]) <= float(row["fit_s"]) + 1e-9
        assert math.isfinite(float(row["peak_extra_mb"]))
        if row["arm"].startswith(("skpairauc", "LibAUC")):
            assert _positive_finite(row["pairs_per_s"]), row
            assert _positive_finite(row["ceiling_pairs_per_s"]), row
            assert float(row["pairs_total"]) == pytest.approx(
                float(row["pairs_per_step"]) * int(row["steps"])
            )
        if not row["arm"].startswith("LibAUC"):
            assert 0.0 <= float(row["test_auc"]) <= 1.0
    libauc = [r for r in rows if r["arm"].startswith("LibAUC")]
    if _harness.peer_status("libauc") is not None:
        assert all(r["status"] == "not installed" for r in libauc)
    else:
        mlp = {int(r["n_samples"]): r for r in rows if r["arm"].endswith("mlp64 adam")}
        for row in libauc:
            assert row["steps"] == mlp[int(row["n_samples"])]["steps"]
    assert "arm" in stdout
    for name in ("scale.md", "scale_time.png", "scale_memory.png"):
        assert (out / name).stat().st_size > 0


def test_absent_torch_is_reported_not_installed(monkeypatch):
    monkeypatch.setenv("SKPAIRAUC_BENCH_DISABLE", "torch,libauc")
    assert _harness.peer_status("libauc").startswith("not installed")
    result = _scale_jobs.job_fit(
        {"job": "fit", "arm": "LibAUC mlp64 (same steps)", "n_samples": 100}
    )
    assert result["status"].startswith("not installed")
    assert _speed_peers.job_torch_equal_work(
        {"impl": "libauc", "n_samples": 100, "n_steps": 2}
    )["status"].startswith("not installed")


def test_work_model_arithmetic():
    # MLP 100 -> 64 -> 1 over 512 rows: forward + weight gradient of layer 1,
    # forward + weight + input gradient of layer 2.
    assert _measure.flops_per_step((64,), 100, 512) == (
        2 * 2 * 512 * 100 * 64 + 3 * 2 * 512 * 64
    )
    assert _measure.flops_per_step((), 100, 512) == 2 * 2 * 512 * 100
    seconds = _measure.lower_bound_seconds(2e9, 1e9, 100.0, 1e9)
    assert seconds == pytest.approx(2e9 / 1e11 + 2.0)


def test_synthetic_data_is_float32_with_exact_prevalence():
    X, y = _data.make_imbalanced(5_000, 7, 0.01, seed=0)
    X_test, _ = _data.make_imbalanced(5_000, 7, 0.01, seed=1)
    assert X.dtype == np.float32 and X.shape == (5_000, 7)
    assert y.sum() == 50 and set(np.unique(y)) == {0, 1}
    assert not np.array_equal(X, X_test)


def test_floor_row_pass_fail_and_missing():
    assert _speed_common.floor_row("x", "", 10, 12, "x", True)["passed"] == "PASS"
    assert _speed_common.floor_row("x", "", 10, 12, "x", False)["passed"] == "FAIL"
    missing = _speed_common.floor_row("x", "", 10, None, "x", True)
    assert missing["passed"] == "not measured" and math.isnan(missing["measured"])


def test_peers_can_be_disabled_one_by_one(monkeypatch):
    monkeypatch.setenv("SKPAIRAUC_BENCH_DISABLE", "xgboost, torch")
    assert _harness.disabled_peers() == {"xgboost", "torch"}
    for peer in ("xgboost", "torch", "libauc"):  # LibAUC needs torch
        assert _harness.peer_status(peer).startswith("not installed (disabled")
    assert _harness.peer_status("skpairauc") is None


def test_select_mode_fills_the_options_left_to_the_mode():
    modes = {"quick": {"seeds": 2, "size": 10}, "full": {"seeds": 5, "size": 99}}
    parser = _harness.bench_parser("test", "nothing")
    parser.add_argument("--seeds", type=int, default=None)
    args = _harness.parse_args(parser, ["--quick"])
    name, mode = _harness.select_mode(modes, args, ("seeds",))
    assert (name, mode, args.seeds) == ("quick", modes["quick"], 2)
    assert mode is not modes["quick"]  # a copy the script may change
    args = _harness.parse_args(parser, ["--seeds", "3"])
    assert _harness.select_mode(modes, args, ("seeds",))[0] == "full"
    assert args.seeds == 3 and args.argv == ["--seeds", "3"]
    assert args.out == _harness.RESULTS_DIR


def test_child_jobs_report_failures_instead_of_raising():
    def broken(spec):
        raise RuntimeError("boom")

    runner = _harness.JobRunner("unused.py", {"broken": broken}, in_process=True)
    assert runner({"job": "broken"}) == {"error": "RuntimeError: boom"}


def test_machine_info_names_the_commit_load_and_versions():
    info = _report.machine_info()
    for key in ("cpu_model", "nproc", "load", "python", "revision", "numpy"):
        assert info[key], key
    assert f"numpy {np.__version__}" in _report.versions_text(info)


def test_write_report_adds_the_machine_and_marks_smoke_runs(tmp_path):
    info = {"cpu_model": "test CPU", "nproc": 3, "numpy": np.__version__}
    path = tmp_path / "sub" / "report.md"
    _report.write_report(path, ["# Title", "", "body"], "quick", 90.0, info)
    text = path.read_text()
    assert text.startswith("# Title\n\nSmoke sizes: the numbers prove")
    assert "body\n\n## Machine\n\nWall time: 1.5 min. Machine: test CPU, 3 CPUs" in text
    assert "- cpu_model: test CPU" in text and f"numpy {np.__version__}" in text
    _report.write_report(path, ["# Title", "", "body"], "full", 1.0, {})
    assert path.read_text() == "# Title\n\nbody\n"  # no machine known: no section


def test_compile_clock_counts_backend_compiles_by_function():
    import jax
    import jax.numpy as jnp

    _measure.CompileClock.install()
    _measure.CompileClock.install()  # idempotent: one listener
    count, seconds = _measure.CompileClock.count(), _measure.CompileClock.seconds()
    backend = _measure.CompileClock.backend_seconds()

    def bench_compile_clock_probe(x):
        return jnp.sin(x) * 3.0

    x = np.arange(7, dtype=np.float32)
    jax.jit(bench_compile_clock_probe)(x).block_until_ready()
    assert _measure.CompileClock.count() >= count + 1
    assert _measure.CompileClock.seconds() > seconds
    assert _measure.CompileClock.backend_seconds() > backend
    assert _measure.CompileClock.names["jit(bench_compile_clock_probe)"] == 1


@pytest.fixture(scope="module")
def sparse_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("sparse")
    return out, _run_quick("bench_sparse.py", out)


@pytest.mark.slow
def test_scale_quick_writes_sparse_and_streaming_rows(scale_out):
    out, _ = scale_out
    for part, arms in _scale_jobs.EXTRA_ARMS.items():
        columns, rows = _read_csv(out / f"scale_{part}.csv")
        assert columns == _scale_jobs.EXTRA_COLUMNS[part]
        sizes = bench_scale.MODES["quick"][f"{part}_sizes"]
        assert {(int(r["n_samples"]), r["arm"]) for r in rows} == {
            (n, arm) for n in sizes for arm in arms
        }
        for row in rows:
            assert row["status"] == "ok", row
            assert _positive_finite(row["fit_s"]), row
            assert 0.0 <= float(row["test_auc"]) <= 1.0
    assert (out / "scale_sparse.md").stat().st_size > 0


@pytest.mark.slow
def test_sparse_quick_writes_every_arm_and_floor(sparse_out):
    import bench_sparse

    out, stdout = sparse_out
    columns, rows = _read_csv(out / "sparse_tfidf.csv")
    assert columns == bench_sparse.TFIDF_COLUMNS
    assert [r["arm"] for r in rows] == bench_sparse.TFIDF_ARMS
    for row in rows:
        assert row["status"] == "ok", row
        assert _positive_finite(row["fit_s"]) and _positive_finite(row["csr_mb"])
        assert 0.0 <= float(row["test_auc"]) <= 1.0
    columns, rows = _read_csv(out / "sparse_onehot.csv")
    assert columns == bench_sparse.ONEHOT_COLUMNS
    assert [r["arm"] for r in rows] == bench_sparse.ONEHOT_ARMS
    for row in rows:
        assert row["status"] == "ok", row
        assert 0.0 <= float(row["cv_auc_mean"]) <= 1.0 and _positive_finite(row["cv_s"])
    _, floors = _read_csv(out / "sparse_floors.csv")
    assert len(floors) == 8
    assert all(f["passed"].startswith("n/a (quick; ") for f in floors)
    assert "not measured" not in " ".join(f["passed"] for f in floors)
    assert (out / "sparse.md").stat().st_size > 0 and "arm" in stdout
