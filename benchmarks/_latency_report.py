"""The record of a ``bench_latency.py`` run and its report.

:class:`Run` holds what the sections measure (CSV rows: the median of each
measure and every value; the floors; the per-program rows) and runs their
children; :func:`render` writes ``latency.csv`` and ``latency.md``;
:func:`snapshot_package` copies the package the children import.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import statistics
from pathlib import Path

import _harness as harness
import _report

CSV_COLUMNS = [
    "section",
    "name",
    "cache",
    "measure",
    "value",
    "unit",
    "n",
    "values",
    "note",
]
FLOOR_COLUMNS = ["floor", "limit", "measured", "verdict", "detail"]
PROGRAM_COLUMNS = [
    "config",
    "cache",
    "program",
    "programs",
    "how",
    "obtain_s",
    "calls",
    "first_call_s",
    "later_call_s",
    "run_s",
    "fit_s",
]
BREAKDOWN_COLUMNS = ["config", "cache", "fit_s", "obtain_s", "run_s", "rest_s"]


class Run:
    """Shared state of one benchmark run: scratch space, rows, floors; its
    children run ``script --child``."""

    def __init__(self, script, mode, scratch: Path):
        self.script, self.mode, self.scratch = script, mode, scratch
        self.rows, self.floors, self.programs = [], [], []
        self.summary = {}
        self.load_at_start = ", ".join(f"{v:.1f}" for v in os.getloadavg())
        self._dirs = 0

    def new_cache(self) -> Path:
        self._dirs += 1
        path = self.scratch / f"cache{self._dirs}"
        path.mkdir()
        return path

    def child(self, spec, cache: Path) -> dict:
        env = {"SKPAIRAUC_CACHE_DIR": str(cache)}
        result = harness.run_child(self.script, spec, env_extra=env, timeout=900)
        if "error" in result:
            raise RuntimeError(f"child {spec} failed: {result['error']}")
        return result

    def add(self, section, name, cache, measure, values, unit, note=""):
        """A CSV row: the median of ``values`` (and all of them)."""
        values = [float(v) for v in values]
        median = statistics.median(values) if values else math.nan
        self.rows.append(
            {
                "section": section,
                "name": name,
                "cache": cache,
                "measure": measure,
                "value": median,
                "unit": unit,
                "n": len(values),
                "values": " ".join(f"{v:.4g}" for v in values),
                "note": note,
            }
        )
        self.summary[(section, name, cache, measure)] = median
        return median

    def floor(self, name, limit, measured, passed, detail=""):
        self.floors.append(
            {
                "floor": name,
                "limit": limit,
                "measured": measured,
                "verdict": "PASS" if passed else "FAIL",
                "detail": detail,
            }
        )

    def add_programs(self, config, state, result):
        """The rows of a clocked child: one per program name."""
        for program, row in sorted(result["programs"].items()):
            entry = {
                "config": config,
                "cache": state,
                "program": program,
                "programs": row["programs"],
                "how": row["how"],
                "obtain_s": row["obtain_s"],
                "calls": row["calls"],
                "first_call_s": row.get("first_call_s", math.nan),
                "later_call_s": row.get("later_call_s", math.nan),
                "run_s": row.get("run_s", 0.0),
                "fit_s": result["fit_s"],
            }
            self.programs.append(entry)
            note = f"{entry['programs']} program(s), {entry['how']}"
            name = f"{config}: {program}"
            for measure in ("obtain_s", "first_call_s", "later_call_s", "run_s"):
                self.add("programs", name, state, measure, [entry[measure]], "s", note)
            self.add("programs", name, state, "calls", [entry["calls"]], "calls", note)


def snapshot_package(source: Path | None, scratch: Path) -> tuple[Path, str]:
    """Copy the package the children import; returns (directory, source hash)."""
    if source is None:
        import importlib.util

        source = Path(importlib.util.find_spec("skpairauc").origin).parent
    root = scratch / "source"
    shutil.copytree(
        source, root / "skpairauc", ignore=shutil.ignore_patterns("__pycache__")
    )
    digest = hashlib.sha256()
    for path in sorted((root / "skpairauc").glob("*.py")):
        digest.update(path.read_bytes())
    return root, digest.hexdigest()[:12]


def first_fit_table(run: Run) -> list[str]:
    s = run.summary
    columns = [
        "model",
        "cache",
        "import, sklearn loaded (s)",
        "fit (s)",
        "fit imported JAX",
    ]
    rows = []
    for name in run.mode["configs"]:
        for state in ("cold", "warm"):
            key = ("first_fit", f"PairwiseAUCClassifier {name}", state)
            rows.append(
                {
                    "model": f"PairwiseAUCClassifier {name}",
                    "cache": state,
                    "import, sklearn loaded (s)": s[(*key, "import_s")],
                    "fit (s)": s[(*key, "fit_s")],
                    "fit imported JAX": bool(s[(*key, "jax_imported")]),
                }
            )
    for peer in run.mode["peers"]:
        key = ("first_fit", peer, "")
        rows.append(
            {
                "model": peer,
                "cache": "",
                "import, sklearn loaded (s)": s[(*key, "import_s")],
                "fit (s)": s[(*key, "fit_s")],
                "fit imported JAX": "",
            }
        )
    return [_report.markdown_table(rows, columns)]


def breakdown(run: Run) -> list[dict]:
    """Per fit: compile/load time, program-call time and the rest."""
    fits = {}
    for row in run.programs:
        fit = fits.setdefault(
            (row["config"], row["cache"]),
            {"config": row["config"], "cache": row["cache"], "fit_s": row["fit_s"]},
        )
        fit["obtain_s"] = fit.get("obtain_s", 0.0) + row["obtain_s"]
        fit["run_s"] = fit.get("run_s", 0.0) + row["run_s"]
    for fit in fits.values():
        fit["rest_s"] = fit["fit_s"] - fit["obtain_s"] - fit["run_s"]
    return list(fits.values())


def render(run: Run, info: dict, mode_name: str, args, elapsed: float, source_hash):
    """Write ``latency.csv`` and ``latency.md`` into ``args.out``."""
    out = args.out
    _report.write_csv(run.rows, out / "latency.csv", CSV_COLUMNS)
    s = run.summary
    mode = run.mode
    lines = [
        "# Latency of a fresh process: import, predict, first fit (issue 10)",
        "",
        f"Mode: `{mode_name}`. Generated by `benchmarks/bench_latency.py`; every "
        "value (all repeats) is in `latency.csv`. "
        + _report.command_line("bench_latency.py", args.argv),
        "",
        "## Protocol",
        "",
        "Every measurement is a fresh Python process on this machine's shared "
        "CPUs (no pinning: the first fit a user sees). Children import a copy "
        f"of the package taken at the start (source hash `{source_hash}`), so "
        "the disk cache's key does not change during the run. Medians of "
        f"{mode['import_repeats']} processes (imports), {mode['repeats']} "
        f"(predict, first fit), {mode['grid_repeats']} (grid search), "
        "interleaved. Load average (1, 5, 15 min) when the run started: "
        f"{run.load_at_start} on {os.cpu_count()} CPUs (see the end for the "
        "load when it ended): every time below includes waiting for a CPU.",
        "",
        "- Import: `python -c 'import X'` with nothing imported before; the "
        "time of the import statement (interpreter start excluded).",
        "- Unpickle + predict: `pickle.load` of a model fitted on "
        f"make_classification({mode['fit_data'][0]}, {mode['fit_data'][1]}) "
        "(the load imports the model's library) then `predict_proba` and "
        "`predict` of the same rows.",
        "- First fit: make_classification"
        f"({mode['fit_data'][0]}, {mode['fit_data'][1]}), random_state=0. "
        "The child makes the data (so sklearn is already imported), imports "
        "skpairauc (or the peer's module), then fits; 'fit' includes "
        "everything the fit imports (JAX, optax and the training modules "
        "when it compiles or runs a program; a small exact fit runs the NumPy "
        "objective and imports no JAX). Cold: an empty "
        "`SKPAIRAUC_CACHE_DIR`; warm: the directory the cold process just "
        "left.",
        "- Per program: other children, one cold and one warm per "
        "configuration, import JAX before the fit and wrap "
        "`skpairauc._programs.get`, the programs it returns and the NumPy "
        "objective (`host_objective`) with timers; each program call waits "
        "for its result (`jax.block_until_ready`), which the training loops "
        "do anyway at every iteration/epoch.",
        "- Grid search: GridSearchCV(PairwiseAUCClassifier(random_state=0"
        + "".join(f", {k}={v!r}" for k, v in mode["grid_params"].items())
        + f"), {{'alpha': {mode['grid_alphas']}}}, cv={mode['grid_cv']}, "
        "scoring='roc_auc') on make_classification"
        f"({mode['grid_data'][0]}, {mode['grid_data'][1]}, weights=[0.9]); "
        "`n_jobs=2` uses loky worker processes, which share the disk cache. "
        "Cold: an empty cache; warm: the one its cold run left.",
        "",
        "## Floors",
        "",
        _report.markdown_table(run.floors, FLOOR_COLUMNS),
        "",
        "## Import",
        "",
        _report.markdown_table(
            [
                {"module": m, "import (s)": s[("import", m, "", "import_s")]}
                for m in ("skpairauc", "sklearn.linear_model", "jax")
            ],
            ["module", "import (s)"],
        ),
        "",
        "## Unpickle + predict",
        "",
        _report.markdown_table(
            [
                {
                    "model": name,
                    "unpickle (s)": s[("predict", name, "", "unpickle_s")],
                    "predict (s)": s[("predict", name, "", "predict_s")],
                    "total (s)": s[("predict", name, "", "total_s")],
                    "jax/optax imported": bool(
                        s[("predict", name, "", "jax_or_optax_imported")]
                    ),
                }
                for name in ["PairwiseAUCClassifier", *mode["peers"]]
            ],
            ["model", "unpickle (s)", "predict (s)", "total (s)", "jax/optax imported"],
        ),
        "",
        "## First fit in a fresh process",
        "",
        *first_fit_table(run),
        "",
        "## Per program: compile (or load) vs run",
        "",
        "The clocked processes. `programs`: distinct compiled programs of "
        "that name; `obtain_s`: time in `_programs.get` compiling or loading "
        "them (all of them); `first call`/`later calls (median)`: wall time of "
        "one call of the first such program; `run_s`: all calls of all of "
        "them; `fit_s`: the whole fit, for scale.",
        "",
        _report.markdown_table(run.programs, PROGRAM_COLUMNS),
        "",
        "Where each fit's time went (same processes): compile or load, "
        "program (or NumPy objective) calls, and the rest (host work: "
        "layout, the NumPy L-BFGS "
        "steps, cross-validation, threshold, imports of optax and the "
        "training modules). Some compiles run in a background thread (adam: "
        "while the data is laid out; the default: the MLP's and the refit's "
        "programs while the linear folds train), so `obtain_s` counts time "
        "that overlapped other work, and the rest is undercounted (negative "
        "for the default when cold).",
        "",
        _report.markdown_table(breakdown(run), BREAKDOWN_COLUMNS),
        "",
        "## Grid search",
        "",
        _report.markdown_table(
            [
                {
                    "n_jobs": n,
                    "cache": state,
                    "fit (s)": s[("grid", f"n_jobs={n}", state, "fit_s")],
                }
                for state in ("cold", "warm")
                for n in (1, 2)
            ],
            ["n_jobs", "cache", "fit (s)"],
        ),
        "",
    ]
    _report.write_report(out / "latency.md", lines, mode_name, elapsed, info)
