"""Fixtures for the Optuna search tests: real Optuna storages and a real MLflow SQLite store
per test, in ``tmp_path``.

Creating an MLflow SQLite store runs its schema migrations (seconds), so one migrated, empty
store is made per session and every test gets its own copy of that file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from searchtest_util import Store, new_store


@pytest.fixture(scope="session")
def empty_mlflow_db(template_db) -> Path:
    return template_db  # the session's migrated empty store (tests/bench/conftest.py)


@pytest.fixture
def mlflow_store(empty_mlflow_db, tmp_path) -> Store:
    """A fresh MLflow SQLite store of this test, in ``tmp_path``."""
    return new_store(empty_mlflow_db, tmp_path / "mlruns")
