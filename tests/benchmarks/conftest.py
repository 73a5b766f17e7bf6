"""Make the repository root importable, so ``benchmarks`` resolves when pytest is run as
``pytest`` (which, unlike ``python -m pytest``, does not put the working directory on
sys.path) and the project is not installed."""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
