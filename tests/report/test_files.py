"""Output files: atomic and no-clobber under races, default names made unique, modes from the umask."""
from __future__ import annotations

import errno
import multiprocessing as mp
import os
import stat
from pathlib import Path

import pytest

from optimizer.errors import OutputError
from optimizer.report import files
from optimizer.report.files import check_workbook_name, process_umask, write_atomic

WRITERS = 6


def _writer(text: str):
    def write(tmp: str) -> None:
        Path(tmp).write_text(text)

    return write


def _race(path: str, unique: bool, barrier, i: int, results) -> None:
    barrier.wait()  # every process reaches the rename at about the same moment
    try:
        results.put((i, str(write_atomic(path, _writer(f"writer {i}"), force=False, unique=unique))))
    except OutputError as e:
        results.put((i, f"error: {e}"))


def _run_race(tmp_path: Path, unique: bool) -> list[tuple[int, str]]:
    ctx = mp.get_context("fork")
    barrier, results = ctx.Barrier(WRITERS), ctx.Queue()
    target = str(tmp_path / "plan.xlsx")
    procs = [ctx.Process(target=_race, args=(target, unique, barrier, i, results)) for i in range(WRITERS)]
    for p in procs:
        p.start()
    out = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    return sorted(out)


def test_simultaneous_writers_of_one_default_name_all_succeed(tmp_path):
    out = _run_race(tmp_path, unique=True)
    paths = [p for _, p in out]
    assert not any(p.startswith("error") for p in paths)
    assert sorted(Path(p).name for p in paths) == sorted(["plan.xlsx"] + [f"plan-{k}.xlsx" for k in range(2, WRITERS + 1)])
    for i, p in out:  # each file holds exactly what its own writer wrote
        assert Path(p).read_text() == f"writer {i}"
    assert sorted(x.name for x in tmp_path.iterdir()) == sorted(Path(p).name for p in paths)  # no temporary files


def test_simultaneous_writers_of_one_named_file_never_clobber(tmp_path):
    out = _run_race(tmp_path, unique=False)
    winners = [(i, p) for i, p in out if not p.startswith("error")]
    assert len(winners) == 1
    assert all("already exists; pass --force" in p for i, p in out if (i, p) not in winners)
    assert (tmp_path / "plan.xlsx").read_text() == f"writer {winners[0][0]}"
    assert [x.name for x in tmp_path.iterdir()] == ["plan.xlsx"]


def test_without_hard_links_the_name_is_still_claimed_atomically(tmp_path, monkeypatch):
    def no_links(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    a = write_atomic(tmp_path / "r.xlsx", _writer("a"), force=False, unique=True)
    b = write_atomic(tmp_path / "r.xlsx", _writer("b"), force=False, unique=True)
    assert (a.name, b.name) == ("r.xlsx", "r-2.xlsx")
    assert (a.read_text(), b.read_text()) == ("a", "b")
    with pytest.raises(OutputError, match="already exists"):
        write_atomic(tmp_path / "r.xlsx", _writer("c"), force=False)
    assert a.read_text() == "a"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["r-2.xlsx", "r.xlsx"]


def test_a_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path):
    def broken(tmp: str) -> None:
        Path(tmp).write_bytes(b"PK half")
        raise KeyboardInterrupt

    old = tmp_path / "plan.xlsx"
    old.write_text("old")
    for force in (False, True):
        with pytest.raises((KeyboardInterrupt, OutputError)):
            write_atomic(old, broken, force=force)
    assert old.read_text() == "old"
    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "new.xlsx", broken, force=False, unique=True)
    assert [x.name for x in tmp_path.iterdir()] == ["plan.xlsx"]


def test_new_files_get_the_umask_mode_and_force_keeps_the_old_mode(tmp_path):
    old = os.umask(0o022)
    try:
        assert process_umask() == 0o022
        assert os.umask(0o022) == 0o022  # reading it did not change it
        p = write_atomic(tmp_path / "a.xlsx", _writer("a"), force=False)
        assert stat.S_IMODE(p.stat().st_mode) == 0o644
        os.umask(0o007)
        assert process_umask() == 0o007
        q = write_atomic(tmp_path / "b.xlsx", _writer("b"), force=False, unique=True)
        assert stat.S_IMODE(q.stat().st_mode) == 0o660
        p.chmod(0o664)
        write_atomic(p, _writer("a2"), force=True)
        assert stat.S_IMODE(p.stat().st_mode) == 0o664 and p.read_text() == "a2"
    finally:
        os.umask(old)


def test_umask_without_proc(monkeypatch):
    real_open = open

    def no_proc(path, *a, **kw):
        if str(path) == "/proc/self/status":
            raise FileNotFoundError(path)
        return real_open(path, *a, **kw)

    monkeypatch.setattr("builtins.open", no_proc)
    old = os.umask(0o027)
    try:
        assert files.process_umask() == 0o027
        assert os.umask(0o027) == 0o027
    finally:
        os.umask(old)


@pytest.mark.parametrize("name, ok", [("plan.xlsx", True), ("a/b/PLAN.XLSX", True), ("plan.csv", False),
                                      ("plan", False), ("plan.xlsm", False), (".xlsx", False)])
def test_workbook_names(name, ok):
    if ok:
        assert check_workbook_name(name) == Path(name)
    else:
        with pytest.raises(OutputError, match="must end in .xlsx"):
            check_workbook_name(name)


def test_too_many_default_names(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_UNIQUE", 3)
    for _ in range(3):
        write_atomic(tmp_path / "r.xlsx", _writer("x"), force=False, unique=True)
    with pytest.raises(OutputError, match="3 reports with this name already exist; pass -o"):
        write_atomic(tmp_path / "r.xlsx", _writer("x"), force=False, unique=True)
    assert len(list(tmp_path.iterdir())) == 3
