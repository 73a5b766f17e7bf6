"""The one exception type every data problem is reported with."""

from __future__ import annotations


class DatasetError(ValueError):
    """A user-facing data problem, carrying one clear message.

    It subclasses ValueError so callers that already catch bad arguments
    keep working; the CLI prints the message instead of a traceback.
    """
