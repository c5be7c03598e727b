"""Small file-system checks shared by commands that are about to write somewhere."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def probe_writable(directory: Path) -> None:
    """Create ``directory`` if needed and prove a file can be written there (OSError if not),
    before any effort is spent that would end in writing into it."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, probe = tempfile.mkstemp(dir=directory, prefix=".write-check.", suffix=".tmp")
    os.close(fd)
    os.unlink(probe)
