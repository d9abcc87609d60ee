"""How every benchmark script runs; not part of the package.

* **Run modes.** Every script has a full mode and a quick smoke mode
  (``--quick``, what the tests run): :func:`bench_parser` gives the common
  options (``--quick``, ``--out``, the hidden ``--child``), :func:`select_mode`
  picks a script's settings of the mode, :func:`start_run` starts the clock.
* **Child processes.** A measurement that needs a clean process (peak memory,
  cold start, one-core throughput) runs as ``python <script> --child '<json>'``:
  the parent calls :func:`run_child` (or a :class:`JobRunner`); in the child,
  :func:`parse_args` runs one job of the script's ``JOBS`` (:func:`child_main`),
  which prints a single ``BENCH_RESULT {json}`` line (:func:`emit_result`).
* **Peers.** :func:`peer_status` says whether an optional peer (xgboost,
  lightgbm, torch, libauc) imports; ``SKPAIRAUC_BENCH_DISABLE=torch,libauc``
  (a comma-separated list) makes the named peers look absent.

What the scripts write (tables, CSV, plots, the report and its machine
description) is :mod:`_report`'s; what they measure with (the compile clock,
memory, CPU time) is :mod:`_measure`'s.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _report import git_revision

RESULTS_DIR = Path(__file__).resolve().parent / "results"


# --------------------------------------------------------------------------- #
# Run modes
# --------------------------------------------------------------------------- #
def bench_parser(description: str, outputs: str) -> argparse.ArgumentParser:
    """A parser with the options every script shares.

    ``--quick`` (the smoke mode), ``--out DIR`` (default
    ``benchmarks/results``; ``outputs`` names what goes there) and the hidden
    ``--child SPEC`` of :func:`parse_args`.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="smoke run with tiny sizes (seconds)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=RESULTS_DIR,
        help=f"directory for {outputs} (default: %(default)s)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser


def parse_args(
    parser: argparse.ArgumentParser, argv=None, jobs: dict | None = None
) -> argparse.Namespace:
    """Parse ``argv``; ``args.argv`` keeps the words (for the report's command).

    With ``--child SPEC`` the process is a child: it runs that job of ``jobs``
    (the script's child jobs), prints its result line and exits here.
    """
    args = parser.parse_args(argv)
    if args.child:
        if jobs is None:
            parser.error("--child: this script has no child jobs")
        child_main(jobs, args.child)
        raise SystemExit(0)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return args


def select_mode(
    modes: dict, args: argparse.Namespace, options: tuple = ()
) -> tuple[str, dict]:
    """``(name, settings)`` of the mode ``args`` asks for ("quick" or "full").

    The settings are a copy: a script may adjust them from its options. Each
    of ``options`` names a command-line option whose default (``None``) is
    the mode's setting of the same name; it is filled in on ``args``.
    """
    name = "quick" if args.quick else "full"
    settings = dict(modes[name])
    for option in options:
        if getattr(args, option) is None:
            setattr(args, option, settings[option])
    return name, settings


def start_run() -> float:
    """Note the checkout's commit now (a long run may outlive it); return the clock."""
    git_revision()
    return time.perf_counter()


# --------------------------------------------------------------------------- #
# Child processes
# --------------------------------------------------------------------------- #
RESULT_TAG = "BENCH_RESULT "

# One core for XLA: no Eigen thread pool, one intra-op thread.  ``taskset`` then
# pins the whole process (and any thread XLA still starts) to one CPU.
ONE_CORE_XLA_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
ONE_CORE_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def pinned_cpu() -> str:
    """The CPU that one-core children are pinned to (``SKPAIRAUC_BENCH_CPU``, 0)."""
    return os.environ.get("SKPAIRAUC_BENCH_CPU", "0")


def one_core_env() -> dict:
    """Environment variables that keep XLA, BLAS and torch on one thread."""
    env = {"XLA_FLAGS": ONE_CORE_XLA_FLAGS}
    env.update({name: "1" for name in ONE_CORE_THREAD_VARS})
    return env


def run_child(
    script: str | Path,
    spec: dict,
    *,
    one_core: bool = False,
    env_extra: dict | None = None,
    timeout: float | None = None,
) -> dict:
    """Run ``script --child spec`` in a fresh interpreter and return its result.

    Parameters
    ----------
    script : path
        A benchmark script that implements ``--child`` (:func:`child_main`).
    spec : dict
        JSON-serialisable description of the one job the child runs.
    one_core : bool
        Pin the child to one CPU with ``taskset`` (when available; CPU 0 or
        ``SKPAIRAUC_BENCH_CPU``) and make XLA, BLAS and torch single threaded.
    env_extra : dict, optional
        Extra environment variables.
    timeout : float, optional
        Seconds before the child is killed.

    Returns
    -------
    dict
        The child's result, plus ``wall_s`` (the whole child, interpreter start
        included).  On failure ``{"error": "..."}``.
    """
    env = dict(os.environ)
    env.setdefault("PYTHONHASHSEED", "0")
    # Keep JAX quiet about the absent accelerators.
    env.setdefault("JAX_PLATFORMS", "cpu")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    command = [sys.executable, str(script), "--child", json.dumps(spec)]
    if one_core:
        env.update(one_core_env())
        if shutil.which("taskset"):
            command = ["taskset", "-c", pinned_cpu(), *command]
    if env_extra:
        env.update(env_extra)
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    wall = time.perf_counter() - start
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_TAG):
            result = json.loads(line[len(RESULT_TAG) :])
            result.setdefault("wall_s", wall)
            return result
    tail = (proc.stderr or proc.stdout)[-2000:]
    return {"error": f"child exited {proc.returncode}: {tail}"}


def run_here(jobs: dict, spec: dict) -> dict:
    """Run one job in this process; a failure is a result, as for a child."""
    try:
        return jobs[spec["job"]](spec)
    except Exception as exc:  # report, never hang the parent
        return {"error": f"{type(exc).__name__}: {exc}"}


def child_main(jobs: dict, spec_json: str) -> None:
    """Entry point of a child process: run one job, print its result line."""
    emit_result(run_here(jobs, json.loads(spec_json)))


def emit_result(result: dict) -> None:
    """Print the child's result line (the parent parses the last such line)."""
    sys.stdout.flush()
    print(RESULT_TAG + json.dumps(result, default=json_default), flush=True)


def json_default(value):
    """Make NumPy scalars JSON serialisable."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class JobRunner:
    """Runs the jobs of one script: each in a fresh child process, or in this one.

    In-process running is the quick mode's: the smoke run shares one
    interpreter and its compile caches between jobs so that it takes seconds;
    its memory and one-core figures are then not meaningful, which the reports
    say.

    Parameters
    ----------
    script : path
        The script whose ``--child`` runs a job of ``jobs``.
    jobs : dict
        Job name -> function of the spec, returning a dict.
    in_process : bool
        Run the jobs in this process.
    timeout : float, optional
        Seconds before a child is killed.
    """

    def __init__(self, script, jobs: dict, *, in_process=False, timeout=None):
        self.script = script
        self.jobs = jobs
        self.in_process = in_process
        self.timeout = timeout

    def __call__(self, spec: dict, *, one_core: bool = False) -> dict:
        """Run one job where the mode says."""
        if self.in_process:
            return run_here(self.jobs, spec)
        return self.child(spec, one_core=one_core)

    def child(self, spec: dict, **options) -> dict:
        """Run one job in a fresh child process whatever the mode."""
        return run_child(self.script, spec, timeout=self.timeout, **options)


# --------------------------------------------------------------------------- #
# Optional peers
# --------------------------------------------------------------------------- #
#: Peer -> the modules (and names in them) it needs.
PEER_IMPORTS = {
    "skpairauc": (("skpairauc", ("PairwiseAUCClassifier",)),),
    "xgboost": (("xgboost", ()),),
    "lightgbm": (("lightgbm", ()),),
    "torch": (("torch", ()),),
    "libauc": (
        ("torch", ()),
        ("libauc.losses", ("AUCMLoss", "PairwiseAUCLoss")),
        ("libauc.optimizers", ("PESG",)),
    ),
}


def disabled_peers() -> set[str]:
    """Peers disabled through ``SKPAIRAUC_BENCH_DISABLE`` (simulates absence)."""
    value = os.environ.get("SKPAIRAUC_BENCH_DISABLE", "")
    return {part.strip() for part in value.split(",") if part.strip()}


def peer_status(peer: str) -> str | None:
    """``None`` when ``peer`` (a key of :data:`PEER_IMPORTS`) imports, else why not.

    LibAUC needs torch: disabling either disables it.
    """
    needs = {module.split(".")[0] for module, _ in PEER_IMPORTS[peer]}
    if (needs | {peer}) & disabled_peers():
        return "not installed (disabled by SKPAIRAUC_BENCH_DISABLE)"
    for module, names in PEER_IMPORTS[peer]:
        try:
            imported = importlib.import_module(module)
            for name in names:
                getattr(imported, name)
        except Exception as exc:  # ImportError, or a broken optional dependency
            return f"not installed ({module}: {type(exc).__name__}: {exc})"
    return None
