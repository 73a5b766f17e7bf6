"""Turn a parent run's children into the committed tables under ``results/``."""

from __future__ import annotations

import os
import sys

from .report import load_runs, load_structure, summarize, write_atomic
from .tables import print_table, to_csv, to_markdown

__all__ = ["publish"]


def publish(tracker, parent_id: str, results_root: str = "results", quiet: bool = False,
            command: str | None = None, extra_notes: list[str] = ()) -> dict:
    """Write ``table.md``, ``table.csv`` and ``runs.csv`` for ``parent_id``; print the table."""
    parent = tracker.client.get_run(parent_id)
    structure = load_structure(tracker, parent_id)
    runs = load_runs(tracker, parent_id)
    summary = summarize(runs, structure)
    dataset = parent.data.tags.get("bench.dataset", "unknown")
    out_dir = os.path.join(results_root, structure["experiment"], dataset)
    with_ref = dataset == "mnist" and any(a.get("reference") for a in structure["arms"])
    seeds = sorted(runs["seed"].unique().tolist()) if len(runs) else []
    notes = [
        f"Dataset: {parent.data.tags.get('bench.dataset_description', dataset)}.",
        f"Mean ± 95% t-interval over seeds {seeds}; Δ columns are paired over the same seeds "
        "(two-sided paired t-test p-value), in percentage points of test accuracy.",
        "Δ vs previous compares each arm with the arm it changes; Δ vs baseline with "
        f"`{structure['baseline']}`. Early stopping and any tuning use the validation split only.",
        f"Made by `{command or parent.data.tags.get('bench.command', '?')}` "
        f"(MLflow parent run `{parent_id}`, commit {parent.data.tags.get('bench.git_commit', '?')[:12]}"
        f"{', dirty tree' if parent.data.tags.get('bench.git_dirty') == 'true' else ''}); "
        "`python -m bench report` rebuilds it from MLflow.",
        f"BLAS: {parent.data.tags.get('bench.blas', '?')}.",
    ]
    notes += list(extra_notes)
    if with_ref and structure.get("reference_note"):
        notes.append(structure["reference_note"])
    variant = parent.data.tags.get("bench.variant", "as-specified")
    stem = "table" if variant == "as-specified" else variant
    title = f"{structure['experiment']} on {dataset}" + ("" if stem == "table" else f" ({variant})")
    paths = {
        "markdown": os.path.join(out_dir, f"{stem}.md"),
        "csv": os.path.join(out_dir, f"{stem}.csv"),
        "runs": os.path.join(out_dir, f"{stem}-runs.csv" if stem != "table" else "runs.csv"),
    }
    write_atomic(paths["markdown"], to_markdown(summary, title, notes, with_ref))
    write_atomic(paths["csv"], to_csv(summary))
    write_atomic(paths["runs"], runs.to_csv(index=False, float_format="%.6g"))
    if not quiet:
        print_table(summary, title, with_ref)
        names = ", ".join(os.path.basename(p) for p in paths.values())
        print(f"tables written to {out_dir}/ ({names})", file=sys.stderr)
    return {"summary": summary, "runs": runs, "paths": paths, "out_dir": out_dir}
