"""Checks made before any work, so a bad store or directory fails in seconds, naming it
(with any password in its URL redacted).

They only look: they create no file, directory or database, so a command
that fails one leaves the disk and every store exactly as they were.
"""

from __future__ import annotations

import os
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request

from .redaction import redact

__all__ = ["redact", "check_tracking_uri", "check_optuna_storage", "check_results_dir",
           "check_data_dir", "StoreUnreachable", "CONNECT_TIMEOUT"]

CONNECT_TIMEOUT = float(os.environ.get("BENCH_CONNECT_TIMEOUT", "3"))
_TRACKING_SCHEMES = ("http", "https", "sqlite", "file", "postgresql", "mysql", "mssql",
                     "databricks", "databricks-uc", "uc")
_DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "mssql": 1433, "http": 80, "https": 443}


class StoreUnreachable(ValueError):
    """A tracking store or Optuna storage that cannot be used; one line, names the URL."""


def _scheme(url: str) -> str:
    head = url.split(":", 1)[0] if "://" in url or url.startswith("sqlite:") else ""
    return head.split("+", 1)[0].lower()


def _resolve(host: str, port: int, timeout: float):
    """getaddrinfo with a time limit (a dead resolver can otherwise stall for a minute)."""
    box: dict = {}

    def work():
        try:
            box["addrs"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            box["error"] = exc
    t = threading.Thread(target=work, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise OSError(f"could not resolve {host!r} within {timeout:g}s")
    if "error" in box:
        raise OSError(f"cannot resolve {host!r}: {box['error']}")
    return box["addrs"]


def _tcp_check(host: str, port: int, timeout: float) -> None:
    last = None
    for family, kind, proto, _, addr in _resolve(host, port, timeout):
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(timeout)
                sock.connect(addr)
                return
        except OSError as exc:
            last = exc
    reason = getattr(last, "strerror", None) or str(last) or type(last).__name__
    raise OSError(reason)


def _sqlite_path(url: str) -> str | None:
    rest = url.split(":", 1)[1]
    if not rest.startswith("///"):
        return None
    path = rest[3:].split("?", 1)[0]
    return None if path in ("", ":memory:") else path


def _check_sqlite_file(path: str, what: str, url: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise StoreUnreachable(f"{what} directory {directory!r} does not exist ({redact(url)}); "
                               "create it first")
    if os.path.isdir(path):
        raise StoreUnreachable(f"{what} {redact(url)} names a directory, not a database file")
    if os.path.isfile(path) and os.path.getsize(path) > 0:
        with open(path, "rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise StoreUnreachable(f"{what} {path!r} is not an SQLite database "
                                       f"({redact(url)})")


def _check_sqlite_url(url: str, what: str) -> None:
    path = _sqlite_path(url)
    if path is not None:  # None: in memory, nothing on disk to check
        _check_sqlite_file(path, what, url)


def _check_server(url: str, what: str, timeout: float) -> None:
    """A TCP connection to the host:port of a database URL (no driver needed)."""
    from sqlalchemy.engine import make_url
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise StoreUnreachable(f"malformed {what} URL {redact(url)}: {exc}") from None
    if not parsed.host:  # a Unix socket: the driver finds it
        return
    port = parsed.port or _DEFAULT_PORTS.get(_scheme(url), 0)
    try:
        _tcp_check(parsed.host, port, timeout)
    except OSError as exc:
        raise StoreUnreachable(f"cannot reach {what} {redact(url)} ({exc})") from None


def check_tracking_uri(uri: str, timeout: float | None = None) -> None:
    """Fail fast, naming ``uri``, if the MLflow tracking store cannot be used.

    http(s): the server must answer an HTTP request within ``timeout`` seconds (any HTTP
    status counts: a 401 or 404 still means a server is there). sqlite: the database's
    directory must exist and an existing file must be an SQLite database. Database servers:
    their port must accept a TCP connection. Nothing is created.
    """
    timeout = CONNECT_TIMEOUT if timeout is None else timeout
    scheme = _scheme(uri)
    if not scheme:  # a plain path: MLflow's file store
        parent = os.path.dirname(os.path.abspath(uri)) or "."
        if not os.path.isdir(parent):
            raise StoreUnreachable(f"tracking store directory {parent!r} does not exist ({uri})")
        return
    if scheme not in _TRACKING_SCHEMES:
        raise StoreUnreachable(f"unsupported tracking URI {redact(uri)!r}; use http(s)://HOST:PORT, "
                               "sqlite:///PATH or a database URL")
    if scheme in ("http", "https"):
        parts = urllib.parse.urlsplit(uri)
        if not parts.hostname:
            raise StoreUnreachable(f"malformed tracking URI {redact(uri)!r}")
        # An API path, not /health: MLflow 3 answers /health whatever the Host header, and
        # refuses everything else from a host name missing from its --allowed-hosts.
        health = uri.rstrip("/") + "/api/2.0/mlflow/experiments/search?max_results=1"
        try:
            port = parts.port or _DEFAULT_PORTS[scheme]
        except ValueError as exc:
            raise StoreUnreachable(f"malformed tracking URI {redact(uri)!r}: {exc}") from None
        try:
            _resolve(parts.hostname, port, timeout)
            # Credentials stay out of the probe: it only asks whether a server answers.
            netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
            probe = urllib.parse.urlunsplit(urllib.parse.urlsplit(health)._replace(
                netloc=f"{netloc}:{port}" if parts.port else netloc))
            with urllib.request.urlopen(probe, timeout=timeout):
                pass
        except urllib.error.HTTPError as exc:
            if exc.code == 403 and b"Invalid Host header" in exc.read(200):
                raise StoreUnreachable(
                    f"the MLflow tracking server at {redact(uri)} refuses the host name "
                    f"{parts.hostname!r} (403 Invalid Host header); start it with "
                    f"--allowed-hosts {parts.hostname}:{port}") from None
            return  # the server answered
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise StoreUnreachable(f"cannot reach the MLflow tracking server at {redact(uri)} "
                                   f"({reason}); start it or pass another --tracking-uri") from None
        return
    if scheme == "sqlite":
        _check_sqlite_url(uri, "tracking store")
        return
    if scheme in ("file",):
        path = urllib.parse.urlsplit(uri).path
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise StoreUnreachable(f"tracking store directory {parent!r} does not exist ({uri})")
        return
    if scheme in ("postgresql", "mysql", "mssql"):
        _check_server(uri, "the tracking database", timeout)


def check_optuna_storage(url: str | None, timeout: float | None = None) -> None:
    """Fail fast, naming ``url``, if an Optuna storage cannot be used (nothing is created)."""
    timeout = CONNECT_TIMEOUT if timeout is None else timeout
    if url is None:
        return  # the default optuna.journal in the working directory
    scheme = _scheme(url)
    if url.startswith("journal:") or (url.endswith(".journal") and "://" not in url):
        path = url[len("journal:"):] if url.startswith("journal:") else url
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise StoreUnreachable(f"Optuna storage directory {parent!r} does not exist ({url})")
        if os.path.isdir(path):
            raise StoreUnreachable(f"Optuna storage {url!r} names a directory, not a journal file")
        return
    if scheme == "sqlite":
        _check_sqlite_url(url, "Optuna storage")
        return
    if scheme in ("postgresql", "mysql"):
        _check_server(url, "Optuna storage", timeout)
        return
    raise StoreUnreachable(f"unsupported Optuna storage {redact(url)!r}; use a .journal file path, "
                           "journal:PATH, sqlite:///PATH or postgresql://USER@HOST/DB")


def check_results_dir(path: str) -> None:
    """``path`` is a directory, or can be made one (its nearest existing ancestor is a
    writable directory). Nothing is created."""
    p = os.path.abspath(path)
    if os.path.exists(p):
        if not os.path.isdir(p):
            raise ValueError(f"--results-dir {path!r} exists and is not a directory")
        if not os.access(p, os.W_OK | os.X_OK):
            raise ValueError(f"--results-dir {path!r} is not writable")
        return
    parent = os.path.dirname(p)
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise ValueError(f"--results-dir {path!r}: {parent!r} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"--results-dir {path!r}: {parent!r} is not writable")


def check_data_dir(path: str | None) -> None:
    if path is not None and not os.path.isdir(path):
        raise ValueError(f"--data-dir {path!r} is not a directory")
