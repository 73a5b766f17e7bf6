"""Command-line options an experiment declares for itself.

An experiment factory takes keyword options (batchnorm's depths, widths and weight scales);
each is declared once here, as an :class:`Option`, so a command line can offer it as a flag
without knowing which experiment it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Option"]


@dataclass(frozen=True)
class Option:
    """One keyword option of an experiment factory, offered on the command line as
    ``--name-with-dashes``: a comma-separated list of ``kind`` (``many``), one value, or a
    switch (``kind is bool``)."""

    name: str        # the factory's keyword, e.g. "weight_scales"
    kind: type       # int, float, str or bool
    help: str
    many: bool = True

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")
