"""A learning rate that overflows: the run ends at the first non-finite loss, is marked
diverged (metric ``diverged`` = 1, tag ``bench.diverged`` = true), the ablation goes on with
the other arms, and no numpy RuntimeWarning reaches the terminal.

lr = 1e38 is used because the arms' losses stay finite far beyond lr = 1e5 in float32 (tanh
saturates and softmax cross-entropy grows only linearly in the logits); 1e38 overflows the
float32 weights in the first epoch. The MSE + sigmoid arm stays bounded and finishes."""

from __future__ import annotations

import math

import pandas as pd

from harness_util import run_dir

from .util import experiment_runs, kind, report_fault, run_bench

DIVERGING = ("softmax-ce", "momentum")
BOUNDED = ("mse-sigmoid",)
SEEDS = 2


def test_overflowing_lr_marks_runs_diverged_and_the_ablation_goes_on(new_store, tmp_path):
    store = new_store()
    arms = BOUNDED + DIVERGING
    proc = run_bench(["run", "ablation", "--arms", ",".join(arms), "--lr", "1e38",
                      "--dataset", "digits", "--epochs", "3", "--seeds", str(SEEDS),
                      "--jobs", "1", "--tracking-uri", store.uri,
                      "--results-dir", tmp_path / "results"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # Nothing numpy (or anything else) warned about reached the terminal.
    for word in ("RuntimeWarning", "overflow encountered", "invalid value encountered",
                 "Traceback"):
        assert word not in proc.stderr and word not in proc.stdout, proc.stderr[-3000:]

    runs = experiment_runs(store.client, "ablation")
    children = kind(runs, "run")
    (parent,) = kind(runs, "parent")
    diverged = [r for r in children if r.data.tags["bench.arm"] in DIVERGING]
    bounded = [r for r in children if r.data.tags["bench.arm"] in BOUNDED]
    for run in diverged:
        history = store.client.get_metric_history(run.info.run_id, "train_loss")
        assert run.info.status == "FINISHED"
        assert run.data.metrics["diverged"] == 1.0
        assert run.data.tags["bench.diverged"] == "true"
        assert run.data.tags["bench.stop_reason"].startswith("diverged: non-finite training loss")
        assert run.data.metrics["epochs_run"] == 1.0  # stopped in the first epoch
        assert len(history) == 1 and math.isnan(history[0].value)  # inf is logged as NaN
        # No validated checkpoint to roll back to: the test loss is infinite, and tagged so.
        assert run.data.metrics.get("best_epoch") is None or math.isnan(run.data.metrics["best_epoch"])
        assert "test_loss" in run.data.tags["bench.infinite_metrics"].split(",")
    for run in bounded:
        assert run.info.status == "FINISHED" and run.data.metrics["diverged"] == 0.0
        assert run.data.metrics["epochs_run"] >= 1
    table = pd.read_csv(run_dir(tmp_path / "results") / "table.csv").set_index("arm")
    figures = {"runs": len(children), "diverged": len(diverged), "finished_normally": len(bounded),
               "warnings_printed": 0}
    line = report_fault("Overflowing learning rate (--lr 1e38)",
                        "3 arms x 2 seeds; two arms overflow in epoch 1", figures, lost=0,
                        test="divergence")
    assert parent.info.status == "FINISHED", line
    assert len(children) == len(arms) * SEEDS, line
    assert len(diverged) == len(DIVERGING) * SEEDS, line
    assert all(table.loc[a, "diverged"] == SEEDS for a in DIVERGING), table
    assert all(table.loc[a, "runs"] == SEEDS for a in arms), table
    # One rule in every column: the diverged runs count, so the loss mean is infinite.
    assert all(table.loc[a, "no_checkpoint"] == SEEDS for a in DIVERGING), table
    assert all(math.isinf(table.loc[a, "loss_mean"]) for a in DIVERGING), table
