"""Start the MLflow UI against the same store the runs went to.

``mlflow ui`` (MLflow 3) starts a web server and, unless told otherwise, a job runner with a
handful of worker processes that browsing runs never needs; we switch that runner off. The
server runs in its own process group, so Ctrl-C or a SIGTERM to ``python -m bench ui`` stops
every process it started, leaving nothing behind.

MLflow 3 opens an experiment on its GenAI pages unless the address asks for the model
training view, so once the server answers we print a link to each experiment's runs that
does (``#/experiments/<id>/runs?workflowType=machine_learning``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

from .redaction import redact
from .tracking import resolve_tracking_uri

__all__ = ["runs_url", "run_url", "serve_ui", "ui_command", "ui_environment", "wait_until_up",
           "warn_if_exposed"]

LOCAL_HOSTS = ("127.0.0.1", "::1", "localhost")


def ui_command(tracking_uri: str | None, host: str, port: int) -> list[str]:
    """The ``mlflow ui`` command line (an argument list, never a shell string). The store's
    URL is not on it (``ps`` shows argv to every user): see :func:`ui_environment`."""
    return [sys.executable, "-m", "mlflow", "ui",
            "--host", host, "--port", str(port), "--workers", "1"]


def ui_environment(base: dict[str, str] | None = None,
                   tracking_uri: str | None = None) -> dict[str, str]:
    """The server's environment: the store's URL (``MLFLOW_BACKEND_STORE_URI``, which
    ``mlflow ui`` reads), no job runner (GenAI jobs, not needed to browse runs) unless
    ``MLFLOW_SERVER_ENABLE_JOB_EXECUTION`` says otherwise; no tqdm bars."""
    env = dict(os.environ if base is None else base)
    env["MLFLOW_BACKEND_STORE_URI"] = resolve_tracking_uri(tracking_uri)
    env.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    env.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # A deprecation inside MLflow's server, printed at every start: not the user's concern.
    env.setdefault("PYTHONWARNINGS", "ignore:starlette.middleware.wsgi is deprecated")
    return env


def runs_url(base: str, experiment_id: str) -> str:
    """The address of an experiment's runs table in the model-training view."""
    return f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs?workflowType=machine_learning"


def wait_until_up(url: str, timeout: float = 120.0, alive=lambda: True) -> bool:
    """Poll ``url`` (e.g. the server's ``/health``) until it answers 200, the deadline passes
    or ``alive()`` turns false."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def run_url(base: str, experiment_id: str, run_id: str) -> str:
    """The address of one run's page in the model-training view."""
    return (f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"
            "?workflowType=machine_learning")


def _experiment_links(tracking_uri: str | None, base: str) -> list[str]:
    """``name: link`` for every experiment that has runs (the Default one only if it does),
    and the page of the newest invocation (its parent run, holding the tables)."""
    try:
        from mlflow.tracking import MlflowClient
        client = MlflowClient(tracking_uri=resolve_tracking_uri(tracking_uri))
        lines, newest = [], None
        for exp in client.search_experiments():
            if client.search_runs([exp.experiment_id], max_results=1):
                lines.append(f"  {exp.name}: {runs_url(base, exp.experiment_id)}")
                parents = client.search_runs([exp.experiment_id], "tags.`bench.kind` = 'parent'",
                                             order_by=["attributes.start_time DESC"], max_results=1)
                if parents and (newest is None or parents[0].info.start_time > newest.info.start_time):
                    newest = parents[0]
        if newest is not None:
            lines.append(f"  newest invocation ({newest.info.run_name}): "
                         f"{run_url(base, newest.info.experiment_id, newest.info.run_id)}")
        return lines
    except Exception:  # noqa: BLE001 - links are a convenience; the UI is up regardless
        return []


def _stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM to the server's whole process group, SIGKILL if it does not go in time."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    try:  # children that outlived the server itself
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def warn_if_exposed(host: str, what: str) -> None:
    """One warning line when a server binds beyond this machine (``bench ui``, ``bench
    dashboard``)."""
    if host not in LOCAL_HOSTS:
        print(f"warning: bound to {host}: anyone who can reach this address can read {what}",
              file=sys.stderr)


def _terminate(signum, frame):
    raise KeyboardInterrupt


def serve_ui(tracking_uri: str | None, host: str = "127.0.0.1", port: int = 5000,
             verbose: bool = False) -> int:
    """Serve until Ctrl-C. The server's own request log goes to a file unless ``verbose``;
    if the server dies, the end of that log is shown."""
    import tempfile
    cmd = ui_command(tracking_uri, host, port)
    shown = "localhost" if host in LOCAL_HOSTS else host
    print(f"MLflow UI for {redact(resolve_tracking_uri(tracking_uri))} at http://{shown}:{port} "
          "(Ctrl-C to stop)", file=sys.stderr, flush=True)
    warn_if_exposed(host, "every run and artifact (the MLflow UI has no authentication)")
    log = None if verbose else tempfile.NamedTemporaryFile("w+", prefix="bench-ui-", suffix=".log")
    proc = subprocess.Popen(cmd, env=ui_environment(tracking_uri=tracking_uri),
                            start_new_session=True, stdout=log,
                            stderr=subprocess.STDOUT if log else None)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        probe = "127.0.0.1" if host in ("0.0.0.0", "localhost") else host
        probe = f"[{probe}]" if ":" in probe else probe
        base = f"http://{shown}:{port}"
        if wait_until_up(f"http://{probe}:{port}/health", alive=lambda: proc.poll() is None):
            links = _experiment_links(tracking_uri, base)
            print(f"MLflow UI ready at {base}" + (": runs of each experiment at" if links else ""),
                  file=sys.stderr, flush=True)
            for line in links:
                print(line, file=sys.stderr, flush=True)
        code = proc.wait()
        if code and log is not None:  # it died on its own: what it said is the reason
            log.seek(0)
            print("".join(log.readlines()[-15:]), file=sys.stderr, end="")
        return code
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        _stop(proc)
        if log is not None:
            log.close()
