"""Render an arm summary as Markdown, CSV and a terminal table (the same numbers in all).

The Markdown file has two tables: the arms (intervals over seeds, epochs, time) and the
comparisons (each paired difference with its interval, raw and Holm-adjusted p, effect size,
seed-wise correlation and verdict). The terminal shows a compact view that fits 100 columns.
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["format_p", "verdict_text", "arm_rows", "comparison_rows", "to_markdown", "to_csv",
           "print_table", "ARM_COLUMNS", "COMPARISON_COLUMNS"]

ARM_COLUMNS = ["arm", "change", "runs", "test accuracy (%)", "test loss", "best epoch",
               "epochs run", "s / run", "epochs to target"]
COMPARISON_COLUMNS = ["arm", "vs", "Δ test acc (pp)", "p", "p (Holm)", "effect", "r",
                      "verdict"]


def _ci(mean, low, high, scale=1.0, digits=2):
    if math.isnan(mean):
        return "–"
    if math.isinf(mean):
        return "∞" if mean > 0 else "-∞"
    if math.isnan(low):
        return f"{mean * scale:.{digits}f}"
    return f"{mean * scale:.{digits}f} ± {(high - low) / 2 * scale:.{digits}f}"


def format_p(p: float) -> str:
    """``<0.001`` rather than ``0.000``; ``–`` where there is no test."""
    if p is None or math.isnan(p):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _number(value, fmt="{:.1f}"):
    return "–" if value is None or math.isnan(value) else fmt.format(value)


def verdict_text(verdict: str | None, detectable: float, needed: float, diff: float,
                 short: bool = False) -> str:
    """The verdict, and for a null result what the seeds could not see: the smallest
    difference they would detect (80% power) and the seeds that would detect the observed one."""
    if verdict is None:
        return "–"
    if verdict != "no detectable difference":
        return verdict
    if math.isnan(detectable):
        miss = ""
    elif detectable >= 1:  # an accuracy difference cannot exceed 100 points
        miss = "could miss any difference"
    else:
        miss = f"could miss ±{detectable * 100:.1f} pp"
    if short:
        if not miss:
            return "no difference"
        return "too few seeds to tell" if detectable >= 1 else f"no diff. (±{detectable * 100:.1f} pp)"
    need = ("" if math.isnan(needed) else
            f"; ~{int(needed)} seeds would detect {diff * 100:+.2f} pp")
    return f"no detectable difference ({miss}{need})" if miss else verdict


def _runs(r) -> str:
    text = f"{r.runs}"
    if r.diverged:
        rolled = r.diverged - r.no_checkpoint
        text += f" ({r.diverged} diverged" + (f", {rolled} rolled back" if rolled else "") + ")"
    if r.failed:
        text += f" ({r.failed} failed)"
    if r.missing:
        text += f" ({r.missing} without a test score)"
    return text


def arm_rows(summary: pd.DataFrame, with_reference: bool = False) -> list[list[str]]:
    rows = []
    for r in summary.itertuples():
        row = [r.arm, r.change, _runs(r), _ci(r.acc_mean, r.acc_low, r.acc_high, 100),
               _ci(r.loss_mean, r.loss_low, r.loss_high, 1, 3), _number(r.best_epoch_mean),
               _number(r.epochs_mean), _number(r.seconds_mean, "{:.2f}"),
               getattr(r, "to_target", "–")]
        if with_reference:
            acc = "–" if math.isnan(r.ref_accuracy) else f"{r.ref_accuracy * 100:.2f}"
            loss = "–" if math.isnan(r.ref_loss) else f"{r.ref_loss:.3f}"
            row.append(f"{acc} / {loss}")
        rows.append(row)
    return rows


def _delta(r, prefix) -> str:
    mean, low, high = (getattr(r, f"d_{prefix}_{k}") for k in ("acc", "low", "high"))
    if math.isnan(mean):
        return "–"
    return f"{mean * 100:+.2f}" + ("" if math.isnan(low) else f" ± {(high - low) / 2 * 100:.2f}")


def comparison_rows(summary: pd.DataFrame, prefix: str) -> list[list[str]]:
    rows = []
    for r in summary.itertuples():
        other = getattr(r, f"d_{prefix}_vs")
        if not isinstance(other, str):  # None, or NaN once pandas has held it
            continue
        g = lambda k: getattr(r, f"d_{prefix}_{k}")  # noqa: E731
        effect = g("effect")
        kind = "d_z" if g("test") == "paired t" else "g"
        rows.append([r.arm, other, _delta(r, prefix), format_p(g("p")), format_p(g("padj")),
                     "–" if math.isnan(effect) else f"{kind} {effect:+.2f}",
                     _number(g("r"), "{:.2f}"),
                     verdict_text(g("verdict"), g("detectable"), g("needed"), g("acc"))])
    return rows


def _md_table(headers, rows) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return lines + [""]


def to_markdown(summary: pd.DataFrame, title: str, notes: list[str],
                with_reference: bool = False, baseline: str = "") -> str:
    headers = ARM_COLUMNS + (["notebook acc (%) / loss"] if with_reference else [])
    lines = [f"# {title}", "", "## Arms", ""] + _md_table(headers, arm_rows(summary, with_reference))
    for prefix, heading in (("prev", "Each arm against the arm it changes"),
                            ("base", f"Each arm against the baseline{f' ({baseline})' if baseline else ''}")):
        rows = comparison_rows(summary, prefix)
        if rows:
            lines += [f"## {heading}", ""] + _md_table(COMPARISON_COLUMNS, rows)
    lines += ["## Notes", ""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def to_csv(summary: pd.DataFrame) -> str:
    return summary.to_csv(index=False, float_format="%.6g")


def print_table(summary: pd.DataFrame, title: str, console=None, baseline: str = "") -> None:
    """The compact view: arm, accuracy, difference against the compared arm, Holm p, verdict."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    import sys
    console = console or Console(width=None if sys.stdout.isatty() else 100)
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1),
                  caption="Δ: paired difference against `vs`, 95% interval; full tables "
                          "in table.md")
    for header, justify in (("arm", "left"), ("test acc %", "right"), ("vs", "left"),
                            ("Δ pp", "right"), ("p Holm", "right"), ("verdict", "left")):
        table.add_column(header, justify=justify, no_wrap=header != "verdict")
    for r in summary.itertuples():
        other = r.d_prev_vs
        row = [r.arm, _ci(r.acc_mean, r.acc_low, r.acc_high, 100)]
        if isinstance(other, str):
            row += [other, _delta(r, "prev"), format_p(r.d_prev_padj),
                    verdict_text(r.d_prev_verdict, r.d_prev_detectable, r.d_prev_needed,
                                 r.d_prev_acc, short=True)]
        else:
            row += ["", "", "", "baseline" if r.arm == baseline else ""]
        table.add_row(*row)
    console.print(table)
