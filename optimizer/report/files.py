"""Output files: atomic, never clobbered by accident, readable by colleagues, named without collisions.

- :func:`write_atomic` writes a temporary file in the target's folder and
  moves it into place, so nobody ever sees a partial file, and an existing
  file survives a failed write. Without ``force`` the move is a hard link,
  which fails if the name was taken meanwhile (no check-then-write race);
  with ``force`` it is a rename over the old file.
- Modes: a new file gets ``0666`` less the process umask (``0644`` under
  umask 022), as any program's files do; a file replaced with ``force``
  keeps its own mode (``--force`` never narrows who may read it).
- ``unique``: for default report names. If the name is taken (another run
  in the same second), ``-2``, ``-3``, ... is added before ``.xlsx``, so
  runs started together never fail or overwrite each other.
"""
from __future__ import annotations

import datetime as _dt
import errno
import os
import stat
import tempfile
import threading
from pathlib import Path
from typing import Callable

from ..errors import OutputError

WORKBOOK_SUFFIX = ".xlsx"
MAX_UNIQUE = 1000  # name-2 ... name-1000, then give up with a message
_UMASK_LOCK = threading.Lock()


def default_report_path(scenario_path: str, folder: str = "reports", suffix: str = "") -> Path:
    """``reports/<stem><suffix>-<YYYYmmdd-HHMMSS>.xlsx`` (made unique when written, see :func:`write_atomic`)."""
    stem = Path(scenario_path).stem
    ts = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(folder) / f"{stem}{suffix}-{ts}{WORKBOOK_SUFFIX}"


def check_workbook_name(path: str | Path) -> Path:
    """``-o`` must name an ``.xlsx`` file: ``plan.csv`` would silently hold a workbook."""
    p = Path(path)
    if p.suffix.lower() != WORKBOOK_SUFFIX:
        fix = p.with_suffix(WORKBOOK_SUFFIX) if p.suffix else p.with_name(p.name + WORKBOOK_SUFFIX)
        what = f"'{p.suffix}' is not a workbook extension" if p.suffix else "no extension"
        raise OutputError(f"{p}: the workbook is an Excel file and its name must end in .xlsx ({what}); use -o {fix}")
    return p


def check_target(path: str | Path, force: bool, unique: bool = False) -> Path:
    """Fail early (exit 2) if ``path`` exists without ``force`` (unless ``unique``) or its folder is unusable."""
    p = Path(path)
    if p.exists() and p.is_dir():
        raise OutputError(f"{p}: is a folder; give a file name such as {p / 'plan.xlsx'}")
    if p.exists() and not force and not unique:
        raise OutputError(f"{p}: already exists; pass --force to replace it, or choose another -o")
    parent = p.parent if str(p.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise OutputError(f"{parent}: is not a folder; cannot write {p}")
    if parent.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{parent}: folder is not writable; cannot write {p}")
    return p


def process_umask() -> int:
    """The process umask, read without changing it where the system allows (Linux: /proc/self/status)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:  # elsewhere: set and restore at once, under a lock
        old = os.umask(0o077)
        os.umask(old)
    return old


def new_file_mode() -> int:
    """Mode of a newly created file: 0666 less the umask (0644 under 022)."""
    return 0o666 & ~process_umask()


def unique_names(p: Path):
    """``p``, then ``stem-2.xlsx``, ``stem-3.xlsx``, ..."""
    yield p
    for i in range(2, MAX_UNIQUE + 1):
        yield p.with_name(f"{p.stem}-{i}{p.suffix}")


def _place_new(tmp: str, p: Path) -> bool:
    """Move ``tmp`` to ``p`` only if ``p`` does not exist; False if it does. Atomic where links work."""
    try:
        os.link(tmp, p)
        return True
    except FileExistsError:
        return False
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS, errno.EACCES):
            raise
    # a file system without hard links (some network shares): claim the name, then rename over the claim
    try:
        fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False
    os.close(fd)
    try:
        os.replace(tmp, p)
    except BaseException:
        os.unlink(p)
        raise
    return True


def write_atomic(path: str | Path, write: Callable[[str], None], force: bool, unique: bool = False) -> Path:
    """Call ``write(tmp_path)`` then move the file into place; never leaves a partial file.

    ``write`` receives a temporary path in the same folder. An existing file at
    ``path`` is replaced only when ``force`` is true; with ``unique`` a taken
    name gets a ``-2``, ``-3``... suffix instead. Returns the path written.
    """
    p = check_target(path, force, unique)
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
        if force and not unique:
            try:
                mode = stat.S_IMODE(os.stat(p).st_mode)  # replacing: keep the old file's mode
            except FileNotFoundError:
                mode = new_file_mode()
            os.chmod(tmp, mode)
            os.replace(tmp, p)
            return p
        os.chmod(tmp, new_file_mode())
        for candidate in (unique_names(p) if unique else [p]):
            if _place_new(tmp, candidate):
                return candidate
        if unique:
            raise OutputError(f"{p}: {MAX_UNIQUE} reports with this name already exist; pass -o to name the report")
        raise OutputError(f"{p}: already exists; pass --force to replace it, or choose another -o")
    except OSError as e:
        raise OutputError(f"{p}: cannot write ({e.strerror or e})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
