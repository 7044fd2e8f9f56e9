"""Findings: what a design rule reports, linter style (rule, value, limit, margin)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Literal

Severity = Literal["error", "warning", "pass", "info"]
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2, "pass": 3}
WARN_MARGIN = 0.05  # a rule passing by less than 5% of its limit is worth a look


@dataclass(frozen=True)
class Finding:
    """One rule applied to one subject. `margin` is the headroom as a fraction of the limit
    (negative when the rule fails); None for informational findings."""

    rule: str
    severity: Severity
    subject: str
    value: float | None
    limit: float | None
    margin: float | None
    unit: str
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


def upper(rule: str, subject: str, value: float, limit: float, unit: str,
          message: str, warn: float = WARN_MARGIN, advisory: bool = False) -> Finding:
    """`value` must not exceed `limit`; a margin under `warn` is a warning (0: exact use of a
    count, such as every port, is fine). An `advisory` limit (a rule of thumb) only warns."""
    margin = (limit - value) / abs(limit) if limit else (0.0 if value <= limit else -1.0)
    return _judged(Finding(rule, "pass", subject, value, limit, margin, unit, message), warn,
                   advisory)


def lower(rule: str, subject: str, value: float, limit: float, unit: str,
          message: str, warn: float = WARN_MARGIN) -> Finding:
    """`value` must be at least `limit`."""
    margin = (value - limit) / abs(limit) if limit else (0.0 if value >= limit else -1.0)
    return _judged(Finding(rule, "pass", subject, value, limit, margin, unit, message), warn)


def info(rule: str, subject: str, value: float | None, unit: str, message: str) -> Finding:
    return Finding(rule, "info", subject, value, None, None, unit, message)


def failure(rule: str, subject: str, message: str, value: float | None = None,
            limit: float | None = None, unit: str = "") -> Finding:
    """A rule that fails outright (no meaningful margin)."""
    return Finding(rule, "error", subject, value, limit, None, unit, message)


def _judged(finding: Finding, warn: float, advisory: bool = False) -> Finding:
    """`finding` (its message says how to fix a failure) with severity set from its margin."""
    margin = finding.margin
    severity: Severity = "error" if margin < 0 else "warning" if margin < warn else "pass"
    if advisory and severity == "error":
        return replace(finding, severity="warning", message=f"over a rule of thumb by "
                       f"{-margin:.0%}: {finding.message}")
    text = {"error": finding.message, "pass": "ok",
            "warning": f"passes with only {margin:.1%} headroom; if it grows: {finding.message}"}
    return replace(finding, severity=severity, message=text[severity])


def worst(findings: list[Finding]) -> Severity:
    """The most severe severity among `findings` ("pass" when empty)."""
    return min((f.severity for f in findings), key=SEVERITY_ORDER.__getitem__, default="pass")


def count(findings: list[Finding]) -> dict[str, int]:
    out = dict.fromkeys(SEVERITY_ORDER, 0)
    for f in findings:
        out[f.severity] += 1
    return out


def has_error(findings: list[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)
