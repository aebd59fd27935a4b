"""Atomic, no-clobber output files."""
from __future__ import annotations

import datetime as _dt
import os
import tempfile
from pathlib import Path
from typing import Callable

from ..errors import OutputError


def default_report_path(scenario_path: str, folder: str = "reports", suffix: str = "") -> Path:
    stem = Path(scenario_path).stem
    ts = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(folder) / f"{stem}{suffix}-{ts}.xlsx"


def check_target(path: str | Path, force: bool) -> Path:
    """Fail early (exit 2) if ``path`` exists without --force or its folder is unusable."""
    p = Path(path)
    if p.exists() and p.is_dir():
        raise OutputError(f"{p}: is a folder; give a file name such as {p / 'plan.xlsx'}")
    if p.exists() and not force:
        raise OutputError(f"{p}: already exists; pass --force to replace it, or choose another -o")
    parent = p.parent if str(p.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise OutputError(f"{parent}: is not a folder; cannot write {p}")
    if parent.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{parent}: folder is not writable; cannot write {p}")
    return p


def write_atomic(path: str | Path, write: Callable[[str], None], force: bool) -> Path:
    """Call ``write(tmp_path)`` then rename into place; never leaves a partial file.

    ``write`` receives a temporary path in the same folder. An existing file at
    ``path`` is replaced only when ``force`` is true.
    """
    p = check_target(path, force)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{p.parent}: cannot create the folder ({e.strerror or e})") from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=str(p.parent))
    except OSError as e:
        raise OutputError(f"{p.parent}: cannot write there ({e.strerror or e})") from None
    os.close(fd)
    try:
        write(tmp)
        if p.exists() and not force:  # appeared while we worked
            raise OutputError(f"{p}: already exists; pass --force to replace it")
        os.replace(tmp, p)
    except OSError as e:
        raise OutputError(f"{p}: cannot write ({e.strerror or e})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return p
