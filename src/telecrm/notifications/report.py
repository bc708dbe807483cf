"""What a run reports (``RunReport``) and what takes a report (``Channel``): the
service sends the one to the others, and each channel only reads a report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from telecrm.db import utcnow


@dataclass
class RunReport:
    """What one run did. ``counts`` are named numbers (imported, invalid, failed...);
    ``examples`` a few of the records behind the problems, never all of them."""

    kind: str
    subject: str
    ok: bool
    counts: dict[str, int] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    started_at: dt.datetime = field(default_factory=utcnow)
    finished_at: dt.datetime = field(default_factory=utcnow)

    @property
    def needs_attention(self) -> bool:
        return not self.ok or bool(self.examples)

    @property
    def title(self) -> str:
        state = "FAILED" if not self.ok else "problems" if self.examples else "ok"
        return f"telecrm {self.kind} {self.subject}: {state}"

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "ok": self.ok,
            "title": self.title,
            "error": self.error,
            "counts": self.counts,
            "examples": self.examples,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
        }

    def as_text(self) -> str:
        lines = [self.title, ""]
        if self.error:
            lines += [f"error: {self.error}", ""]
        lines += [f"{name}: {value}" for name, value in self.counts.items()]
        if self.examples:
            lines += ["", f"examples ({len(self.examples)}):"]
            lines += [
                "  " + ", ".join(f"{key}={value}" for key, value in example.items())
                for example in self.examples
            ]
        lines += ["", f"from {self.started_at.isoformat()} to {self.finished_at.isoformat()}"]
        return "\n".join(lines) + "\n"


class Channel(Protocol):
    name: str

    def send(self, report: RunReport) -> None: ...
