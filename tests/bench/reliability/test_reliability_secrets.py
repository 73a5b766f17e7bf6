"""No password in clear: a password in a tracking URL or a storage URL reaches no MLflow tag,
param or artifact, no table, no output line and no child process's command line."""

from __future__ import annotations

import os
import time
from pathlib import Path

from .util import BenchProcess, experiment_runs, report_fault, run_bench, wait_for

SECRET = "s3cret-Pa55word"


def _with_password(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://bench:{SECRET}@{rest}"


def _artifact_texts(client, run_id: str, path: str = "") -> list[str]:
    """Every artifact of a run that reads as text, downloaded through the server."""
    import tempfile
    texts = []
    for info in client.list_artifacts(run_id, path):
        if info.is_dir:
            texts += _artifact_texts(client, run_id, info.path)
            continue
        with tempfile.TemporaryDirectory() as tmp:
            local = client.download_artifacts(run_id, info.path, tmp)
            data = Path(local).read_bytes()
        texts.append(data.decode("utf-8", "replace"))
    return texts


def test_a_password_in_the_tracking_uri_is_nowhere_in_the_run(mlflow_server, tmp_path):
    from mlflow.tracking import MlflowClient
    uri = _with_password(mlflow_server.url)
    name = f"secrets-{int(time.time() * 1000)}"
    proc = run_bench(["run", "ablation", "--dataset", "digits", "--arms", "softmax-ce,momentum",
                      "--seeds", "2", "--epochs", "2", "--jobs", "2", "--tracking-uri", uri,
                      "--experiment-name", name, "--results-dir", tmp_path / "results"],
                     tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    client = MlflowClient(tracking_uri=mlflow_server.url)
    runs = experiment_runs(client, name, deleted=True)
    places = {"stdout": proc.stdout, "stderr": proc.stderr}
    for run in runs:
        rid = run.info.run_id
        places.update({f"{rid} tag {k}": v for k, v in run.data.tags.items()})
        places.update({f"{rid} param {k}": v for k, v in run.data.params.items()})
        places.update({f"{rid} artifact {i}": t
                       for i, t in enumerate(_artifact_texts(client, rid))})
    for path in (tmp_path / "results").rglob("*"):
        if path.is_file():
            places[str(path)] = path.read_bytes().decode("utf-8", "replace")
    leaks = sorted(k for k, v in places.items() if SECRET in v)
    redacted = [k for k, v in places.items() if "bench:***@" in v]
    print(report_fault("Secrets check: password in --tracking-uri",
                       "a run against a real MLflow server at http://bench:<password>@...; every "
                       "tag, param, artifact text, table file and output line grepped",
                       {"runs": len(runs), "places searched": len(places),
                        "places naming the redacted URL": len(redacted),
                        "places holding the password": len(leaks)}, len(leaks)))
    assert len(runs) == 7  # the parent, two arm runs, four seed runs
    assert not leaks, leaks
    assert redacted, "the command line should still be recorded, redacted"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        out += map(int, children)
        todo += map(int, children)
    return out


def test_the_dashboard_keeps_the_storage_password_off_every_child_and_its_output(tmp_path):
    """optuna-dashboard runs inside the bench process: the URL the user typed reaches no
    other process's command line, and what the dashboard prints shows it redacted."""
    import pytest
    url = os.environ.get("BENCH_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("needs PostgreSQL: bash .ci/services.sh && source .ci/services.env")
    pytest.importorskip("optuna_dashboard")
    from urllib.parse import urlsplit
    secret = urlsplit(url).password
    assert secret, "the test server's user has a password"
    proc = BenchProcess(["dashboard", "--storage", url, "--port", "18777"], tmp_path)
    try:
        wait_for(lambda: "optuna-dashboard for" in proc.output() or None, 60,
                 "the dashboard's start line")
        time.sleep(1.0)
        children = [_cmdline(p) for p in _descendants(proc.proc.pid)]
    finally:
        proc.kill_group()
    assert not [line for line in children if secret in line], children
    assert secret not in proc.output() and "***" in proc.output(), proc.output()
