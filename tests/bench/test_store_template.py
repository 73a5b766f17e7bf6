"""A new SQLite store starts as a copy of a migrated empty template (bench.tracking): MLflow's
migrations run once per MLflow version, not at every new store."""

from __future__ import annotations

import sqlite3

from bench.tracking import Tracker


def _experiments(db) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT name, artifact_location FROM experiments").fetchall()
    finally:
        con.close()


def test_first_new_store_makes_the_template_and_a_second_copies_it(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("BENCH_STORE_TEMPLATE_DIR", str(cache))
    Tracker(f"sqlite:///{tmp_path / 'mlflow.db'}").client
    templates = list(cache.glob("mlflow-*-empty.db"))
    assert len(templates) == 1, list(cache.iterdir())
    assert _experiments(templates[0]) == []  # no default experiment pointing at the cache
    made = templates[0].stat().st_mtime_ns
    (tmp_path / "b").mkdir()
    Tracker(f"sqlite:///{tmp_path / 'b' / 'mlflow.db'}").client
    assert templates[0].stat().st_mtime_ns == made  # copied, not made again


def test_store_from_the_template_works_and_its_default_experiment_is_its_own(tmp_path,
                                                                             monkeypatch):
    monkeypatch.setenv("BENCH_STORE_TEMPLATE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    Tracker(f"sqlite:///{tmp_path / 'first.db'}").client  # makes the template
    (tmp_path / "second").mkdir()
    monkeypatch.chdir(tmp_path / "second")
    tracker = Tracker(f"sqlite:///{tmp_path / 'second' / 'mlflow.db'}")
    exp_id = tracker.experiment_id("template-check")
    run_id = tracker.client.create_run(exp_id).info.run_id
    tracker.client.log_param(run_id, "p", "1")
    assert tracker.client.get_run(run_id).data.params == {"p": "1"}
    default = tracker.client.get_experiment("0")
    assert default.artifact_location.startswith(str(tmp_path / "second"))


def test_an_existing_store_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_STORE_TEMPLATE_DIR", str(tmp_path / "cache"))
    db = tmp_path / "mlflow.db"
    Tracker(f"sqlite:///{db}").experiment_id("kept")
    Tracker(f"sqlite:///{db}").client
    assert "kept" in [name for name, _ in _experiments(db)]
