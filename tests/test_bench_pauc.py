"""Smoke test of benchmarks/bench_pauc.py (partial AUC on KEEL tables).

The ``--quick`` mode runs end to end into a temporary directory (one table,
one split, short fits); the LibAUC peer may be absent, and its rows must then
say "not installed". The split-noise summary is checked on made-up rows.
"""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


@pytest.fixture
def isolated_environ(monkeypatch):
    """Let ``main`` set its thread variables without leaking them."""
    monkeypatch.setattr(os, "environ", os.environ.copy())


def test_pauc_quick(tmp_path, isolated_environ):
    import bench_pauc

    bench_pauc.main(["--quick", "--out", str(tmp_path)])
    rows = pd.read_csv(tmp_path / "pauc.csv")
    assert {"dataset", "model", "repeat", "pauc", "auc", "fit_time_s"} <= set(rows)
    assert list(rows["model"]) == list(bench_pauc.MODELS)
    assert set(rows["dataset"]) == {"ecoli4"}
    ok = rows["status"] == "ok"
    # The peer either ran or is recorded as not installed; skpairauc always runs.
    assert (ok | rows["status"].str.startswith("not installed")).all(), rows
    assert ok[rows["model"].str.startswith("skpairauc")].all()
    assert np.isfinite(rows.loc[ok, "pauc"]).all()
    assert rows.loc[ok, "pauc"].between(0.0, 1.0).all()
    report = (tmp_path / "pauc.md").read_text()
    assert "Floors (issue 24)" in report and "1a" in report
    for name in ("pauc.png", "pauc_summary.csv"):
        assert (tmp_path / name).stat().st_size > 0


def test_pauc_quick_without_libauc(tmp_path, isolated_environ):
    import bench_pauc

    os.environ["SKPAIRAUC_BENCH_DISABLE"] = "torch,libauc"
    bench_pauc.main(["--quick", "--out", str(tmp_path), "--models", "libauc_pauc"])
    rows = pd.read_csv(tmp_path / "pauc.csv")
    assert rows["status"].str.startswith("not installed").all()
    report = (tmp_path / "pauc.md").read_text()
    assert "not evaluated" in report and "not installed" in report


def test_paired_noise_and_floors():
    import bench_pauc

    rng = np.random.default_rng(0)
    # Paired noise of mean +0.0002 (se 0.0006): "b" is level, within noise.
    wiggle = [0.002, -0.001, 0.001, -0.001, 0.0]
    rows = []
    for dataset, shift in (("a", 0.05), ("b", 0.0), ("c", -0.05)):
        for repeat in range(5):
            base = 0.8 + 0.01 * rng.standard_normal()
            for model, value in (
                (bench_pauc.DEFAULT, base),
                (bench_pauc.PAUC, base + shift + wiggle[repeat]),
            ):
                rows.append(
                    dict(dataset=dataset, model=model, repeat=repeat, pauc=value)
                    | dict(auc=value, fit_time_s=1.0, status="ok")
                )
    frame = pd.DataFrame(rows).assign(cold_fit_time_s=np.nan)
    table = bench_pauc.paired(frame, bench_pauc.PAUC, bench_pauc.DEFAULT, "abc")
    # The splits' shared noise cancels in the paired difference.
    assert list(table["verdict"]) == ["better", "within noise", "worse"]
    per_dataset, overall = bench_pauc.summarise(frame)
    verdicts = {r["floor"]: r for r in bench_pauc.floors(per_dataset, "abc")}
    # 2 of 3 tables at >= (needs ceil(2/3 * 3) = 2), mean difference about 0.
    assert verdicts["1b"]["verdict"] == "PASS" and "2 of 3" in verdicts["1b"]["value"]
    assert verdicts["2"]["value"] == "not evaluated"
