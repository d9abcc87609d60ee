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

Usage::

    python benchmarks/bench_latency.py             # full mode (a few minutes)
    python benchmarks/bench_latency.py --quick --out /tmp/latency   # smoke run
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as harness  # noqa: E402

SEED = 0
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


# --------------------------------------------------------------------------- #
# Child jobs (run by ``--child``; the script's own imports are light)
# --------------------------------------------------------------------------- #
def make_data(n_samples, n_features, weights=None):
    from sklearn.datasets import make_classification

    return make_classification(
        n_samples=n_samples, n_features=n_features, weights=weights, random_state=SEED
    )


def make_peer(name):
    if name == "LogisticRegression":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(class_weight="balanced")
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(random_state=SEED)


class ProgramClock:
    """Times ``_programs.get`` (compile or load) and every program call, and
    every evaluation of the host (NumPy) objective. Imports JAX."""

    def __init__(self):
        import jax

        from skpairauc import _host_objective, _programs

        self.records = {}  # id(program) -> record
        self._jax, self._programs = jax, _programs
        self._get = _programs.get
        _programs.get = self.get
        host = {"program": "host_objective", "how": "none (NumPy)", "obtain_s": 0.0}
        calls = host["calls"] = []
        evaluate = _host_objective.HostObjective.__call__

        def timed_evaluate(objective, theta):
            start = time.perf_counter()
            out = evaluate(objective, theta)
            calls.append(time.perf_counter() - start)
            return out

        _host_objective.HostObjective.__call__ = timed_evaluate
        self.records["host"] = host

    def get(self, name, build, static, args, **options):
        stats = self._programs.STATS
        before = stats["compiled"], stats["loaded"]
        start = time.perf_counter()
        program = self._get(name, build, static, args, **options)
        seconds = time.perf_counter() - start
        record = self.records.setdefault(
            id(program),
            {"program": name, "how": "reused", "obtain_s": 0.0, "calls": []},
        )
        if stats["compiled"] > before[0]:
            record["how"], record["obtain_s"] = "compiled", seconds
        elif stats["loaded"] > before[1]:
            record["how"], record["obtain_s"] = "loaded", seconds
        calls, block = record["calls"], self._jax.block_until_ready

        def timed_program(*call_args):
            start = time.perf_counter()
            out = block(program(*call_args))
            calls.append(time.perf_counter() - start)
            return out

        return timed_program

    def summary(self):
        """Per program name: programs obtained, how, and their calls' times."""
        table = {}
        for record in self.records.values():
            if not record["calls"] and record["program"] == "host_objective":
                continue
            row = table.setdefault(
                record["program"],
                {"programs": 0, "how": set(), "obtain_s": 0.0, "calls": 0},
            )
            row["programs"] += 1
            row["how"].add(record["how"])
            row["obtain_s"] += record["obtain_s"]
            row["calls"] += len(record["calls"])
            row["run_s"] = row.get("run_s", 0.0) + sum(record["calls"])
            if "first_call_s" not in row and record["calls"]:
                row["first_call_s"] = record["calls"][0]
                later = record["calls"][1:]
                row["later_call_s"] = statistics.median(later) if later else math.nan
        for row in table.values():
            row["how"] = "+".join(sorted(row["how"]))
        return table


def job_first_fit(spec):
    """First fit of a fresh process; ``spec["estimator"]`` is "skpairauc" or a peer."""
    X, y = make_data(*spec["data"])  # sklearn is imported here, untimed
    start = time.perf_counter()
    if spec["estimator"] == "skpairauc":
        from skpairauc import PairwiseAUCClassifier
    else:
        make_peer(spec["estimator"])  # imports its module
    import_s = time.perf_counter() - start
    result = {"import_s": import_s}
    if spec["estimator"] == "skpairauc":
        # A clocked child imports JAX first (its timers wrap the programs);
        # a timed one imports only what the fit imports.
        clock = ProgramClock() if spec.get("clock") else None
        est = PairwiseAUCClassifier(random_state=SEED, **spec["params"])
    else:
        est = make_peer(spec["estimator"])
    start = time.perf_counter()
    est.fit(X, y)
    result["fit_s"] = time.perf_counter() - start
    if spec["estimator"] == "skpairauc":
        result["jax_imported"] = "jax" in sys.modules
        programs = sys.modules.get("skpairauc._programs")
        result["stats"] = {} if programs is None else dict(programs.STATS)
        if clock is not None:
            result["programs"] = clock.summary()
        result["solver"] = est.solver_
        result["hidden"] = list(est.hidden_layer_sizes_)
    return result


def job_grid(spec):
    """One GridSearchCV fit in a fresh process (workers inherit the env)."""
    from sklearn.model_selection import GridSearchCV

    from skpairauc import PairwiseAUCClassifier

    X, y = make_data(*spec["data"], weights=[0.9])
    search = GridSearchCV(
        PairwiseAUCClassifier(random_state=SEED, **spec["params"]),
        {"alpha": spec["alphas"]},
        cv=spec["cv"],
        scoring="roc_auc",
        n_jobs=spec["n_jobs"],
    )
    start = time.perf_counter()
    search.fit(X, y)
    fit_s = time.perf_counter() - start
    from skpairauc import _programs

    cache = Path(os.environ["SKPAIRAUC_CACHE_DIR"])
    return {
        "fit_s": fit_s,
        "best_alpha": search.best_params_["alpha"],
        "best_score": search.best_score_,
        "parent_stats": dict(_programs.STATS),
        "cache_files": len(list(cache.glob("*.bin"))),
    }


def job_make_models(spec):
    """Fit and pickle the models whose unpickling and prediction are timed."""
    import pickle

    import numpy as np

    from skpairauc import PairwiseAUCClassifier

    X, y = make_data(*spec["data"])
    out = Path(spec["dir"])
    np.save(out / "X.npy", X)
    models = {"skpairauc": PairwiseAUCClassifier(random_state=SEED, **spec["params"])}
    models.update({name: make_peer(name) for name in spec["peers"]})
    for name, model in models.items():
        (out / f"{name}.pkl").write_bytes(pickle.dumps(model.fit(X, y)))
    return {"models": sorted(models)}


JOBS = {"first_fit": job_first_fit, "grid": job_grid, "make_models": job_make_models}


# --------------------------------------------------------------------------- #
# Bare children: nothing imported before the timed statement
# --------------------------------------------------------------------------- #
IMPORT_CODE = """
import sys, time
start = time.perf_counter()
import {module}
seconds = time.perf_counter() - start
print("{tag}" + '{{"import_s": %r, "jax_imported": %s}}'
      % (seconds, str("jax" in sys.modules).lower()))
"""

PREDICT_CODE = """
import json, pickle, sys, time
start = time.perf_counter()
with open({model!r}, "rb") as f:
    model = pickle.load(f)  # imports the model's library
unpickle_s = time.perf_counter() - start
import numpy as np
X = np.load({data!r})
start = time.perf_counter()
model.predict_proba(X)
model.predict(X)
predict_s = time.perf_counter() - start
print({tag!r} + json.dumps({{
    "unpickle_s": unpickle_s, "predict_s": predict_s,
    "total_s": unpickle_s + predict_s,
    "jax_imported": "jax" in sys.modules, "optax_imported": "optax" in sys.modules,
}}))
"""


def bare_child(code: str, env_extra: dict) -> dict:
    """Run ``python -c code`` with the children's environment; its result."""
    env = dict(os.environ, JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="2")
    env.update(env_extra)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(harness.RESULT_TAG):
            return json.loads(line[len(harness.RESULT_TAG) :])
    return {"error": f"exited {proc.returncode}: {proc.stderr[-2000:]}"}


# --------------------------------------------------------------------------- #
# The parent: sections
# --------------------------------------------------------------------------- #
class Run:
    """Shared state of one benchmark run: scratch space, env, rows, floors."""

    def __init__(self, mode, scratch: Path):
        self.mode, self.scratch = mode, scratch
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
        result = harness.run_child(
            __file__, spec, env_extra={"SKPAIRAUC_CACHE_DIR": str(cache)}, timeout=900
        )
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


def measure_imports(run: Run):
    modules = ("skpairauc", "sklearn.linear_model", "jax")
    times = {m: [] for m in modules}
    leaked = False
    scratch = run.new_cache()  # nothing is written: no fit
    for _ in range(run.mode["import_repeats"]):
        for module in modules:  # interleaved: load drifts hit all alike
            code = IMPORT_CODE.format(module=module, tag=harness.RESULT_TAG)
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
            code = PREDICT_CODE.format(
                model=str(models / f"{name}.pkl"),
                data=str(models / "X.npy"),
                tag=harness.RESULT_TAG,
            )
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
                    add_programs(run, name, state, run.child(clocked, cache))
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


def add_programs(run: Run, config, state, result):
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
        run.programs.append(entry)
        note = f"{entry['programs']} program(s), {entry['how']}"
        for measure in ("obtain_s", "first_call_s", "later_call_s", "run_s"):
            name = f"{config}: {program}"
            run.add("programs", name, state, measure, [entry[measure]], "s", note)
        run.add("programs", name, state, "calls", [entry["calls"]], "calls", note)


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


# --------------------------------------------------------------------------- #
# Source snapshot and report
# --------------------------------------------------------------------------- #
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


def fmt_row(row: dict, columns: list[str]) -> dict:
    return {c: row.get(c, "") for c in columns}


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
    return [harness.markdown_table(rows, columns)]


BREAKDOWN_COLUMNS = ["config", "cache", "fit_s", "obtain_s", "run_s", "rest_s"]


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
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    harness.write_csv(run.rows, out / "latency.csv", CSV_COLUMNS)
    s = run.summary
    mode = run.mode
    lines = [
        "# Latency of a fresh process: import, predict, first fit (issue 10)",
        "",
        f"Mode: `{mode_name}`. Generated by `benchmarks/bench_latency.py`; every "
        "value (all repeats) is in `latency.csv`. "
        + harness.command_line("bench_latency.py", args.argv),
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
        harness.markdown_table(run.floors, FLOOR_COLUMNS),
        "",
        "## Import",
        "",
        harness.markdown_table(
            [
                {"module": m, "import (s)": s[("import", m, "", "import_s")]}
                for m in ("skpairauc", "sklearn.linear_model", "jax")
            ],
            ["module", "import (s)"],
        ),
        "",
        "## Unpickle + predict",
        "",
        harness.markdown_table(
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
        harness.markdown_table(run.programs, PROGRAM_COLUMNS),
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
        harness.markdown_table(breakdown(run), BREAKDOWN_COLUMNS),
        "",
        "## Grid search",
        "",
        harness.markdown_table(
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
        "## Machine",
        "",
    ]
    harness.write_report(out / "latency.md", lines, mode_name, info, elapsed)


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
        run = Run(mode, scratch)
        for name, section in SECTIONS.items():
            if args.only and name not in args.only:
                continue
            print(f"[bench_latency] {name} ...", end=" ", flush=True)
            began = time.perf_counter()
            section(run)
            print(f"{time.perf_counter() - began:.0f} s", flush=True)
        info = harness.machine_info()
        info["skpairauc_source"] += f" (copy of the package, source hash {source_hash})"
        if args.only:
            harness.write_csv(run.rows, args.out / "latency.csv", CSV_COLUMNS)
        else:
            render(run, info, mode_name, args, time.perf_counter() - start, source_hash)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(scratch, ignore_errors=True)
    print(harness.text_table(run.floors, FLOOR_COLUMNS[:-1]))
    print(
        harness.text_table(run.rows, ["section", "name", "cache", "measure", "value"])
    )
    print(f"\nwrote {args.out / 'latency.csv'} and latency.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
