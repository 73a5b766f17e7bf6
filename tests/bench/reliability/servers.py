"""Real servers for the fault tests, started by the tests themselves (no CI set-up needed).

``MlflowServer`` runs ``mlflow server`` on a free loopback port over a SQLite store in a
temporary directory, in its own process group, and can be killed outright (SIGKILL to the
whole group: a crash, not a shutdown) and restarted on the same port with the same store.
Only 127.0.0.1 is ever used.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

__all__ = ["free_port", "MlflowServer"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MlflowServer:
    def __init__(self, root: Path, port: int | None = None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.store_uri = f"sqlite:///{self.root / 'mlflow.db'}"
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.log_path = self.root / "server.log"

    def command(self) -> list[str]:
        """The harness's own ``bench ui`` command line (``mlflow ui`` is ``mlflow server``:
        ``--backend-store-uri URI --host 127.0.0.1 --port PORT --workers 1``), with the
        artifacts kept in this server's directory. Its security defaults are left alone:
        the allowed-hosts check stays on (tests/bench/reliability/test_reliability_security.py
        checks it on this very server)."""
        from bench.ui import ui_command
        return [*ui_command(self.store_uri, "127.0.0.1", self.port),
                "--artifacts-destination", str(self.root / "artifacts")]

    def start(self) -> "MlflowServer":
        """Launch the server (returns at once; see :meth:`wait_ready`)."""
        from bench.ui import ui_environment
        assert self.proc is None or self.proc.poll() is not None, "already running"
        env = ui_environment({k: v for k, v in os.environ.items()
                              if not k.startswith("MLFLOW_")}, self.store_uri)
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.command(), cwd=self.root, env=env, stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        log.close()
        self.starts += 1
        return self

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def wait_ready(self, timeout: float = 150.0) -> float:
        """Seconds until ``/health`` answered; fails with the server's log if it never did."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited ({self.proc.returncode}):\n{self.log()}")
            if self.healthy():
                return time.monotonic() - started
            time.sleep(0.25)
        raise TimeoutError(f"mlflow server not up after {timeout:.0f}s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL to the server's whole process group, as a crash would."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(30)

    def log(self) -> str:
        try:
            return self.log_path.read_text()[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill()
