"""The child processes of ``bench_latency.py``: what runs in a fresh interpreter.

* ``JOBS`` (``bench_latency.py --child SPEC``): a first fit (timed, or
  clocked per program with :class:`ProgramClock`), a grid search, and the
  fitting and pickling of the models whose unpickling is timed;
* bare children (``python -c``, nothing imported before the timed
  statement): :data:`IMPORT_CODE` and :data:`PREDICT_CODE`, run by
  :func:`bare_child`.

The script's own imports stay light: a child imports what it measures.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _harness import RESULT_TAG

SEED = 0


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
    every evaluation of the host (NumPy) objective. Imports JAX.

    A timer per program, not a compile counter: whether ``get`` compiled or
    loaded a program is the package's own count (``_programs.STATS``).
    """

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


def import_code(module: str) -> str:
    """A bare child that times ``import module``."""
    return IMPORT_CODE.format(module=module, tag=RESULT_TAG)


def predict_code(model: Path, data: Path) -> str:
    """A bare child that times unpickling ``model`` and predicting ``data``."""
    return PREDICT_CODE.format(model=str(model), data=str(data), tag=RESULT_TAG)


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
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG) :])
    return {"error": f"exited {proc.returncode}: {proc.stderr[-2000:]}"}
