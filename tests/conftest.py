"""Shared fixtures: hermetic temp projects and a clean environment for every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import workbench

_SECRET_ENV = ("GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_API_KEY", "SHOPIFY_ACCESS_TOKEN", "CLOUDINARY_URL",
               "AIRTABLE_TOKEN", "ASANA_TOKEN", "MONDAY_TOKEN", "WOOCOMMERCE_CONSUMER_KEY",
               "WOOCOMMERCE_CONSUMER_SECRET", "WORDPRESS_USER", "WORDPRESS_APP_PASSWORD",
               "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "GOOGLE_APPLICATION_CREDENTIALS",
               "GOOGLE_OAUTH_ACCESS_TOKEN", "BYNDER_TOKEN", "AWS_SESSION_TOKEN", "AWS_PROFILE")

_SERVICE_ENV = ("WORKBENCH_TEST_", "WORKBENCH_REQUIRE_")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No real credentials, no user config, a fixed author, for every test."""
    for name in _SECRET_ENV:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        # the CI's test services (.ci/run) stay: WORKBENCH_CHROMIUM, WORKBENCH_TEST_*, WORKBENCH_REQUIRE_*
        if name.startswith("WORKBENCH_") and name != "WORKBENCH_CHROMIUM" and not name.startswith(_SERVICE_ENV):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg")))
    monkeypatch.setenv("WORKBENCH_USER", "tester")


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """Path of a fresh, initialised project."""
    path = tmp_path / "project"
    workbench.init(path)
    return path


@pytest.fixture
def wb(project_dir: Path) -> workbench.Workbench:
    """A fresh, initialised project, opened."""
    return workbench.open(project_dir)
