"""The MLflow tracking server dies in the middle of ``bench run`` and comes back on the same
port with the same store a little later.

Two invocations run through the same outage: one with the default retry budget rides it out
(its metrics are retried: none lost, none duplicated), one with a 2-second budget fails
clearly (exit 75, naming the server) and the same command, run again, redoes only what was
not finished."""

from __future__ import annotations

import contextlib
import io
import time
import uuid

import pytest

from harness_util import run_dir

from .util import BenchProcess, experiment_runs, kind, report_fault, wait_for

ARMS = ("softmax-ce", "momentum")
SEEDS = 3
TOTAL = len(ARMS) * SEEDS
EPOCH_KEYS = ("train_loss", "val_loss", "val_accuracy")  # --quick: eval every epoch
FINAL_KEYS = ("test_loss", "test_accuracy", "final_val_loss", "final_val_accuracy",
              "epochs_run", "diverged", "run_seconds", "best_epoch")


def _args(url, name, results):
    # Runs of a few seconds each: the outage must land while runs are still to come, not in
    # the short stretch of reporting after the last one.
    return ["run", "ablation", "--quick", "--arms", ",".join(ARMS), "--seeds", str(SEEDS),
            "--dataset", "digits", "--epochs", "150", "--jobs", "1", "--quiet",
            "--tracking-uri", url, "--experiment-name", name, "--results-dir", str(results)]


def _finished(client, name) -> int:
    try:
        return sum(1 for r in kind(experiment_runs(client, name), "run")
                   if r.info.status == "FINISHED")
    except Exception:  # noqa: BLE001 - the experiment may not exist yet
        return 0


def _audit(client, name):
    """Per child: every epoch metric has exactly one point per epoch; every final metric one
    point. Returns (children, points counted, points expected)."""
    children = kind(experiment_runs(client, name), "run")
    counted = expected = 0
    for run in children:
        epochs = int(run.data.metrics["epochs_run"])
        for key in EPOCH_KEYS:
            steps = [m.step for m in client.get_metric_history(run.info.run_id, key)]
            assert sorted(steps) == list(range(1, epochs + 1)), (run.info.run_name, key, steps)
            counted += len(steps)
            expected += epochs
        for key in FINAL_KEYS:
            points = client.get_metric_history(run.info.run_id, key)
            assert len(points) == 1, (run.info.run_name, key, points)
            counted += 1
            expected += 1
        names = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert "weights.npz" in names, (run.info.run_name, names)
    return children, counted, expected


@pytest.fixture(scope="module")
def outage(mlflow_server, tmp_path_factory):
    from mlflow.tracking import MlflowClient
    client = MlflowClient(tracking_uri=mlflow_server.url)
    root = tmp_path_factory.mktemp("outage")
    tag = uuid.uuid4().hex[:6]
    names = {"patient": f"outage-patient-{tag}", "impatient": f"outage-impatient-{tag}"}
    budgets = {"patient": "240", "impatient": "2"}
    procs = {}
    for who, name in names.items():
        (root / who).mkdir()
        procs[who] = BenchProcess(_args(mlflow_server.url, name, root / who / "results"),
                                  root / who, BENCH_TRACKING_RETRY_SECONDS=budgets[who])
    try:
        def both_started():
            for who, proc in procs.items():
                assert proc.alive(), f"{who} exited early:\n{proc.output()[-3000:]}"
            return all(_finished(client, n) >= 1 for n in names.values())
        wait_for(both_started, 180, "a finished run in both invocations", 0.3)
        before = {who: _finished(client, n) for who, n in names.items()}
        down_at = time.monotonic()
        mlflow_server.kill()
        time.sleep(3)
        mlflow_server.start()
        mlflow_server.wait_ready()
        downtime = time.monotonic() - down_at
        codes = {who: proc.wait(300) for who, proc in procs.items()}
    finally:
        for proc in procs.values():
            if proc.alive():
                proc.kill_group()
    return dict(client=client, names=names, procs=procs, codes=codes, before=before,
                downtime=downtime, root=root, url=mlflow_server.url)


def test_metrics_logged_during_an_outage_are_retried_none_lost_none_duplicated(outage):
    client, name = outage["client"], outage["names"]["patient"]
    out = outage["procs"]["patient"].output()
    assert outage["codes"]["patient"] == 0, out[-3000:]
    retried = out.count("unreachable (")
    assert retried >= 1 and "tracking store back after" in out, out[-3000:]
    children, counted, expected = _audit(client, name)
    (parent,) = kind(experiment_runs(client, name), "parent")
    statuses = sorted(r.info.status for r in children)
    figures = {"runs": len(children), "finished_before_outage": outage["before"]["patient"],
               "server_down_s": round(outage["downtime"], 1), "calls_that_waited": retried,
               "metric_points": counted, "expected_points": expected, "duplicates": 0}
    line = report_fault("MLflow server killed and restarted mid-run (retry budget 240 s)",
                        "SIGKILL to the server's process group, restart on the same port and "
                        "store; the run waits and retries", figures, lost=expected - counted,
                        test="outage-retried")
    assert len(children) == TOTAL and statuses == ["FINISHED"] * TOTAL, line
    assert parent.info.status == "FINISHED", line
    assert counted == expected, line
    assert (run_dir(outage["root"] / "patient" / "results") / "table.csv").exists()


def test_a_run_that_cannot_wait_fails_clearly_and_the_next_invocation_redoes_it(outage):
    from bench.cli import main
    client, name = outage["client"], outage["names"]["impatient"]
    out = outage["procs"]["impatient"].output()
    assert outage["codes"]["impatient"] == 75, out[-3000:]
    errors = [line for line in out.splitlines() if line.startswith("bench: error:")]
    assert len(errors) == 1 and outage["url"] in errors[0] and "resume" in errors[0], out[-3000:]
    before = {r.info.run_id: r for r in kind(experiment_runs(client, name), "run")}
    finished = {i for i, r in before.items() if r.info.status == "FINISHED"}
    assert len(finished) < TOTAL, "the outage did not interrupt the impatient run"

    args = _args(outage["url"], name, outage["root"] / "impatient" / "results")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main([a for a in args if a != "--quiet"])
    assert code == 0, err.getvalue()[-3000:]
    assert "resuming parent run" in err.getvalue(), err.getvalue()[-3000:]
    children, counted, expected = _audit(client, name)
    keys = [r.data.tags["bench.run_key"] for r in children]
    parents = kind(experiment_runs(client, name), "parent")
    figures = {"runs": len(children), "finished_before_failure": len(finished),
               "re_run": len(children) - len(finished), "metric_points": counted,
               "expected_points": expected, "duplicates": len(keys) - len(set(keys))}
    line = report_fault("MLflow server killed and restarted mid-run (retry budget 2 s)",
                        "the run stops with exit 75 naming the server; the same command run "
                        "again after the restart", figures, lost=expected - counted,
                        test="outage-failed-then-resumed")
    assert len(parents) == 1 and parents[0].info.status == "FINISHED", line
    assert len(children) == TOTAL and len(set(keys)) == TOTAL, line
    assert all(r.info.status == "FINISHED" for r in children), line
    assert finished <= {r.info.run_id for r in children}, line  # finished runs were kept
    assert counted == expected, line
