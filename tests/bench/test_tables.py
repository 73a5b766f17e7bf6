"""Rendering an arm summary: the cells, Markdown, CSV and the terminal table agree."""

from __future__ import annotations

import io
import math

import pandas as pd
import pytest

from bench.tables import (ARM_COLUMNS, COMPARISON_COLUMNS, arm_rows, comparison_rows, format_p,
                          print_table, to_csv, to_markdown, verdict_text)

NAN = math.nan


def _no_comparison(prefix):
    return {f"d_{prefix}_{k}": (None if k in ("vs", "test", "verdict") else NAN)
            for k in ("vs", "acc", "low", "high", "p", "padj", "test", "effect", "r",
                      "detectable", "needed", "verdict", "dropped", "n")}


def row(arm, **overrides):
    base = {
        "arm": arm, "change": f"change of {arm}", "compare_to": None, "runs": 5, "failed": 0,
        "diverged": 0, "no_checkpoint": 0, "missing": 0,
        "acc_mean": 0.9123, "acc_low": 0.9023, "acc_high": 0.9223,
        "loss_mean": 0.3456, "loss_low": 0.3256, "loss_high": 0.3656,
        "best_epoch_mean": 17.2, "epochs_mean": 23.4, "seconds_mean": 1.234, "blas_kernels": "k",
        "ref_accuracy": NAN, "ref_loss": NAN, **_no_comparison("prev"), **_no_comparison("base"),
    }
    return {**base, **overrides}


def compared(arm="b", vs="a", **overrides):
    values = {"d_prev_vs": vs, "d_prev_acc": -0.02, "d_prev_low": -0.03, "d_prev_high": -0.01,
              "d_prev_p": 0.0004, "d_prev_padj": 0.0312, "d_prev_test": "paired t",
              "d_prev_effect": -1.234, "d_prev_r": 0.61, "d_prev_detectable": 0.013,
              "d_prev_needed": 7.0, "d_prev_verdict": "worse", "d_prev_dropped": 0.0,
              "d_prev_n": 5.0}
    return row(arm, compare_to=vs, **{**values, **overrides})


def arm_cells(**overrides) -> dict[str, str]:
    (rendered,) = arm_rows(pd.DataFrame([row("a", **overrides)]))
    return dict(zip(ARM_COLUMNS, rendered))


def comparison_cells(**overrides) -> dict[str, str]:
    (rendered,) = comparison_rows(pd.DataFrame([compared(**overrides)]), "prev")
    return dict(zip(COMPARISON_COLUMNS, rendered))


# -- arm cells -------------------------------------------------------------------------------------

def test_accuracy_is_percent_mean_plus_minus_half_width():
    assert arm_cells()["test accuracy (%)"] == "91.23 ± 1.00"


def test_loss_has_three_decimals_and_its_half_width():
    assert arm_cells()["test loss"] == "0.346 ± 0.020"


def test_an_infinite_loss_mean_shows_infinity_not_a_number():
    assert arm_cells(loss_mean=math.inf, loss_low=NAN, loss_high=NAN)["test loss"] == "∞"


def test_a_single_seed_shows_the_mean_without_an_interval():
    assert arm_cells(acc_low=NAN, acc_high=NAN)["test accuracy (%)"] == "91.23"


def test_an_arm_without_runs_shows_dashes():
    got = arm_cells(acc_mean=NAN, acc_low=NAN, acc_high=NAN, epochs_mean=NAN, seconds_mean=NAN,
                    best_epoch_mean=NAN)
    assert (got["test accuracy (%)"], got["epochs run"], got["best epoch"], got["s / run"]) == \
        ("–", "–", "–", "–")


def test_best_epoch_and_epochs_run_are_both_shown():
    got = arm_cells()
    assert (got["best epoch"], got["epochs run"], got["s / run"]) == ("17.2", "23.4", "1.23")


def test_runs_cell_reports_diverged_rolled_back_failed_and_missing_runs():
    assert arm_cells(runs=3, diverged=2, no_checkpoint=1, failed=2, missing=1)["runs"] == \
        "3 (2 diverged, 1 rolled back) (2 failed) (1 without a test score)"
    assert arm_cells(runs=5)["runs"] == "5"


def test_reference_column_is_added_only_when_asked():
    frame = pd.DataFrame([row("a", ref_accuracy=0.9649, ref_loss=0.149),
                          row("b", ref_accuracy=0.9602, ref_loss=NAN)])
    assert len(arm_rows(frame)[0]) == len(ARM_COLUMNS)
    assert [r[-1] for r in arm_rows(frame, with_reference=True)] == ["96.49 / 0.149", "96.02 / –"]


# -- comparison cells -----------------------------------------------------------------------------

def test_comparison_row_shows_delta_both_p_values_effect_r_and_verdict():
    got = comparison_cells()
    assert got == {"arm": "b", "vs": "a", "Δ test acc (pp)": "-2.00 ± 1.00", "p": "<0.001",
                   "p (Holm)": "0.031", "effect": "d_z -1.23", "r": "0.61", "verdict": "worse"}


def test_welch_comparisons_show_hedges_g_and_no_correlation():
    got = comparison_cells(d_prev_test="Welch t", d_prev_r=NAN)
    assert (got["effect"], got["r"]) == ("g -1.23", "–")


def test_arms_without_a_compared_arm_have_no_comparison_row():
    frame = pd.DataFrame([row("a"), compared("b", "a")])
    assert [r[0] for r in comparison_rows(frame, "prev")] == ["b"]
    assert comparison_rows(frame, "base") == []


def test_p_values_never_print_as_zero():
    assert (format_p(0.0), format_p(0.0004), format_p(0.0312), format_p(NAN)) == \
        ("<0.001", "<0.001", "0.031", "–")


def test_null_verdict_says_what_the_seeds_could_miss_and_how_many_would_detect():
    text = verdict_text("no detectable difference", 0.013, 12.0, 0.004)
    assert text == "no detectable difference (could miss ±1.3 pp; ~12 seeds would detect +0.40 pp)"
    assert verdict_text("no detectable difference", 0.013, 12.0, 0.004, short=True) == \
        "no diff. (±1.3 pp)"


def test_null_verdict_beyond_a_hundred_points_says_the_seeds_are_too_few():
    assert "could miss any difference" in verdict_text("no detectable difference", 1.3, NAN, 0.1)


# -- documents -------------------------------------------------------------------------------------

SUMMARY = pd.DataFrame([row("a"), compared("b|c", "a", change="uses | pipes")])


def test_markdown_has_title_arm_table_comparison_table_and_notes():
    text = to_markdown(SUMMARY, "ablation on digits", ["first note", "second note"], baseline="a")
    lines = text.splitlines()
    assert lines[0] == "# ablation on digits"
    assert "| " + " | ".join(ARM_COLUMNS) + " |" in lines
    assert "| " + " | ".join(COMPARISON_COLUMNS) + " |" in lines
    assert "## Each arm against the arm it changes" in lines
    assert lines[-2:] == ["- first note", "- second note"] and text.endswith("\n")


def test_markdown_escapes_pipes_inside_cells():
    text = to_markdown(SUMMARY, "t", [])
    assert "| b\\|c | uses \\| pipes |" in text


def test_csv_round_trips_to_six_significant_digits():
    back = pd.read_csv(io.StringIO(to_csv(SUMMARY)), keep_default_na=True)
    assert list(back.columns) == list(SUMMARY.columns)
    assert list(back["arm"]) == ["a", "b|c"]
    for col in ("acc_mean", "acc_low", "loss_mean", "d_prev_acc", "d_prev_padj", "seconds_mean"):
        assert back[col].tolist() == pytest.approx(SUMMARY[col].tolist(), rel=1e-5, nan_ok=True), col


def test_terminal_table_is_compact_and_shows_the_same_numbers():
    from rich.console import Console
    console = Console(file=io.StringIO(), width=100, record=True)
    print_table(SUMMARY, "ablation on digits", console=console, baseline="a")
    text = console.export_text()
    assert "ablation on digits" in text
    assert max(len(line) for line in text.splitlines()) <= 100
    for cell in ("91.23 ± 1.00", "-2.00 ± 1.00", "0.031", "worse", "baseline"):
        assert cell in text, cell
