"""One report per run: to the log always; to the webhook and by e-mail when they are
configured and the run has something a person must look at (a failure, bad CDRs).

A channel that fails is logged and skipped: a broken mail server must never fail the
fetch or the sync it reports on."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telecrm.config import Settings
from telecrm.notifications.email import EmailChannel
from telecrm.notifications.report import Channel, RunReport
from telecrm.notifications.webhook import WebhookChannel
from telecrm.retry import describe_error

log = logging.getLogger(__name__)


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
