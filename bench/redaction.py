"""One redaction for every URL with a password in it, applied at the edges: tags and params
sent to MLflow, the command line recorded in tags and table notes, log records and error lines.

Secrets are never put on a child process's command line (``ps`` shows it to every user of the
machine): the launchers pass store URLs through the environment, where MLflow and Optuna read
them.
"""

from __future__ import annotations

import logging
import re

__all__ = ["redact", "redact_text", "install_log_redaction", "MASK"]

MASK = "***"
# scheme://user:password@  (the password runs to the last "@" before the path, as in urlsplit)
_CREDENTIALS = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:]*):(?P<secret>[^\s/]*)@")


def redact_text(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    if "@" not in text:
        return text
    return _CREDENTIALS.sub(lambda m: f"{m['head']}:{MASK}@", text)


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***`` (what messages and logs show)."""
    return redact_text(url)


_installed = False


def install_log_redaction() -> None:
    """Redact every log record of this process (MLflow's, Optuna's, alembic's, ours) when it
    is made: a record factory sees each record once, whichever logger or handler it goes to."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is the logger's problem, not ours
            return record
        clean = redact_text(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return record
    logging.setLogRecordFactory(factory)
