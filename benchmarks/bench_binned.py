"""The binned logistic all-pairs sums against every pair (tiled loop, pair matrix).

1. **Evaluation time against n.** One value + gradient (both score vectors)
   of the logistic loss over all pairs: n rows, 5% positives, scores
   ``N(1, 2)`` for positives and ``N(0, 2)`` for negatives (standard deviation
   2; seed 0; float64), unit weights. ``binned``: ``_binned.binned_pair_sums``
   with a cache dict, warm (``binned_cold``: the first call, which computes
   the loss's spectra); ``tiled``: ``jax.jit(jax.value_and_grad(
   _objective.all_pairs_loss_sum, argnums=(0, 2)))`` in float32, as the
   compiled exact program, lengths padded to ``_layout.bucket_length`` (up to
   512 x 512 padded pairs it takes the matrix whole, as the program does);
   ``dense``: ``_host_objective._logistic_sums`` with preallocated buffers,
   where n_pos x n_neg <= 2^26. Compile excluded; one warm-up call, then the
   median of ``--repeats`` calls, methods interleaved, default threads. A
   tiled warm-up call over 20 s is the only tiled timing.
2. **Accuracy.** The same scores times 0.1, 1, 10 and 100: relative error of
   the total; largest gradient error over the largest |gradient| (both score
   vectors); of ``binned``, ``tiled`` and ``dense`` (float32 pair terms),
   against ``_losses.pair_block_sums`` in NumPy float64 up to 2^26 pairs
   (``dense64``), else the tiled program in float64 up to 2^29 padded pairs
   (``tiled64``), else the float32 tiled timing call, at scale 1 only
   (``tiled32``), and at every scale the float64 gradients of 32 random
   positives and 256 random negatives over all their pairs (``sampled64``;
   ``*_sample_grad_err``: the largest error at those rows over their largest
   |gradient|: it shows the float32 reference's own error too).
   ``binned_ms``: a warm binned call at that scale (median of 3).
3. **Fits.** ``make_classification(round(1.25 * n), 20, n_informative=8,
   weights=[0.95], random_state=0)``, the first n rows train, the rest test;
   ``PairwiseAUCClassifier(hidden_layer_sizes=h, solver="lbfgs",
   random_state=0)``, h in {(), (64,)}. Arms: ``binned`` (a CPU's default:
   the host objective, binned above 512 x 512 pairs) and ``compiled``
   (``_host_objective.HOST_MAX_PAIRS = 0`` and ``exact_on_host = lambda:
   False`` set in the child before fitting: the compiled exact program).
   Each arm in a fresh child process (default threads, an empty compile
   cache): the first fit (JAX imported and programs compiled in it where the
   arm uses them), then a second, fresh estimator; n_iter_, test ROC AUC
   (``decision_function``), whether JAX was imported.

Run: ``python benchmarks/bench_binned.py`` (about 5 minutes on 2 shared
cores, most of it one tiled call at 1e6 rows); smoke run ``--quick --out
DIR`` (n in {1e3, 3e3, 1e4} and reference limits that reach every kind of
reference; fits at n = 3,000). Writes ``binned.md`` and ``binned.csv``.
"""

import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from skpairauc._binned import _lattice, binned_pair_sums
from skpairauc._host_objective import _logistic_sums
from skpairauc._layout import bucket_length
from skpairauc._losses import pair_block_sums, value_and_derivative

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as harness  # noqa: E402
import _report  # noqa: E402
from _report import fmt  # noqa: E402

SEED, POSITIVE_SHARE, DENSE_MAX_PAIRS = 0, 0.05, 2**26
LOSS, MARGIN = "logistic", 1.0  # the margin is unused by the logistic loss
MODELS, ARMS = {"linear": (), "mlp": (64,)}, ("binned", "compiled")
TIME_COLUMNS = [
    "n", "n_pos", "n_neg", "padded_pairs", "n_bins", "binned_ms", "binned_cold_ms",
    "tiled_ms", "tiled_calls", "dense_ms", "tiled/binned", "dense/binned",
]  # fmt: skip
ACCURACY_COLUMNS = [
    "n", "scale", "reference", "spacing", "n_bins", "binned_ms", "binned_total_err",
    "binned_grad_err", "tiled_total_err", "tiled_grad_err", "dense_total_err",
    "dense_grad_err", "binned_sample_grad_err", "tiled_sample_grad_err",
]  # fmt: skip
FIT_COLUMNS = [
    "n", "model", "arm", "first_fit_s", "second_fit_s", "compiled/binned_first",
    "compiled/binned_second", "n_iter", "test_auc", "jax_imported", "load_1min",
]  # fmt: skip
MODES = {
    "quick": {"sizes": [1_000, 3_000, 10_000], "repeats": 3, "tiled_single_s": 20.0,
              "dense_ref_max_pairs": 2**16, "x64_ref_max_pairs": 2**19,
              "fit_sizes": [3_000]},
    "full": {"sizes": [1_000, 10_000, 100_000, 1_000_000], "repeats": 5,
             "tiled_single_s": 20.0, "dense_ref_max_pairs": DENSE_MAX_PAIRS,
             "x64_ref_max_pairs": 2**29, "fit_sizes": [5_000, 20_000]},
}  # fmt: skip
SCALES = (0.1, 1.0, 10.0, 100.0)


def pair_data(n: int, scale: float = 1.0):
    """``s_pos, w_pos, s_neg, w_neg`` (float64): the same draws at every scale."""
    rng = np.random.default_rng(SEED)
    n_pos = max(round(POSITIVE_SHARE * n), 1)
    scores = 2.0 * rng.standard_normal(n)
    scores[:n_pos] += 1.0
    scores *= scale
    return scores[:n_pos], np.ones(n_pos), scores[n_pos:], np.ones(n - n_pos)


def agreement(got, reference) -> tuple[float, float]:
    """Relative error of the total; largest gradient error over the largest
    |gradient| (both score vectors)."""
    got, ref = ([np.asarray(x, np.float64) for x in out] for out in (got, reference))
    error = max(np.max(np.abs(g - r)) for g, r in zip(got[1:], ref[1:]))
    scale = max(np.max(np.abs(r)) for r in ref[1:])
    return float(abs(got[0] - ref[0]) / abs(ref[0])), float(error / scale)


def lattice(data) -> tuple[float, int, int]:
    """``_binned._lattice`` of a task: spacing, first index, lattice points."""
    scores = np.concatenate([data[0], data[2]])
    return _lattice(scores.min(), scores.max())


def _tiled_total(s_pos, w_pos, s_neg, w_neg):
    from skpairauc._objective import all_pairs_loss_sum

    return all_pairs_loss_sum(s_pos, w_pos, s_neg, w_neg, LOSS, MARGIN)


class Tiled:
    """The compiled tiled value and gradient for ``n_pos`` x ``n_neg`` scores
    in ``dtype`` (float64 under ``jax.enable_x64``): :meth:`prepare` pads one
    task's arrays onto the device, a call runs the program on them."""

    def __init__(self, n_pos: int, n_neg: int, dtype=np.float32):
        import jax

        self.sizes, self.x64 = (n_pos, n_neg), np.dtype(dtype) == np.float64
        self.lengths = bucket_length(n_pos), bucket_length(n_neg)
        grad = jax.value_and_grad(_tiled_total, argnums=(0, 2))
        with jax.enable_x64(self.x64):
            spec = [jax.ShapeDtypeStruct((n,), dtype) for n in self.lengths]
            lowered = jax.jit(grad).lower(spec[0], spec[0], spec[1], spec[1])
            self.compiled = lowered.compile()

    def prepare(self, s_pos, w_pos, s_neg, w_neg):
        """The device arrays of one task, zero-padded (zero weight)."""
        import jax

        dtype, args = np.float64 if self.x64 else np.float32, []
        for x, length in zip((s_pos, w_pos, s_neg, w_neg), np.repeat(self.lengths, 2)):
            args.append(np.zeros(length, dtype))
            args[-1][: len(x)] = x
        with jax.enable_x64(self.x64):
            return [jax.numpy.asarray(x) for x in args]

    def __call__(self, args):
        import jax

        with jax.enable_x64(self.x64):
            total, (grad_pos, grad_neg) = jax.block_until_ready(self.compiled(*args))
        return total, grad_pos[: self.sizes[0]], grad_neg[: self.sizes[1]]


def dense_call(data):
    """``_logistic_sums`` over the pair matrix, buffers allocated once."""
    shape = (len(data[0]), len(data[2]))
    buffers = [np.empty(shape, np.float32) for _ in range(3)] + [np.empty(shape)]
    return lambda: _logistic_sums(*data, buffers)


def evaluation_times(n: int, tiled: Tiled, repeats: int, single_s: float):
    """Section 1's row at ``n`` and each method's output (scale 1)."""
    data, numpy_loss, cache = pair_data(n), value_and_derivative(LOSS, MARGIN, np), {}
    args = tiled.prepare(*data)
    calls = {"binned": lambda: binned_pair_sums(*data, numpy_loss, cache),
             "tiled": lambda: tiled(args)}  # fmt: skip
    n_pos, n_neg = len(data[0]), len(data[2])
    if n_pos * n_neg <= DENSE_MAX_PAIRS:
        calls["dense"] = dense_call(data)
    row = {"n": n, "n_pos": n_pos, "n_neg": n_neg,
           "padded_pairs": tiled.lengths[0] * tiled.lengths[1],
           "n_bins": lattice(data)[2]}  # fmt: skip
    outputs, times = {}, {name: [] for name in calls}
    for name, call in calls.items():  # warm-ups (the binned one fills the cache)
        start = time.perf_counter()
        outputs[name] = call()
        seconds = time.perf_counter() - start
        if name == "binned":
            row["binned_cold_ms"] = 1e3 * seconds
        elif name == "tiled" and seconds > single_s:  # the only tiled timing
            times.pop("tiled")
            row["tiled_ms"], row["tiled_calls"] = 1e3 * seconds, 1
    for _ in range(repeats):
        for name in times:
            start = time.perf_counter()
            calls[name]()
            times[name].append(time.perf_counter() - start)
    for name, values in times.items():
        row[f"{name}_ms"], row[f"{name}_calls"] = 1e3 * np.median(values), len(values)
    for name in ("tiled", "dense")[: len(calls) - 1]:
        row[f"{name}/binned"] = row[f"{name}_ms"] / row["binned_ms"]
    return row, outputs


def sampled_gradients(data, rng, n_rows=(32, 256)):
    """Float64 gradients at ``n_rows`` random positives and negatives, each
    over all its pairs (``_losses.pair_block_sums``, 8 rows at a time):
    ``(pos, neg, grad_pos, grad_neg)``."""
    s_pos, w_pos, s_neg, w_neg = data
    loss = value_and_derivative(LOSS, MARGIN, np)
    pos, neg = (rng.choice(len(s), k, replace=False) for s, k in
                zip((s_pos, s_neg), n_rows))  # fmt: skip
    grad_pos = [pair_block_sums(s_pos[b], w_pos[b], s_neg, w_neg, loss)[1]
                for b in np.array_split(pos, len(pos) // 8)]  # fmt: skip
    grad_neg = [pair_block_sums(s_pos, w_pos, s_neg[b], w_neg[b], loss)[2]
                for b in np.array_split(neg, len(neg) // 8)]  # fmt: skip
    return pos, neg, np.concatenate(grad_pos), np.concatenate(grad_neg)


def sample_error(output, sample) -> float:
    """Largest gradient error at the sampled rows over their largest |gradient|."""
    pos, neg, grad_pos, grad_neg = sample
    got = np.concatenate([np.asarray(output[1], np.float64)[pos],
                          np.asarray(output[2], np.float64)[neg]])  # fmt: skip
    exact = np.concatenate([grad_pos, grad_neg])
    return float(np.max(np.abs(got - exact)) / np.max(np.abs(exact)))


def accuracy_rows(n: int, tiled: Tiled, timed: dict, args) -> list[dict]:
    """Section 2's rows at ``n``: every scale against the reference (and,
    where that is the float32 program, sampled gradients in float64)."""
    numpy_loss = value_and_derivative(LOSS, MARGIN, np)
    n_pos, n_neg = tiled.sizes
    if n_pos * n_neg <= args.dense_ref_max_pairs:
        kind = "dense64"
    elif tiled.lengths[0] * tiled.lengths[1] <= args.x64_ref_max_pairs:
        kind, tiled64 = "tiled64", Tiled(n_pos, n_neg, np.float64)
    else:
        kind = "tiled32"
    rows = []
    for scale in args.scales:
        data, cache = pair_data(n, scale), {}
        spacing, _, n_bins = lattice(data)
        got = {"binned": binned_pair_sums(*data, numpy_loss, cache)}
        times = [time.perf_counter()]
        for _ in range(3):
            binned_pair_sums(*data, numpy_loss, cache)
            times.append(time.perf_counter())
        binned_ms = 1e3 * float(np.median(np.diff(times)))
        row = {"n": n, "scale": scale, "reference": kind, "spacing": spacing,
               "n_bins": n_bins, "binned_ms": binned_ms}  # fmt: skip
        rows.append(row)
        if kind == "dense64":
            reference = pair_block_sums(*data, numpy_loss)
        elif kind == "tiled64":
            reference = tiled64(tiled64.prepare(*data))
        else:  # the float32 program's own error: sampled float64 gradients
            sample = sampled_gradients(data, np.random.default_rng(SEED))
            row["binned_sample_grad_err"] = sample_error(got["binned"], sample)
            if scale != 1.0:
                row["reference"] = "sampled64"
                continue
            reference = timed["tiled"]
            row["tiled_sample_grad_err"] = sample_error(reference, sample)
        if kind != "tiled32":
            got["tiled"] = tiled(tiled.prepare(*data))
        if n_pos * n_neg <= DENSE_MAX_PAIRS:
            got["dense"] = dense_call(data)()
        for name, output in got.items():
            errors = agreement(output, reference)
            row[f"{name}_total_err"], row[f"{name}_grad_err"] = errors
    return rows


def job_fit(spec: dict) -> dict:
    """Child job: two fits of one model in one arm (section 3)."""
    from sklearn.datasets import make_classification
    from sklearn.metrics import roc_auc_score

    from skpairauc import PairwiseAUCClassifier, _host_objective

    if spec["arm"] == "compiled":
        _host_objective.HOST_MAX_PAIRS = 0
        _host_objective.exact_on_host = lambda: False
    n = spec["n"]
    X, y = make_classification(
        round(1.25 * n), 20, n_informative=8, weights=[0.95], random_state=SEED
    )
    n_pos = int(y[:n].sum())
    result = {"load_1min": os.getloadavg()[0], "n_pairs": n_pos * (n - n_pos)}
    categories = set()  # of the warnings either fit raised
    for which in ("first", "second"):
        est = PairwiseAUCClassifier(
            hidden_layer_sizes=tuple(spec["hidden"]), solver="lbfgs", random_state=SEED
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            est.fit(X[:n], y[:n])
            result[f"{which}_fit_s"] = time.perf_counter() - start
        result[f"{which}_n_iter"] = int(np.max(est.n_iter_))
        result[f"{which}_auc"] = roc_auc_score(y[n:], est.decision_function(X[n:]))
        categories |= {w.category.__name__ for w in caught}
    result["warnings"] = " ".join(sorted(categories))
    result["jax_imported"] = "jax" in sys.modules
    return result


JOBS = {"fit": job_fit}


def fit_arm(n: int, model: str, arm: str) -> dict:
    """One arm's two fits in a fresh child, its compile cache empty."""
    spec = {"job": "fit", "n": n, "hidden": MODELS[model], "arm": arm}
    cache = tempfile.mkdtemp(prefix="skpairauc-binned-cache-")
    try:
        env = {"SKPAIRAUC_CACHE_DIR": cache}
        result = harness.run_child(__file__, spec, timeout=900, env_extra=env)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    row = {"n": n, "model": model, "arm": arm, **result}
    if "error" not in result:
        first, second = (
            (row[f"{w}_n_iter"], row[f"{w}_auc"]) for w in ("first", "second")
        )
        row.update(n_iter=first[0], test_auc=first[1], same_second=first == second)
    shown = ", ".join(f"{fmt(row.get(f'{w}_fit_s'))} s" for w in ("first", "second"))
    print(f"  fit n={n:,} {model} {arm}: {shown} {row.get('error', '')}", flush=True)
    return row


def fits(sizes) -> list[dict]:
    """Section 3: every (n, model), both arms, the ratios on the binned row."""
    rows = []
    for n in sizes:
        for model in MODELS:
            binned, compiled = (fit_arm(n, model, arm) for arm in ARMS)
            for which in ("first", "second"):
                key = f"{which}_fit_s"
                if key in binned and key in compiled:
                    binned[f"compiled/binned_{which}"] = compiled[key] / binned[key]
            rows += [binned, compiled]
    return rows


def report_lines(time_rows, accuracy, fit_rows, args) -> list[str]:
    """The Markdown report (before the machine section)."""
    protocol = _report.docstring_protocol(__doc__)
    table = _report.markdown_table
    return [
        "# Binned logistic all-pairs sums against every pair\n",
        _report.command_line("bench_binned.py", args.argv) + "\n",
        f"## Protocol\n\n{protocol}\n",
        f"This run: n in {args.sizes}, {args.repeats} calls per timing, scales "
        f"{args.scales}, reference limits {args.dense_ref_max_pairs:,} (dense64) "
        f"and {args.x64_ref_max_pairs:,} (tiled64) pairs; fits at n in "
        f"{args.fit_sizes}.\n",
        "## Evaluation time against n (ms per value + gradient)\n",
        table(time_rows, TIME_COLUMNS) + "\n",
        "## Accuracy against the reference\n",
        table(accuracy, ACCURACY_COLUMNS) + "\n",
        "## Fits (seconds; n_iter and test ROC AUC of the first fit)\n",
        table(fit_rows, FIT_COLUMNS + ["n_pairs", "same_second", "warnings"]) + "\n",
    ]


def main(argv=None) -> int:
    """Measure the three sections, write the results."""
    parser = harness.bench_parser(__doc__.splitlines()[0], "binned.md and binned.csv")
    parser.add_argument("--sizes", type=int, nargs="+", help="rows n of section 1")
    parser.add_argument("--scales", type=float, nargs="+", default=SCALES)
    parser.add_argument("--repeats", type=int, help="calls per timing")
    parser.add_argument("--fit-sizes", type=int, nargs="+", help="training rows")
    args = harness.parse_args(parser, argv, JOBS)
    mode_name, settings = harness.select_mode(
        MODES, args, ("sizes", "repeats", "fit_sizes")
    )
    vars(args).update({k: v for k, v in settings.items() if k not in vars(args)})
    start = harness.start_run()
    time_rows, accuracy = [], []
    for n in args.sizes:
        data = pair_data(n)
        tiled = Tiled(len(data[0]), len(data[2]))
        row, outputs = evaluation_times(n, tiled, args.repeats, args.tiled_single_s)
        time_rows.append(row)
        print(_report.text_table([row], TIME_COLUMNS), flush=True)
        accuracy += accuracy_rows(n, tiled, outputs, args)
        print(_report.text_table(accuracy[-len(args.scales) :], ACCURACY_COLUMNS[1:]))
        del tiled, outputs
    fit_rows = fits(args.fit_sizes)
    elapsed = time.perf_counter() - start
    sections = {"time": time_rows, "accuracy": accuracy, "fit": fit_rows}
    rows = [{"section": name, **r} for name, part in sections.items() for r in part]
    columns = list(dict.fromkeys(key for row in rows for key in row))
    args.out.mkdir(parents=True, exist_ok=True)
    _report.write_csv(rows, args.out / "binned.csv", columns)
    lines = report_lines(time_rows, accuracy, fit_rows, args)
    _report.write_report(args.out / "binned.md", lines, mode_name, elapsed)
    print(_report.text_table(fit_rows, FIT_COLUMNS))
    print(f"\nwrote {args.out / 'binned.md'}, binned.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
