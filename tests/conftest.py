"""Every test runs with the session store in its own temporary directory: no test touches the
user's data directory."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_session_store(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("TILTWATCH_DATA_DIR", str(tmp_path_factory.mktemp("tiltwatch-data")))


@pytest.fixture(autouse=True)
def _private_log_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("TILTWATCH_LOG_DIR", str(tmp_path_factory.mktemp("tiltwatch-logs")))
