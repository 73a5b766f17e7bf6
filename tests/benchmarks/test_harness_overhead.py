"""The per-run breakdown of tracking costs on a tiny run: sane structure, the same metrics
with tracking on and off, and no more MLflow round trips per run than needed."""

import math

import pytest

from benchmarks.harness import ablation_subset, measure_harness
from benchmarks.harness_summary import order_bound
from benchmarks.markdown import render
from benchmarks.targets import evaluate


@pytest.fixture(scope="module")
def tiny():
    exp = ablation_subset(epochs=2, arms=["softmax-ce", "momentum"], dataset="digits")
    return measure_harness(exp, seeds=(0, 1), rounds=1, parallel_jobs=2)


def test_structure_is_sane(tiny):
    assert tiny["runs"] == 4 and tiny["dataset"] == "digits" and tiny["epochs"] == [2]
    kinds = [(p["kind"], p["jobs"]) for p in tiny["passes"]]
    assert kinds == [("tracked", 1), ("untracked", 1), ("untracked", 2)]
    for key in ("tracked_wall_s", "untracked_wall_s", "tracked_cpu_s", "untracked_cpu_s",
                "overhead_pct", "overhead_cpu_pct", "attributed_overhead_pct",
                "tracking_s_per_run", "mean_run_s"):
        assert math.isfinite(tiny[key]), key
    assert tiny["tracked_wall_s"] > 0 and tiny["untracked_wall_s"] > 0
    assert tiny["scaling"]["jobs"] == 2 and tiny["scaling"]["speedup"] > 0
    assert 1 <= tiny["scaling"]["order_bound"] <= 2
    # the --jobs 2 pass's workers were reaped, so their CPU time is counted
    assert tiny["passes"][2]["workers_cpu_s"] > 0
    assert 0 < tiny["scaling"]["parallel_cores_used"] <= 2.5


def test_tracking_off_gives_the_same_metrics_as_tracking_on(tiny):
    assert tiny["metrics_mismatch"] == []


def test_tracked_pass_pieces_are_attributed(tiny):
    pieces = tiny["pieces"]
    assert "learning curve plot" not in pieces  # per-run PNGs are opt-in (--run-plots)
    assert pieces["weights save"]["calls"] == 4
    assert pieces["history write"]["calls"] == 4
    assert pieces["training (Trainer.fit)"]["calls"] == 4
    whole, fit = pieces["whole run (runner.execute)"], pieces["training (Trainer.fit)"]
    assert whole["wall_s"] >= fit["wall_s"]


def test_the_cost_of_run_plots_is_measured_on_the_runs_histories(tiny):
    assert tiny["run_plot_cpu_s"] > 0 and math.isfinite(tiny["run_plot_cpu_s"])


def test_mlflow_round_trips_per_run(tiny):
    """create_run, params, metrics+tags, set_terminated: four calls per seed run, three per
    arm run, and no get_run (the artifact URI comes from create_run)."""
    pieces, runs, arms = tiny["pieces"], tiny["runs"], 2
    assert "mlflow.get_run" not in pieces
    assert pieces["mlflow.create_run"]["calls"] == runs + arms + 1          # + the parent
    assert pieces["mlflow.set_terminated"]["calls"] == runs + arms + 1
    # seed runs: params, metrics+tags; arm runs: params; parent: params, failed-runs tag
    assert pieces["mlflow.log_batch"]["calls"] == 2 * runs + arms + 2


def test_report_states_every_target(tiny):
    record = {"command": "test", "started": "now", "duration_s": 1.0, "settings": {},
              "machine": {"cpus": 2, "cpu": "x", "platform": "p", "python": "3", "numpy": "2",
                          "loadavg_1_5_15": [1, 1, 1], "env": {}},
              "machine_after": {"loadavg_1_5_15": [1, 1, 1]}, "blas_1_thread": [],
              "blas_default": [], "sections": {"harness": tiny}}
    targets = evaluate(record)
    # the overhead target is judged on the default ablation only, not on these short runs
    assert [t["what"].split(" ")[0] for t in targets] == ["parallel"]
    for t in targets:
        assert t["met"] or t["limit"], t  # a missed target always says what limits it
    md = render(record)
    assert "Per-run breakdown (shortened runs, jobs 1; not the target figure)" in md
    assert "## 4. Parallel scaling" in md
    assert "`--run-plots` adds each run's learning-curve PNG" in md
    assert "mlflow.create_run" in md


def testorder_bound():
    assert order_bound([1, 1, 1, 1], 2) == 2
    assert order_bound([1, 1, 4], 2) == pytest.approx(6 / 5)


def test_attributable_overhead_is_this_process_plus_the_workers_timed_pieces():
    from benchmarks.ablation_overhead import attributable
    a = {"runs": 10, "extra_main_cpu_s": 0.5, "untracked_cpu_s": 50.0}
    breakdown = {"runs": 4, "pieces": {
        "weights save": {"cpu_s": 0.004}, "history write": {"cpu_s": 0.004},
        "mlflow.log_batch": {"cpu_s": 9.0},          # parent-process work: measured directly
        "training (Trainer.fit)": {"cpu_s": 99.0}}}  # not tracking
    att = attributable(a, breakdown)
    assert att["worker_pieces_ms_per_run"] == pytest.approx(2.0)
    assert att["cpu_s"] == pytest.approx(0.5 + 10 * 0.002)
    assert att["pct"] == pytest.approx(100 * 0.52 / 50.0)
