"""Real servers for the run-queue tests: the PostgreSQL server of ``.ci/services.sh`` (the
queue, one fresh schema per test, and the MLflow server's backend database) and an
``mlflow server`` this conftest starts on a free loopback port, with its backend on that
PostgreSQL and its artifacts in a temporary directory.

Without the services these tests skip, saying how to enable them; with
``BENCH_REQUIRE_SERVICES=1`` (CI) they fail instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

ENABLE = "bash .ci/services.sh && source .ci/services.env"


def _unavailable(reason: str):
    if os.environ.get("BENCH_REQUIRE_SERVICES") == "1":
        pytest.fail(f"BENCH_REQUIRE_SERVICES=1 but {reason}; run `{ENABLE}` first")
    pytest.skip(f"{reason}; to run the run-queue tests: `{ENABLE}`")


def _reachable(variable: str) -> str:
    url = os.environ.get(variable)
    if not url:
        _unavailable(f"{variable} is not set")
    try:
        import psycopg2
    except ImportError:
        _unavailable("psycopg2 is not installed (pip install -e '.[postgres]')")
    try:
        psycopg2.connect(url, connect_timeout=5).close()
    except psycopg2.OperationalError as exc:
        _unavailable(f"no PostgreSQL server at {variable} ({str(exc).strip()})")
    return url


@pytest.fixture(scope="session")
def pg_url() -> str:
    return _reachable("BENCH_TEST_POSTGRES_URL")


def _sql(url: str, statement: str) -> None:
    import psycopg2
    conn = psycopg2.connect(url, connect_timeout=10)
    conn.autocommit = True
    try:
        conn.cursor().execute(statement)
    finally:
        conn.close()


@pytest.fixture
def queue_url(pg_url):
    """A storage URL whose Optuna tables live in a schema of this test's own (the queue
    tests scan a storage's queues, so they must not see other tests')."""
    schema = f"q_{uuid.uuid4().hex[:10]}"
    _sql(pg_url, f"CREATE SCHEMA {schema}")
    yield f"{pg_url}?options=-csearch_path%3D{schema}"
    _sql(pg_url, f"DROP SCHEMA {schema} CASCADE")


def _free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """``mlflow server`` on 127.0.0.1 with its backend on PostgreSQL; yields its URL."""
    backend = _reachable("BENCH_TEST_MLFLOW_DB_URL")
    # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3; the postgres extra is psycopg2.
    backend = backend.replace("postgresql://", "postgresql+psycopg2://", 1)
    root = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    # The password stays off the command line (ps shows argv to every user).
    env.update(MLFLOW_BACKEND_STORE_URI=backend, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")
    log = open(root / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "2", "--artifacts-destination", str(root / "artifacts")],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"mlflow server exited: {(root / 'server.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mlflow server not up: {(root / 'server.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        import signal
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        log.close()
