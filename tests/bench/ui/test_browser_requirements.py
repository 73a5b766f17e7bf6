"""Missing browser pieces: a skip that says why on a developer's machine, a failure in CI."""

from __future__ import annotations

import pytest
from ui_browser import chromium_path, require


def test_missing_piece_skips_with_the_reason(monkeypatch):
    monkeypatch.delenv("BENCH_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no chromium here; run .ci/browser.sh"):
        require(False, "no chromium here")


def test_missing_piece_fails_when_services_are_required(monkeypatch):
    monkeypatch.setenv("BENCH_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="no chromium here.*BENCH_REQUIRE_SERVICES=1"):
        require(False, "no chromium here")


def test_present_piece_passes(monkeypatch):
    monkeypatch.setenv("BENCH_REQUIRE_SERVICES", "1")
    require(True, "unused")


def test_chromium_path_prefers_bench_chromium(monkeypatch, tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("BENCH_CHROMIUM", str(fake))
    assert chromium_path() == str(fake)
