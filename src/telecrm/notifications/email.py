"""A run report as a plain-text e-mail over SMTP (STARTTLS, implicit TLS or plain)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from telecrm.config import Settings
from telecrm.notifications.report import RunReport


class EmailChannel:
    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        security: str,
        sender: str,
        recipients: list[str],
        timeout: float,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.security = security
        self.sender = sender
        self.recipients = recipients
        self.timeout = timeout
        self.username = username
        self.password = password

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailChannel:
        return cls(
            host=settings.smtp_host or "localhost",
            port=settings.smtp_port,
            security=settings.smtp_security,
            sender=settings.smtp_from,
            recipients=settings.smtp_to,
            timeout=settings.smtp_timeout,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        )

    def send(self, report: RunReport) -> None:
        message = EmailMessage()
        message["Subject"] = report.title
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message.set_content(report.as_text())
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.security == "ssl":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)
