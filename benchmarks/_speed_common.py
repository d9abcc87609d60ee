"""The floor table of ``bench_speed.py`` and the estimator set-up its floors share.

Every floor module (``_speed_steps``, ``_speed_exact``, ``_speed_fits``,
``_speed_peers``) has child jobs (``JOBS``: spec -> result dict, run by
``_harness.JobRunner``) and one ``measure_*(mode, run, floors, details)``
section that runs them and appends its rows here.
"""

from __future__ import annotations

import json
import math

from _data import SEED
from _measure import N_NEG_PER_BATCH, N_POS_PER_BATCH

FLOOR_COLUMNS = [
    "floor_id",
    "description",
    "floor",
    "measured",
    "unit",
    "passed",
    "detail",
]
DETAIL_COLUMNS = ["section", "name", "value", "unit", "note"]


def floor_row(
    floor_id, description, floor, measured, unit, higher_is_better, detail=""
):
    """One row of the floor table; ``passed`` says "not measured" without a value."""
    if measured is None or not math.isfinite(measured):
        passed = "not measured"
        measured = float("nan")
    elif higher_is_better:
        passed = "PASS" if measured >= floor else "FAIL"
    else:
        passed = "PASS" if measured <= floor else "FAIL"
    return {
        "floor_id": floor_id,
        "description": description,
        "floor": floor,
        "measured": measured,
        "unit": unit,
        "passed": passed,
        "detail": detail,
    }


def add_details(details: list, section: str, result: dict, units=None) -> None:
    """Append every numeric/string field of a child result to ``details``."""
    units = units or {}
    for name, value in result.items():
        if isinstance(value, (list, dict)):
            value = json.dumps(value)
        details.append(
            {
                "section": section,
                "name": name,
                "value": value,
                "unit": units.get(name, ""),
                "note": "",
            }
        )


def no_early_stop(max_iter: int) -> dict:
    """Estimator settings that make a stochastic fit run all ``max_iter`` epochs."""
    return {"max_iter": max_iter, "tol": 0.0, "n_iter_no_change": 10 * max_iter + 10}


def stochastic_estimator(hidden: tuple, max_iter: int):
    """The estimator configured as in floor 1 (adam, 128 + 384 per step)."""
    from skpairauc import PairwiseAUCClassifier

    return PairwiseAUCClassifier(
        hidden_layer_sizes=hidden,
        solver="adam",
        n_pos_per_batch=N_POS_PER_BATCH,
        n_neg_per_batch=N_NEG_PER_BATCH,
        random_state=SEED,
        early_stopping=False,
        **no_early_stop(max_iter),
    )


def cold_env(cache: str) -> dict:
    """skpairauc's persistent compile cache in ``cache`` (benchmarks/README.md):
    on by default for users; the benchmark points it at a directory of its
    own, empty at first, so the user's cache neither helps nor changes."""
    return {"SKPAIRAUC_CACHE_DIR": cache}
