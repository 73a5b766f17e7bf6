"""Render an arm summary as Markdown, CSV and a terminal table (the same numbers in all)."""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["format_rows", "to_markdown", "to_csv", "print_table", "COLUMNS"]

COLUMNS = ["arm", "change", "test accuracy (%)", "test loss", "Δ acc vs previous (pp)",
           "Δ acc vs baseline (pp)", "epochs", "s / run", "runs"]


def _ci(mean, low, high, scale=1.0, digits=2):
    if math.isnan(mean):
        return "–"
    if math.isnan(low):
        return f"{mean * scale:.{digits}f}"
    return f"{mean * scale:.{digits}f} ± {(high - low) / 2 * scale:.{digits}f}"


def _delta(mean, low, high, p):
    if math.isnan(mean):
        return "–"
    text = f"{mean * 100:+.2f} ± {(high - low) / 2 * 100:.2f}" if not math.isnan(low) else f"{mean * 100:+.2f}"
    return text + ("" if math.isnan(p) else f" (p={p:.3f})")


def format_rows(summary: pd.DataFrame, with_reference: bool = False) -> list[list[str]]:
    rows = []
    for r in summary.itertuples():
        runs = f"{r.runs}"
        if r.diverged:
            runs += f" ({r.diverged} diverged)"
        if r.failed:
            runs += f" ({r.failed} failed)"
        row = [r.arm, r.change, _ci(r.acc_mean, r.acc_low, r.acc_high, 100),
               _ci(r.loss_mean, r.loss_low, r.loss_high, 1, 3),
               _delta(r.d_prev_acc, r.d_prev_low, r.d_prev_high, r.d_prev_p),
               _delta(r.d_base_acc, r.d_base_low, r.d_base_high, r.d_base_p),
               "–" if math.isnan(r.epochs_mean) else f"{r.epochs_mean:.1f}",
               "–" if math.isnan(r.seconds_mean) else f"{r.seconds_mean:.2f}", runs]
        if with_reference:
            acc = "–" if math.isnan(r.ref_accuracy) else f"{r.ref_accuracy * 100:.2f}"
            loss = "–" if math.isnan(r.ref_loss) else f"{r.ref_loss:.3f}"
            row.append(f"{acc} / {loss}")
        rows.append(row)
    return rows


def _headers(with_reference):
    return COLUMNS + (["notebook acc (%) / loss"] if with_reference else [])


def to_markdown(summary: pd.DataFrame, title: str, notes: list[str],
                with_reference: bool = False) -> str:
    headers = _headers(with_reference)
    lines = [f"# {title}", ""]
    lines.append("| " + " | ".join(headers) + " |")
    lines.append("|" + "|".join("---" for _ in headers) + "|")
    for row in format_rows(summary, with_reference):
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    lines.append("")
    lines += [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def to_csv(summary: pd.DataFrame) -> str:
    return summary.to_csv(index=False, float_format="%.6g")


def print_table(summary: pd.DataFrame, title: str, with_reference: bool = False, console=None) -> None:
    import sys

    from rich.console import Console
    from rich.table import Table
    # Logs and pipes get a wide table rather than rich's 80-column default.
    console = console or Console(width=None if sys.stdout.isatty() else 200)
    table = Table(title=title, show_lines=False)
    for i, header in enumerate(_headers(with_reference)):
        table.add_column(header, justify="left" if i < 2 else "right",
                         overflow="fold", max_width=34 if i == 1 else None)
    for row in format_rows(summary, with_reference):
        table.add_row(*row)
    console.print(table)
