"""Fixtures of the reliability tests: MLflow SQLite stores (copies of one migrated template),
and one real ``mlflow server`` for the session, launched as soon as the first test of this
folder starts so that its slow start overlaps the tests that do not need it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from .servers import MlflowServer


@dataclass
class Store:
    root: Path
    uri: str
    client: object

    @property
    def db(self) -> Path:
        return self.root / "mlflow.db"


@pytest.fixture
def new_store(template_db, tmp_path):
    """A factory of fresh, migrated SQLite stores under ``tmp_path``."""
    from mlflow.tracking import MlflowClient

    def make(name: str = "store") -> Store:
        root = tmp_path / name
        root.mkdir()
        shutil.copyfile(template_db, root / "mlflow.db")
        uri = f"sqlite:///{root}/mlflow.db"
        return Store(root, uri, MlflowClient(tracking_uri=uri))
    return make


@pytest.fixture(scope="session")
def _server_launch(tmp_path_factory):
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-server")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def _boot_server_early(request):
    """Start the server's boot in the background at the first test of this folder, but only
    when a selected test will use it."""
    if any("mlflow_server" in getattr(item, "fixturenames", ()) for item in request.session.items
           if "reliability" in str(getattr(item, "path", ""))):
        request.getfixturevalue("_server_launch")


@pytest.fixture(scope="session")
def mlflow_server(_server_launch) -> MlflowServer:
    _server_launch.wait_ready()
    return _server_launch
