"""Floor 4 of ``bench_speed.py``: LibAUC's PyTorch pairwise training at equal work.

At equal work (same MLP, rows per step and steps) skpairauc's training must be
>= 10x faster than LibAUC's on one CPU core. The whole run of a fresh process
is reported next to it, with a cold compile and with JAX's persistent
compilation cache filled by an earlier process (full mode only).
"""

from __future__ import annotations

import shutil
import tempfile

from _data import N_FEATURES, POS_FRACTION, SEED, make_imbalanced
from _harness import peer_status
from _measure import HIDDEN, CompileClock, timed
from _report import fmt
from _speed_common import add_details, cold_env, floor_row, stochastic_estimator
from _torch_peers import torch_pairwise_training


def job_torch_equal_work(spec: dict) -> dict:
    """LibAUC (or plain torch) pairwise training of the same MLP, one core."""
    status = peer_status("libauc")
    if status is not None:
        return {"status": status}
    X, y = make_imbalanced(spec["n_samples"], N_FEATURES, POS_FRACTION, SEED)
    return torch_pairwise_training(X, y, spec["n_steps"], spec["impl"], (HIDDEN,))


def job_ours_equal_work(spec: dict) -> dict:
    """Our MLP fit for a given number of steps, one core: whole and steady time."""
    X, y = make_imbalanced(spec["n_samples"], N_FEATURES, POS_FRACTION, SEED)
    CompileClock.install()
    probe = stochastic_estimator((HIDDEN,), 1)
    before_probe = CompileClock.seconds()
    _, probe_s = timed(probe.fit, X, y)
    probe_compile = CompileClock.seconds() - before_probe
    epochs = max(1, round(spec["n_steps"] / max(1, probe.t_)))
    est = stochastic_estimator((HIDDEN,), epochs)
    before = CompileClock.seconds()
    _, steady_s = timed(est.fit, X, y)
    return {
        "n_steps": est.t_,
        "epochs": epochs,
        "steps_per_epoch": probe.t_,
        # The first fit of the process = compile + one epoch; the whole-run time
        # of a fresh process is that compile plus the cached fit of all steps.
        "compile_s": probe_compile,
        "first_fit_s": probe_s,
        "fit_s_cached": steady_s,
        "recompile_s": CompileClock.seconds() - before,
        "total_s": probe_compile + steady_s,
    }


def measure_equal_work(mode, run, floors, details):
    """Floor 4: equal-work speed-up over LibAUC's PyTorch pairwise training.

    The floor compares training at equal work, so its verdict uses the
    steady-state rates (as floor 1 does); the whole run of a fresh process is
    reported next to it, with a cold compile and with JAX's persistent
    compilation cache filled by an earlier process (full mode only).
    """
    rows = mode["stochastic_rows"]
    spec = {
        "job": "ours_equal_work",
        "n_samples": rows,
        "n_steps": mode["equal_work_steps"],
    }
    cached = {}
    if mode["in_process"]:
        ours = run(spec, one_core=True)
    else:
        # The first process compiles into an empty cache of this run's own
        # (the whole run "with a cold compile", whatever the user's cache
        # holds); the next process loads from it ("with the cache filled").
        cache = tempfile.mkdtemp(prefix="skpairauc-cache-")
        try:
            ours = run.child(spec, one_core=True, env_extra=cold_env(cache))
            cached = run.child(spec, one_core=True, env_extra=cold_env(cache))
        finally:
            shutil.rmtree(cache, ignore_errors=True)
        add_details(details, "equal_work_skpairauc_cached", cached)
    add_details(details, "equal_work_skpairauc", ours)
    n_steps = ours.get("n_steps", mode["equal_work_steps"])
    peers = {}
    for impl in ("libauc", "torch"):
        peers[impl] = run(
            {
                "job": "torch_equal_work",
                "impl": impl,
                "n_samples": rows,
                "n_steps": n_steps,
            },
            one_core=True,
        )
        add_details(details, f"equal_work_{impl}", peers[impl])
    libauc = peers["libauc"]
    if "status" in libauc or "total_s" not in ours or "total_s" not in libauc:
        reason = libauc.get("status") or ours.get("error", libauc.get("error", ""))
        floors.append(
            floor_row(
                "4",
                "equal-work speed-up over LibAUC (training, steady state)",
                10.0,
                None,
                "x",
                True,
                reason,
            )
        )
        return
    whole_ratio = libauc["total_s"] / ours["total_s"]
    cached_note = ""
    if "total_s" in cached:
        cached_note = (
            f"; with the persistent cache filled: {fmt(cached['total_s'])} s "
            f"(compile {cached['compile_s']:.2f} s) = "
            f"{fmt(libauc['total_s'] / cached['total_s'])}x"
        )
    steady_ours = n_steps / ours["fit_s_cached"]
    steady_ratio = (
        steady_ours and libauc["steps_per_s"] and (steady_ours / libauc["steps_per_s"])
    )
    torch_note = ""
    if "steps_per_s" in peers["torch"]:
        torch_note = (
            f"; plain-torch loss (no LibAUC) {fmt(peers['torch']['steps_per_s'])} "
            f"steps/s -> {fmt(steady_ours / peers['torch']['steps_per_s'])}x"
        )
    floors.append(
        floor_row(
            "4",
            f"equal-work speed-up over LibAUC, {n_steps:,} steps, one core "
            "(training, steady state)",
            10.0,
            steady_ratio,
            "x",
            True,
            f"{fmt(steady_ours)} vs {fmt(libauc['steps_per_s'])} steps/s"
            f"{torch_note}; whole run of a fresh process: LibAUC "
            f"{fmt(libauc['total_s'])} s vs skpairauc {fmt(ours['total_s'])} s "
            f"(compile {ours['compile_s']:.2f} s) = {fmt(whole_ratio)}x"
            f"{cached_note}",
        )
    )


JOBS = {
    "torch_equal_work": job_torch_equal_work,
    "ours_equal_work": job_ours_equal_work,
}
