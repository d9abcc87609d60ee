"""Compiled training programs: memory over a sweep of feature counts, and how
many programs a session compiles.

Before the programs were bounded (issue 11), every compiled XLA program stayed
loaded: a process fitting ``PairwiseAUCClassifier()`` and
``hidden_layer_sizes=(64,)`` on 300 x d data for d = 2, 3, 4, ... held a few
hundred more memory mappings per program and aborted once it reached the
kernel's ``vm.max_map_count`` (``LLVM ERROR: Unable to allocate section
memory``). This script measures, each run in a fresh child process with a
fresh, empty ``SKPAIRAUC_CACHE_DIR``:

* **The feature sweep** (``sweep_default``): the default estimator and
  ``(64,)`` on 300 x d data for every d from 2 to 400 (798 fits): after every
  fit the process's memory mappings (lines of ``/proc/self/maps``), its
  resident memory (``/proc/self/statm``), the cumulative fit time and the
  programs compiled, loaded from disk and evicted so far
  (``skpairauc._programs.STATS``).
* **Before and after** (``sweep_pair`` and, with ``--before``,
  ``before_pair``): the same sweep with the configurations the old default
  trained, ``hidden_layer_sizes=()`` and ``(64,)`` at ``alpha=1`` (the old
  default was a linear scorer; the new "auto" default cross-validates five
  candidates per fit, so it is not the old default's cost), with this
  checkout and with the checkout named by ``--before`` (the commit before the
  restructure: ``git worktree add /tmp/before b705bcf``). The old code runs
  until it aborts; its rows are written as they come, so the fits before the
  abort are kept. The fit-time ratio compares the d values both completed.
  Compiles of the old code are XLA backend compiles, counted with JAX's
  monitoring events (``_measure.CompileClock``).
* **A typical session** (``keel``): the skpairauc arms of ``bench_keel.py``
  (linear and MLP (64,), exact and Adam, in a ``StandardScaler`` pipeline,
  the settings of ``_keel_models.py``) on the 12 KEEL tables, 5 stratified
  70/30 splits each, in one process: the programs it compiles (this
  checkout: ``STATS["compiled"]``; both checkouts: every XLA backend compile,
  by compiled function, from the same events), and the size of the disk cache it
  leaves. The default estimator (``bench_keel.py``'s ``skpairauc_default``
  arm: every parameter at its default, raw features) gets a session of its
  own (``keel_default``).

Examples
--------
Smoke run (seconds; no old checkout)::

    python benchmarks/studies/bench_programs.py --quick --out /tmp/programs

Full run (results committed under benchmarks/results/)::

    git worktree add /tmp/before b705bcf
    python benchmarks/studies/bench_programs.py --before /tmp/before
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/

import _harness as harness  # noqa: E402
import _report  # noqa: E402
from _measure import CompileClock  # noqa: E402

SCRIPT = Path(__file__).resolve()
N_SAMPLES = 300
N_POSITIVE = 60  # fixed, so that every d has the same row and pair buckets
KEEL_ARMS = (
    "skpairauc_linear_exact",
    "skpairauc_linear_sgd",
    "skpairauc_mlp_exact",
    "skpairauc_mlp_sgd",
)
DEFAULT_ARM = "skpairauc_default"
#: The fit after which the sweep's memory is the reference (the issue's rule:
#: mappings and RSS at the last fit at most 1.2 x those after the 50th).
REFERENCE_FIT = 50

MODES = {
    "quick": {
        "d_values": (2, 3, 9, 12),
        "max_iter": 5,
        "keel_datasets": ("ecoli4",),
        "keel_repeats": 1,
        "keel_arms": ("skpairauc_linear_exact", "skpairauc_linear_sgd"),
        "keel_default": False,
        "timeout": 600,
    },
    "full": {
        "d_values": tuple(range(2, 401)),
        "max_iter": None,  # the estimator's default
        "keel_datasets": None,  # all of _data.KEEL_DATASETS
        "keel_repeats": 5,
        "keel_arms": KEEL_ARMS,
        "keel_default": True,
        "timeout": 3 * 3600,
    },
}

COLUMNS = [
    "run",
    "code",
    "fit",
    "d",
    "config",
    "fit_s",
    "cum_fit_s",
    "maps",
    "rss_mb",
    "compiled",
    "loaded",
    "evicted",
    "reused",
    "n_loaded",
    "backend_compiles",
    "backend_compile_s",
]


# --------------------------------------------------------------------------- #
# Measurements inside the child
# --------------------------------------------------------------------------- #
def sweep_data(d, n_samples=N_SAMPLES, n_positive=N_POSITIVE):
    """300 x d Gaussian data, the first ``n_positive`` rows positive and
    shifted along the first feature; the same for a given d in every run."""
    rng = np.random.default_rng(d)
    y = np.zeros(n_samples, dtype=np.int64)
    y[:n_positive] = 1
    X = rng.normal(size=(n_samples, d))
    X[:, 0] += y
    return X, y


def n_mappings():
    """Memory mappings of this process (lines of ``/proc/self/maps``)."""
    with open("/proc/self/maps", "rb") as file:
        return sum(1 for _ in file)


def rss_mb():
    """Resident memory of this process in MiB (``/proc/self/statm``)."""
    with open("/proc/self/statm") as file:
        resident_pages = int(file.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def cache_size(directory):
    """``(files, bytes)`` of the compiled programs in a disk cache directory."""
    if directory is None or not Path(directory).is_dir():
        return 0, 0
    files = [p for p in Path(directory).iterdir() if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def _programs_module():
    """``skpairauc._programs`` of the imported checkout, or None (the old code,
    which has none; the editable install of this checkout could otherwise
    supply its own module next to the old package)."""
    import skpairauc

    try:
        from skpairauc import _programs
    except ImportError:
        return None
    if Path(_programs.__file__).parent != Path(skpairauc.__file__).parent:
        return None
    return _programs


def _state(programs):
    old = programs is None  # the old code has no program cache: no figures
    return {
        "maps": n_mappings(),
        "rss_mb": rss_mb(),
        **{
            key: None if old else programs.STATS[key]
            for key in ("compiled", "loaded", "evicted", "reused")
        },
        "n_loaded": None if old else programs.n_loaded(),
        "backend_compiles": CompileClock.count(),
        "backend_compile_s": CompileClock.backend_seconds(),
    }


def _estimator_params(params, max_iter):
    params = dict(params)
    if isinstance(params.get("hidden_layer_sizes"), list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    if max_iter:
        params["max_iter"] = max_iter
    return params


def job_sweep(spec):
    """Fit every configuration on 300 x d data for each d; one row per fit."""
    CompileClock.install()
    from skpairauc import PairwiseAUCClassifier

    programs = _programs_module()
    log = open(spec["log"], "a") if spec.get("log") else None
    rows, total = [], 0.0
    for d in spec["d_values"]:
        X, y = sweep_data(d)
        for name, params in spec["configs"]:
            model = PairwiseAUCClassifier(
                **_estimator_params(params, spec.get("max_iter"))
            )
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(X, y)
            fit_s = time.perf_counter() - start
            total += fit_s
            row = {
                "fit": len(rows) + 1,
                "d": d,
                "config": name,
                "fit_s": fit_s,
                "cum_fit_s": total,
                **_state(programs),
            }
            rows.append(row)
            if log is not None:
                log.write(json.dumps(row) + "\n")
                log.flush()
    files, size = cache_size(programs.cache_dir() if programs else None)
    return {"rows": rows, "cache_files": files, "cache_bytes": size}


def _keel_model(arm, y_train, seed, max_iter):
    """The arm as ``bench_keel.py`` builds it (``skpairauc_default``: the
    estimator with every parameter at its default, on raw features)."""
    from _keel_models import make_model

    return make_model(arm, y_train, seed, {"skpairauc_max_iter": max_iter})


def job_keel(spec):
    """The KEEL protocol of ``bench_keel.py`` for the given skpairauc arms, in
    this one process; compiles per arm."""
    CompileClock.install()
    import _data
    from _keel_models import ranking_scores
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    programs = _programs_module()
    arms = {
        arm: {"fits": 0, "fit_s": 0.0, "compiled": 0, "backend": 0, "auc": []}
        for arm in spec["arms"]
    }
    start_wall = time.perf_counter()
    for dataset in spec["datasets"]:
        X, y = _data.load_keel(dataset)
        for repeat in range(spec["repeats"]):
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, test_size=0.3, stratify=y, random_state=repeat
            )
            for arm in spec["arms"]:
                before = _state(programs)
                model = _keel_model(arm, y_train, repeat, spec.get("max_iter"))
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(X_train, y_train)
                entry = arms[arm]
                entry["fit_s"] += time.perf_counter() - start
                entry["fits"] += 1
                entry["auc"].append(
                    roc_auc_score(y_test, ranking_scores(model, X_test))
                )
                after = _state(programs)
                entry["backend"] += (
                    after["backend_compiles"] - before["backend_compiles"]
                )
                if programs is not None:
                    entry["compiled"] += after["compiled"] - before["compiled"]
    for entry in arms.values():
        entry["auc"] = float(np.mean(entry["auc"]))
    files, size = cache_size(programs.cache_dir() if programs else None)
    return {
        "arms": arms,
        "n_datasets": len(spec["datasets"]),
        "repeats": spec["repeats"],
        "wall_s": time.perf_counter() - start_wall,
        "final": _state(programs),
        "names": dict(CompileClock.names.most_common()),
        "cache_files": files,
        "cache_bytes": size,
    }


JOBS = {"sweep": job_sweep, "keel": job_keel}


# --------------------------------------------------------------------------- #
# The parent
# --------------------------------------------------------------------------- #
def run_child(spec, timeout, before=None):
    """Run one job in a fresh process with a fresh disk cache; ``before``: the
    old checkout to import skpairauc from."""
    with tempfile.TemporaryDirectory(prefix="skpairauc-bench-cache-") as cache:
        env = {"SKPAIRAUC_CACHE_DIR": cache}
        if before is not None:
            env["PYTHONPATH"] = str(before)
            env["SKPAIRAUC_BENCH_SOURCE"] = "before"
        result = harness.run_child(SCRIPT, spec, env_extra=env, timeout=timeout)
    return result


def run_sweep(run, configs, mode, timeout, before=None, log_dir=None):
    """One sweep child; its rows, tagged. An aborted child keeps the rows it
    logged (with ``error`` set on the result)."""
    log = None
    if log_dir is not None:
        log = Path(log_dir) / f"{run}.jsonl"
        log.unlink(missing_ok=True)
    spec = {
        "job": "sweep",
        "d_values": list(mode["d_values"]),
        "configs": configs,
        "max_iter": mode["max_iter"],
        "log": None if log is None else str(log),
    }
    print(f"{run}: {len(mode['d_values'])} d values x {len(configs)}", flush=True)
    result = run_child(spec, timeout, before)
    if "error" in result:
        rows = []
        if log is not None and log.exists():
            rows = [json.loads(line) for line in log.read_text().splitlines()]
        result = {"rows": rows, "error": result["error"]}
    code = "before" if before is not None else "after"
    for row in result["rows"]:
        row.update(run=run, code=code)
    last = result["rows"][-1] if result["rows"] else {}
    print(
        f"  {len(result['rows'])} fits, last d={last.get('d')}, "
        f"{last.get('cum_fit_s', 0):.0f} s, maps {last.get('maps')}"
        + (f"; ERROR {result['error'][-300:]}" if "error" in result else ""),
        flush=True,
    )
    return result


def run_keel(arms, mode, timeout, before=None):
    import _data

    spec = {
        "job": "keel",
        "arms": list(arms),
        "datasets": list(mode["keel_datasets"] or _data.KEEL_DATASETS),
        "repeats": mode["keel_repeats"],
        "max_iter": mode["max_iter"],
    }
    label = "before" if before is not None else "after"
    print(f"keel ({label}): {arms}", flush=True)
    result = run_child(spec, timeout, before)
    if "error" in result:
        print(f"  ERROR {result['error'][-500:]}", flush=True)
    else:
        print(
            f"  {result['final']['backend_compiles']} backend compiles, "
            f"{result['wall_s']:.0f} s",
            flush=True,
        )
    return result


def _at_fit(rows, fit):
    """The row of fit number ``fit`` (1-based), or None."""
    return rows[fit - 1] if len(rows) >= fit else None


def memory_summary(rows):
    """Mappings and RSS after the reference fit and after the last one."""
    ref, last = _at_fit(rows, REFERENCE_FIT), rows[-1] if rows else None
    if ref is None:
        return None
    return {
        "ref_fit": REFERENCE_FIT,
        "ref_d": ref["d"],
        "ref_maps": ref["maps"],
        "ref_rss_mb": ref["rss_mb"],
        "last_fit": last["fit"],
        "last_d": last["d"],
        "last_maps": last["maps"],
        "last_rss_mb": last["rss_mb"],
        "maps_ratio": last["maps"] / ref["maps"],
        "rss_ratio": last["rss_mb"] / ref["rss_mb"],
        "max_maps": max(r["maps"] for r in rows),
        "max_rss_mb": max(r["rss_mb"] for r in rows),
    }


def fit_time_comparison(after_rows, before_rows):
    """Sum of fit times over the (d, config) pairs both runs completed."""
    done = {(r["d"], r["config"]): r["fit_s"] for r in before_rows}
    common = [
        (r["d"], r["config"]) for r in after_rows if (r["d"], r["config"]) in done
    ]
    if not common:
        return None
    after = {(r["d"], r["config"]): r["fit_s"] for r in after_rows}
    after_s = sum(after[k] for k in common)
    before_s = sum(done[k] for k in common)
    return {
        "n_fits": len(common),
        "d_max": max(k[0] for k in common),
        "after_s": after_s,
        "before_s": before_s,
        "ratio": after_s / before_s,
    }


def _stride_rows(rows, every):
    """The rows of every ``every``-th d (and the first and last d)."""
    ds = sorted({r["d"] for r in rows})
    keep = {ds[0], ds[-1], *(d for d in ds if d % every == 0)}
    return [r for r in rows if r["d"] in keep]


def _mb(n_bytes):
    return f"{n_bytes / 2**20:.1f} MiB"


def report_lines(results, args):
    """The lines of ``programs.md`` from the collected results."""
    lines = [
        "# Compiled programs: memory over a feature sweep, compiles per session",
        "",
        _report.command_line("studies/bench_programs.py", args.argv),
        "",
        f"vm.max_map_count here: {_max_map_count()}. Every measurement ran in "
        "a fresh child process with a fresh, empty `SKPAIRAUC_CACHE_DIR`; the "
        "data of d features is 300 x d Gaussian, 60 positives shifted by 1 "
        "along the first feature (the same for every run). Fit time is the "
        "wall-clock `fit`, compiles included.",
        "",
    ]
    lines += _summary(results)
    sweep = results.get("sweep_default")
    if sweep and sweep["rows"]:
        rows = sweep["rows"]
        mem = memory_summary(rows)
        last = rows[-1]
        lines += [
            "## The feature sweep: default and (64,), d = "
            f"{rows[0]['d']} ... {last['d']}",
            "",
            f"{len(rows)} fits in one process"
            + (f" (**aborted**: {sweep['error'][-200:]})" if "error" in sweep else "")
            + f", {last['cum_fit_s']:.0f} s of fitting. Programs: "
            f"{last['compiled']} compiled, {last['loaded']} loaded from disk, "
            f"{last['evicted']} evicted, {last['n_loaded']} loaded at the end; "
            f"disk cache {sweep['cache_files']} files, {_mb(sweep['cache_bytes'])}.",
            "",
        ]
        if mem:
            lines += [
                "| | fit | d | mappings | RSS (MiB) |",
                "|---|---|---|---|---|",
                f"| after fit {mem['ref_fit']} | {mem['ref_fit']} | "
                f"{mem['ref_d']} | {mem['ref_maps']:,} | {mem['ref_rss_mb']:.0f} |",
                f"| after the last fit | {mem['last_fit']} | {mem['last_d']} | "
                f"{mem['last_maps']:,} | {mem['last_rss_mb']:.0f} |",
                f"| largest over the sweep | | | {mem['max_maps']:,} | "
                f"{mem['max_rss_mb']:.0f} |",
                f"| last / fit {mem['ref_fit']} | | | {mem['maps_ratio']:.3f} | "
                f"{mem['rss_ratio']:.3f} |",
                "",
            ]
        slow = slowest_warm_fit(rows)
        if slow is not None and slow[0]["fit_s"] > 10 * slow[1]:
            lines += [
                f"The slowest fit that compiled nothing took {slow[0]['fit_s']:.0f} "
                f"s ({slow[0]['config']}, d = {slow[0]['d']}; median of such fits "
                f"{slow[1]:.2f} s). Such outliers are not compiles: on a busy "
                "machine the host L-BFGS of an MLP (tens of thousands of "
                "parameters) stalls in multi-threaded OpenBLAS dot products "
                "(`OPENBLAS_NUM_THREADS=1` removes them).",
                "",
            ]
        lines += [
            "Every 25th d (all rows in `programs.csv`, run `sweep_default`):",
            "",
            _report.markdown_table(
                _stride_rows(rows, 25),
                [
                    "d",
                    "config",
                    "fit_s",
                    "cum_fit_s",
                    "maps",
                    "rss_mb",
                    "compiled",
                    "loaded",
                    "evicted",
                    "n_loaded",
                ],
            ),
            "",
        ]
    after, before = results.get("sweep_pair"), results.get("before_pair")
    if after and after["rows"]:
        lines += [
            "## Before and after: `hidden_layer_sizes=()` and `(64,)`, alpha 1",
            "",
            "The old default was the linear scorer at alpha 1, so this is the "
            "issue's sweep as the old code ran it.",
            "",
        ]
        runs = [("after (this checkout)", after)]
        if before is not None:
            runs.append((f"before ({args.before_label})", before))
        lines += [
            "| code | fits | last d | cumulative fit s | mappings after fit "
            f"{REFERENCE_FIT} | mappings at the end | RSS after fit "
            f"{REFERENCE_FIT} (MiB) | RSS at the end (MiB) | XLA backend "
            "compiles | ended |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for label, res in runs:
            rows = res["rows"]
            if not rows:
                lines.append(f"| {label} | 0 | | | | | | | | {res.get('error', '')} |")
                continue
            ref = _at_fit(rows, REFERENCE_FIT) or {}
            ended = "completed"
            if "error" in res:
                ended = "aborted: " + _short_error(res["error"])
            ref_rss = f"{ref['rss_mb']:.0f}" if ref else ""
            lines.append(
                f"| {label} | {len(rows)} | {rows[-1]['d']} | "
                f"{rows[-1]['cum_fit_s']:.0f} | {_report.fmt(ref.get('maps'))} | "
                f"{rows[-1]['maps']:,} | {ref_rss} | "
                f"{rows[-1]['rss_mb']:.0f} | {rows[-1]['backend_compiles']} | "
                f"{ended} |"
            )
        lines.append("")
        for label, res in runs:
            cost = per_program(res["rows"])
            if cost:
                lines.append(
                    f"- {label}: each compiled program added {cost['maps']:.0f} "
                    f"mappings and {cost['rss_mb']:.1f} MiB of resident memory "
                    f"(over the first {cost['programs']} programs, before any "
                    "eviction)."
                )
        lines.append("")
        if before is not None and before["rows"]:
            cmp = fit_time_comparison(after["rows"], before["rows"])
            results["fit_time"] = cmp
            if cmp:
                lines += [
                    f"Fit time over the {cmp['n_fits']} fits both completed (d "
                    f"= 2 ... {cmp['d_max']}): after {cmp['after_s']:.0f} s, "
                    f"before {cmp['before_s']:.0f} s, ratio after / before "
                    f"**{cmp['ratio']:.2f}** (the issue's bound: at most 1.5).",
                    "",
                ]
            merged = _merge_before_after(after["rows"], before["rows"])
            lines += [
                "Every 10th d, cumulative over the sweep (both configurations):",
                "",
                _report.markdown_table(
                    _stride_rows(merged, 10),
                    [
                        "d",
                        "cum_fit_s_before",
                        "cum_fit_s_after",
                        "maps_before",
                        "maps_after",
                        "rss_mb_before",
                        "rss_mb_after",
                        "compiles_before",
                        "compiles_after",
                    ],
                ),
                "",
            ]
    lines += _keel_section(results, args)
    return lines


def _summary(results):
    """The key figures, as a bullet list."""
    items = []
    sweep = results.get("sweep_default") or {}
    mem = memory_summary(sweep.get("rows", []))
    if mem:
        last = sweep["rows"][-1]
        items.append(
            f"Feature sweep (default and (64,), {mem['last_fit']} fits, d up to "
            f"{mem['last_d']}): mappings {mem['ref_maps']:,} after fit "
            f"{mem['ref_fit']} and {mem['last_maps']:,} after the last "
            f"({mem['maps_ratio']:.3f} x); resident memory {mem['ref_rss_mb']:.0f} "
            f"and {mem['last_rss_mb']:.0f} MiB ({mem['rss_ratio']:.3f} x); "
            f"{last['compiled']} programs compiled, {last['n_loaded']} still "
            "loaded at the end."
        )
    before = results.get("before_pair") or {}
    if before.get("rows"):
        last = before["rows"][-1]
        ended = (
            f"aborted after {len(before['rows'])} fits (d = {last['d']}, "
            f"{last['maps']:,} mappings: {_short_error(before['error'])})"
            if "error" in before
            else f"completed {len(before['rows'])} fits"
        )
        items.append(f"The same sweep on the old code (linear and (64,)): {ended}.")
    cmp = results.get("fit_time") or fit_time_comparison(
        (results.get("sweep_pair") or {}).get("rows", []), before.get("rows", [])
    )
    if cmp:
        items.append(
            f"Fit time over the {cmp['n_fits']} fits both codes completed: "
            f"{cmp['after_s']:.0f} s after, {cmp['before_s']:.0f} s before "
            f"(ratio {cmp['ratio']:.2f})."
        )
    sessions = [
        (label, results.get(key))
        for key, label in (
            ("keel_after", "after"),
            ("keel_before", "before"),
            ("keel_default", "the default estimator, after"),
        )
    ]
    keel = [
        f"{label}: {res['final']['backend_compiles']} programs compiled"
        + (
            f", disk cache {res['cache_files']} files, {_mb(res['cache_bytes'])}"
            if res["cache_files"]
            else ""
        )
        for label, res in sessions
        if res and "final" in res
    ]
    if keel:
        items.append("KEEL session (XLA compiles): " + "; ".join(keel) + ".")
    if not items:
        return []
    return ["## Summary", "", *(f"- {item}" for item in items), ""]


def _short_error(error):
    """The line of a child's error that says why it ended."""
    for marker in ("LLVM ERROR", "LLVM compilation error", "timed out", "Killed"):
        lines = [part for part in error.splitlines() if marker in part]
        if lines:
            return lines[-1][lines[-1].find(marker) :][:120]
    return error.strip().splitlines()[-1][:120] if error.strip() else "?"


def per_program(rows):
    """Mappings and MiB that each compiled program added while none was
    evicted: from the first fit to the last fit before the first eviction."""
    keep = [r for r in rows if not r.get("evicted")]
    if len(keep) < 2 or keep[-1]["backend_compiles"] == keep[0]["backend_compiles"]:
        return None
    n = keep[-1]["backend_compiles"] - keep[0]["backend_compiles"]
    return {
        "programs": n,
        "maps": (keep[-1]["maps"] - keep[0]["maps"]) / n,
        "rss_mb": (keep[-1]["rss_mb"] - keep[0]["rss_mb"]) / n,
    }


def slowest_warm_fit(rows):
    """The slowest fit that compiled nothing, and the median of those fits."""
    warm = [
        r
        for previous, r in zip([None, *rows], rows)
        if previous is not None
        and r["backend_compiles"] == previous["backend_compiles"]
    ]
    if not warm:
        return None
    slowest = max(warm, key=lambda r: r["fit_s"])
    return slowest, float(np.median([r["fit_s"] for r in warm]))


def _merge_before_after(after_rows, before_rows):
    """One row per d (the last config's row of that d): both runs side by side."""
    by_d = {}
    for code, rows in (("after", after_rows), ("before", before_rows)):
        for r in rows:
            entry = by_d.setdefault(r["d"], {"d": r["d"]})
            entry[f"cum_fit_s_{code}"] = r["cum_fit_s"]
            entry[f"maps_{code}"] = r["maps"]
            entry[f"rss_mb_{code}"] = r["rss_mb"]
            entry[f"compiles_{code}"] = r["backend_compiles"]
    return [by_d[d] for d in sorted(by_d) if "maps_before" in by_d[d]]


def _keel_section(results, args):
    lines = []
    sessions = [
        (label, results[key])
        for key, label in (
            ("keel_after", "after: the arms"),
            ("keel_before", f"before ({args.before_label}): the arms"),
            ("keel_default", "after: the default estimator"),
        )
        if results.get(key) is not None
    ]
    if not sessions:
        return lines
    first = next((res for _, res in sessions if "arms" in res), None)
    if first is None:
        first = {"arms": {}, "n_datasets": "?", "repeats": "?"}
    n_fits = sum(a["fits"] for a in first["arms"].values())
    lines += [
        "## A typical session: the KEEL benchmark's skpairauc arms",
        "",
        f"{first['n_datasets']} KEEL tables of `bench_keel.py`, "
        f"{first['repeats']} stratified 70/30 splits each, each arm as "
        "`bench_keel.py` builds it (`_keel_models.py`: the linear and MLP arms "
        "in a `StandardScaler` pipeline, the default estimator on raw "
        f"features), all arms of a session in one process ({n_fits} fits for "
        f"{len(first['arms'])} arms). "
        "'Programs compiled': `skpairauc._programs.STATS['compiled']` "
        "(this checkout only); 'XLA compiles': every backend compile of the "
        "process, by JAX's monitoring events (the old code's training loops "
        "and any small eager operation alike).",
        "",
        "| session | fits | programs compiled | XLA compiles | XLA compile s | "
        "loaded at the end | disk cache | wall s | mean AUC |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, res in sessions:
        if "error" in res:
            lines.append(f"| {label} | failed: {_short_error(res['error'])} |||||||")
            continue
        final = res["final"]
        fits = sum(a["fits"] for a in res["arms"].values())
        auc = np.mean([a["auc"] for a in res["arms"].values()])
        cache = (
            f"{res['cache_files']} files, {_mb(res['cache_bytes'])}"
            if final["compiled"] is not None
            else "none (JAX's, off)"
        )
        lines.append(
            f"| {label} | {fits} | {_report.fmt(final['compiled'])} | "
            f"{final['backend_compiles']} | {final['backend_compile_s']:.0f} | "
            f"{_report.fmt(final['n_loaded'])} | {cache} | "
            f"{res['wall_s']:.0f} | {auc:.4f} |"
        )
    lines.append("")
    if results.get("keel_before") is not None:
        lines += [
            "Fit times include the compiles. The old code's Adam arms ran "
            "fewer steps: the restructure also made every epoch at least 50 "
            "steps long (on small tables an epoch had a handful), which costs "
            "time and gains AUC.",
            "",
        ]
    lines += ["Per arm (XLA compiles during that arm's fits):", ""]
    arms = list(dict.fromkeys(a for _, res in sessions for a in res.get("arms", {})))
    header = "| arm | " + " | ".join(label for label, _ in sessions) + " |"
    lines += [header, "|---" * (len(sessions) + 1) + "|"]
    for arm in arms:
        cells = []
        for _, res in sessions:
            entry = res.get("arms", {}).get(arm)
            if entry is None:
                cells.append("")
                continue
            cells.append(
                f"{entry['backend']} ({entry['fit_s']:.0f} s, AUC {entry['auc']:.4f})"
            )
        lines.append(f"| {arm} | " + " | ".join(cells) + " |")
    lines += ["", "Backend compiles by compiled function:", ""]
    for label, res in sessions:
        names = ", ".join(f"`{k}` {v}" for k, v in res.get("names", {}).items())
        lines.append(f"- {label}: {names or '-'}")
    lines.append("")
    return lines


def _max_map_count():
    try:
        return Path("/proc/sys/vm/max_map_count").read_text().strip()
    except OSError:
        return "unknown"


def main(argv=None):
    """Command-line entry point."""
    parser = harness.bench_parser(__doc__.split("\n")[0], "programs.{md,csv}")
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        help="a checkout of the code before the restructure (e.g. `git worktree "
        "add /tmp/before b705bcf`) to compare with",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        default=None,
        choices=("sweep_default", "sweep_pair", "keel"),
        help="run only these parts",
    )
    parser.add_argument(
        "--dump",
        type=Path,
        default=None,
        help="also write the raw results to this JSON file",
    )
    parser.add_argument(
        "--render",
        type=Path,
        default=None,
        help="measure nothing: write the report from a file of --dump",
    )
    args = harness.parse_args(parser, argv, JOBS)
    mode_name, mode = harness.select_mode(MODES, args)
    args.before_label = "b705bcf" if args.before else ""
    if args.before is not None:
        args.before = args.before.resolve()
        if not (args.before / "skpairauc" / "__init__.py").is_file():
            parser.error(f"--before {args.before}: no skpairauc package there")
    parts = set(args.only or ("sweep_default", "sweep_pair", "keel"))
    args.out.mkdir(parents=True, exist_ok=True)
    if args.render is not None:
        raw = json.loads(args.render.read_text())
        args.argv, args.before_label = raw["argv"], raw["before_label"]
        return write_outputs(
            raw["results"], args, raw["mode"], raw["wall_s"], raw["machine"]
        )
    start = harness.start_run()
    timeout = mode["timeout"]
    results = {}
    linear = {"hidden_layer_sizes": [], "alpha": 1.0, "random_state": 0}
    mlp = {"hidden_layer_sizes": [64], "random_state": 0}
    with tempfile.TemporaryDirectory(prefix="skpairauc-bench-logs-") as logs:
        if "sweep_default" in parts:
            results["sweep_default"] = run_sweep(
                "sweep_default",
                [["default", {"random_state": 0}], ["mlp64", mlp]],
                mode,
                timeout,
                log_dir=logs,
            )
        if "sweep_pair" in parts:
            configs = [["linear", linear], ["mlp64", {**mlp, "alpha": 1.0}]]
            results["sweep_pair"] = run_sweep(
                "sweep_pair", configs, mode, timeout, log_dir=logs
            )
            if args.before is not None:
                results["before_pair"] = run_sweep(
                    "before_pair", configs, mode, timeout, args.before, logs
                )
    if "keel" in parts:
        results["keel_after"] = run_keel(mode["keel_arms"], mode, timeout)
        if args.before is not None:
            results["keel_before"] = run_keel(
                mode["keel_arms"], mode, timeout, args.before
            )
        if mode["keel_default"]:
            results["keel_default"] = run_keel((DEFAULT_ARM,), mode, timeout)
    wall = time.perf_counter() - start
    info = _report.machine_info()
    if args.dump is not None:
        raw = {
            "machine": info,
            "argv": args.argv,
            "before_label": args.before_label,
            "mode": mode_name,
            "wall_s": wall,
            "results": results,
        }
        args.dump.write_text(json.dumps(raw, default=harness.json_default))
    return write_outputs(results, args, mode_name, wall, info)


def write_outputs(results, args, mode_name, wall, info):
    """``programs.csv`` and ``programs.md``; prints the key figures."""
    rows = [
        row
        for key in ("sweep_default", "sweep_pair", "before_pair")
        for row in (results.get(key) or {}).get("rows", [])
    ]
    _report.write_csv(rows, args.out / "programs.csv", COLUMNS)
    lines = report_lines(results, args)
    _report.write_report(args.out / "programs.md", lines, mode_name, wall, info)
    summary = {
        "memory": memory_summary((results.get("sweep_default") or {}).get("rows", [])),
        "fit_time": results.get("fit_time"),
        "keel": {
            key: results[key].get("final")
            for key in ("keel_after", "keel_before", "keel_default")
            if results.get(key)
        },
    }
    print(json.dumps(summary, indent=1, default=str))
    return results


if __name__ == "__main__":
    main()
