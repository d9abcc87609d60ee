"""Throughput of skpairauc's training loops on whatever device JAX uses.

Run on a GPU machine (CUDA build of jaxlib) to see what the same code does
there; on the CPU it gives the CPU figures for comparison. Measures, after a
warm-up that compiles:

* stochastic steps per second (128 positives + 384 negatives per step) for
  the linear scorer and an MLP with one hidden layer of 64;
* exact all-pairs loss+gradient throughput (pairs per second);
* the wall time of a whole ``fit`` (compile included) on 1,000,000 x 100
  float32 rows with 1% positives, linear and MLP, stochastic solver, with
  the device's batch (``n_pos_per_batch="auto"``, see
  ``skpairauc._device``) and with the CPU's (128 + 384).

Usage::

    python benchmarks/bench_device.py --out benchmarks/results
    python benchmarks/bench_device.py --quick --out /tmp/x   # smoke run
"""

import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from skpairauc import PairwiseAUCClassifier, _device, _solvers
from skpairauc._layout import MAX_STEPS_PER_EPOCH, draw_uniforms
from skpairauc._objective import all_pairs_loss_sum
from skpairauc._scorers import init_scorer

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as harness  # noqa: E402
import _report  # noqa: E402
from _measure import stochastic_config  # noqa: E402

COLUMNS = ["measure", "value", "unit"]


def stochastic_steps_per_second(hidden, n_rows, n_features, n_steps, repeats):
    """Steady-state steps/s of ``run_epoch`` (compiled before timing)."""
    rng = np.random.default_rng(0)
    X = jax.device_put(rng.normal(size=(n_rows, n_features)).astype(np.float32))
    n_pos = n_rows // 100
    cum = jnp.arange(1, n_rows + 1, dtype=jnp.float32)
    bounds = jnp.array([[n_rows - n_pos, n_rows]], jnp.int32)
    config = stochastic_config()
    params = jax.device_put(init_scorer(rng, n_features, hidden, 1, "relu"))
    state = _solvers.init_optimizer_state(params, config)
    n_steps = min(n_steps, MAX_STEPS_PER_EPOCH)  # one call's most
    best = np.inf
    for i in range(repeats + 1):
        draws = draw_uniforms(rng, MAX_STEPS_PER_EPOCH, 1, 128, 384, True)
        start = time.perf_counter()
        params, state, loss = _solvers.run_epoch(
            params, state, draws, np.int32(0), np.int32(i + 1), X, cum, bounds,
            np.int32(n_rows), np.float32(1e-3), np.float32(0.0), np.int32(n_steps),
            config,
        )  # fmt: skip
        loss.block_until_ready()
        if i:  # the first call compiles
            best = min(best, time.perf_counter() - start)
    return n_steps / best


def exact_pairs_per_second(n_pos, n_neg, repeats):
    rng = np.random.default_rng(0)
    s_pos = jnp.asarray(rng.normal(size=n_pos), jnp.float32)
    s_neg = jnp.asarray(rng.normal(size=n_neg), jnp.float32)
    w_pos, w_neg = jnp.ones(n_pos), jnp.ones(n_neg)
    grad = jax.jit(
        jax.value_and_grad(
            lambda a, b: all_pairs_loss_sum(a, w_pos, b, w_neg, "logistic", 1.0),
            argnums=(0, 1),
        )
    )
    jax.block_until_ready(grad(s_pos, s_neg))
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(grad(s_pos, s_neg))
        best = min(best, time.perf_counter() - start)
    return n_pos * n_neg / best


def whole_fit_seconds(hidden, n_rows, n_features, **params):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n_rows, n_features)).astype(np.float32)
    y = (rng.uniform(size=n_rows) < 0.01).astype(int)
    X[y == 1, :5] += 0.5
    start = time.perf_counter()
    clf = PairwiseAUCClassifier(hidden, solver="adam", random_state=0, **params)
    clf.fit(X, y)
    return time.perf_counter() - start, clf.n_iter_, clf.t_


def main(argv=None):
    parser = harness.bench_parser(__doc__.splitlines()[0], "device_*.{csv,md}")
    args = harness.parse_args(parser, argv)
    start = harness.start_run()
    q = args.quick
    device = jax.devices()[0]
    rows = []

    def record(name, value, unit):
        rows.append({"measure": name, "value": f"{value:.4g}", "unit": unit})
        print(f"{name:<46} {value:>14.4g} {unit}")

    print(f"device: {device.device_kind} ({device.platform}), jax {jax.__version__}")
    n_steps = 50 if q else 5000
    for hidden, label in (((), "linear"), ((64,), "MLP(64)")):
        record(
            f"stochastic steps/s, {label}",
            stochastic_steps_per_second(
                hidden, 2_000 if q else 20_000, 100, n_steps, 1 if q else 3
            ),
            "steps/s",
        )
    n_pos, n_neg = (256, 2048) if q else (8192, 262_144)
    record(
        "exact loss+grad throughput", exact_pairs_per_second(n_pos, n_neg, 3), "pairs/s"
    )
    n_rows = 3_000 if q else 1_000_000
    # The device's batch ("auto", skpairauc._device) next to the CPU's.
    profile = _device.profile()
    cpu = _device.PROFILES["cpu"]
    print(f"device profile: {profile}")
    batches = {"auto": {}, "CPU batch": {"n_pos_per_batch": cpu.n_pos_per_batch,
               "n_neg_per_batch": cpu.n_neg_per_batch}}  # fmt: skip
    for hidden, label in (((), "linear"), ((64,), "MLP(64)")):
        for batch, params in batches.items():
            seconds, epochs, steps = whole_fit_seconds(hidden, n_rows, 100, **params)
            record(
                f"whole fit {n_rows}x100, {label}, {batch} ({epochs} epochs)",
                seconds,
                "s",
            )

    stem = "device_quick" if q else f"device_{device.platform}"
    _report.write_csv(rows, args.out / f"{stem}.csv", COLUMNS)
    lines = [
        f"# Training throughput on {device.device_kind} ({device.platform})",
        "",
        f"{_report.command_line('bench_device.py', args.argv)}. jax "
        f"{jax.__version__}. Best of repeated timings after a compiling "
        "warm-up; whole fits include compilation.",
        "",
        _report.markdown_table(rows, COLUMNS),
        "",
    ]
    mode_name = "quick" if q else "full"
    wall = time.perf_counter() - start
    _report.write_report(args.out / f"{stem}.md", lines, mode_name, wall)
    return rows


if __name__ == "__main__":
    main()
