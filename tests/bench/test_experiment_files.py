"""Experiment files at the command line: the issue's example end to end into a real MLflow
store, one-line errors, --set, replay of a run from its logged config, init and list."""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness_util import children_of, run_bench

from bench.cli import main
from experiments import get_experiment, load_file

# The example, verbatim (shared with tests/experiments/test_files.py).
EXAMPLE_TEXT = (Path(__file__).parents[1] / "data" / "lr-study.toml").read_text()


@dataclass
class Ran:
    cwd: Path
    uri: str
    client: object
    experiment_id: str
    parent_id: str
    children: list


def _store(template_db: Path, folder: Path):
    from mlflow.tracking import MlflowClient
    shutil.copy(template_db, folder / "mlflow.db")
    uri = f"sqlite:///{folder}/mlflow.db"
    return uri, MlflowClient(tracking_uri=uri)


@pytest.fixture(scope="module")
def example(template_db, tmp_path_factory) -> Ran:
    """``python -m bench run lr-study.toml`` on the issue's file, verbatim, in a fresh store."""
    cwd = tmp_path_factory.mktemp("lr-study")
    (cwd / "lr-study.toml").write_text(EXAMPLE_TEXT)
    uri, client = _store(template_db, cwd)
    proc = run_bench(["run", "lr-study.toml", "--tracking-uri", uri, "--jobs", "1"], cwd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    exp = client.get_experiment_by_name("lr-study")
    parent = client.search_runs([exp.experiment_id], "tags.`bench.kind` = 'parent'")[0]
    return Ran(cwd, uri, client, exp.experiment_id, parent.info.run_id,
               children_of(client, exp.experiment_id, parent.info.run_id))


def test_example_file_runs_end_to_end_and_its_table_has_the_two_arms(example):
    with open(example.cwd / "results" / "lr-study" / "digits" / "table.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["arm"] for r in rows] == ["slow", "fast"]
    assert len(example.children) == 6  # 2 arms x the file's 3 seeds


def test_every_run_logs_its_resolved_config_as_toml(example, tmp_path):
    run = example.children[0]
    path = example.client.download_artifacts(run.info.run_id, "config.toml", str(tmp_path))
    definition = load_file(path)
    arm, seed = run.data.tags["bench.arm"], int(run.data.tags["bench.seed"])
    assert definition.seeds == (seed,) and definition.experiment.arm_names == [arm]
    assert definition.experiment.arms[0].config.as_params() == {
        k: v for k, v in run.data.params.items() if k not in ("seed", "data_seed")}


def _metrics(client, run) -> dict:
    history = {key: [m.value for m in sorted(client.get_metric_history(run.info.run_id, key),
                                             key=lambda m: m.step)]
               for key in ("train_loss", "val_loss", "val_accuracy")}
    final = {k: v for k, v in run.data.metrics.items() if "seconds" not in k}  # wall clock
    return {**final, **history}


def _replayed(example, original, parents_before: set[str]):
    client = example.client
    parents = client.search_runs([example.experiment_id], "tags.`bench.kind` = 'parent'")
    new = [p for p in parents if p.info.run_id not in parents_before]
    assert len(new) == 1
    (child,) = children_of(client, example.experiment_id, new[0].info.run_id)
    assert child.data.tags["bench.arm"] == original.data.tags["bench.arm"]
    assert child.data.tags["bench.seed"] == original.data.tags["bench.seed"]
    return child


def _parent_ids(example) -> set[str]:
    return {p.info.run_id for p in example.client.search_runs(
        [example.experiment_id], "tags.`bench.kind` = 'parent'")}


def test_rerun_reproduces_the_runs_metrics_exactly(example):
    original = next(r for r in example.children if r.data.tags["bench.arm"] == "fast")
    before = _parent_ids(example)
    proc = run_bench(["rerun", original.info.run_id, "--tracking-uri", example.uri], example.cwd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    replay = _replayed(example, original, before)
    assert replay.data.tags["bench.blas_kernel"] == original.data.tags["bench.blas_kernel"]
    assert _metrics(example.client, replay) == _metrics(example.client, original)


def test_running_the_logged_config_file_reproduces_the_run_exactly(example, tmp_path):
    original = next(r for r in example.children if r.data.tags["bench.arm"] == "slow")
    path = example.client.download_artifacts(original.info.run_id, "config.toml", str(tmp_path))
    before = _parent_ids(example)
    proc = run_bench(["run", path, "--tracking-uri", example.uri, "--jobs", "1",
                      "--results-dir", tmp_path / "results"], example.cwd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    replay = _replayed(example, original, before)
    assert _metrics(example.client, replay) == _metrics(example.client, original)
    assert "runs" in proc.stderr  # a replay writes its own folder, never the file's results


def test_rerun_of_a_parent_run_is_refused_in_one_line(example, capsys):
    assert main(["rerun", example.parent_id, "--tracking-uri", example.uri]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not one (arm, seed) run" in err


# -- errors at the command line: exit 2, one line, nothing written ------------------------------

ERRORS = {
    "unknown field": (EXAMPLE_TEXT.replace("lr = 0.2", "lrr = 0.2"), "did you mean 'lr'?"),
    "bad value": (EXAMPLE_TEXT.replace("lr = 0.2", 'lr = "x"'), "lr expects a number"),
    "unknown compare_to": (EXAMPLE_TEXT.replace('"slow"\ndesc', '"slw"\ndesc'), "compare_to 'slw'"),
    "unknown from": (EXAMPLE_TEXT.replace('compare_to = "slow"', 'from = "x"'), "from 'x'"),
    "duplicate arm": (EXAMPLE_TEXT.replace('"fast"', '"slow"'), "duplicate arm name 'slow'"),
    "TOML syntax error": (EXAMPLE_TEXT.replace("epochs = 5", "epochs = 5 5"), "line 8"),
}


@pytest.fixture
def in_empty_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("command", ["run", "search"])
@pytest.mark.parametrize("text, named", ERRORS.values(), ids=ERRORS.keys())
def test_bad_file_exits_2_with_one_line_naming_the_file_and_writes_nothing(
        text, named, command, in_empty_dir, capsys):
    (in_empty_dir / "lr-study.toml").write_text(text)
    assert main([command, "lr-study.toml"]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1, err
    assert lines[0].startswith("bench: error: lr-study.toml: ") and named in lines[0], lines[0]
    assert [p.name for p in in_empty_dir.iterdir()] == ["lr-study.toml"]


def test_missing_experiment_file_exits_2_naming_it(in_empty_dir, capsys):
    assert main(["run", "nowhere.toml"]) == 2
    assert "nowhere.toml: cannot read" in capsys.readouterr().err
    assert list(in_empty_dir.iterdir()) == []


# -- --set -------------------------------------------------------------------------------------

def _plan(*argv):
    from bench.cli import build_parser
    from bench.planning import run_plan
    args = build_parser().parse_args(["run", *argv])
    return run_plan(args)


def test_set_changes_a_tuple_field_and_others_on_every_arm():
    experiment, _, _ = _plan("ablation", "--set", "hidden=128,64", "--set", "keep_prob=0.9")
    assert {a.config.hidden for a in experiment.arms} == {(128, 64)}
    assert {a.config.keep_prob for a in experiment.arms} == {0.9}


def test_lr_flag_is_a_shorthand_of_set():
    by_flag, _, _ = _plan("optimizers", "--lr", "0.02")
    by_set, _, _ = _plan("optimizers", "--set", "lr=0.02")
    assert by_flag.arm_configs() == by_set.arm_configs()


def test_set_tuple_field_reaches_the_tracked_runs(template_db, tmp_path):
    uri, client = _store(template_db, tmp_path)
    proc = run_bench(["run", "ablation", "--arms", "softmax-ce", "--quick", "--seeds", "1",
                      "--dataset", "digits", "--jobs", "1", "--set", "hidden=16,8",
                      "--tracking-uri", uri, "--results-dir", tmp_path / "results"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    exp = client.get_experiment_by_name("ablation")
    (run,) = client.search_runs([exp.experiment_id], "tags.`bench.kind` = 'run'")
    assert run.data.params["hidden"] == "16-8"


@pytest.mark.parametrize("argv, named", [
    (["--set", "lrr=0.1"], "did you mean 'lr'?"),
    (["--set", "hidden=wide"], "hidden expects a list of integers"),
    (["--set", "optimizer=adam"], "arm 'momentum' of ablation: momentum applies to optimizer='sgd'"),
    (["--lr", "0.1", "--set", "lr=0.2"], "lr is set twice"),
    (["--set", "keep_prob=2"], "keep_prob must be a finite number in (0, 1]"),
])
def test_bad_set_exits_2_with_one_line(argv, named, in_empty_dir, capsys):
    assert main(["run", "ablation", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and named in err, err
    assert list(in_empty_dir.iterdir()) == []


# -- init and list -----------------------------------------------------------------------------

def test_init_writes_the_ladder_as_a_commented_file_that_runs(in_empty_dir, capsys):
    assert main(["init", "mine.toml"]) == 0
    text = (in_empty_dir / "mine.toml").read_text()
    assert text.count("\n#") > 10  # commented
    definition = load_file(str(in_empty_dir / "mine.toml"))
    assert definition.experiment.name == "my-ladder"
    assert definition.experiment.arm_configs() == get_experiment("ablation").arm_configs()


def test_init_never_overwrites(in_empty_dir, capsys):
    (in_empty_dir / "mine.toml").write_text("keep me")
    assert main(["init", "mine.toml"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (in_empty_dir / "mine.toml").read_text() == "keep me"


def test_list_shows_builtins_and_the_experiment_files_here(in_empty_dir, capsys):
    (in_empty_dir / "lr-study.toml").write_text(EXAMPLE_TEXT)
    (in_empty_dir / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "optimizers: " in out and "activations: " in out
    assert "lr-study.toml (lr-study): Does a larger learning rate" in out
    assert "4x the learning rate  (vs slow)" in out
    assert "pyproject" not in out


def test_list_fields_names_every_config_field(capsys):
    from experiments.fields import FIELDS
    assert main(["list", "--fields"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == list(FIELDS)


# -- search on a file --------------------------------------------------------------------------

def test_search_on_a_file_tunes_each_arm_in_its_declared_space(template_db, tmp_path):
    import optuna
    text = EXAMPLE_TEXT.replace("[base]", "[search]\nlr = { float = [0.01, 0.3], log = true }\n\n[base]")
    text = text.replace("lr = 0.2", "lr = 0.2\nsearch.momentum = { float = [0.5, 0.9] }\nmomentum = 0.5")
    (tmp_path / "lr-study.toml").write_text(text)
    uri, _ = _store(template_db, tmp_path)
    storage = str(tmp_path / "optuna.journal")
    # Declared spaces are the arms' full spaces (the default, --space lr, tunes the rate only).
    proc = run_bench(["search", "lr-study.toml", "--trials", "2", "--epochs", "2", "--no-reseed",
                      "--space", "full", "--studies", "1", "--storage", storage, "--tracking-uri", uri,
                      "--results-dir", tmp_path / "results"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    journal = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(storage))
    for arm, names in {"slow": {"lr"}, "fast": {"lr", "momentum"}}.items():
        study = optuna.load_study(study_name=f"lr-study.digits.{arm}", storage=journal)
        assert len(study.trials) == 2
        for trial in study.trials:
            assert set(trial.params) == names
            assert 0.01 <= trial.params["lr"] <= 0.3


def test_report_takes_the_experiment_file_and_reports_its_run(example, tmp_path):
    proc = run_bench(["report", "lr-study.toml", "--tracking-uri", example.uri,
                      "--results-dir", tmp_path / "results"], example.cwd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"run {example.parent_id}" in proc.stderr
    assert (tmp_path / "results" / "lr-study" / "digits" / "table.md").exists()
