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


class InputErrors(InputError):
    """Several mistakes in one input, each an :class:`InputError`; its message is their lines,
    one per mistake (at most :attr:`LIMIT`, then how many more), so a user fixes them all in one
    pass. It is an InputError located at the first mistake, so ``except InputError`` catches it.
    """

    LIMIT = 20

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.message, first.file, first.path, first.value, first.expected,
                         first.hint)

    def __reduce__(self) -> tuple:
        """Pickle as the list of mistakes (a sweep's worker processes send errors back)."""
        return (InputErrors, (self.errors,))

    def one_line(self) -> str:
        """Every mistake's line, joined by newlines (the name is kept for the base class)."""
        lines = [e.one_line() for e in self.errors[: self.LIMIT]]
        if len(self.errors) > self.LIMIT:
            lines.append(f"and {len(self.errors) - self.LIMIT} more")
        return "\n".join(lines)

    def at(self, file: str | None = None, prefix: str | None = None) -> InputErrors:
        """Return a copy with every mistake located in `file` under `prefix`."""
        return InputErrors([e.at(file, prefix) for e in self.errors])


def input_error(errors: list[InputError]) -> InputError:
    """One InputError for `errors`: the error itself when there is one, else InputErrors."""
    return errors[0] if len(errors) == 1 else InputErrors(errors)


class DesignRuleError(RackforgeError):
    """A design failed its checks in strict mode."""


class SolverError(RackforgeError):
    """An optimization solver failed for a reason other than infeasibility."""


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
