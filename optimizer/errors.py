"""One error hierarchy for chipalloc.

Library code raises these; only :mod:`optimizer.cli` maps them to exit codes.
Every error carries enough context (file, field path, line, fix) to be shown
to a planner as one or a few lines, never as a traceback.

Every error pickles with its message and its fields (``problems``, ``file``,
``violations``, ``diagnosis``), whatever its ``__init__`` takes, so an error
raised on a Dask worker comes back to the command line as the same message
(:mod:`optimizer.analysis.executor`).
"""
from __future__ import annotations

from dataclasses import dataclass


class ChipallocError(Exception):
    """Base class of every error chipalloc raises on purpose."""

    exit_code = 1

    def render(self) -> str:
        return str(self)

    def __reduce__(self):
        # Exception pickles as cls(*self.args), which the subclasses' own __init__ signatures do not take
        # (VerificationError(message) would read the message as its list of violations): rebuild without
        # calling __init__, with the same args (the message) and attributes.
        return _rebuild, (type(self), self.args, dict(self.__dict__))


def _rebuild(cls: type, args: tuple, state: dict) -> "ChipallocError":
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


@dataclass
class Problem:
    """One thing wrong with an input, located as precisely as we can.

    A YAML or JSON file locates by ``line``; an xlsx workbook by ``cell``
    (sheet and cell as Excel writes them: ``Chips!D7``, ``'Export controls'!B3``).
    ``line`` may be given whatever :meth:`optimizer.loader.Source.where`
    returned: a cell given there is moved to ``cell``.
    """

    message: str
    path: str = ""  # dotted field path, e.g. chips.h20.unit_price
    line: int | None = None
    hint: str = ""
    cell: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.line, str):  # a cell: what Source.where() gives for a workbook
            self.cell, self.line = self.line, None

    @classmethod
    def at(cls, where: int | str | None, message: str, path: str = "", hint: str = "") -> "Problem":
        """A problem at ``where`` as :meth:`optimizer.loader.Source.where` gives it: a line number or a cell."""
        if isinstance(where, str):
            return cls(message, path=path, hint=hint, cell=where)
        return cls(message, path=path, line=where, hint=hint)

    @property
    def where(self) -> int | str | None:
        return self.cell or self.line

    def render(self, file: str | None = None) -> str:
        where = []
        if file:
            where.append(f"{file}" + (f":{self.line}" if self.line else ""))
        elif self.line:
            where.append(f"line {self.line}")
        if self.cell:
            where.append(self.cell)
        if self.path:
            where.append(self.path)
        head = ": ".join(where)
        text = f"{head}: {self.message}" if head else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


def place(where: int | str | None) -> str:
    """Where something is, in words: ``line 7`` in a YAML or JSON file, the cell (``Variants!A2``) in a workbook."""
    if where is None or where == "":
        return ""
    return f"line {where}" if isinstance(where, int) else str(where)


@dataclass
class ScenarioWarning(Problem):
    """Something in an input that is allowed but probably not meant: said, never fatal.

    Not an exception: :func:`optimizer.io.load` returns these in
    ``Loaded.warnings``; the CLI prints each as ``warning: FILE:LINE: path:
    message`` on stderr and lists them under ``"warnings"`` in JSON output.
    """

    def to_dict(self, file: str | None = None) -> dict:
        out = {"file": file, "line": self.line, "path": self.path, "message": self.message, "hint": self.hint or None}
        if self.cell:
            out["cell"] = self.cell  # a workbook's sheet and cell
        return out


class InputError(ChipallocError):
    """Bad input: unreadable file, schema or reference error, bad option (exit 2)."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | str, file: str | None = None):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        self.problems = list(problems)
        self.file = file
        super().__init__(self.render())

    def render(self) -> str:
        shown = self.problems[:10]
        lines = [p.render(self.file) for p in shown]
        if len(self.problems) > len(shown):
            lines.append(f"... and {len(self.problems) - len(shown)} more problems")
        return "\n".join(lines)


class OutputError(ChipallocError):
    """An output cannot be written (exists without --force, unwritable folder) (exit 2)."""

    exit_code = 2


class SolveError(ChipallocError):
    """The solver failed in a way that is not infeasible/unbounded (exit 1)."""

    exit_code = 1


class VerificationError(ChipallocError):
    """The independent verifier rejected a plan: never report it (exit 1)."""

    exit_code = 1

    def __init__(self, violations: list[str]):
        self.violations = violations
        super().__init__(
            "the plan failed independent verification; nothing was written:\n  "
            + "\n  ".join(violations[:20])
        )


class InfeasibleError(ChipallocError):
    """The scenario has no feasible plan (exit 3). Carries the diagnosis if computed."""

    exit_code = 3

    def __init__(self, message: str, diagnosis: object | None = None):
        self.diagnosis = diagnosis
        super().__init__(message)


class UnboundedError(ChipallocError):
    """The scenario's objective is unbounded (exit 4)."""

    exit_code = 4
