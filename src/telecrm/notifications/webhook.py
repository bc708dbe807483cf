"""A run report as a JSON POST to a URL (a chat bridge, an alerting system)."""

from __future__ import annotations

from telecrm.notifications.report import RunReport


class WebhookChannel:
    name = "webhook"

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout

    def send(self, report: RunReport) -> None:
        import httpx  # only when a report is sent, not for every command that may send one

        response = httpx.post(
            self.url,
            json=report.as_json(),
            timeout=self.timeout,
            headers={"User-Agent": "telecrm-notifications"},
        )
        response.raise_for_status()
