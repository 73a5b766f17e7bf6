"""The summary table as JSON, for scripts (``--json``): the same DataFrame the terminal and
Markdown tables are rendered from, one object per arm, every column kept."""

from __future__ import annotations

import json
import math

import pandas as pd

__all__ = ["summary_json"]


def _plain(value):
    """A JSON value: numpy scalars as Python ones; NaN and infinities as null (JSON has
    neither, and ``json.dumps`` would write the invalid ``NaN``)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def summary_json(summary: pd.DataFrame, title: str, run_id: str, out_dir: str) -> str:
    arms = [{k: _plain(v) for k, v in row.items()} for row in summary.to_dict(orient="records")]
    return json.dumps({"title": title, "run_id": run_id, "results_dir": out_dir, "arms": arms},
                      indent=2, allow_nan=False)
