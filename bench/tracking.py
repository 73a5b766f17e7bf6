"""MLflow at the edge: a parent run per invocation, a child run per (arm, seed).

Everything goes through ``MlflowClient`` with explicit run ids (no global active run), and
metric histories are sent with ``log_batch`` in chunks rather than one call per value.

Faults: every client call is retried with backoff while the store is unreachable (connection
refused or reset, timeouts, HTTP 408/429/5xx, a locked SQLite database), for at most
``BENCH_TRACKING_RETRY_SECONDS`` (default 120) per call; then :class:`TrackingUnavailable` is
raised. Retries cannot duplicate anything: a metric batch is re-sent with the same timestamps
(MLflow drops exact duplicates), params and tags are re-set to the same values, and a run is
created with a one-off token tag that is looked up before creating it again. The client is
made on first use, so building a ``Tracker`` touches no store.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import random
import re
import shutil
import sys
import time
import urllib.parse
import uuid
from collections.abc import Iterable

from . import tags as T
from .locks import sqlite_store_lock
from .redaction import redact, redact_text
from .store_template import from_template
from .targets import target_for, time_to_target

__all__ = ["DEFAULT_TRACKING_URI", "resolve_tracking_uri", "Tracker", "EPOCH_METRICS", "artifact_folder",
           "TrackingUnavailable", "is_transient"]

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
# Per-epoch metric histories (what the curves and the MLflow charts need). MLflow's SQL store
# costs ~0.15 ms CPU per point, so the learning rate (a function of the params) and the
# epoch times go to each run's history.csv artifact instead of three more points per epoch.
EPOCH_METRICS = ("train_loss", "val_loss", "val_accuracy")
_BATCH = 1000  # MLflow's limit of metrics per log_batch call


def resolve_tracking_uri(uri: str | None) -> str:
    """``--tracking-uri``, else ``MLFLOW_TRACKING_URI``, else a SQLite file in this directory."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


class TrackingUnavailable(RuntimeError):
    """The tracking store stayed unreachable for the whole retry budget."""


_TRANSIENT_CODES = {"TEMPORARILY_UNAVAILABLE", "RESOURCE_EXHAUSTED", "REQUEST_LIMIT_EXCEEDED",
                    "DEADLINE_EXCEEDED"}


def is_transient(exc: BaseException, remote: bool = True) -> bool:
    """A fault worth retrying: the store is unreachable, overloaded or locked, not a bad
    request. ``remote`` is False for a local store (SQLite), where only a locked or busy
    database is transient (a missing table or an unwritable file is not)."""
    try:
        import requests
        if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
            return True
    except ImportError:  # pragma: no cover
        pass
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    from mlflow.exceptions import MlflowException
    if not isinstance(exc, MlflowException):
        return False
    text = str(exc)
    if exc.error_code in _TRANSIENT_CODES:
        return remote or "locked" in text or "busy" in text
    # What MLflow's REST client raises when the connection failed or timed out after its own
    # short retries, or when a proxy in front of the server answered 5xx.
    return text.startswith("API request to") and (
        "failed with exception" in text or "failed with timeout" in text
        or "failed with error code 5" in text)


class _RetryingClient:
    """``MlflowClient`` with every method retried on transient faults (see module doc)."""

    def __init__(self, client, tracker):
        self._client, self._tracker = client, tracker

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if not callable(attr) or name.startswith("_"):
            return attr

        def call(*args, **kwargs):
            return self._tracker.retry(name, attr, *args, **kwargs)
        call.__name__ = name
        return call


def _artifact_root(uri: str) -> str | None:
    """Keep a SQLite store's artifacts beside its database file."""
    if uri.startswith("sqlite:///"):
        db = os.path.abspath(uri[len("sqlite:///"):])
        return "file://" + os.path.join(os.path.dirname(db), "mlartifacts")
    return None


def _redacted(values: dict) -> dict[str, str]:
    """Tags and params as sent: strings, with any password in a URL among them redacted
    (this is the one door to MLflow's tags and params)."""
    return {k: redact_text(str(v)) for k, v in values.items()}


_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def artifact_folder(name: str) -> str:
    """The folder of an experiment's artifacts under the store's artifact root: the name
    itself when it is a plain file name, else a slug of it and a digest of the whole name.
    A name is a name, never a path: ``../x``, ``/abs`` or ``a/b`` cannot leave the root
    (MLflow would also undo %-escapes in a file URI, so escaping is not enough)."""
    if _SAFE_NAME.fullmatch(name) and ".." not in name:
        return name
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:60] or "experiment"
    return f"{slug}-{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:12]}"


class Tracker:
    def __init__(self, tracking_uri: str | None = None, retry_seconds: float | None = None):
        self.uri = resolve_tracking_uri(tracking_uri)
        self.retry_seconds = (float(os.environ.get("BENCH_TRACKING_RETRY_SECONDS", "120"))
                              if retry_seconds is None else retry_seconds)
        self.retries = 0          # transient faults retried so far (all calls)
        self.outage_seconds = 0.0  # time spent waiting for the store to come back
        self._client = None
        self._artifact_uris: dict[str, str] = {}  # run id -> artifact URI, from create_run
        self._remote = not self.uri.startswith(("sqlite:", "file:")) and "://" in self.uri
        if self.uri.startswith(("http://", "https://")):
            # MLflow's own per-request retries are kept short (they would otherwise back off
            # for minutes, invisibly); the bounded retry here covers an outage and says so.
            for key, value in (("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2"),
                               ("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1"),
                               ("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")):
                os.environ.setdefault(key, value)

    @property
    def client(self):
        """The MLflow client, made on first use (creating a SQLite store happens here)."""
        if self._client is None:
            from mlflow.tracking import MlflowClient
            # Making the client creates and migrates a new SQLite store; two processes doing
            # it at once collide in the migration, so one at a time does it.
            with sqlite_store_lock(self.uri):
                from_template(self.uri)
                client = self.retry("MlflowClient", MlflowClient, tracking_uri=self.uri)
            self._client = _RetryingClient(client, self)
        return self._client

    # -- faults ---------------------------------------------------------------------------------
    def retry(self, name: str, fn, *args, **kwargs):
        """``fn(*args, **kwargs)``, retried with backoff while the store is unreachable (see
        the module doc); ``name`` labels the call in messages."""
        deadline, delay, failures = None, 0.5, 0
        while True:
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                if not is_transient(exc, self._remote) or self.retry_seconds <= 0:
                    raise
                now = time.monotonic()
                if deadline is None:
                    deadline, first = now + self.retry_seconds, now
                if now >= deadline:
                    raise TrackingUnavailable(
                        f"tracking store {redact(self.uri)} unreachable for "
                        f"{self.retry_seconds:g}s ({name}: {redact_text(str(exc).splitlines()[0][:300])}); "
                        "nothing was lost: run the same command again to resume") from exc
                failures += 1
                self.retries += 1
                if failures == 1:
                    print(f"bench: tracking store {redact(self.uri)} unreachable ({name}: "
                          f"{type(exc).__name__}); retrying for up to {self.retry_seconds:g}s",
                          file=sys.stderr, flush=True)
                pause = min(delay, max(deadline - now, 0.0)) * (0.75 + 0.5 * random.random())
                time.sleep(pause)
                delay = min(delay * 2, 8.0)
                continue
            if failures:
                waited = time.monotonic() - first
                self.outage_seconds += waited
                print(f"bench: tracking store back after {waited:.1f}s ({failures} retried "
                      f"call(s) of {name})", file=sys.stderr, flush=True)
            return result

    @contextlib.contextmanager
    def best_effort(self):
        """Calls inside give up at once on a transient fault (for clean-up after a failure:
        what is not recorded is found later by its dead owner process)."""
        saved = self.retry_seconds
        env = {k: os.environ.get(k) for k in ("MLFLOW_HTTP_REQUEST_MAX_RETRIES",
                                               "MLFLOW_HTTP_REQUEST_TIMEOUT")}
        self.retry_seconds = 0
        if self.uri.startswith(("http://", "https://")):
            os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
            os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "5"
        try:
            yield
        finally:
            self.retry_seconds = saved
            for k, v in env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    # -- experiments and runs --------------------------------------------------------------------
    def experiment_id(self, name: str) -> str:
        from mlflow.exceptions import MlflowException
        exp = self.client.get_experiment_by_name(name)
        if exp is not None:
            if exp.lifecycle_stage == "deleted":
                self.client.restore_experiment(exp.experiment_id)
            if not exp.tags.get(T.EXPERIMENT_KIND):  # made before the kind was recorded
                self.client.set_experiment_tag(exp.experiment_id, T.EXPERIMENT_KIND, T.MODEL_TRAINING)
            return exp.experiment_id
        root = _artifact_root(self.uri)
        location = f"{root}/{artifact_folder(name)}" if root else None
        try:
            return self.client.create_experiment(name, artifact_location=location,
                                                 tags={T.EXPERIMENT_KIND: T.MODEL_TRAINING})
        except MlflowException as exc:
            # Made meanwhile by another process, or by a retried request that did arrive.
            exp = self.client.get_experiment_by_name(name)
            if exp is None or exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            return exp.experiment_id

    def start_run(self, experiment_id: str, name: str, tags: dict[str, str],
                  parent_id: str | None = None, description: str | None = None) -> str:
        from .resume import process_identity
        tags = {**dict(tags), **process_identity()}
        if parent_id:
            tags[T.PARENT_RUN_ID] = parent_id
        if description:
            tags[T.NOTE] = description
        tags = _redacted(tags)
        token = uuid.uuid4().hex
        tags[T.CREATE_TOKEN] = token
        raw = self.client._client
        tries = 0

        def create():
            nonlocal tries
            tries += 1
            if tries > 1:  # an earlier attempt may have reached the store
                found = raw.search_runs([experiment_id], f"tags.`{T.CREATE_TOKEN}` = '{token}'",
                                        max_results=1)
                if found:
                    return found[0]
            return raw.create_run(experiment_id, tags=tags, run_name=name)
        info = self.retry("create_run", create).info
        self._artifact_uris[info.run_id] = info.artifact_uri  # no get_run per artifact
        return info.run_id

    def claim(self, run_id: str) -> None:
        """Reopen ``run_id`` as RUNNING, held by this process (resuming it)."""
        from .resume import process_identity
        self.set_tags(run_id, process_identity())
        self.client.update_run(run_id, status="RUNNING")

    def log_params(self, run_id: str, params: dict[str, str]) -> None:
        from mlflow.entities import Param
        items = [Param(k, v) for k, v in _redacted(params).items()]
        for i in range(0, len(items), 100):
            self.client.log_batch(run_id, params=items[i:i + 100])

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        from mlflow.entities import RunTag
        items = [RunTag(k, v) for k, v in _redacted(tags).items()]
        for i in range(0, len(items), 100):
            self.client.log_batch(run_id, tags=items[i:i + 100])

    def log_metrics(self, run_id: str, series: Iterable[tuple[str, float, int]],
                    tags: dict[str, str] | None = None) -> int:
        """Log ``(key, value, step)`` triples in batches; returns how many were sent.
        ``tags`` go with the first batch when they fit (one round trip instead of two).

        MLflow stores +-inf as +-1.8e308, a finite number that statistics would then average;
        an infinite value is logged as NaN instead (``record_result`` tags which were)."""
        from mlflow.entities import Metric, RunTag
        now = int(time.time() * 1000)
        items = [Metric(k, v if math.isfinite(v) else math.nan, now, int(s))
                 for k, v, s in ((k, float(v), s) for k, v, s in series)]
        extra = [RunTag(k, v) for k, v in _redacted(tags or {}).items()]
        if len(extra) > 100 or len(extra) + min(len(items), _BATCH) > _BATCH:  # MLflow's limits
            self.set_tags(run_id, tags)
            extra = []
        for i in range(0, len(items), _BATCH):
            self.client.log_batch(run_id, metrics=items[i:i + _BATCH], tags=extra)
            extra = []
        if extra:  # no metrics to go with
            self.client.log_batch(run_id, tags=extra)
        return len(items)

    def log_artifact(self, run_id: str, path: str | None) -> None:
        """Upload ``path``. Into a local artifact store the file is copied under a temporary
        name and renamed, so an interrupted copy never leaves a truncated artifact."""
        if not (path and os.path.exists(path)):
            return
        root = (self._artifact_uris.get(run_id)
                or self.client.get_run(run_id).info.artifact_uri or "")
        parts = urllib.parse.urlsplit(root)
        local = (urllib.parse.unquote(parts.path) if parts.scheme == "file" else
                 root if root.startswith("/") else None)
        if local is None:
            self.client.log_artifact(run_id, path)
            return
        os.makedirs(local, exist_ok=True)
        target = os.path.join(local, os.path.basename(path))
        tmp = os.path.join(local, f".tmp-{uuid.uuid4().hex[:8]}-{os.path.basename(path)}")
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def log_json(self, run_id: str, obj, name: str) -> None:
        self.client.log_dict(run_id, obj, name)

    def end(self, run_id: str, status: str) -> None:
        self.client.set_terminated(run_id, status=status)

    # -- a finished run -------------------------------------------------------------------------
    def record_result(self, run_id: str, result) -> None:
        """Per-epoch histories, final metrics, flags and artifacts of a ``RunResult``."""
        series = []
        for rec in result.history:
            for key in EPOCH_METRICS:
                value = rec[key]
                if key.startswith("val_") and math.isnan(value):
                    continue  # not evaluated this epoch: no point rather than a NaN point
                series.append((key, value, rec["epoch"]))
        series += [(k, v, 0) for k, v in result.final_metrics().items()]
        target_tags = {}
        target = target_for(result.spec.config.dataset)
        if target is not None:  # a run that never reached it gets no number, only the tag
            reached = time_to_target(result.history, target)
            target_tags = {T.TARGET_ACCURACY: f"{target:g}",
                           T.TARGET_REACHED: str(reached.reached).lower()}
            if reached.reached:
                series += [("target_epoch", float(reached.epoch), 0),
                           ("target_seconds", reached.seconds, 0)]
        # "-" marks -inf, so that the value can be restored (report.load_runs).
        infinite = sorted({("-" if v < 0 else "") + (f"{k}@{s}" if s else k)
                           for k, v, s in series if math.isinf(v)})
        fp = result.dataset_fingerprint or {}
        self.log_metrics(run_id, series, tags={
            **({T.INFINITE_METRICS: ",".join(infinite)[:4900]} if infinite else {}),
            T.DIVERGED: str(result.diverged).lower(),
            T.STOP_REASON: result.stop_reason,
            T.DATASET_FINGERPRINT: json.dumps(fp, sort_keys=True)[:4900],
            T.BLAS_KERNEL: result.blas_kernel,
            T.STREAMS: result.streams,
            **target_tags,
        })
        self.log_artifact(run_id, result.weights_path)
        self.log_artifact(run_id, result.history_path)
        self.log_artifact(run_id, result.curve_path)
        self.log_artifact(run_id, result.config_path)
