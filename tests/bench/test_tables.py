"""Rendering an arm summary: the cells, Markdown, CSV and the terminal table agree."""

from __future__ import annotations

import io
import math

import pandas as pd
import pytest

from bench.tables import COLUMNS, format_rows, print_table, to_csv, to_markdown

NAN = math.nan


def row(arm, **overrides):
    base = {
        "arm": arm, "change": f"change of {arm}", "compare_to": None, "runs": 5, "failed": 0,
        "diverged": 0, "acc_mean": 0.9123, "acc_low": 0.9023, "acc_high": 0.9223,
        "loss_mean": 0.3456, "loss_low": 0.3256, "loss_high": 0.3656,
        "epochs_mean": 23.4, "seconds_mean": 1.234,
        "d_prev_acc": NAN, "d_prev_low": NAN, "d_prev_high": NAN, "d_prev_p": NAN,
        "d_base_acc": NAN, "d_base_low": NAN, "d_base_high": NAN, "d_base_p": NAN,
        "ref_accuracy": NAN, "ref_loss": NAN,
    }
    return {**base, **overrides}


def cells(**overrides) -> dict[str, str]:
    (rendered,) = format_rows(pd.DataFrame([row("a", **overrides)]))
    return dict(zip(COLUMNS, rendered))


# -- cells -----------------------------------------------------------------------------------------

def test_accuracy_is_percent_mean_plus_minus_half_width():
    # mean 91.23 %, interval 90.23 .. 92.23 -> half-width 1.00 points
    assert cells()["test accuracy (%)"] == "91.23 ± 1.00"


def test_loss_has_three_decimals_and_its_half_width():
    assert cells()["test loss"] == "0.346 ± 0.020"


def test_a_single_seed_shows_the_mean_without_an_interval():
    assert cells(acc_low=NAN, acc_high=NAN)["test accuracy (%)"] == "91.23"


def test_an_arm_without_runs_shows_a_dash():
    got = cells(acc_mean=NAN, acc_low=NAN, acc_high=NAN, epochs_mean=NAN, seconds_mean=NAN)
    assert (got["test accuracy (%)"], got["epochs"], got["s / run"]) == ("–", "–", "–")


def test_delta_shows_signed_points_half_width_and_p_value():
    got = cells(d_prev_acc=-0.02, d_prev_low=-0.03, d_prev_high=-0.01, d_prev_p=0.03125,
                d_base_acc=0.015, d_base_low=0.005, d_base_high=0.025, d_base_p=NAN)
    assert got["Δ acc vs previous (pp)"] == "-2.00 ± 1.00 (p=0.031)"
    assert got["Δ acc vs baseline (pp)"] == "+1.50 ± 1.00"


def test_missing_comparison_shows_a_dash():
    assert cells()["Δ acc vs previous (pp)"] == "–"


def test_epochs_and_seconds_are_rounded():
    got = cells()
    assert (got["epochs"], got["s / run"]) == ("23.4", "1.23")


def test_runs_cell_reports_diverged_and_failed_runs():
    assert cells(runs=3, diverged=1, failed=2)["runs"] == "3 (1 diverged) (2 failed)"
    assert cells(runs=5)["runs"] == "5"


def test_reference_column_is_added_only_when_asked():
    frame = pd.DataFrame([row("a", ref_accuracy=0.9649, ref_loss=0.149),
                          row("b", ref_accuracy=0.9602, ref_loss=NAN)])
    assert len(format_rows(frame)[0]) == len(COLUMNS)
    with_ref = format_rows(frame, with_reference=True)
    assert [r[-1] for r in with_ref] == ["96.49 / 0.149", "96.02 / –"]


# -- documents -------------------------------------------------------------------------------------

SUMMARY = pd.DataFrame([row("a"), row("b|c", change="uses | pipes", compare_to="a",
                                       d_prev_acc=0.01, d_prev_low=0.0, d_prev_high=0.02,
                                       d_prev_p=0.5)])


def test_markdown_has_title_header_one_row_per_arm_and_notes():
    text = to_markdown(SUMMARY, "ablation on digits", ["first note", "second note"])
    lines = text.splitlines()
    assert lines[0] == "# ablation on digits"
    assert lines[2] == "| " + " | ".join(COLUMNS) + " |"
    assert lines[3] == "|" + "|".join("---" for _ in COLUMNS) + "|"
    table = [line for line in lines if line.startswith("| ")][1:]
    assert len(table) == 2 and table[0].startswith("| a | change of a | 91.23 ± 1.00 |")
    assert lines[-2:] == ["- first note", "- second note"] and text.endswith("\n")


def test_markdown_escapes_pipes_inside_cells():
    text = to_markdown(SUMMARY, "t", [])
    assert "| b\\|c | uses \\| pipes |" in text


def test_markdown_cells_are_the_formatted_rows():
    text = to_markdown(SUMMARY, "t", [])
    for rendered in format_rows(SUMMARY):
        assert "| " + " | ".join(c.replace("|", "\\|") for c in rendered) + " |" in text


def test_csv_round_trips_to_six_significant_digits():
    back = pd.read_csv(io.StringIO(to_csv(SUMMARY)), keep_default_na=True)
    assert list(back.columns) == list(SUMMARY.columns)
    assert list(back["arm"]) == ["a", "b|c"]
    for col in ("acc_mean", "acc_low", "loss_mean", "d_prev_acc", "seconds_mean"):
        want = SUMMARY[col].tolist()
        got = back[col].tolist()
        assert got == pytest.approx(want, rel=1e-5, nan_ok=True), col


def test_terminal_table_shows_the_same_cells():
    from rich.console import Console
    console = Console(file=io.StringIO(), width=400, record=True)
    print_table(SUMMARY, "ablation on digits", console=console)
    text = console.export_text()
    assert "ablation on digits" in text
    for rendered in format_rows(SUMMARY):
        for cell in rendered:
            assert cell in text, cell
