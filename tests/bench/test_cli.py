"""``python -m bench``: list, bad options (exit 2, one line, nothing written), report, and
the command line recorded with a run."""

from __future__ import annotations

import pytest
from harness_util import QUICK_DATASET, run_bench, run_dir, unique_name

from bench.cli import main
from experiments import EXPERIMENTS, get_experiment


@pytest.fixture
def in_empty_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- list ------------------------------------------------------------------------------------------

def test_list_prints_every_experiment_and_every_arm(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name in EXPERIMENTS:
        experiment = get_experiment(name)
        assert f"{name}: {experiment.description}" in lines
        for arm in experiment.arms:
            assert any(line.split()[:1] == [arm.name] and arm.description in line
                       for line in lines), arm.name


def test_list_shows_what_each_arm_is_compared_with(capsys):
    main(["list"])
    out = capsys.readouterr().out
    for arm in get_experiment("ablation").arms:
        if arm.compare_to:
            assert f"{arm.description}  (vs {arm.compare_to})" in out


# -- bad options -----------------------------------------------------------------------------------

BAD = {
    "unknown arm": (["run", "ablation", "--arms", "softmax-ce,no-such-arm"], "no-such-arm"),
    "unknown dataset": (["run", "ablation", "--dataset", "no-such-data"], "no-such-data"),
    "unknown experiment": (["run", "no-such-experiment"], "no-such-experiment"),
    "zero epochs": (["run", "ablation", "--epochs", "0"], "--epochs"),
    "negative epochs": (["run", "ablation", "--epochs", "-3"], "-3"),
    "seeds not a number": (["run", "ablation", "--seeds", "abc"], "'abc'"),
    "zero jobs": (["run", "ablation", "--jobs", "0"], "--jobs"),
    "unknown protocol": (["run", "ablation", "--protocol", "fast"], "fast"),
    "zero precision": (["run", "ablation", "--precision", "0"], "--precision"),
    "max seeds without precision": (["run", "ablation", "--max-seeds", "9"], "--max-seeds"),
    "max seeds below the first round": (["run", "ablation", "--precision", "1",
                                         "--max-seeds", "3"], "--max-seeds"),
}


@pytest.mark.parametrize("argv, named", BAD.values(), ids=BAD.keys())
def test_bad_option_exits_2_with_one_line_naming_it_and_writes_nothing(argv, named, in_empty_dir,
                                                                        capsys):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("bench: error:") and named in lines[0], lines[0]
    assert list(in_empty_dir.iterdir()) == []  # no results dir, no mlflow.db


@pytest.mark.parametrize("case", ["unknown arm", "seeds not a number"])
def test_bad_option_process_exits_with_status_2(case, tmp_path):
    argv, named = BAD[case]
    proc = run_bench(argv, tmp_path)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and named in proc.stderr, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_zero_epochs_names_the_value(in_empty_dir, capsys):
    main(["run", "ablation", "--epochs", "0"])
    assert capsys.readouterr().err.rstrip().split("(see")[0].rstrip().endswith("got 0")


def test_batchnorm_options_are_refused_for_the_ablation(in_empty_dir, capsys):
    assert main(["run", "ablation", "--depths", "3"]) == 2
    assert "batchnorm" in capsys.readouterr().err
    assert list(in_empty_dir.iterdir()) == []


# -- report ----------------------------------------------------------------------------------------

def test_report_rebuilds_byte_identical_tables_figures_and_report_from_mlflow(quick_run,
                                                                             in_empty_dir):
    other = in_empty_dir / "other"
    assert main(["report", "ablation", "--kind", "quick", "--tracking-uri", quick_run.uri,
                 "--results-dir", str(other)]) == 0
    rebuilt = run_dir(other)
    for name in ("table.csv", "table.md", "runs.csv", "differences.png", "learning_curves.png",
                 "ablation_chart.png", "report.html"):
        assert (rebuilt / name).read_bytes() == (quick_run.table_dir / name).read_bytes(), name


def test_report_of_an_experiment_never_run_exits_2(quick_run, in_empty_dir, capsys):
    assert main(["report", "ablation", "--tracking-uri", quick_run.uri,
                 "--experiment-name", "never-run-here"]) == 2
    assert "never-run-here" in capsys.readouterr().err
    assert not (in_empty_dir / "results").exists()


# -- provenance ------------------------------------------------------------------------------------

def test_run_records_the_command_line_it_was_given(quick_run):
    tag = quick_run.parent.data.tags["bench.command"]
    assert tag == "python -m bench " + " ".join(quick_run.args)


def test_in_process_run_records_its_own_arguments_not_the_host_programs(store, in_empty_dir):
    name = unique_name("cli-command")
    argv = ["run", "ablation", "--arms", "softmax-ce", "--seeds", "1", "--epochs", "1",
            "--dataset", QUICK_DATASET, "--jobs", "1", "--quiet", "--tracking-uri", store.uri,
            "--experiment-name", name]
    assert main(argv) == 0
    exp = store.client.get_experiment_by_name(name)
    (parent,) = store.client.search_runs([exp.experiment_id], "tags.`bench.kind` = 'parent'")
    assert parent.data.tags["bench.command"] == "python -m bench " + " ".join(argv)
