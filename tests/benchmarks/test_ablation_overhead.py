"""The tracking-overhead target's measurement: exactly the runs `bench run ablation` makes,
tracked against untracked, interleaved, on CPU time with the workers'; judged only when it
measured that ablation. Nothing here asserts a timing."""

import math

import pytest

from benchmarks.ablation_overhead import default_ablation, measure_overhead, summarize
from benchmarks.harness import ablation_subset
from benchmarks.markdown import render
from benchmarks.targets import evaluate


def test_default_ablation_is_what_bench_run_ablation_runs(tmp_path, monkeypatch):
    import bench.session
    from bench.cli import main
    from bench.executor import default_jobs

    class Stop(Exception):
        pass

    seen = {}

    def fake_run_experiment(experiment, tracker, *, seeds, jobs, **kwargs):
        seen.update(experiment=experiment, seeds=seeds, jobs=jobs)
        raise Stop

    monkeypatch.setattr(bench.session, "run_experiment", fake_run_experiment)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Stop):
        main(["run", "ablation", "--quiet", "--tracking-uri", f"sqlite:///{tmp_path}/m.db"])
    experiment, seeds, jobs = default_ablation()
    assert (seen["experiment"], seen["seeds"], seen["jobs"]) == (experiment, seeds, jobs)
    assert len(experiment.arms) == 13 and seeds == [0, 1, 2, 3, 4] and jobs == default_jobs()
    assert {a.config.dataset for a in experiment.arms} == {"mnist-5k"}
    assert {a.config.epochs for a in experiment.arms} == {50, 100}


def _pass(kind, cpu, workers, wall=10.0):
    return {"kind": kind, "jobs": 2, "wall_s": wall, "cpu_s": cpu, "workers_cpu_s": workers,
            "load_before": 1.0, "load_after": 1.0}


def test_overhead_is_the_median_total_cpu_of_each_kind():
    exp = ablation_subset(epochs=2, arms=["softmax-ce", "momentum"], dataset="digits")
    passes = [_pass("tracked", 1.0, 104.0, 11.0), _pass("untracked", 0.1, 100.0),
              _pass("untracked", 0.1, 100.0), _pass("tracked", 1.0, 103.0, 12.0)]
    s = summarize(exp, [0], 2, passes, [], default=True)
    assert s["tracked_cpu_s"] == pytest.approx(104.5)
    assert s["untracked_cpu_s"] == pytest.approx(100.1)
    assert s["overhead_cpu_pct"] == pytest.approx(100 * (104.5 / 100.1 - 1))
    assert s["overhead_wall_pct"] == pytest.approx(15.0)
    # rounds pair adjacent passes, whichever kind came first
    assert s["overhead_cpu_pct_per_round"] == pytest.approx(
        [100 * (105 / 100.1 - 1), 100 * (104 / 100.1 - 1)])
    assert s["extra_main_cpu_s"] == pytest.approx(0.9)
    assert s["extra_workers_cpu_s"] == pytest.approx(3.5)
    assert s["runs"] == 2 and s["command"] == "python -m bench run ablation"


@pytest.fixture(scope="module")
def smoke():
    exp = ablation_subset(epochs=2, arms=["softmax-ce", "momentum"], dataset="digits")
    return measure_overhead(exp, seeds=[0], jobs=2, rounds=2)


def test_passes_alternate_and_count_the_workers(smoke):
    assert [p["kind"] for p in smoke["passes"]] == ["tracked", "untracked", "untracked",
                                                   "tracked"]
    assert all(p["jobs"] == 2 for p in smoke["passes"])
    # the worker processes were reaped at the end of each pass, so their CPU time is counted
    assert all(p["workers_cpu_s"] > 0 for p in smoke["passes"])
    assert len(smoke["overhead_cpu_pct_per_round"]) == 2
    assert all(math.isfinite(smoke[k]) for k in ("overhead_cpu_pct", "overhead_wall_pct"))
    assert smoke["metrics_mismatch"] == []
    assert smoke["default"] is False and smoke["runs"] == 2


def _record(harness):
    return {"command": "test", "started": "now", "duration_s": 1.0, "settings": {},
            "machine": {"cpus": 2, "cpu": "x", "platform": "p", "python": "3", "numpy": "2",
                        "loadavg_1_5_15": [1, 1, 1], "env": {}},
            "machine_after": {"loadavg_1_5_15": [1, 1, 1]}, "blas_1_thread": [],
            "blas_default": [], "sections": {"harness": harness}}


def test_a_smoke_run_is_reported_but_not_judged(smoke):
    [target] = evaluate(_record({"ablation": smoke}))
    assert target["met"] is None and "not the default ablation" in target["limit"]
    md = render(_record({"ablation": smoke}))
    assert "not judged" in md and "## 3. Tracking overhead on the default ablation" in md


@pytest.mark.parametrize("tracked, mismatch, met", [
    (102.0, [], True), (103.0, [], True), (104.0, [], False), (101.0, ["x: final metrics differ"],
                                                               False)])
def test_the_default_ablation_is_judged_on_total_cpu(smoke, tracked, mismatch, met):
    a = {**smoke, "default": True, "tracked_cpu_s": tracked, "untracked_cpu_s": 100.0,
         "overhead_cpu_pct": tracked - 100.0, "metrics_mismatch": mismatch}
    [target] = evaluate(_record({"ablation": a}))
    assert target["met"] is met
    assert target["measured"].startswith(f"{tracked - 100:.1f}% CPU")
    assert bool(target["limit"]) is not met  # a miss always says what limits it
    if not met and not mismatch:
        assert "ms per run" in target["limit"] and "in the workers" in target["limit"]
    md = render(_record({"ablation": a}))
    assert ("| met |" in md) is met
