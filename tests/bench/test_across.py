"""Several data sets in one command: checking the names first, and the performance profile."""

from __future__ import annotations

import math

import pytest

from bench.across import profile_ratios, split_datasets
from bench.planning import UsageError


def test_every_name_is_checked_before_anything_runs():
    assert split_datasets("digits,mnist-5k") == ["digits", "mnist-5k"]
    with pytest.raises(UsageError, match="unknown dataset 'nope'.*valid: "):
        split_datasets("digits,nope")


def test_profile_ratios_are_relative_to_the_fastest_arm_and_censored_arms_are_infinite():
    ratios = profile_ratios({"a": {"x": 10.0, "y": 25.0, "z": math.inf},
                             "b": {"x": math.inf, "y": math.inf, "z": math.inf}})
    assert ratios["a"] == {"x": 1.0, "y": 2.5, "z": math.inf}
    assert all(math.isinf(v) for v in ratios["b"].values())


@pytest.mark.parametrize("command", ["run", "search"])
def test_an_unknown_data_set_in_the_list_exits_2_with_one_line_and_creates_nothing(command,
                                                                                 tmp_path):
    from harness_util import run_bench
    proc = run_bench([command, "ablation", "--dataset", "digits,nope", "--quick",
                      "--tracking-uri", f"sqlite:///{tmp_path}/m.db",
                      "--results-dir", tmp_path / "results"], tmp_path)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "'nope'" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []
