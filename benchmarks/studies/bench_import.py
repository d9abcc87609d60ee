"""What a first stochastic fit waits for in a fresh process: JAX's import.

Each measurement runs in a fresh child process (``sys.executable``), one after
another, ``--repeats`` times:

* ``import ml_dtypes`` (a dependency of JAX), then ``import jax``;
* the default's first fit on ``make_classification(25_000, 20,
  n_informative=8, weights=[0.95], random_state=0)``'s first 20,000 rows
  (the stochastic race of ``benchmarks/bench_cost.py``'s 20,000 x 20 point),
  with an empty compile cache (``SKPAIRAUC_CACHE_DIR`` a new directory) and
  then with the cache that run filled (a user's later processes).

The versions of ml_dtypes, JAX and NumPy are printed with the medians. To
compare ml_dtypes releases, run it in each environment (e.g. after
``pip install ml_dtypes==0.6.0``); benchmarks/README.md has both runs.

    python benchmarks/studies/bench_import.py
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile

IMPORTS = """
import time
started = time.perf_counter()
import ml_dtypes
middle = time.perf_counter()
import jax
print(middle - started, time.perf_counter() - middle)
"""

FIT = """
import time
from sklearn.datasets import make_classification
from skpairauc import PairwiseAUCClassifier
X, y = make_classification(
    n_samples=25_000, n_features=20, n_informative=8, weights=[0.95], random_state=0
)
started = time.perf_counter()
PairwiseAUCClassifier(random_state=0).fit(X[:20_000], y[:20_000])
print(time.perf_counter() - started)
"""

VERSIONS = """
from importlib.metadata import version
print(*(f"{name} {version(name)}" for name in ("ml_dtypes", "jax", "numpy")), sep=", ")
"""


def _run(code, env=None):
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    return [float(v) for v in out.split()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    import os

    versions = subprocess.run(
        [sys.executable, "-c", VERSIONS], check=True, capture_output=True, text=True
    ).stdout.strip()
    rows = {"import ml_dtypes": [], "import jax (after it)": []}
    rows.update({"first fit, empty cache": [], "first fit, cache filled": []})
    for _ in range(args.repeats):
        dtypes, jax = _run(IMPORTS)
        rows["import ml_dtypes"].append(dtypes)
        rows["import jax (after it)"].append(jax)
        cache = tempfile.mkdtemp(prefix="skpairauc-import-cache-")
        try:
            env = {**os.environ, "SKPAIRAUC_CACHE_DIR": cache}
            rows["first fit, empty cache"] += _run(FIT, env)
            rows["first fit, cache filled"] += _run(FIT, env)
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    print(f"{versions}; {args.repeats} fresh processes each\n")
    print("| step | median s | runs (s) |\n|---|---|---|")
    for name, values in rows.items():
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(f"| {name} | {statistics.median(values):.2f} | {runs} |")


if __name__ == "__main__":
    main()
