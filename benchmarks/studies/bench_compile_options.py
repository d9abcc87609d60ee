"""XLA's fusion emitters and the stochastic epoch loop: compile time, steps/s.

``skpairauc._solvers`` compiles the linear scorer's epoch loop with the XLA
option ``{"xla_cpu_use_fusion_emitters": False}`` (``LINEAR_EPOCH_OPTIONS``)
and keeps XLA's defaults for the MLP. This script is the evidence: for the
linear scorer ``()`` and the MLP ``(64,)``, with XLA's defaults and with the
fusion emitters off, it measures

* **compile time**: wall (``time.perf_counter``) and CPU
  (``time.process_time``, every thread of the process) seconds of
  ``lowered.compile(compiler_options=...)`` of the epoch loop, in a fresh
  process (XLA's compile cost is paid once per process), with skpairauc's
  disk cache and JAX's compilation cache off, so that XLA really compiles;
* **training speed**: steps/s of that compiled program on a float32 table
  of standard normal rows (1% positives, the last rows), the data, initial
  parameters, optimizer state and each epoch's random numbers put on the
  device before the clock starts. One warm-up epoch of 250 steps, then
  ``epochs`` epochs of 250 steps, each feeding its returned (donated)
  parameters and optimizer state to the next; the best of
  ``timing_repeats`` such runs.

The program is built as the package builds it: the stochastic solver's
configuration of the speed floors (``_measure.stochastic_config``: ReLU,
logistic loss, 128 + 384 rows per step, Adam, uniform weights),
``_solvers._epoch_loop`` jitted with the parameters and optimizer state
donated, traced on ``_solvers._epoch_args``'s shapes for the bucketed row
count. Every (scorer, options) pair runs in its own child process; the pairs
are interleaved (for each repeat, for each scorer, for each option set) so
that the machine's noise hits both option sets alike, and the report gives
medians over repeats and the ratios "fusion emitters off / XLA defaults".

Examples
--------
Smoke run (20,000 x 20; seconds)::

    python benchmarks/studies/bench_compile_options.py --quick --out /tmp/copts

Full run (1,000,000 x 100, the shape of ``bench_speed.py``'s large table; 5 repeats;
results committed under benchmarks/results/)::

    python benchmarks/studies/bench_compile_options.py
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/

import _harness as harness  # noqa: E402
import _report  # noqa: E402
from _measure import HIDDEN, stochastic_config  # noqa: E402

SCRIPT = Path(__file__).resolve()
MODES = {
    "quick": {
        "n_rows": 20_000,
        "n_features": 20,
        "repeats": 1,
        "epochs": 2,
        "timing_repeats": 3,
        "timeout": 300,
    },
    "full": {
        "n_rows": 1_000_000,
        "n_features": 100,
        "repeats": 5,
        "epochs": 20,
        "timing_repeats": 3,
        "timeout": 600,
    },
}
#: Scorer label -> hidden layer sizes.
SCORERS = {"linear": (), "MLP": (HIDDEN,)}
#: Option-set label -> the ``compiler_options`` of the compile (None: XLA's).
ARMS = {
    "XLA defaults": None,
    "fusion emitters off": {"xla_cpu_use_fusion_emitters": False},
}
BASELINE, CHANGED = ARMS
POS_FRACTION = 0.01
SEED = 0
COLUMNS = [
    "scorer",
    "hidden",
    "options",
    "repeat",
    "compile_wall_s",
    "compile_cpu_s",
    "steps_per_s",
    "n_padded",
    "jax",
    "error",
]
MEASURES = {
    "compile_wall_s": "compile wall (s)",
    "compile_cpu_s": "compile CPU (s)",
    "steps_per_s": "steps/s",
}
#: Table cell formats of the medians and of their ratios.
MEDIAN_FORMATS = {
    "compile_wall_s": "{:.3f}",
    "compile_cpu_s": "{:.3f}",
    "steps_per_s": "{:,.0f}",
}
RATIO_FORMATS = dict.fromkeys(MEASURES, "{:.2f}")


# --------------------------------------------------------------------------- #
# The child: compile one epoch loop, then train with it
# --------------------------------------------------------------------------- #
def job_epoch(spec: dict) -> dict:
    """Compile the epoch loop of ``spec``'s scorer with its options; time it.

    Returns the compile's wall and CPU seconds, the best steps/s over
    ``timing_repeats`` runs of ``epochs`` epochs, the bucketed row count and
    JAX's version.
    """
    from functools import partial

    import jax
    import numpy as np

    from skpairauc import _solvers
    from skpairauc._layout import MAX_STEPS_PER_EPOCH, bucket_length, draw_uniforms
    from skpairauc._scorers import init_scorer

    hidden = tuple(spec["hidden"])
    n_features = spec["n_features"]
    n_padded = bucket_length(spec["n_rows"])
    config = stochastic_config()

    # The parameters' shapes (compiling needs no more), from a throwaway draw.
    draw = init_scorer(np.random.default_rng(SEED), n_features, hidden, 1, "relu")
    param_specs = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), draw)
    opt_specs = _solvers._optimizer_state_shapes(param_specs, config)
    shapes = _solvers._epoch_args(
        param_specs, opt_specs, n_padded, n_features, 1, config
    )
    loop = jax.jit(partial(_solvers._epoch_loop, config=config), donate_argnums=(0, 1))
    lowered = loop.trace(*shapes).lower()
    wall, cpu = time.perf_counter(), time.process_time()
    program = lowered.compile(compiler_options=spec["options"])
    compile_wall_s = time.perf_counter() - wall
    compile_cpu_s = time.process_time() - cpu

    rng = np.random.default_rng(SEED)
    n_pos = max(1, round(POS_FRACTION * n_padded))
    data = jax.device_put(
        (
            rng.standard_normal((n_padded, n_features), dtype=np.float32),
            np.arange(1, n_padded + 1, dtype=np.float32),  # unit weights
            np.array([[n_padded - n_pos, n_padded]], np.int32),
        )
    )
    params = jax.device_put(init_scorer(rng, n_features, hidden, 1, "relu"))
    opt_state = jax.device_put(_solvers.init_optimizer_state(params, config))
    n_epochs = 1 + spec["timing_repeats"] * spec["epochs"]
    draws = [
        jax.device_put(
            draw_uniforms(
                rng,
                MAX_STEPS_PER_EPOCH,
                1,
                config.n_pos_per_batch,
                config.n_neg_per_batch,
                config.uniform_weights,
            )
        )
        for _ in range(n_epochs)
    ]
    scalars = (np.int32(n_padded), np.float32(1e-3), np.float32(1e-6))
    epoch = 0

    def train(n):
        """Run ``n`` epochs from the current state; wait for the last loss."""
        nonlocal params, opt_state, epoch
        for _ in range(n):
            epoch += 1
            params, opt_state, loss = program(
                params,
                opt_state,
                draws[epoch - 1],
                np.int32(SEED),
                np.int32(epoch),
                *data,
                *scalars,
                np.int32(MAX_STEPS_PER_EPOCH),
            )
        return float(loss)

    train(1)  # warm-up
    best = math.inf
    for _ in range(spec["timing_repeats"]):
        start = time.perf_counter()
        train(spec["epochs"])
        best = min(best, time.perf_counter() - start)
    return {
        "compile_wall_s": compile_wall_s,
        "compile_cpu_s": compile_cpu_s,
        "steps_per_s": spec["epochs"] * MAX_STEPS_PER_EPOCH / best,
        "n_padded": n_padded,
        "jax": jax.__version__,
    }


JOBS = {"epoch": job_epoch}


# --------------------------------------------------------------------------- #
# The parent
# --------------------------------------------------------------------------- #
def run(mode: dict) -> list[dict]:
    """One row per child: every (scorer, option set), interleaved, per repeat."""
    env = {"SKPAIRAUC_CACHE_DIR": "", "JAX_ENABLE_COMPILATION_CACHE": "false"}
    rows = []
    for repeat in range(mode["repeats"]):
        for scorer, hidden in SCORERS.items():
            for arm, options in ARMS.items():
                spec = {
                    "job": "epoch",
                    "hidden": list(hidden),
                    "options": options,
                    "n_rows": mode["n_rows"],
                    "n_features": mode["n_features"],
                    "epochs": mode["epochs"],
                    "timing_repeats": mode["timing_repeats"],
                }
                result = harness.run_child(
                    SCRIPT, spec, env_extra=env, timeout=mode["timeout"]
                )
                row = {
                    "scorer": scorer,
                    "hidden": str(hidden),
                    "options": arm,
                    "repeat": repeat,
                    **result,
                }
                rows.append(row)
                print(
                    f"repeat {repeat} {scorer} {hidden}, {arm}: "
                    + (
                        f"error {row['error']}"
                        if "error" in row
                        else f"compile {row['compile_wall_s']:.3f} s wall, "
                        f"{row['compile_cpu_s']:.3f} s CPU; "
                        f"{row['steps_per_s']:,.0f} steps/s"
                    ),
                    flush=True,
                )
    return rows


def medians(rows: list[dict], scorer: str, arm: str) -> dict:
    """Median of each measure over the repeats that ran (NaN if none did)."""
    ok = [r for r in rows if (r["scorer"], r["options"]) == (scorer, arm)]
    ok = [r for r in ok if "error" not in r]
    return {
        key: statistics.median(r[key] for r in ok) if ok else math.nan
        for key in MEASURES
    }


def summary(rows: list[dict]) -> dict:
    """``{scorer: {arm or "ratio": {measure: value}}}``; ratio: off / defaults."""
    table = {}
    for scorer in SCORERS:
        arms = {arm: medians(rows, scorer, arm) for arm in ARMS}
        arms["ratio"] = {
            key: arms[CHANGED][key] / arms[BASELINE][key] for key in MEASURES
        }
        table[scorer] = arms
    return table


def conclusion(scorer: str, arms: dict) -> str:
    """What the medians say about the option for one scorer, in one line."""
    ratio = arms["ratio"]
    return (
        f"{scorer} `{SCORERS[scorer]}`: with the fusion emitters off, compile "
        f"{ratio['compile_wall_s']:.2f}x the wall time "
        f"({ratio['compile_cpu_s']:.2f}x the CPU time), training "
        f"{ratio['steps_per_s']:.2f}x the speed of XLA's defaults."
    )


def scorer_table(arms: dict) -> str:
    """One scorer's summary: each option set's medians, then the ratios."""
    rows = [{"options": arm, **cells(arms[arm], MEDIAN_FORMATS)} for arm in ARMS]
    rows.append({"options": "off / defaults", **cells(arms["ratio"], RATIO_FORMATS)})
    return _report.markdown_table(rows, ["options", *MEASURES.values()])


def cells(values: dict, formats: dict) -> dict:
    """``values`` (by measure) as table cells, by column title."""
    return {MEASURES[key]: formats[key].format(values[key]) for key in MEASURES}


def report_lines(rows, table, mode, args) -> list[str]:
    n_padded = next((r["n_padded"] for r in rows if "n_padded" in r), "?")
    jax_version = next((r["jax"] for r in rows if "jax" in r), "?")
    failed = [r for r in rows if "error" in r]
    xla_flags = (
        f"`{os.environ['XLA_FLAGS']}`" if os.environ.get("XLA_FLAGS") else "unset"
    )
    lines = [
        "# XLA's fusion emitters and the stochastic epoch loop",
        "",
        _report.command_line("studies/bench_compile_options.py", args.argv),
        "",
        f"JAX in the children: {jax_version}. XLA_FLAGS: {xla_flags}.",
        "",
        "## Protocol",
        "",
        "- The program: `skpairauc._solvers._epoch_loop` (250 Adam steps of 128 "
        "positives + 384 negatives, logistic pairwise loss, ReLU, uniform "
        "weights), jitted with parameters and optimizer state donated and "
        f"traced for a {_report.fmt(n_padded)} x {mode['n_features']} float32 table "
        f"({mode['n_rows']:,} rows, bucketed), for the linear scorer `()` and "
        f"the MLP `({HIDDEN},)`.",
        "- Option sets: XLA's defaults (`compiler_options=None`) and "
        f"`{ARMS[CHANGED]}` (what `LINEAR_EPOCH_OPTIONS` holds for the linear "
        "scorer).",
        "- Every (scorer, option set) runs in a fresh child process, with "
        "skpairauc's disk cache (`SKPAIRAUC_CACHE_DIR=\"\"`) and JAX's "
        "compilation cache off; the four run interleaved, in "
        f"{mode['repeats']} round(s).",
        "- Compile: wall (`time.perf_counter`) and CPU (`time.process_time`, "
        "every thread of the child) seconds of `lowered.compile(...)` alone "
        "(tracing and lowering excluded; they do not depend on the options).",
        "- Training: standard normal rows, the last 1% positive, everything "
        "on the device before the clock starts (each epoch has its own random "
        "numbers). One warm-up epoch, then the best of "
        f"{mode['timing_repeats']} runs of {mode['epochs']} epochs of 250 "
        "steps (the last loss read back to wait for them): steps/s.",
        "- Reported: medians over the repeats; ratio = fusion emitters off / "
        "XLA defaults (compile below 1: faster to compile; steps/s below 1: "
        "slower to train). The machine is shared with other work: small "
        "differences are noise.",
        "",
        "## Results",
        "",
    ]
    for scorer, arms in table.items():
        lines += [f"### {scorer} `{SCORERS[scorer]}`", "", scorer_table(arms), ""]
    if failed:
        lines += [f"Failed children: {len(failed)} (see the CSV's `error`).", ""]
    lines += ["## Conclusion", ""]
    lines += [f"- {conclusion(scorer, arms)}" for scorer, arms in table.items()]
    lines.append("")
    return lines


def main(argv=None) -> int:
    parser = harness.bench_parser(__doc__.splitlines()[0], "compile_options.{csv,md}")
    args = harness.parse_args(parser, argv, JOBS)
    mode_name, mode = harness.select_mode(MODES, args)
    start = harness.start_run()
    rows = run(mode)
    table = summary(rows)
    wall = time.perf_counter() - start
    _report.write_csv(rows, args.out / "compile_options.csv", COLUMNS)
    lines = report_lines(rows, table, mode, args)
    _report.write_report(args.out / "compile_options.md", lines, mode_name, wall)
    for scorer, arms in table.items():
        print(conclusion(scorer, arms))
    print(f"\nwrote {args.out / 'compile_options.csv'} and compile_options.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
