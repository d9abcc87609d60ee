"""Latency of a fresh process: import, unpickle + predict, first fit (issue 10).

Every measurement runs in a fresh interpreter, side by side with
``LogisticRegression(class_weight="balanced")`` and ``MLPClassifier``:

* **Import** (bare ``python -c``, nothing imported before): ``import
  skpairauc`` vs ``import sklearn.linear_model`` (floor: ratio of medians
  <= 1.5), and ``import jax`` alone, to show what a cold first fit pays for
  JAX.
* **Unpickle + predict**: ``pickle.load`` of a fitted model (which imports its
  library) then ``predict_proba`` and ``predict`` on 1,000 rows; whether
  ``jax`` or ``optax`` got imported (floor: neither).
* **First fit** of ``make_classification(1000, 20)``: the default
  ``PairwiseAUCClassifier(random_state=0)``, ``hidden_layer_sizes=()`` and
  ``(64,)`` with ``solver="lbfgs"`` and with ``solver="adam"``, each
  *cold* (an empty ``SKPAIRAUC_CACHE_DIR``) and *warm* (the directory the
  cold process left). The child times ``import skpairauc``, then the fit,
  with whatever the fit imports (JAX and optax when it compiles; a small
  exact fit imports neither), and records whether JAX was imported. Floors:
  default cold <= 1.0 s, warm <= 0.3 s, MLP(64) lbfgs cold <= 1.5 s. The
  peers' first fits are timed the same way.
* **Per program**: other children (one cold and one warm per configuration,
  which import JAX before the fit so that the timers can be installed) time
  every call of ``skpairauc._programs.get`` (a compile or a disk load, told
  apart by ``_programs.STATS``), every call of the program it returns
  (waiting for the result) and every evaluation of the NumPy objective of
  small exact fits (``host_objective``, nothing to compile): compile (or
  load) time beside run time, per program name.
* **Grid search**: ``GridSearchCV(PairwiseAUCClassifier(random_state=0),
  {"alpha": [0.1, 1, 10]}, cv=5, scoring="roc_auc")`` on
  ``make_classification(3000, 20, weights=[0.9])`` with ``n_jobs=1`` and
  ``n_jobs=2`` (loky workers: fresh processes that share the disk cache),
  each with an empty cache and with the one its cold run left. Floors:
  ``n_jobs=2`` not slower than ``n_jobs=1`` cold, faster warm.

The children import a copy of the package taken at the start (``--source``:
another ``skpairauc`` directory, e.g. ``git archive HEAD skpairauc``): the
disk cache's key covers the package's source, so an edit of the checkout
during the run would turn warm runs cold. Medians over ``repeats`` fresh
processes (interleaved); every value is in the CSV.

This script is the driver (modes, sections, floors); the children's jobs are
in ``_latency_jobs``, the record of a run and its report in
``_latency_report``.

Usage::

    python benchmarks/bench_latency.py             # full mode (a few minutes)
    python benchmarks/bench_latency.py --quick --out /tmp/latency   # smoke run
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as harness  # noqa: E402
import _report  # noqa: E402
from _latency_jobs import JOBS, bare_child, import_code, predict_code  # noqa: E402
from _latency_report import (  # noqa: E402
    CSV_COLUMNS,
    FLOOR_COLUMNS,
    Run,
    render,
    snapshot_package,
)

# Estimator settings of the first-fit section (JSON: lists for tuples).
FIRST_FIT_CONFIGS = {
    "default": {},
    "() lbfgs": {"hidden_layer_sizes": [], "solver": "lbfgs"},
    "(64,) lbfgs": {"hidden_layer_sizes": [64], "solver": "lbfgs"},
    "() adam": {"hidden_layer_sizes": [], "solver": "adam"},
    "(64,) adam": {"hidden_layer_sizes": [64], "solver": "adam"},
}
PEERS = ("LogisticRegression", "MLPClassifier")

MODES = {
    "quick": {
        "import_repeats": 1,
        "repeats": 1,
        "grid_repeats": 1,
        "configs": ["() lbfgs", "() adam"],
        "peers": ["LogisticRegression"],
        "fit_data": [300, 5],
        "predict_model": {"hidden_layer_sizes": []},
        "grid_data": [300, 5],
        "grid_alphas": [0.1, 1.0],
        "grid_cv": 2,
        "grid_params": {"hidden_layer_sizes": []},
    },
    "full": {
        "import_repeats": 7,
        "repeats": 3,
        "grid_repeats": 2,
        "configs": list(FIRST_FIT_CONFIGS),
        "peers": list(PEERS),
        "fit_data": [1000, 20],
        "predict_model": {},
        "grid_data": [3000, 20],
        "grid_alphas": [0.1, 1.0, 10.0],
        "grid_cv": 5,
        "grid_params": {},
    },
}


def measure_imports(run: Run):
    modules = ("skpairauc", "sklearn.linear_model", "jax")
    times = {m: [] for m in modules}
    leaked = False
    scratch = run.new_cache()  # nothing is written: no fit
    for _ in range(run.mode["import_repeats"]):
        for module in modules:  # interleaved: load drifts hit all alike
            code = import_code(module)
            result = bare_child(code, {"SKPAIRAUC_CACHE_DIR": str(scratch)})
            if "error" in result:
                raise RuntimeError(f"import {module}: {result['error']}")
            times[module].append(result["import_s"])
            leaked |= module == "skpairauc" and result["jax_imported"]
    medians = {
        m: run.add("import", m, "", "import_s", t, "s") for m, t in times.items()
    }
    ratio = medians["skpairauc"] / medians["sklearn.linear_model"]
    run.add("import", "skpairauc / sklearn.linear_model", "", "ratio", [ratio], "x")
    run.floor(
        "import skpairauc <= 1.5 x import sklearn.linear_model",
        "1.5 x",
        f"{ratio:.2f} x",
        ratio <= 1.5,
        f"medians {medians['skpairauc']:.2f} s vs "
        f"{medians['sklearn.linear_model']:.2f} s; import jax alone "
        f"{medians['jax']:.2f} s",
    )
    run.floor(
        "import skpairauc imports neither jax nor optax",
        "no",
        "jax imported" if leaked else "no",
        not leaked,
    )


def measure_predict(run: Run):
    models = run.scratch / "models"
    models.mkdir()
    cache = run.new_cache()
    spec = {
        "job": "make_models",
        "data": run.mode["fit_data"],
        "dir": str(models),
        "params": run.mode["predict_model"],
        "peers": run.mode["peers"],
    }
    names = run.child(spec, cache)["models"]
    results = {name: [] for name in names}
    for _ in range(run.mode["repeats"]):
        for name in names:
            code = predict_code(models / f"{name}.pkl", models / "X.npy")
            result = bare_child(code, {"SKPAIRAUC_CACHE_DIR": str(cache)})
            if "error" in result:
                raise RuntimeError(f"predict {name}: {result['error']}")
            results[name].append(result)
    imported = []
    for name, rs in results.items():
        label = "PairwiseAUCClassifier" if name == "skpairauc" else name
        for measure in ("unpickle_s", "predict_s", "total_s"):
            run.add("predict", label, "", measure, [r[measure] for r in rs], "s")
        jax_in = any(r["jax_imported"] or r["optax_imported"] for r in rs)
        run.add("predict", label, "", "jax_or_optax_imported", [jax_in], "bool")
        if name == "skpairauc" and jax_in:
            imported.append(name)
    run.floor(
        "unpickle + predict imports neither jax nor optax",
        "no",
        "imported" if imported else "no",
        not imported,
        f"unpickle + predict_proba + predict of 1,000 rows: "
        f"{run.summary[('predict', 'PairwiseAUCClassifier', '', 'total_s')]:.2f} s",
    )


def measure_first_fits(run: Run):
    data = run.mode["fit_data"]
    results = {}  # (name, cache) -> list of results
    for repeat in range(run.mode["repeats"]):
        for name in run.mode["configs"]:
            cache = run.new_cache()
            spec = {
                "job": "first_fit",
                "estimator": "skpairauc",
                "params": FIRST_FIT_CONFIGS[name],
                "data": data,
            }
            for state in ("cold", "warm"):  # warm: the directory cold left
                results.setdefault((name, state), []).append(run.child(spec, cache))
            if repeat == 0:  # the clocked children, apart from the timed ones
                clocked, cache = {**spec, "clock": True}, run.new_cache()
                for state in ("cold", "warm"):
                    run.add_programs(name, state, run.child(clocked, cache))
        for peer in run.mode["peers"]:
            spec = {"job": "first_fit", "estimator": peer, "data": data}
            results.setdefault((peer, ""), []).append(run.child(spec, run.new_cache()))
    for (name, state), rs in results.items():
        label = name if state == "" else f"PairwiseAUCClassifier {name}"
        note = ""
        if state:
            last = rs[-1]
            note = (
                f"solver {last['solver']}, hidden {tuple(last['hidden'])}; "
                f"programs compiled {last['stats'].get('compiled', 0)}, "
                f"loaded {last['stats'].get('loaded', 0)}"
            )
        for measure in ("import_s", "fit_s"):
            values = [r[measure] for r in rs]
            run.add("first_fit", label, state, measure, values, "s", note)
        if state:
            imported = [r["jax_imported"] for r in rs]
            run.add("first_fit", label, state, "jax_imported", imported, "bool", note)
    floors = [
        ("default", "cold", 1.0),
        ("default", "warm", 0.3),
        ("(64,) lbfgs", "cold", 1.5),
    ]
    for name, state, limit in floors:
        if name not in run.mode["configs"]:
            continue
        label = f"PairwiseAUCClassifier {name}"
        value = run.summary[("first_fit", label, state, "fit_s")]
        jax_in = run.summary[("first_fit", label, state, "jax_imported")]
        run.floor(
            f"first fit, {name}, {state} cache (with any JAX import)",
            f"{limit} s",
            f"{value:.2f} s",
            value <= limit,
            f"median of {run.mode['repeats']} fresh processes; the fit "
            + ("imported JAX" if jax_in else "imported no JAX"),
        )


def measure_grid(run: Run):
    mode = run.mode
    results = {}
    for _ in range(mode["grid_repeats"]):
        for n_jobs in (1, 2):
            cache = run.new_cache()
            spec = {
                "job": "grid",
                "n_jobs": n_jobs,
                "data": mode["grid_data"],
                "alphas": mode["grid_alphas"],
                "cv": mode["grid_cv"],
                "params": mode["grid_params"],
            }
            for state in ("cold", "warm"):
                results.setdefault((n_jobs, state), []).append(run.child(spec, cache))
    for (n_jobs, state), rs in results.items():
        note = (
            f"best alpha {rs[-1]['best_alpha']}, CV ROC AUC "
            f"{rs[-1]['best_score']:.4f}; {rs[-1]['cache_files']} cached programs"
        )
        values = [r["fit_s"] for r in rs]
        run.add("grid", f"n_jobs={n_jobs}", state, "fit_s", values, "s", note)

    def grid_s(n_jobs, state):
        return run.summary[("grid", f"n_jobs={n_jobs}", state, "fit_s")]

    one_cold, two_cold = grid_s(1, "cold"), grid_s(2, "cold")
    one_warm, two_warm = grid_s(1, "warm"), grid_s(2, "warm")
    run.floor(
        "GridSearchCV n_jobs=2 not slower than n_jobs=1, empty cache",
        "<= 1.0 x",
        f"{two_cold / one_cold:.2f} x",
        two_cold <= one_cold,
        f"{two_cold:.1f} s vs {one_cold:.1f} s",
    )
    run.floor(
        "GridSearchCV n_jobs=2 faster than n_jobs=1, warm cache",
        "< 1.0 x",
        f"{two_warm / one_warm:.2f} x",
        two_warm < one_warm,
        f"{two_warm:.1f} s vs {one_warm:.1f} s",
    )


SECTIONS = {
    "import": measure_imports,
    "predict": measure_predict,
    "first_fit": measure_first_fits,
    "grid": measure_grid,
}


def main(argv=None) -> int:
    parser = harness.bench_parser(__doc__.splitlines()[0], "latency.{csv,md}")
    parser.add_argument(
        "--source",
        type=Path,
        help="directory of the skpairauc package to measure (default: the "
        "importable one)",
    )
    parser.add_argument(
        "--only", nargs="+", choices=sorted(SECTIONS), help="run only these sections"
    )
    args = harness.parse_args(parser, argv, JOBS)  # a child runs its job here
    mode_name, mode = harness.select_mode(MODES, args)
    start = harness.start_run()
    scratch = Path(tempfile.mkdtemp(prefix="skpairauc-latency-"))
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "SKPAIRAUC_CACHE_DIR")}
    try:
        root, source_hash = snapshot_package(args.source, scratch)
        paths = [str(root), *filter(None, [saved["PYTHONPATH"]])]
        os.environ["PYTHONPATH"] = os.pathsep.join(paths)
        os.environ["SKPAIRAUC_CACHE_DIR"] = str(scratch / "parent-cache")
        sys.path.insert(0, str(root))
        run = Run(__file__, mode, scratch)
        for name, section in SECTIONS.items():
            if args.only and name not in args.only:
                continue
            print(f"[bench_latency] {name} ...", end=" ", flush=True)
            began = time.perf_counter()
            section(run)
            print(f"{time.perf_counter() - began:.0f} s", flush=True)
        info = _report.machine_info()
        info["skpairauc_source"] += f" (copy of the package, source hash {source_hash})"
        if args.only:
            _report.write_csv(run.rows, args.out / "latency.csv", CSV_COLUMNS)
        else:
            render(run, info, mode_name, args, time.perf_counter() - start, source_hash)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(scratch, ignore_errors=True)
    print(_report.text_table(run.floors, FLOOR_COLUMNS[:-1]))
    columns = ["section", "name", "cache", "measure", "value"]
    print(_report.text_table(run.rows, columns))
    print(f"\nwrote {args.out / 'latency.csv'} and latency.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
