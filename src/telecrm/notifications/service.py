"""One report per run: to the log always; to the webhook and by e-mail when they are
configured and the run has something a person must look at (a failure, bad CDRs).

A channel that fails is logged and skipped: a broken mail server must never fail the
fetch or the sync it reports on."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from telecrm.config import Settings
from telecrm.db import utcnow
from telecrm.notifications.email import EmailChannel
from telecrm.notifications.webhook import WebhookChannel
from telecrm.retry import describe_error

log = logging.getLogger(__name__)


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


def configured_channels(settings: Settings) -> list[Channel]:
    channels: list[Channel] = []
    if settings.notify_webhook_url:
        channels.append(
            WebhookChannel(settings.notify_webhook_url, settings.notify_webhook_timeout)
        )
    if settings.smtp_host and settings.smtp_to:
        channels.append(EmailChannel.from_settings(settings))
    return channels


def notify(
    report: RunReport, settings: Settings, channels: Sequence[Channel] | None = None
) -> list[str]:
    """Log the report; send it to the channels when it needs attention. Returns the
    names of the channels that took it."""
    level = logging.INFO if not report.needs_attention else logging.WARNING
    log.log(level, "%s %s", report.title, report.counts)
    if report.error:
        log.log(level, "%s: %s", report.title, report.error)
    if not report.needs_attention:
        return []
    delivered: list[str] = []
    for channel in configured_channels(settings) if channels is None else channels:
        try:
            channel.send(report)
        except Exception as exc:
            log.error(
                "report %r not sent by %s: %s", report.title, channel.name, describe_error(exc)
            )
        else:
            delivered.append(channel.name)
    return delivered
