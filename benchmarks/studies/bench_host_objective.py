"""The exact objective in NumPy (small fits) against the compiled program.

An exact (L-BFGS) fit whose largest task has at most
``skpairauc._host_objective.HOST_MAX_PAIRS`` positive-negative pairs
evaluates the objective in NumPy (``HostObjective``) instead of compiling it
with XLA, so that it neither imports JAX nor compiles. This script is the
evidence for that bound: for the linear scorer ``()`` and the MLP ``(64,)``,
on balanced tables of 20 standard normal features whose pair counts run from
4,096 to 4.2 million, it measures in one process

* ``host_ms``: one evaluation (value and gradient) of ``HostObjective``, on
  one BLAS thread, as a fit runs it;
* ``compiled_ms``: one call of the compiled program
  (``_solvers.exact_program``) on the same parameters, waiting for the result,
  with XLA's default threads, as a fit runs it;
* ``compile_s``: the time ``_solvers.exact_program`` took to compile it (the
  disk cache is off, so XLA compiles every shape);

The two evaluations alternate (medians of ``evaluations`` each, after a warm-up
call), so the machine's noise hits both alike. ``break_even`` is the number of
evaluations after which the compiled program's faster calls would repay its
compile (none when the host is as fast). A default fit on
``make_classification(1000, 20)`` makes about 600 evaluations in all;
``import jax``, which only the compiled route pays, takes about 0.27 s here
(``benchmarks/bench_latency.py``).

Examples
--------
Smoke run (two small sizes; seconds)::

    python benchmarks/studies/bench_host_objective.py --quick --out /tmp/host

Full run (results committed under benchmarks/results/)::

    python benchmarks/studies/bench_host_objective.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/

import _harness as harness  # noqa: E402
import _report  # noqa: E402

MODES = {
    "quick": {"rows": [64, 256], "evaluations": 5},
    # Balanced: rows / 2 positives and negatives, (rows / 2)**2 pairs.
    "full": {
        "rows": [128, 362, 724, 1024, 1448, 2048, 2896, 4096],
        "evaluations": 41,
    },
}
SCORERS = {"linear": (), "MLP(64)": (64,)}
N_FEATURES = 20
COLUMNS = [
    "scorer",
    "rows",
    "pairs",
    "host_ms",
    "compiled_ms",
    "host_over_compiled",
    "compile_s",
    "break_even",
]


def measure(scorer, n_rows, n_evaluations, rng):
    import numpy as np
    from threadpoolctl import threadpool_limits

    from skpairauc import _host_objective, _solvers
    from skpairauc._layout import exact_layout
    from skpairauc._scorers import flatten, init_scorer, param_shapes

    X = rng.normal(size=(n_rows, N_FEATURES))
    y = np.arange(n_rows) % 2
    layout = exact_layout(X, y, np.ones(n_rows), np.arange(n_rows), 2)
    params = init_scorer(rng, layout.rows.shape[1], SCORERS[scorer], 1, "relu")
    params["coefs"][0] += rng.normal(0, 0.1, params["coefs"][0].shape).astype(
        np.float32
    )
    theta = flatten(params)
    reg = np.float32(1e-3)
    host = _host_objective.HostObjective(
        layout.rows,
        layout.pairs,
        param_shapes(params),
        "relu",
        "logistic",
        1.0,
        reg,
    )
    start = time.perf_counter()
    program = _solvers.exact_program(
        params,
        layout.rows.shape[0],
        layout.rows.shape[1],
        layout.pairs,
        _solvers.ExactConfig("relu", "logistic", 1.0),
    )
    compile_s = time.perf_counter() - start
    import jax

    rows, pairs = jax.device_put(layout.rows), jax.device_put(layout.pairs)

    def compiled():
        value, grad = program(theta.astype(np.float32), rows, pairs, reg)
        return float(value), np.asarray(grad, np.float64)

    host_s, compiled_s = [], []
    with threadpool_limits(limits=1, user_api="blas"):
        host(theta), compiled()  # warm-up
        for _ in range(n_evaluations):
            for timed, out in ((lambda: host(theta), host_s), (compiled, compiled_s)):
                start = time.perf_counter()
                timed()
                out.append(time.perf_counter() - start)
    host_ms = 1e3 * statistics.median(host_s)
    compiled_ms = 1e3 * statistics.median(compiled_s)
    gain_ms = host_ms - compiled_ms
    return {
        "scorer": scorer,
        "rows": n_rows,
        "pairs": (n_rows // 2) ** 2,
        "host_ms": host_ms,
        "compiled_ms": compiled_ms,
        "host_over_compiled": host_ms / compiled_ms,
        "compile_s": compile_s,
        "break_even": round(1e3 * compile_s / gain_ms) if gain_ms > 0 else "none",
    }


def main(argv=None) -> int:
    parser = harness.bench_parser(__doc__.splitlines()[0], "host_objective.{csv,md}")
    args = harness.parse_args(parser, argv)
    mode_name, mode = harness.select_mode(MODES, args)
    # Compile every shape: no program from the disk cache (set before the
    # package reads it, at its first compile).
    os.environ["SKPAIRAUC_CACHE_DIR"] = ""
    import numpy as np

    from skpairauc import _host_objective

    start = harness.start_run()
    rng = np.random.default_rng(0)
    rows = []
    for scorer in SCORERS:
        for n_rows in mode["rows"]:
            rows.append(measure(scorer, n_rows, mode["evaluations"], rng))
            print(_report.text_table(rows[-1:], COLUMNS), flush=True)
    _report.write_csv(rows, args.out / "host_objective.csv", COLUMNS)
    bound = _host_objective.HOST_MAX_PAIRS
    lines = [
        "# The exact objective in NumPy against the compiled program",
        "",
        _report.command_line("studies/bench_host_objective.py", args.argv),
        "",
        "One process; balanced tables of 20 standard normal features, ReLU, "
        "logistic loss. `host_ms`: one value-and-gradient of "
        "`_host_objective.HostObjective` on one BLAS thread; `compiled_ms`: one "
        "call of the compiled program (`_solvers.exact_program`), waiting for "
        f"its result; medians of {mode['evaluations']} calls of each, "
        "alternating. `compile_s`: compiling that program (disk cache off). "
        "`break_even`: evaluations after which the compiled program's faster "
        "calls repay its compile. Fits with at most "
        f"`HOST_MAX_PAIRS` = {bound:,} pairs in their largest task run on the "
        "host.",
        "",
        _report.markdown_table(rows, COLUMNS),
        "",
    ]
    wall = time.perf_counter() - start
    _report.write_report(args.out / "host_objective.md", lines, mode_name, wall)
    print(f"wrote {args.out / 'host_objective.csv'} and host_objective.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
