"""Start the MLflow UI against the same store the runs went to."""

from __future__ import annotations

import subprocess
import sys

from .tracking import resolve_tracking_uri

__all__ = ["ui_command", "serve_ui"]


def ui_command(tracking_uri: str | None, host: str, port: int) -> list[str]:
    """The ``mlflow ui`` command line (an argument list, never a shell string)."""
    uri = resolve_tracking_uri(tracking_uri)
    return [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri,
            "--host", host, "--port", str(port), "--workers", "1"]


def serve_ui(tracking_uri: str | None, host: str = "127.0.0.1", port: int = 5000) -> int:
    cmd = ui_command(tracking_uri, host, port)
    shown = "localhost" if host in ("127.0.0.1", "::1", "localhost") else host
    print(f"MLflow UI for {resolve_tracking_uri(tracking_uri)} at http://{shown}:{port} "
          "(Ctrl-C to stop)", file=sys.stderr, flush=True)
    if host not in ("127.0.0.1", "::1", "localhost"):
        print(f"warning: bound to {host}: anyone who can reach this address can read every "
              "run and artifact (the MLflow UI has no authentication)", file=sys.stderr)
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return 0
