"""Writing the files a user keeps (tables, reports, data downloads): atomically, and with
the permissions any other program would give them.

``tempfile.mkstemp`` creates its file 0600 so that no one else can read a half-written
secret; a finished table is no secret, and renaming the temporary file into place would
keep that 0600. Each finished file is therefore given ``0666 & ~umask`` (0644 under the
usual umask 022), as ``open(path, "w")`` would have.
"""

from __future__ import annotations

import os
import tempfile

__all__ = ["write_atomic", "default_mode", "publish_file", "NotWritten"]


class NotWritten(RuntimeError):
    """An output file could not be written (a full disk, an unwritable folder); one line
    naming it. What MLflow already holds is kept."""


def default_mode() -> int:
    """The mode ``open(..., "w")`` gives a new file: 0666 less the process's umask."""
    # os.umask can only be read by setting it; set it straight back (start-up code, no threads
    # create files at this point in a command).
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def publish_file(tmp: str, path: str) -> None:
    """Give the finished temporary file ``tmp`` the default mode and move it to ``path``."""
    os.chmod(tmp, default_mode())
    os.replace(tmp, path)


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` so that readers see the old file or the new one, never half of one;
    a file that cannot be written is a :class:`NotWritten` naming it."""
    tmp = None
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".tmp-")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        publish_file(tmp, path)
    except OSError as exc:
        raise NotWritten(f"{path} not written ({exc.strerror or exc}); the runs are kept in "
                         "MLflow: `python -m bench report` writes the tables again") from exc
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
