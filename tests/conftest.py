"""Suite-wide guard: the tests write nothing inside the checkout.

Every test that runs the command line does so in a temporary directory; this fixture checks
it. It records ``git status`` (and the content of every file it lists, so that rewriting an
already-modified file counts too) when the session starts and compares when it ends: a
difference fails the session, naming the paths.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _snapshot() -> dict[str, str] | None:
    """``{path: status and content digest}`` of every changed or untracked file, or None
    outside a git work tree (e.g. an unpacked sdist)."""
    if shutil.which("git") is None:
        return None
    proc = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "-z"],
                          cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    out = {}
    for entry in filter(None, proc.stdout.split("\0")):
        status, path = entry[:2], entry[3:]
        file = REPO / path
        digest = hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else "-"
        out[path] = f"{status} {digest}"
    return out


@pytest.fixture(scope="session", autouse=True)
def checkout_stays_clean():
    before = _snapshot()
    yield
    if before is None:
        return
    after = _snapshot()
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    assert not changed, f"the test suite wrote inside the checkout: {changed[:20]}"
