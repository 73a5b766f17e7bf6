"""A tracking server that refuses the host name in --tracking-uri (MLflow 3's --allowed-hosts
check) is named in one line with the option that fixes it, before anything is created."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from harness_util import run_bench


@pytest.fixture
def server_for_another_host(tmp_path_factory):
    """A real ``mlflow server`` on 127.0.0.1 that only accepts the Host ``db-host:5000``."""
    root = tmp_path_factory.mktemp("mlflow-allowed-hosts")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
         "--artifacts-destination", str(root / "artifacts"), "--allowed-hosts", "db-host:5000"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, "mlflow server exited"
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "mlflow server not up"
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


@pytest.mark.slow
def test_a_refused_host_name_is_one_line_naming_allowed_hosts(server_for_another_host,
                                                             tmp_path):
    proc = run_bench(["report", "ablation", "--tracking-uri", server_for_another_host],
                     tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    port = server_for_another_host.rsplit(":", 1)[1]
    assert len(lines) == 1 and "403 Invalid Host header" in lines[0], lines
    assert lines[0].endswith(f"--allowed-hosts 127.0.0.1:{port}")
    assert list(tmp_path.iterdir()) == []
