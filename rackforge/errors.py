"""Errors rackforge raises on purpose.

User mistakes raise :class:`InputError`; the CLI prints its one-line message and exits 2.
Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class RackforgeError(Exception):
    """Base class for every error rackforge raises on purpose."""


@dataclass(eq=False)
class InputError(RackforgeError):
    """Bad user input: which file, where in it, what was found and what was expected."""

    message: str
    file: str | None = None
    path: str | None = None
    value: object = None
    expected: str | None = None
    hint: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = ":".join(p for p in (self.file, self.path) if p)
        parts = [f"{where}: {self.message}" if where else self.message]
        if self.value is not None:
            parts.append(f"got {_short(self.value)}")
        if self.expected:
            parts.append(f"expected {self.expected}")
        text = "; ".join(parts)
        return f"{text}. {self.hint}" if self.hint else text

    def at(self, file: str | None = None, prefix: str | None = None) -> InputError:
        """Return a copy located in `file` with `prefix` put before the key path."""
        path = ".".join(p for p in (prefix, self.path) if p) or None
        return InputError(self.message, file or self.file, path, self.value, self.expected,
                          self.hint)


class DesignRuleError(RackforgeError):
    """A design failed its checks in strict mode."""


class SolverError(RackforgeError):
    """An optimization solver failed for a reason other than infeasibility."""


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
